// `planproof run PLAN`: the failure modes of the plan against embedded mock upstreams.
#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/logging.hpp"
#include "plan/loader.hpp"
#include "report/console.hpp"
#include "report/html_report.hpp"
#include "report/json_report.hpp"
#include "report/markdown_report.hpp"
#include "scenario/run_tls.hpp"
#include "scenario/runner.hpp"

namespace planproof::cli {
namespace {

struct run_args {
  std::string plan;
  std::string phase;
  std::vector<std::string> only;
  std::uint64_t seed = 1;
  double time_scale = 1.0;
  std::string json;
  std::string md;
  std::string html;
  std::string log;
  std::vector<std::string> sets;
  std::string tls;  // a tools/gen-certs directory: HTTPS mocks
  bool quiet = false;
  bool verbose = false;
};

void print(const core::diagnostic_error& e) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
}

int execute(const run_args& args) {
  core::setup_logging(args.quiet ? core::verbosity::quiet
                                 : (args.verbose ? core::verbosity::verbose : core::verbosity::normal));
  const auto load = load_options_from(args.sets);
  if (!load) return exit_usage;

  scenario::run_options options;
  if (!args.phase.empty()) options.phase = args.phase;
  options.only = args.only;
  options.seed = args.seed;
  options.time_scale = args.time_scale;
  report::console_options console{.verbose = args.verbose};
  std::ostream& out = std::cout;
  options.on_start = [&](const scenario::run_result& run, std::size_t selected) {
    if (!args.quiet) report::print_header(out, run, selected);
  };
  options.on_result = [&](const scenario::failure_mode_result& r) {
    if (!args.quiet || r.outcome != scenario::verdict::held) report::print_failure_mode(out, r, console);
  };

  std::unique_ptr<scenario::event_log> log;
  if (!open_decision_log(args.log, log)) return exit_usage;
  options.log = log.get();

  scenario::run_result run;
  try {
    const auto plan = plan::load_file(args.plan, *load);
    if (!args.tls.empty()) options.tls = std::make_shared<const scenario::run_tls>(scenario::load_run_tls(plan, args.tls));
    for (const auto& f : plan.failure_modes) console.id_width = std::max(console.id_width, f.id.size());
    run = scenario::run_live(plan, options);
  } catch (const core::diagnostic_error& e) {
    print(e);
    return exit_usage;
  }
  if (log) log->close();  // flushed and closed before the run is reported done
  report::print_summary(out, run);
  if (!args.json.empty()) {
    if (auto ec = report::write_json(run, args.json)) {
      std::cerr << "planproof: cannot write the JSON report to " << args.json << ": " << ec.message() << '\n';
      return exit_harness_error;
    }
  }
  if (!args.md.empty()) {
    if (auto ec = report::write_markdown(run, args.md)) {
      std::cerr << "planproof: cannot write the Markdown report to " << args.md << ": " << ec.message() << '\n';
      return exit_harness_error;
    }
  }
  if (!args.html.empty()) {
    if (auto ec = report::write_html(run, args.html)) {
      std::cerr << "planproof: cannot write the HTML report to " << args.html << ": " << ec.message() << '\n';
      return exit_harness_error;
    }
  }
  return run.exit_code();
}

}  // namespace

command add_run_command(CLI::App& app) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run", "Run the plan's failure modes: mock upstreams inject each fault, a real client configured\n"
             "from the plan sends the plan's traffic, and each expectation is judged from what happened.");
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)")->required();
  cmd->add_option("--phase", args->phase, "Run this phase: its failure modes and its settings overrides");
  repeatable(cmd->add_option("--only", args->only, "Run only this failure mode (repeatable)"));
  cmd->add_option("--seed", args->seed, "Seed for fault draws and jitter; the same seed reproduces a run")
      ->capture_default_str();
  cmd->add_option("--time-scale", args->time_scale,
                  "Multiply every plan duration by F to shorten the run (reports keep plan time)")
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  cmd->add_option("--json", args->json, "Write the JSON report to FILE");
  cmd->add_option("--md", args->md,
                  "Write a Markdown summary to FILE (a verdict table, then each broken failure mode's failed\n"
                  "expectations with their evidence), e.g. $GITHUB_STEP_SUMMARY");
  cmd->add_option("--html", args->html,
                  "Write a self-contained HTML report to FILE (no script, loads nothing): the settings, a verdict\n"
                  "table, and per failure mode its expectations with evidence and SVG charts over plan time\n"
                  "(attempts by result with the fault windows, request rate, breaker state, token renewals,\n"
                  "latency histogram)");
  cmd->add_option("--log", args->log,
                  "Write every client decision to FILE as JSON lines: request submitted, attempt started and\n"
                  "finished (status or error class), backoff scheduled (delay and why), request completed\n"
                  "(outcome); each with its failure mode, request number and X-Request-Id. FILE is replaced");
  repeatable(cmd->add_option("--set", args->sets,
                             "Override a plan value before running, e.g. --set retry.max_attempts=1 (repeatable)"));
  cmd->add_option("--tls", args->tls,
                  "Run against HTTPS mocks with the certificates tools/gen-certs wrote into DIR: the client trusts\n"
                  "DIR/ca.pem and checks the name 127.0.0.1; tls faults run, and with auth mtls the mocks require a\n"
                  "client certificate and the client presents DIR/client.pem in place of the plan's own")
      ->type_name("DIR");
  auto* quiet = cmd->add_flag("--quiet,-q", args->quiet, "Print only broken failure modes and the summary");
  cmd->add_flag("--verbose,-v", args->verbose, "Print every expectation and metric")->excludes(quiet);
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
