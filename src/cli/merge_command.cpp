// `planproof merge REPORT.json...`: the JSON reports of a sharded run (`run --shard I/N --json`)
// combined into the reports of the whole run, with the exit code the whole run would have had.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/logging.hpp"
#include "report/console.hpp"
#include "report/json_report.hpp"
#include "report/merge.hpp"

namespace planproof::cli {
namespace {

struct merge_args {
  std::vector<std::string> inputs;
  report_files reports;
};

int execute(const merge_args& args) {
  core::setup_logging(core::verbosity::normal);
  if (!check_report_files(args.reports)) return exit_usage;
  scenario::run_result run;
  try {
    std::vector<report::named_report> parts;
    for (const auto& file : args.inputs) parts.push_back({file, report::read_json(file)});
    run = report::merge_reports(parts);
  } catch (const core::diagnostic_error& e) {
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
    return exit_usage;
  }
  std::ostream& out = std::cout;
  report::print_header(out, run, run.failure_modes.size(), "merge");
  out << "  merged from " << args.inputs.size() << (args.inputs.size() == 1 ? " report:" : " reports:");
  for (const auto& file : args.inputs) out << ' ' << file;
  out << '\n';
  report::console_options console;
  for (const auto& f : run.failure_modes) console.id_width = std::max(console.id_width, f.id.size());
  for (const auto& f : run.failure_modes) report::print_failure_mode(out, f, console);
  report::print_table(out, run);
  report::print_summary(out, run);
  if (const int status = write_report_files(run, args.reports); status != exit_held) return status;
  return run.exit_code();
}

}  // namespace

command add_merge_command(CLI::App& app) {
  auto args = std::make_shared<merge_args>();
  auto* cmd = app.add_subcommand(
      "merge", "Combine the JSON reports of a sharded run (run --shard I/N --json) into the reports of the whole\n"
               "run: the shards must come from one plan, phase, seed, time scale and settings, all be there and\n"
               "not overlap. Prints the verdicts and exits as the whole run would have (0, 1 or 3; 2 when the\n"
               "reports cannot be read or combined).");
  cmd->add_option("REPORT", args->inputs, "JSON reports written by `planproof run --json` (one per shard)")
      ->required();
  add_report_options(cmd, args->reports);
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
