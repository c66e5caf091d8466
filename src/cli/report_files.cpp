// `--json`, `--junit`, `--md` and `--html`: the report files `run` and `merge` write, checked before a run
// starts (a typo in a path must not cost a whole run) and written atomically after it.
#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/file_io.hpp"
#include "report/html_report.hpp"
#include "report/json_report.hpp"
#include "report/junit_report.hpp"
#include "report/markdown_report.hpp"

namespace planproof::cli {
namespace {

struct report_file {
  const char* flag;
  const char* what;
  const std::string* path;
  std::function<std::error_code(const scenario::run_result&, const std::filesystem::path&)> write;
};

std::vector<report_file> asked_for(const report_files& files) {
  std::vector<report_file> all{
      {"--json", "JSON report", &files.json, report::write_json},
      {"--junit", "JUnit XML report", &files.junit, report::write_junit},
      {"--md", "Markdown report", &files.md, report::write_markdown},
      {"--html", "HTML report", &files.html, report::write_html},
  };
  std::erase_if(all, [](const report_file& f) { return f.path->empty(); });
  return all;
}

}  // namespace

void add_report_options(CLI::App* cmd, report_files& files) {
  cmd->add_option("--json", files.json, "Write the JSON report to FILE (what `planproof merge` reads)")->type_name("FILE");
  cmd->add_option("--junit", files.junit,
                  "Write a JUnit XML report to FILE: one testcase per failure mode (broken: a failure listing\n"
                  "each failed expectation with its evidence; skipped; harness error), for CI test reports")
      ->type_name("FILE");
  cmd->add_option("--md", files.md,
                  "Write a Markdown summary to FILE (a verdict table, then each broken failure mode's failed\n"
                  "expectations with their evidence), e.g. $GITHUB_STEP_SUMMARY")
      ->type_name("FILE");
  cmd->add_option("--html", files.html,
                  "Write a self-contained HTML report to FILE (no script, loads nothing): the settings, a verdict\n"
                  "table, and per failure mode its expectations with evidence and SVG charts over plan time\n"
                  "(attempts by result with the fault windows, request rate, breaker state, token renewals,\n"
                  "latency histogram)")
      ->type_name("FILE");
}

bool check_report_files(const report_files& files) {
  bool ok = true;
  for (const auto& f : asked_for(files)) {
    const std::filesystem::path path(*f.path);
    std::error_code ec;
    std::string why;
    if (std::filesystem::is_directory(path, ec)) {
      why = "it is a directory";
    } else if (const auto dir = path.parent_path(); (ec = core::check_writable_directory(dir))) {
      const auto name = dir.empty() ? std::string("the working directory") : "the directory " + dir.string();
      std::error_code ignored;
      if (!dir.empty() && !std::filesystem::exists(dir, ignored)) why = name + " does not exist";
      else if (!dir.empty() && !std::filesystem::is_directory(dir, ignored)) why = dir.string() + " is not a directory";
      else why = name + " does not take a new file (" + ec.message() + ")";
    }
    if (!why.empty()) {
      std::cerr << f.flag << ": error: cannot write the " << f.what << " to " << *f.path << ": " << why << '\n';
      ok = false;
    }
  }
  return ok;
}

int write_report_files(const scenario::run_result& run, const report_files& files) {
  int status = exit_held;
  for (const auto& f : asked_for(files)) {
    if (auto ec = f.write(run, *f.path)) {
      std::cerr << "planproof: cannot write the " << f.what << " to " << *f.path << ": " << ec.message() << '\n';
      status = exit_harness_error;
    }
  }
  return status;
}

}  // namespace planproof::cli
