// Cost of the retry decisions the client makes per attempt: they sit on every request's path, and
// the simulator will make millions of them.
#include <benchmark/benchmark.h>

#include "resilience/idempotency.hpp"
#include "resilience/retry_after.hpp"
#include "resilience/retry_state.hpp"

namespace {

using namespace std::chrono_literals;
using namespace planproof;

plan::retry_config payments_retry() {
  plan::retry_config r;
  r.max_attempts = 4;
  r.backoff = {plan::backoff_strategy::exponential, 200ms, 5s, plan::jitter_kind::full};
  r.retry_on = {429, 502, 503, 504, core::error_class::timeout, core::error_class::connection_error};
  r.retry_after = {true, 30s};
  r.timeouts = {2s, 10s, 30s};
  return r;
}

// One logical request that fails three times (one 429 with Retry-After) and then succeeds.
void retry_state_full_request(benchmark::State& state) {
  plan::endpoint e;
  e.id = "create_payment";
  e.statuses.success = {200, 201};
  const resilience::retry_policy policy(payments_retry(), e);
  core::manual_clock clock;
  resilience::seeded_random rng(1);
  for (auto _ : state) {
    resilience::retry_state s(policy, clock, rng);
    s.begin_attempt();
    auto d = s.on_result({503});
    clock.advance(d.delay);
    s.begin_attempt();
    d = s.on_result({429, core::error_class::none, 2s});
    clock.advance(d.delay);
    s.begin_attempt();
    d = s.on_result({0, core::error_class::timeout});
    clock.advance(d.delay);
    s.begin_attempt();
    benchmark::DoNotOptimize(s.on_result({201}));
  }
  state.SetItemsProcessed(state.iterations() * 4);  // attempts decided
}
BENCHMARK(retry_state_full_request);

void backoff_full_jitter(benchmark::State& state) {
  const resilience::backoff_policy b({plan::backoff_strategy::exponential, 200ms, 5s, plan::jitter_kind::full});
  resilience::seeded_random rng(1);
  int retry = 0;
  for (auto _ : state) benchmark::DoNotOptimize(b.next(retry++ % 8 + 1, {}, rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(backoff_full_jitter);

void idempotency_key(benchmark::State& state) {
  resilience::seeded_random rng(1);
  for (auto _ : state) benchmark::DoNotOptimize(resilience::make_idempotency_key(rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(idempotency_key);

void retry_after_http_date(benchmark::State& state) {
  const auto now = std::chrono::system_clock::from_time_t(784111000);
  for (auto _ : state) {
    benchmark::DoNotOptimize(resilience::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(retry_after_http_date);

}  // namespace
