// The HTML report: one self-contained page a plan author can open anywhere. The run's settings and
// notes, a verdict table, then each failure mode with its expectations (expected, observed, note,
// evidence) and SVG charts of what happened over plan time. No script, no network: the styles are
// inline and a Content-Security-Policy forbids every load. Every text is redacted and escaped.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "scenario/result.hpp"

namespace planproof::report {

std::string to_html(const scenario::run_result& run);
// Written to a temporary file, fsynced, then renamed, as the JSON report is.
std::error_code write_html(const scenario::run_result& run, const std::filesystem::path& path);

}  // namespace planproof::report
