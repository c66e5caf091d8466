#include "scenario/sweep.hpp"

#include <algorithm>
#include <cmath>

#include "core/diagnostic.hpp"

namespace planproof::scenario {
namespace {

core::diagnostic_error usage(std::string message) {
  return core::diagnostic_error(core::diagnostic{{}, core::severity::error, std::move(message)});
}

spread summarize(const std::vector<double>& xs) {
  spread s;
  double sum = 0;
  for (const double x : xs) {
    if (std::isnan(x)) continue;
    if (s.samples == 0 || x < s.min) s.min = x;
    if (s.samples == 0 || x > s.max) s.max = x;
    sum += x;
    ++s.samples;
  }
  if (s.samples == 0) {
    s.mean = std::nan("");
    return s;
  }
  s.mean = sum / static_cast<double>(s.samples);
  if (s.samples > 1) {
    double sq = 0;
    for (const double x : xs) {
      if (!std::isnan(x)) sq += (x - s.mean) * (x - s.mean);
    }
    s.sd = std::sqrt(sq / static_cast<double>(s.samples - 1));
  }
  return s;
}

}  // namespace

const std::vector<sweep_metric>& sweep_metrics() {
  using result = const failure_mode_result&;
  static const std::vector<sweep_metric> metrics{
      {"success_rate", "share of logical requests that succeeded", false,
       [](result r) { return static_cast<double>(r.metrics.succeeded) / static_cast<double>(std::max<std::uint64_t>(1, r.metrics.planned)); }},
      {"p50_ms", "median completion latency of a logical request (ms)", true,
       [](result r) { return r.metrics.p50_latency_ms; }},
      {"p99_ms", "99th percentile completion latency (ms)", true, [](result r) { return r.metrics.p99_latency_ms; }},
      {"amplification", "upstream calls per logical request", true,
       [](result r) {
         return static_cast<double>(r.metrics.upstream_requests) /
                static_cast<double>(std::max<std::uint64_t>(1, r.metrics.submitted));
       }},
      {"peak_rate", "most upstream calls in one second once the faults ended", true,
       [](result r) { return r.metrics.peak_rate_after_recovery; }},
      {"recovery_ms", "from the end of the faults to the first success (ms)", true,
       [](result r) { return r.metrics.recovery_ms.value_or(std::nan("")); }},
      {"dead_letters", "logical requests dead-lettered", true,
       [](result r) { return static_cast<double>(r.metrics.dead_lettered); }},
      {"completion_ms", "plan time until the last request ended (ms)", true,
       [](result r) { return r.metrics.duration_ms; }},
      {"upstream_calls", "upstream calls in all", true,
       [](result r) { return static_cast<double>(r.metrics.upstream_requests); }},
  };
  return metrics;
}

const sweep_metric* find_sweep_metric(std::string_view name) {
  for (const auto& m : sweep_metrics()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::optional<sweep_axis> parse_axis(std::string_view text, std::string& why) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    why = "'" + std::string(text) + "' is not KEY=V1,V2,... (e.g. --vary retry.backoff.jitter=none,full)";
    return std::nullopt;
  }
  sweep_axis axis{std::string(text.substr(0, eq)), {}};
  const auto values = text.substr(eq + 1);
  std::string current;
  int depth = 0;
  auto flush = [&]() -> bool {
    auto b = current.find_first_not_of(" \t");
    auto e = current.find_last_not_of(" \t");
    if (b == std::string::npos) {
      why = "--vary " + axis.key + ": an empty value (each of V1,V2,... must be given)";
      return false;
    }
    axis.values.push_back(current.substr(b, e - b + 1));
    current.clear();
    return true;
  };
  if (values.find_first_not_of(" \t") == std::string_view::npos) {
    why = "--vary " + axis.key + ": no values (give at least one: KEY=V1,V2,...)";
    return std::nullopt;
  }
  for (const char c : values) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (c == ',' && depth == 0) {
      if (!flush()) return std::nullopt;
      continue;
    }
    current += c;
  }
  if (!flush()) return std::nullopt;
  return axis;
}

std::size_t grid_size(const std::vector<sweep_axis>& axes) {
  std::size_t n = 1;
  for (const auto& a : axes) {
    if (a.values.empty()) return 0;
    if (n > (std::size_t(1) << 40) / a.values.size()) return std::size_t(1) << 40;  // far past any max
    n *= a.values.size();
  }
  return n;
}

sweep_result run_sweep(const sweep_options& options) {
  if (options.axes.empty()) throw usage("sweep: nothing to vary (give --vary KEY=V1,V2,...)");
  for (std::size_t i = 0; i < options.axes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (options.axes[i].key == options.axes[j].key) throw usage("sweep: --vary " + options.axes[i].key + " given twice");
    }
  }
  const auto points = grid_size(options.axes);
  if (points == 0) throw usage("sweep: the grid is empty");
  if (points > options.max_points) {
    throw usage("sweep: the grid has " + std::to_string(points) + " points, more than --max-points " +
                std::to_string(options.max_points) + " allows; vary fewer values, or raise --max-points");
  }
  if (options.repeat < 1) throw usage("sweep: --repeat must be at least 1");

  sweep_result result;
  result.failure_mode = options.failure_mode;
  result.phase = options.phase;
  result.repeat = options.repeat;
  result.seed = options.seed;
  result.axes = options.axes;
  const std::size_t total = points * static_cast<std::size_t>(options.repeat);
  std::size_t done = 0;
  std::vector<std::size_t> index(options.axes.size(), 0);
  for (std::size_t p = 0; p < points; ++p) {
    sweep_point point;
    auto load = options.base;
    sim_settings settings;
    settings.clients = options.clients;
    for (std::size_t a = 0; a < options.axes.size(); ++a) {
      const auto& axis = options.axes[a];
      const auto& value = axis.values[index[a]];
      point.values.push_back(value);
      if (axis.key == clients_key) {
        char* end = nullptr;
        const long n = std::strtol(value.c_str(), &end, 10);
        if (end == value.c_str() || *end != '\0' || n < 1 || n > 1'000'000) {
          throw usage("--vary " + axis.key + ": '" + value + "' is not a number of clients (1 to 1000000)");
        }
        settings.clients = static_cast<int>(n);
      } else {
        load.overrides.push_back({axis.key, value});
      }
    }
    const auto plan = plan::load_file(options.plan_file, load);
    if (result.plan_name.empty()) result.plan_name = plan.integration.name;
    if (plan.find_failure_mode(options.failure_mode) == nullptr) {
      throw usage("sweep: --failure-mode " + options.failure_mode + ": the plan has no such failure mode");
    }
    std::vector<std::vector<double>> samples(sweep_metrics().size());
    for (int r = 0; r < options.repeat; ++r) {
      run_options run;
      run.phase = options.phase;
      run.only = {options.failure_mode};
      run.seed = options.seed + static_cast<std::uint64_t>(r);
      const auto simulated = run_sim(plan, run, settings);
      const auto& mode = simulated.failure_modes.at(0);
      if (mode.outcome == verdict::skipped || mode.outcome == verdict::error) {
        throw usage("sweep: " + options.failure_mode + " cannot be simulated: " + mode.reason);
      }
      if (mode.outcome == verdict::held) ++point.held;
      for (std::size_t k = 0; k < sweep_metrics().size(); ++k) samples[k].push_back(sweep_metrics()[k].measure(mode));
      if (options.on_progress) options.on_progress(++done, total);
    }
    for (const auto& xs : samples) point.metrics.push_back(summarize(xs));
    result.points.push_back(std::move(point));
    // The next point: the last axis varies fastest.
    for (std::size_t a = options.axes.size(); a-- > 0;) {
      if (++index[a] < options.axes[a].values.size()) break;
      index[a] = 0;
    }
  }
  return result;
}

}  // namespace planproof::scenario
