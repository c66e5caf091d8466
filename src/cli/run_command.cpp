// `planproof run PLAN`: the failure modes of the plan against embedded mock upstreams (or a real
// upstream behind them, `--upstream`), stoppable by a signal.
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stop_token>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/logging.hpp"
#include "plan/loader.hpp"
#include "report/console.hpp"
#include "scenario/run_tls.hpp"
#include "scenario/runner.hpp"
#include "scenario/sim_runner.hpp"

namespace planproof::cli {
namespace {

struct run_args {
  std::string plan;
  std::string phase;
  std::vector<std::string> only;
  std::uint64_t seed = 1;
  double time_scale = 1.0;
  report_files reports;
  std::string shard;     // I/N, checked by the option's validator
  std::string progress = "auto";
  std::string log;
  std::vector<std::string> sets;
  std::vector<std::string> limits;  // --limit NAME=VALUE
  std::string tls;  // a tools/gen-certs directory: HTTPS mocks
  std::string upstream;
  std::string upstream_ca;
  bool insecure = false;
  bool quiet = false;
  bool verbose = false;
  bool sim = false;  // `planproof sim`: virtual time
  std::string network_delay;  // sim: empty = the plan's sim.network_delay
  int clients = 1;
};

void print(const core::diagnostic_error& e) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
}

// Whether to draw the live progress line, and how wide it may be: a terminal's width, or 100.
bool live_progress(const run_args& args) {
  if (args.progress != "auto") return args.progress == "always";
  // --verbose writes a line per decision to standard error: a line redrawn in place would fight it.
  return ::isatty(STDOUT_FILENO) == 1 && !args.quiet && !args.verbose;
}
std::size_t terminal_width() {
  winsize w{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20) return w.ws_col;
  return 100;
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
        std::cerr << "planproof: a second signal (" << name(signal) << "): quitting at once, no report written\n";
        std::_Exit(128 + signal);
      }
      signal_ = signal;
      std::cerr << "planproof: " << name(signal)
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
  const auto load = load_options_from(args.sets, args.limits);
  if (!load) return exit_usage;
  if (!check_report_files(args.reports)) return exit_usage;
  if (!args.upstream_ca.empty() && args.upstream.empty()) {
    std::cerr << "--upstream-ca: error: applies only with --upstream\n";
    return exit_usage;
  }
  if (args.insecure && !args.upstream.starts_with("https://")) {
    std::cerr << "--insecure: error: applies only with an https:// --upstream\n";
    return exit_usage;
  }
  if (args.insecure) {
    std::cerr << "planproof: warning: --insecure: the certificate of " << args.upstream
              << " is NOT checked; anyone on the path can read and change this run's traffic and credentials\n";
  }

  scenario::run_options options;
  if (!args.phase.empty()) options.phase = args.phase;
  options.only = args.only;
  options.seed = args.seed;
  options.time_scale = args.time_scale;
  if (!args.shard.empty()) {
    std::string why;
    options.shard = scenario::parse_shard(args.shard, why);  // the option's validator has checked it
  }
  options.upstream = args.upstream;
  options.upstream_ca = args.upstream_ca;
  options.upstream_insecure = args.insecure;
  options.limits = load->limits;
  report::console_options console{.verbose = args.verbose};
  // Drawn on the client's thread, which is this one: run_live runs the client here.
  std::optional<report::progress_display> progress;
  std::ostream& out = std::cout;
  options.on_start = [&](const scenario::run_result& run, std::size_t selected) {
    if (!args.quiet) report::print_header(out, run, selected, args.sim ? "sim" : "run");
  };
  options.on_result = [&](const scenario::failure_mode_result& r) {
    if (progress) progress->clear();
    if (!args.quiet || r.outcome != scenario::verdict::held) report::print_failure_mode(out, r, console);
  };

  std::unique_ptr<scenario::event_log> log;
  if (!open_decision_log(args.log, log)) return exit_usage;
  if (args.verbose) {
    // Every decision of the client, one logfmt line each, on standard error (and in --log FILE).
    if (!log) log = std::make_unique<scenario::event_log>(nullptr);
    log->add_text_output(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  options.log = log.get();

  scenario::run_result run;
  try {
    const auto plan = plan::load_file(args.plan, *load);
    if (!args.tls.empty()) options.tls = std::make_shared<const scenario::run_tls>(scenario::load_run_tls(plan, args.tls));
    for (const auto& f : plan.failure_modes) console.id_width = std::max(console.id_width, f.id.size());
    const stop_on_signals signals;
    options.stop = signals.token();
    if (live_progress(args)) {
      progress.emplace(out, true, console.id_width, terminal_width() - 1);
      options.on_progress = [&](const scenario::run_progress& p) { progress->update(p); };
    }
    if (args.sim) {
      scenario::sim_settings sim;
      if (!args.network_delay.empty()) sim.network_delay = core::parse_duration(args.network_delay);
      sim.clients = args.clients;
      run = scenario::run_sim(plan, options, sim);
    } else {
      run = scenario::run_live(plan, options);
    }
  } catch (const core::diagnostic_error& e) {
    print(e);
    return exit_usage;
  }
  if (log) log->close();  // flushed and closed before the run is reported done
  if (!args.quiet) report::print_table(out, run);
  report::print_summary(out, run);
  if (const int status = write_report_files(run, args.reports); status != exit_held) return status;
  return run.exit_code();
}

}  // namespace

// The options `run` and `sim` share: selection, seed, reports, shards, progress, log, overrides.
void add_common_options(CLI::App* cmd, const std::shared_ptr<run_args>& args) {
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)")->required();
  cmd->add_option("--phase", args->phase, "Run this phase: its failure modes and its settings overrides");
  repeatable(cmd->add_option("--only", args->only, "Run only this failure mode (repeatable)"));
  cmd->add_option("--seed", args->seed, "Seed for fault draws and jitter; the same seed reproduces a run")
      ->capture_default_str();
  add_report_options(cmd, args->reports);
  cmd->add_option("--shard", args->shard,
                  "Run shard I of N: the selected failure modes are dealt round robin in plan order (the k-th\n"
                  "to shard k mod N + 1), so N runs with the same selection split it; a shard with none is an\n"
                  "empty run that holds. `planproof merge` combines the shards' --json reports")
      ->type_name("I/N")
      ->check(CLI::Validator(
          [](std::string& value) {
            std::string why;
            return scenario::parse_shard(value, why) ? std::string() : why;
          },
          ""));
  cmd->add_option("--progress", args->progress,
                  "A live line per running failure mode (elapsed plan time, requests ended, failed, attempts),\n"
                  "redrawn in place: auto (when standard output is a terminal, without --quiet or --verbose),\n"
                  "always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  cmd->add_option("--log", args->log,
                  "Write every client decision to FILE as JSON lines: request submitted, attempt started and\n"
                  "finished (status or error class), backoff scheduled (delay and why), request completed\n"
                  "(outcome); each with its failure mode, request number and X-Request-Id. FILE is replaced");
  repeatable(cmd->add_option("--set", args->sets,
                             "Override a plan value before running, e.g. --set retry.max_attempts=1 (repeatable)"));
  add_limit_option(cmd, args->limits);
  auto* quiet = cmd->add_flag("--quiet,-q", args->quiet, "Print only broken failure modes and the summary");
  cmd->add_flag("--verbose,-v", args->verbose,
                "Print every expectation and metric, every client decision (each attempt, its result, each\n"
                "backoff) as a logfmt line, and where each failure mode's mock listens (standard error)")
      ->excludes(quiet);
}

command add_run_command(CLI::App& app) {
  auto args = std::make_shared<run_args>();
  auto* cmd = app.add_subcommand(
      "run", "Run the plan's failure modes: mock upstreams inject each fault, a real client configured\n"
             "from the plan sends the plan's traffic, and each expectation is judged from what happened.\n"
             "SIGINT or SIGTERM stops the run: the failure mode in progress is reported interrupted, the\n"
             "reports are written, and the exit code is 3 (a second signal quits at once).");
  add_common_options(cmd, args);
  cmd->add_option("--time-scale", args->time_scale,
                  "Multiply every plan duration by F to shorten the run (reports keep plan time)")
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
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
  cmd->add_flag("--insecure", args->insecure,
                "Do not check the https --upstream's certificate (a warning says so): only for a server known to\n"
                "be misconfigured, never for one that carries real credentials over a network you do not control");
  return {cmd, [args] { return execute(*args); }};
}

command add_sim_command(CLI::App& app) {
  auto args = std::make_shared<run_args>();
  args->sim = true;
  auto* cmd = app.add_subcommand(
      "sim", "Judge the plan's failure modes in virtual time: a modelled upstream answers as the mocks of `run`\n"
             "would (the same faults, draws and bodies) and a simulated client decides as the real one does (the\n"
             "same retry, backoff, budget, breaker and token policies). The same report and exit codes as `run`,\n"
             "in milliseconds; the same plan and seed give the same report. Inbound webhooks are delivered to the\n"
             "plan's receiver as in `run`. Failure modes with TLS faults, which only a live run can judge, are\n"
             "skipped with the reason.");
  add_common_options(cmd, args);
  cmd->add_option("--network-delay", args->network_delay,
                  "How long the modelled upstream takes to answer an attempt without a fault (default: the plan's\n"
                  "sim.network_delay, else 1ms)")
      ->check(CLI::Validator(
          [](std::string& value) {
            const auto d = core::parse_duration(value);
            return d && *d >= core::duration::zero() ? std::string() : "expected a duration such as 1ms or 10ms";
          },
          "DURATION"));
  cmd->add_option("--clients", args->clients,
                  "Independent clients, each with its own breaker, budget and tokens and the failure mode's whole\n"
                  "traffic, against the one modelled upstream")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
