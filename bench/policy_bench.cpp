// Cost of the retry decisions the client makes per attempt: they sit on every request's path, and
// the simulator will make millions of them.
#include <benchmark/benchmark.h>

#include "resilience/circuit_breaker.hpp"
#include "resilience/idempotency.hpp"
#include "resilience/retry_after.hpp"
#include "resilience/retry_budget.hpp"
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

void backoff_decorrelated_jitter(benchmark::State& state) {
  const resilience::backoff_policy b({plan::backoff_strategy::exponential, 200ms, 5s, plan::jitter_kind::decorrelated});
  resilience::seeded_random rng(1);
  core::duration previous{};
  for (auto _ : state) {
    previous = b.next(1, previous, rng);
    benchmark::DoNotOptimize(previous);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(backoff_decorrelated_jitter);

// One full retry decision, as a driver makes it per failed attempt: classify the result, draw the
// backoff, ask the retry budget, and take and report a breaker permit. The breaker sees half its
// calls fail (below its 60% threshold, so it stays closed and does the full closed-state work);
// the budget gets a request per decision. Arg 0: count window of 100 calls; 1: 60 s time window.
void full_retry_decision(benchmark::State& state) {
  plan::endpoint e;
  e.id = "create_payment";
  e.statuses.success = {200, 201};
  const auto retry = payments_retry();
  const resilience::retry_classifier classifier(e.statuses.success, retry.retry_on, retry.fatal_on, true);
  const resilience::backoff_policy backoff(retry.backoff);
  resilience::retry_budget budget({.ratio = 0.2, .min_per_second = 10, .ttl = 10s});
  plan::circuit_breaker_config bc;
  bc.window = state.range(0) == 0 ? plan::breaker_window::count : plan::breaker_window::time;
  bc.size = 100;
  bc.time_size = 60s;
  bc.failure_rate = 0.6;
  bc.min_calls = 20;
  bc.slow_call = plan::slow_call_config{.threshold = 2s, .rate = 0.9};
  resilience::circuit_breaker breaker(bc);
  resilience::seeded_random rng(1);
  core::time_point now{};
  const resilience::attempt_result results[] = {{503}, {0, core::error_class::read_timeout}};
  std::uint64_t i = 0;
  std::uint64_t retries = 0;
  for (auto _ : state) {
    now += 1ms;
    const auto& r = results[i & 1];
    auto permit = breaker.try_acquire(now);
    const auto c = classifier.classify(r);
    const auto delay = backoff.next(static_cast<int>(i % 3) + 1, {}, rng);
    budget.on_request(now);
    retries += budget.try_retry(now);
    if ((i & 2) != 0) breaker.on_failure(permit, now, 50ms);
    else breaker.on_success(permit, now, 50ms);
    benchmark::DoNotOptimize(c);
    benchmark::DoNotOptimize(delay);
    ++i;
  }
  if (breaker.state() != resilience::breaker_state::closed) state.SkipWithError("the breaker opened");
  benchmark::DoNotOptimize(retries);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(full_retry_decision)->Arg(0)->Arg(1);

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
