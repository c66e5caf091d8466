// The JSON report (DESIGN.md section 9): stable field names CI and `planproof merge` read.
#pragma once

#include <filesystem>
#include <system_error>

#include <boost/json/value.hpp>

#include "scenario/result.hpp"

namespace planproof::report {

boost::json::value to_json(const scenario::run_result& run);
// Written to a temporary file, fsynced, then renamed: a reader never sees half a report.
std::error_code write_json(const scenario::run_result& run, const std::filesystem::path& path);

}  // namespace planproof::report
