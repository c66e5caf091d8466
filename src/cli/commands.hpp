// Subcommands: each registers its options on the CLI11 app and returns the action to run.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "plan/loader.hpp"
#include "scenario/event_log.hpp"
#include "scenario/result.hpp"

namespace planproof::cli {

// A registered subcommand and what to do when it is the one given.
struct command {
  CLI::App* app = nullptr;
  std::function<int()> action;
};

// A repeatable option taking one value per occurrence (`--set A=1 --set B=2`), so a value never
// swallows the positional PLAN that follows it.
inline CLI::Option* repeatable(CLI::Option* option) {
  return option->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// `--limit NAME=VALUE` (repeatable): the caps of core::limits, listed with their defaults in the
// option's help.
void add_limit_option(CLI::App* cmd, std::vector<std::string>& limits);

// The plan's load options from `--set KEY=VALUE` and `--limit NAME=VALUE` arguments; nullopt (after
// saying why on standard error) when one is malformed.
std::optional<plan::load_options> load_options_from(const std::vector<std::string>& sets,
                                                    const std::vector<std::string>& limits = {});

// `--log FILE`: opens the decision log into `log` (left empty when `path` is empty). False, after
// saying why on standard error, when the file cannot be written.
bool open_decision_log(const std::string& path, std::unique_ptr<scenario::event_log>& log);

// The report files `run` and `merge` write; an empty path is a report not asked for.
struct report_files {
  std::string json;
  std::string junit;
  std::string md;
  std::string html;
  // A new format: a member here, its option in add_report_options, its row in report_files.cpp.
};
void add_report_options(CLI::App* cmd, report_files& files);
// Before anything runs: whether each report can be written, i.e. its path is not a directory and
// its directory exists and takes a new file. False, after naming the flag, the path and why on
// standard error, when one cannot (a usage error: exit 2).
bool check_report_files(const report_files& files);
// Writes each report asked for: exit_harness_error, after saying which could not be written, or 0.
int write_report_files(const scenario::run_result& run, const report_files& files);

command add_run_command(CLI::App& app);
command add_sim_command(CLI::App& app);
command add_sweep_command(CLI::App& app);
command add_merge_command(CLI::App& app);
command add_render_command(CLI::App& app);
command add_lint_command(CLI::App& app);
command add_new_command(CLI::App& app);
command add_import_openapi_command(CLI::App& app);
command add_serve_command(CLI::App& app);
command add_dlq_command(CLI::App& app);  // registers `dlq`; the command is `dlq replay`

}  // namespace planproof::cli
