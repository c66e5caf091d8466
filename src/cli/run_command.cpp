// `planproof run PLAN`: the failure modes of the plan against embedded mock upstreams (or a real
// upstream behind them, `--upstream`), stoppable by a signal.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <stop_token>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/logging.hpp"
#include "plan/loader.hpp"
#include "report/console.hpp"
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
  std::string log;
  std::vector<std::string> sets;
  std::string tls;  // a tools/gen-certs directory: HTTPS mocks
  std::string upstream;
  std::string upstream_ca;
  bool quiet = false;
  bool verbose = false;
};

void print(const core::diagnostic_error& e) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
}

// SIGINT and SIGTERM while the run is on: the first asks the runner to stop (it then reports what
// it has, interrupted); a second ends the process at once. Handled on a thread of its own, since
// the runner blocks this one.
class stop_on_signals {
 public:
  stop_on_signals() : signals_(io_, SIGINT, SIGTERM) {
    wait();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~stop_on_signals() {
    io_.stop();
    thread_.join();
  }
  stop_on_signals(const stop_on_signals&) = delete;
  stop_on_signals& operator=(const stop_on_signals&) = delete;

  std::stop_token token() const { return source_.get_token(); }

 private:
  void wait() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal_ != 0) {
        std::cerr << "planproof run: a second signal (" << name(signal) << "): quitting at once, no report written\n";
        std::_Exit(128 + signal);
      }
      signal_ = signal;
      std::cerr << "planproof run: " << name(signal)
                << ": stopping the failure mode in progress, then writing the reports (again to quit at once)\n";
      source_.request_stop();
      wait();
    });
  }
  static const char* name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

  boost::asio::io_context io_{1};
  boost::asio::signal_set signals_;
  std::stop_source source_;
  std::atomic<int> signal_{0};
  std::thread thread_;
};

int execute(const run_args& args) {
  core::setup_logging(args.quiet ? core::verbosity::quiet
                                 : (args.verbose ? core::verbosity::verbose : core::verbosity::normal));
  const auto load = load_options_from(args.sets);
  if (!load) return exit_usage;
  if (!args.upstream_ca.empty() && args.upstream.empty()) {
    std::cerr << "--upstream-ca: error: applies only with --upstream\n";
    return exit_usage;
  }

  scenario::run_options options;
  if (!args.phase.empty()) options.phase = args.phase;
  options.only = args.only;
  options.seed = args.seed;
  options.time_scale = args.time_scale;
  options.upstream = args.upstream;
  options.upstream_ca = args.upstream_ca;
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
    const stop_on_signals signals;
    options.stop = signals.token();
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
  return run.exit_code();
}

}  // namespace

command add_run_command(CLI::App& app) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run", "Run the plan's failure modes: mock upstreams inject each fault, a real client configured\n"
             "from the plan sends the plan's traffic, and each expectation is judged from what happened.\n"
             "SIGINT or SIGTERM stops the run: the failure mode in progress is reported interrupted, the\n"
             "reports are written, and the exit code is 3 (a second signal quits at once).");
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
  cmd->add_option("--upstream", args->upstream,
                  "Run against this real upstream (http:// or https://, with an optional path prefix) through the\n"
                  "mock's proxy: faults answer in its place or break its answers, everything else is forwarded with\n"
                  "the plan's real credentials (an unresolvable one is exit 2) and its answers are relayed")
      ->type_name("URL");
  cmd->add_option("--upstream-ca", args->upstream_ca,
                  "PEM file of the CAs an https upstream's certificate must chain to (default: the plan's mtls ca,\n"
                  "else the system store)")
      ->type_name("FILE");
  auto* quiet = cmd->add_flag("--quiet,-q", args->quiet, "Print only broken failure modes and the summary");
  cmd->add_flag("--verbose,-v", args->verbose,
                "Print every expectation and metric, and where each failure mode's mock listens (standard error)")
      ->excludes(quiet);
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
