// The Markdown report: a summary for CI step summaries ($GITHUB_STEP_SUMMARY) and pull requests.
// A verdict table, then for each failure mode that did not hold the expectations that failed,
// with what was observed and the evidence. Secrets are redacted as in every other output.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "scenario/result.hpp"

namespace planproof::report {

std::string to_markdown(const scenario::run_result& run);
// Written to a temporary file, fsynced, then renamed, as the JSON report is.
std::error_code write_markdown(const scenario::run_result& run, const std::filesystem::path& path);

}  // namespace planproof::report
