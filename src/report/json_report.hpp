// The JSON report (DESIGN.md section 9): stable field names CI and `planproof merge` read.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <boost/json/value.hpp>

#include "scenario/result.hpp"

namespace planproof::report {

boost::json::value to_json(const scenario::run_result& run);
// Written to a temporary file, fsynced, then renamed: a reader never sees half a report.
std::error_code write_json(const scenario::run_result& run, const std::filesystem::path& path);

// A report read back (what `planproof merge` reads): every field to_json writes, so that writing it
// again gives the same JSON; the summary is recomputed from the failure modes, not read. Throws
// report_format_error naming the field that is missing or of the wrong type
// ("failure_modes[2].metrics.requests: expected a whole number >= 0").
class report_format_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
scenario::run_result from_json(const boost::json::value& report);
// Reads a JSON report from `path`; throws core::diagnostic_error naming the file and why it cannot
// be used (cannot be read, not JSON, not a planproof report).
scenario::run_result read_json(const std::filesystem::path& path);

}  // namespace planproof::report
