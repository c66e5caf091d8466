// The simulator's speed: simulated attempts per second of one core, and plan time per wall time,
// for the example plans and for many clients against one upstream.
#include <chrono>
#include <filesystem>

#include <benchmark/benchmark.h>

#include "plan/loader.hpp"
#include "scenario/sim_runner.hpp"

namespace {

using namespace planproof;

const std::filesystem::path scenarios = std::filesystem::path(PLANPROOF_SOURCE_DIR) / "scenarios";

// One whole `planproof sim` of a plan (every failure mode it can judge), as a user runs it.
void simulate(benchmark::State& state, const char* file, const char* phase, int clients) {
  const auto plan = plan::load_file(scenarios / file);
  scenario::run_options options;
  if (phase[0] != '\0') options.phase = phase;
  scenario::sim_settings settings;
  settings.clients = clients;
  std::uint64_t attempts = 0;
  std::uint64_t deliveries = 0;  // inbound webhook delivery attempts
  double plan_ms = 0;
  for (auto _ : state) {
    const auto run = scenario::run_sim(plan, options, settings);
    for (const auto& m : run.failure_modes) {
      attempts += m.metrics.attempts;
      deliveries += m.metrics.webhooks.attempts;
      plan_ms += m.metrics.duration_ms;
    }
    benchmark::DoNotOptimize(run.failure_modes.data());
  }
  state.counters["attempts_per_s"] = benchmark::Counter(static_cast<double>(attempts), benchmark::Counter::kIsRate);
  if (deliveries != 0) {
    state.counters["deliveries_per_s"] = benchmark::Counter(static_cast<double>(deliveries), benchmark::Counter::kIsRate);
  }
  // Plan time simulated per second of wall time: the speed-up over a real-time run.
  state.counters["plan_per_wall"] = benchmark::Counter(plan_ms / 1000.0, benchmark::Counter::kIsRate);
}

void BM_sim_payments(benchmark::State& s) { simulate(s, "payments.plan.yaml", "phase2", 1); }
void BM_sim_hr_sync(benchmark::State& s) { simulate(s, "hr-sync.plan.yaml", "phase2", 1); }
void BM_sim_shipping_webhooks(benchmark::State& s) { simulate(s, "shipping-webhooks.plan.yaml", "phase2", 1); }
void BM_sim_contention_100_clients(benchmark::State& s) { simulate(s, "contention-backoff.sim.yaml", "", 100); }
BENCHMARK(BM_sim_payments)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sim_hr_sync)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sim_shipping_webhooks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sim_contention_100_clients)->Unit(benchmark::kMillisecond);

// Scale: `clients` independent clients at 1 request/s each for `duration` of plan time, 5% of
// answers 503 and retried, against one upstream. Memory is bounded by clients and work in flight.
void BM_sim_clients(benchmark::State& state) {
  const auto clients = static_cast<int>(state.range(0));
  const auto minutes = state.range(1);
  const auto plan = plan::load_string(R"(planproof: 1
integration: {name: scale}
auth: {method: none}
endpoints:
  - {id: get, path: /v1/items, response: {example: {id: 1}}, statuses: {success: [200]}}
retry: {max_attempts: 3, backoff: {base: 100ms, max: 2s, jitter: full}, retry_on: [503]}
traffic: {endpoint: get, rate: 1/s, duration: )" + std::to_string(minutes) + R"(m}
failure_modes:
  - id: flaky
    inject: {fault: status, status: 503, probability: 0.05}
    expect: {success_rate: ">= 0.99"}
)",
                                      "scale.yaml");
  scenario::sim_settings settings;
  settings.clients = clients;
  std::uint64_t attempts = 0, requests = 0;
  for (auto _ : state) {
    const auto run = scenario::run_sim(plan, {}, settings);
    attempts += run.failure_modes.at(0).metrics.attempts;
    requests += run.failure_modes.at(0).metrics.submitted;
  }
  state.counters["attempts_per_s"] = benchmark::Counter(static_cast<double>(attempts), benchmark::Counter::kIsRate);
  state.counters["requests"] = static_cast<double>(requests) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_sim_clients)->Args({100, 10})->Args({1000, 10})->Unit(benchmark::kMillisecond);

}  // namespace
