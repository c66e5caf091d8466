// `planproof sweep PLAN --failure-mode ID --vary KEY=V1,V2,...`: the failure mode in virtual time at
// every point of a grid of settings, each repeated with different seeds.
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "core/file_io.hpp"
#include "core/logging.hpp"
#include "report/sweep_report.hpp"
#include "scenario/sweep.hpp"

namespace planproof::cli {
namespace {

struct sweep_args {
  std::string plan;
  std::string phase;
  std::string failure_mode;
  std::vector<std::string> vary;
  std::vector<std::string> sets;
  std::vector<std::string> limits;  // --limit NAME=VALUE
  int clients = 1;
  int repeat = 1;
  std::uint64_t seed = 1;
  std::size_t max_points = 1000;
  std::string sort = "success_rate";
  std::string chart_metric;
  std::string csv, json, html;
  std::string progress = "auto";
};

int write_output(const std::string& flag, const std::string& path, const std::string& data) {
  if (path.empty()) return exit_held;
  if (auto ec = core::write_file_atomically(path, data)) {
    std::cerr << flag << ": error: cannot write " << path << ": " << ec.message() << '\n';
    return exit_harness_error;
  }
  return exit_held;
}

int execute(const sweep_args& args) {
  core::setup_logging(core::verbosity::normal);
  const auto load = load_options_from(args.sets, args.limits);
  if (!load) return exit_usage;
  scenario::sweep_options options;
  options.plan_file = args.plan;
  options.base = *load;
  if (!args.phase.empty()) options.phase = args.phase;
  options.failure_mode = args.failure_mode;
  options.clients = args.clients;
  options.repeat = args.repeat;
  options.seed = args.seed;
  options.max_points = args.max_points;
  for (const auto& v : args.vary) {
    std::string why;
    auto axis = scenario::parse_axis(v, why);
    if (!axis) {
      std::cerr << "--vary: error: " << why << '\n';
      return exit_usage;
    }
    options.axes.push_back(std::move(*axis));
  }
  const auto* sort = scenario::find_sweep_metric(args.sort);
  const auto* chart = scenario::find_sweep_metric(args.chart_metric.empty() ? args.sort : args.chart_metric);
  const auto index = [](const scenario::sweep_metric* m) {
    return static_cast<std::size_t>(m - scenario::sweep_metrics().data());
  };
  const bool bar = args.progress == "always" || (args.progress == "auto" && ::isatty(STDOUT_FILENO) == 1);
  if (bar) {
    options.on_progress = [](std::size_t done, std::size_t total) {
      constexpr std::size_t width = 30;
      const auto filled = done * width / total;
      std::cout << "\r  [" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << done << '/'
                << total << " simulations" << std::flush;
      if (done == total) std::cout << "\r" << std::string(width + 40, ' ') << '\r' << std::flush;
    };
  }
  scenario::sweep_result result;
  try {
    result = scenario::run_sweep(options);
  } catch (const core::diagnostic_error& e) {
    if (bar) std::cout << '\n';
    for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
    return exit_usage;
  }
  std::cout << "planproof sweep " << result.plan_name << ": " << result.failure_mode
            << (result.phase ? " (phase " + *result.phase + ")" : "") << ", " << result.points.size() << " points x "
            << result.repeat << (result.repeat == 1 ? " seed" : " seeds") << ", virtual time\n";
  report::print_sweep_table(std::cout, result, index(sort));
  int status = exit_held;
  for (const int s : {write_output("--csv", args.csv, report::sweep_csv(result)),
                      write_output("--json", args.json, report::sweep_json(result)),
                      write_output("--html", args.html, report::sweep_chart_html(result, index(chart)))}) {
    if (s != exit_held) status = s;
  }
  return status;
}

CLI::Validator metric_name() {
  return CLI::Validator(
      [](std::string& value) {
        if (scenario::find_sweep_metric(value) != nullptr) return std::string();
        std::string known;
        for (const auto& m : scenario::sweep_metrics()) known += (known.empty() ? "" : ", ") + std::string(m.name);
        return "unknown metric '" + value + "' (known: " + known + ")";
      },
      "METRIC");
}

}  // namespace

command add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<sweep_args>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Simulate one failure mode at every point of a grid of settings (several --vary form a grid), each\n"
      "point repeated with different seeds, and compare them: success rate, p50/p99 completion latency,\n"
      "upstream calls per request, peak upstream rate after recovery, time to recover, dead letters,\n"
      "completion time. A table sorted by --sort, and --csv, --json and an --html chart.");
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)")->required();
  cmd->add_option("--failure-mode", args->failure_mode, "The failure mode to simulate")->required();
  repeatable(cmd->add_option("--vary", args->vary,
                             "A setting and its values, KEY=V1,V2,... with KEY as --set takes it (retry.backoff.jitter,\n"
                             "retry.backoff.base, retry.max_attempts, retry.retry_budget.ratio,\n"
                             "retry.circuit_breaker.open_for...) or traffic.clients (independent clients); repeatable")
                 ->required());
  cmd->add_option("--phase", args->phase, "Simulate with this phase's settings");
  repeatable(cmd->add_option("--set", args->sets, "Override a plan value at every point (repeatable)"));
  add_limit_option(cmd, args->limits);
  cmd->add_option("--clients", args->clients, "Independent clients, unless --vary traffic.clients")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--repeat", args->repeat, "Simulations per point, seeds SEED, SEED+1, ...: mean and spread")
      ->check(CLI::Range(1, 10'000))
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "The first seed")->capture_default_str();
  cmd->add_option("--max-points", args->max_points, "Refuse a grid with more points than this")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--sort", args->sort, "Sort the table by this metric, best first")
      ->check(metric_name())
      ->capture_default_str();
  cmd->add_option("--chart-metric", args->chart_metric, "The metric the --html chart plots (default: --sort's)")
      ->check(metric_name());
  cmd->add_option("--csv", args->csv, "Write every point's figures as CSV to FILE");
  cmd->add_option("--json", args->json, "Write every point's figures as JSON to FILE");
  cmd->add_option("--html", args->html,
                  "Write a chart to FILE (self-contained HTML, inline SVG): the metric against the first --vary,\n"
                  "one line per combination of the others");
  cmd->add_option("--progress", args->progress, "A progress bar: auto (on a terminal), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->capture_default_str();
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
