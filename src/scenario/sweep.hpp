// `planproof sweep`: one failure mode simulated over a grid of settings, each point repeated with
// different seeds, so an SRE can compare backoff strategies and numbers under the same outage.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plan/loader.hpp"
#include "scenario/sim_runner.hpp"

namespace planproof::scenario {

// One `--vary KEY=V1,V2,...`: a plan key (as `--set` takes it) and its values. `traffic.clients` is
// the number of independent clients, not a plan key.
struct sweep_axis {
  std::string key;
  std::vector<std::string> values;
};
// "KEY=V1,V2" (values split at commas outside brackets, so `[429, 503],[503]` is two lists); nullopt
// with `why` set when the key or a value is empty.
std::optional<sweep_axis> parse_axis(std::string_view text, std::string& why);
inline constexpr std::string_view clients_key = "traffic.clients";

// What a point of the grid measures, over its repeats.
struct sweep_metric {
  std::string_view name;        // e.g. "success_rate"
  std::string_view description;
  bool lower_is_better = true;
  // Its value in one simulated failure mode; NaN when that run did not measure it.
  double (*measure)(const failure_mode_result&) = nullptr;
};
const std::vector<sweep_metric>& sweep_metrics();
const sweep_metric* find_sweep_metric(std::string_view name);

struct spread {
  double mean = 0;
  double sd = 0;      // sample standard deviation over the repeats (0 for one)
  double min = 0, max = 0;
  std::size_t samples = 0;  // repeats that measured it (recovery needs a success after the faults)
};

struct sweep_point {
  std::vector<std::string> values;  // one per axis, in axis order
  std::vector<spread> metrics;      // one per sweep_metrics(), in that order
  std::size_t held = 0;             // repeats whose verdict was held
};

struct sweep_options {
  std::filesystem::path plan_file;
  plan::load_options base;  // `--set`s applied at every point
  std::optional<std::string> phase;
  std::string failure_mode;
  std::vector<sweep_axis> axes;
  int clients = 1;          // unless an axis varies traffic.clients
  int repeat = 1;
  std::uint64_t seed = 1;   // repeat r uses seed + r
  std::size_t max_points = 1000;
  std::function<void(std::size_t done, std::size_t total)> on_progress;  // after each simulation
};

struct sweep_result {
  std::string plan_name;
  std::string failure_mode;
  std::optional<std::string> phase;
  int repeat = 1;
  std::uint64_t seed = 1;
  std::vector<sweep_axis> axes;
  std::vector<sweep_point> points;
};

// The grid's size: the product of the axes' value counts.
std::size_t grid_size(const std::vector<sweep_axis>& axes);

// Throws core::diagnostic_error for a plan or value that does not load, an unknown failure mode or
// phase, an empty grid or one larger than max_points (usage errors: exit 2).
sweep_result run_sweep(const sweep_options& options);

}  // namespace planproof::scenario
