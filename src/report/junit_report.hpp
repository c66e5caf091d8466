// The JUnit XML report (`--junit FILE`) CI servers show as test results: one <testsuite> for the
// plan, one <testcase> per failure mode (classname the plan, name the failure mode id); broken is a
// <failure> listing each failed expectation with its evidence, error an <error>, skipped <skipped>.
// Times are real seconds (plan time multiplied by the time scale), as CI shows test durations.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "scenario/result.hpp"

namespace planproof::report {

std::string to_junit(const scenario::run_result& run);
// Written to a temporary file, fsynced, then renamed, as the JSON report is.
std::error_code write_junit(const scenario::run_result& run, const std::filesystem::path& path);

// `text` (redacted) as XML 1.0 character data, or as the value of a double-quoted attribute: `&`,
// `<`, `>` (and `"` in an attribute) as entities; in an attribute, tab and line breaks as character
// references so parsers keep them. What XML 1.0 cannot carry at all, control characters other than
// tab and line breaks, U+FFFE, U+FFFF and bytes that are not UTF-8, is written as visible `\xNN`.
std::string xml_escape(std::string_view text, bool attribute);

}  // namespace planproof::report
