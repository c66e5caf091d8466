// Cost of the run's event fold: run_stats::on_event sees every event the client emits, so a long
// or busy run pays it per attempt.
#include <benchmark/benchmark.h>

#include <vector>

#include "scenario/run_stats.hpp"

namespace {

using namespace std::chrono_literals;
using namespace planproof;

// The events of `requests` logical requests, one every 5 ms of plan time: each is answered 503,
// backs off 100 ms, and succeeds with 201 on its second attempt.
std::vector<core::event> retry_then_succeed(core::time_point origin, std::uint64_t requests) {
  std::vector<core::event> events;
  events.reserve(requests * 7);
  for (std::uint64_t i = 1; i <= requests; ++i) {
    const auto at = origin + 5ms * static_cast<std::int64_t>(i);
    events.push_back({.kind = core::event_kind::request_submitted, .at = at, .request = i});
    events.push_back({.kind = core::event_kind::attempt_started, .at = at, .request = i, .attempt = 1});
    events.push_back({.kind = core::event_kind::attempt_finished, .at = at + 2ms, .request = i, .attempt = 1,
                      .status = 503, .latency = 2ms, .detail = 1});
    events.push_back({.kind = core::event_kind::backoff_scheduled, .at = at + 2ms, .request = i, .attempt = 2,
                      .delay = 100ms});
    events.push_back({.kind = core::event_kind::attempt_started, .at = at + 102ms, .request = i, .attempt = 2});
    events.push_back({.kind = core::event_kind::attempt_finished, .at = at + 104ms, .request = i, .attempt = 2,
                      .status = 201, .latency = 2ms});
    events.push_back({.kind = core::event_kind::request_completed, .at = at + 104ms, .request = i, .attempt = 2,
                      .status = 201, .latency = 104ms, .outcome = core::request_outcome::succeeded,
                      .reason = core::end_reason::succeeded});
  }
  return events;
}

// Arg: logical requests per fold (a 60 s run at 20/s is 1200).
void run_stats_fold(benchmark::State& state) {
  const core::time_point origin{};
  const auto events = retry_then_succeed(origin, static_cast<std::uint64_t>(state.range(0)));
  for (auto _ : state) {
    scenario::run_stats stats(origin);
    for (const auto& e : events) stats.on_event(e);
    benchmark::DoNotOptimize(stats.succeeded);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));  // events folded
}
BENCHMARK(run_stats_fold)->Arg(1200)->Arg(100'000);

}  // namespace
