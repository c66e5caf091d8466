// retry: multiplier and jitter kinds, fatal_on, retry budget, circuit breaker, idempotency; their
// defaults, their errors, and how phases and --set reach them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using test_support::conditions_text;
using test_support::load_small;
using test_support::small_errors;
using test_support::with_sets;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(retry, new_fields_default_to_off) {
  const auto plan = load_small("retry: {max_attempts: 2}");
  const auto& r = plan.retry;
  EXPECT_EQ(r.backoff.multiplier, 2.0);
  EXPECT_EQ(r.backoff.jitter, jitter_kind::full);
  EXPECT_THAT(r.fatal_on, IsEmpty());
  EXPECT_FALSE(r.retry_budget);
  EXPECT_FALSE(r.circuit_breaker);
  EXPECT_FALSE(r.idempotency);
}

TEST(retry, in_full) {
  const auto plan = load_small(R"(retry:
  max_attempts: 5
  backoff: {strategy: exponential, base: 100ms, max: 10s, jitter: equal, multiplier: 1.5}
  retry_on: [429, 503, timeout]
  fatal_on: [400, 401, schema_error]
  retry_budget: {ratio: 20%, min_per_second: 2.5}
  circuit_breaker:
    window: count
    size: 50
    failure_rate: 0.6
    slow_call: {threshold: 2s, rate: 50%}
    min_calls: 20
    open_for: 1m
    half_open_calls: 2
  idempotency: {approach: header, notes: Idempotency-Key on every POST})");
  const auto& r = plan.retry;
  EXPECT_EQ(r.backoff.jitter, jitter_kind::equal);
  EXPECT_EQ(r.backoff.multiplier, 1.5);
  EXPECT_THAT(conditions_text(r.fatal_on), ElementsAre("400", "401", "schema_error"));
  ASSERT_TRUE(r.retry_budget);
  EXPECT_DOUBLE_EQ(r.retry_budget->ratio, 0.2);
  EXPECT_DOUBLE_EQ(r.retry_budget->min_per_second, 2.5);
  EXPECT_EQ(r.retry_budget->where.line, 13);
  ASSERT_TRUE(r.circuit_breaker);
  const auto& b = *r.circuit_breaker;
  EXPECT_EQ(b.window, breaker_window::count);
  EXPECT_EQ(b.size, 50);
  EXPECT_DOUBLE_EQ(b.failure_rate, 0.6);
  ASSERT_TRUE(b.slow_call);
  EXPECT_EQ(b.slow_call->threshold, 2s);
  EXPECT_DOUBLE_EQ(b.slow_call->rate, 0.5);
  EXPECT_EQ(b.min_calls, 20);
  EXPECT_EQ(b.open_for, 1min);
  EXPECT_EQ(b.half_open_calls, 2);
  EXPECT_EQ(b.where.line, 15);
  ASSERT_TRUE(r.idempotency);
  EXPECT_EQ(r.idempotency->approach, idempotency_approach::header);
  EXPECT_EQ(r.idempotency->notes, "Idempotency-Key on every POST");
}

TEST(retry, circuit_breaker_defaults_and_time_window) {
  const circuit_breaker_config defaults;
  auto b = *load_small("retry: {max_attempts: 2, circuit_breaker: {}}").retry.circuit_breaker;
  EXPECT_EQ(b.window, breaker_window::count);
  EXPECT_EQ(b.size, defaults.size);
  EXPECT_EQ(b.size, 20);
  EXPECT_DOUBLE_EQ(b.failure_rate, 0.5);
  EXPECT_EQ(b.min_calls, 10);
  EXPECT_EQ(b.open_for, 30s);
  EXPECT_EQ(b.half_open_calls, 3);
  EXPECT_FALSE(b.slow_call);
  b = *load_small(
           "retry: {max_attempts: 2, circuit_breaker: {window: time, size: 2m, slow_call: {threshold: 1s}}}")
           .retry.circuit_breaker;
  EXPECT_EQ(b.window, breaker_window::time);
  EXPECT_EQ(b.time_size, 2min);
  EXPECT_EQ(b.size, 20);  // the count size stays at its default
  EXPECT_DOUBLE_EQ(b.slow_call->rate, 1.0);
  EXPECT_EQ(b.mode, breaker_mode::failure_rate);
  EXPECT_EQ(b.half_open_max_wait, 60s);
  EXPECT_EQ(b.half_open_max_wait, defaults.half_open_max_wait);
  const auto budget = *load_small("retry: {max_attempts: 2, retry_budget: {}}").retry.retry_budget;
  EXPECT_DOUBLE_EQ(budget.ratio, 0.2);
  EXPECT_DOUBLE_EQ(budget.min_per_second, 10);
  EXPECT_EQ(budget.ttl, 10s);
  EXPECT_EQ(load_small("retry: {max_attempts: 2, retry_budget: {ttl: 1m}}").retry.retry_budget->ttl, 1min);
}

TEST(retry, linear_backoff) {
  const auto plan = load_small("retry: {max_attempts: 4, backoff: {strategy: linear, base: 250ms, max: 2s}}");
  EXPECT_EQ(plan.retry.backoff.strategy, backoff_strategy::linear);
  EXPECT_EQ(plan.retry.backoff.base, 250ms);
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, backoff: {strategy: linear, multiplier: 3}}"),
      ElementsAre("plan.yaml:8:54: error: retry.backoff: multiplier applies only to exponential backoff"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, backoff: {strategy: lineal}}"),
      ElementsAre("plan.yaml:8:46: error: retry.backoff.strategy: unknown backoff strategy 'lineal'; did you "
                  "mean 'linear'? (known: exponential, linear, constant)"));
}

TEST(retry, fine_error_classes_in_retry_on_and_fatal_on) {
  const auto plan = load_small(
      "retry: {max_attempts: 2, retry_on: [503, timeout, connect_error, tls_error], fatal_on: [read_timeout, reset]}");
  EXPECT_THAT(conditions_text(plan.retry.retry_on), ElementsAre("503", "timeout", "connect_error", "tls_error"));
  // A finer class in fatal_on carves an exception out of an umbrella in retry_on.
  EXPECT_THAT(conditions_text(plan.retry.fatal_on), ElementsAre("read_timeout", "reset"));
  // With the default retry_on (timeout and connection_error) too.
  EXPECT_THAT(conditions_text(load_small("retry: {max_attempts: 2, fatal_on: [read_timeout]}").retry.fatal_on),
              ElementsAre("read_timeout"));
}

TEST(retry_errors, an_umbrella_in_fatal_on_would_make_a_retry_on_entry_dead) {
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, retry_on: [503, read_timeout, reset], fatal_on: [timeout]}"),
      ElementsAre("plan.yaml:8:75: error: retry.fatal_on[0]: timeout covers read_timeout, which retry_on lists: "
                  "it would never be retried"));
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, fatal_on: [connection_error]}"),
              ElementsAre("plan.yaml:8:37: error: retry.fatal_on[0]: connection_error is also in retry_on "
                          "(by default)"));
}

TEST(retry, circuit_breaker_modes) {
  auto b = *load_small("retry: {max_attempts: 2, circuit_breaker: {consecutive_failures: 4, open_for: 5s}}")
                .retry.circuit_breaker;
  EXPECT_EQ(b.mode, breaker_mode::consecutive_failures);
  EXPECT_EQ(b.consecutive_failures, 4);
  EXPECT_EQ(b.open_for, 5s);
  b = *load_small(R"(retry:
  max_attempts: 2
  circuit_breaker:
    failures_per_interval: {count: 8, interval: 30s}
    half_open_calls: 1
    half_open_max_wait: 2m)")
           .retry.circuit_breaker;
  EXPECT_EQ(b.mode, breaker_mode::failures_per_interval);
  EXPECT_EQ(b.failures_per_interval.count, 8);
  EXPECT_EQ(b.failures_per_interval.interval, 30s);
  EXPECT_EQ(b.failures_per_interval.where.line, 11);
  EXPECT_EQ(b.half_open_calls, 1);
  EXPECT_EQ(b.half_open_max_wait, 2min);
  b = *load_small("retry: {max_attempts: 2, circuit_breaker: {failures_per_interval: {}}}").retry.circuit_breaker;
  EXPECT_EQ(b.failures_per_interval.count, 5);
  EXPECT_EQ(b.failures_per_interval.interval, 10s);
  // The keys every mode shares do not pick one.
  b = *load_small("retry: {max_attempts: 2, circuit_breaker: {open_for: 1m, half_open_calls: 2}}").retry.circuit_breaker;
  EXPECT_EQ(b.mode, breaker_mode::failure_rate);
}

TEST(retry_errors, circuit_breaker_modes) {
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {failure_rate: 50%, consecutive_failures: 3}}"),
      ElementsAre("plan.yaml:8:63: error: retry.circuit_breaker: consecutive_failures and failure_rate belong to "
                  "different ways of opening the breaker (failure_rate over a window, consecutive_failures, "
                  "failures_per_interval): give one"));
  EXPECT_THAT(
      small_errors(R"(retry:
  max_attempts: 2
  circuit_breaker:
    consecutive_failures: 0
    failures_per_interval: {count: 0, interval: 0s, within: 1s}
    half_open_max_wait: 0s)"),
      ElementsAre(
          "plan.yaml:11:27: error: retry.circuit_breaker.consecutive_failures: expected an integer >= 1 (failures "
          "in a row), got '0'",
          "plan.yaml:12:5: error: retry.circuit_breaker: failures_per_interval and consecutive_failures belong to "
          "different ways of opening the breaker (failure_rate over a window, consecutive_failures, "
          "failures_per_interval): give one",
          "plan.yaml:12:36: error: retry.circuit_breaker.failures_per_interval.count: expected an integer >= 1, "
          "got '0'",
          "plan.yaml:12:49: error: retry.circuit_breaker.failures_per_interval.interval: expected a duration > 0, "
          "got '0s'",
          "plan.yaml:12:53: error: retry.circuit_breaker.failures_per_interval: unknown key 'within' (known: "
          "count, interval)",
          "plan.yaml:13:25: error: retry.circuit_breaker.half_open_max_wait: expected a duration > 0, got '0s'"));
  // Slow calls are a rate of a window: they belong to the failure-rate mode.
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {consecutive_failures: 3, slow_call: {threshold: 1s}}}"),
      ElementsAre("plan.yaml:8:69: error: retry.circuit_breaker: slow_call and consecutive_failures belong to "
                  "different ways of opening the breaker (failure_rate over a window, consecutive_failures, "
                  "failures_per_interval): give one"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {slow_call: {threshold: 1s, rate: 0%}}}"),
      ElementsAre("plan.yaml:8:77: error: retry.circuit_breaker.slow_call.rate: expected a ratio > 0, got '0%'"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {failures_per_interval: 5}}"),
      ElementsAre("plan.yaml:8:67: error: retry.circuit_breaker.failures_per_interval: expected a map, got '5'"));
}

TEST(retry_errors, retry_budget_ttl) {
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, retry_budget: {ttl: 0s}}"),
              ElementsAre("plan.yaml:8:46: error: retry.retry_budget.ttl: expected a duration > 0, got '0s'"));
}

TEST(retry, off_switches_features_off) {
  for (const char* off : {"off", "false"}) {
    const auto plan = load_small("retry: {max_attempts: 2, circuit_breaker: " + std::string(off) +
                                 ", retry_budget: " + off + "}");
    EXPECT_FALSE(plan.retry.circuit_breaker) << off;
    EXPECT_FALSE(plan.retry.retry_budget) << off;
  }
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, circuit_breaker: \"off\"}"),
              ElementsAre("plan.yaml:8:43: error: retry.circuit_breaker: expected off or a map such as "
                          "{failure_rate: 50%, open_for: 30s}, got 'off'"));
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, retry_budget: [0.1]}"),
              ElementsAre("plan.yaml:8:40: error: retry.retry_budget: expected off or a map with ratio, "
                          "min_per_second and ttl, got a list"));
}

TEST(retry_errors, backoff) {
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, backoff: {multiplier: 1}}"),
              ElementsAre("plan.yaml:8:48: error: retry.backoff.multiplier: expected a number > 1, got '1'"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, backoff: {multiplier: double}}"),
      ElementsAre("plan.yaml:8:48: error: retry.backoff.multiplier: expected a number, got 'double'"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, backoff: {strategy: constant, multiplier: 3}}"),
      ElementsAre("plan.yaml:8:56: error: retry.backoff: multiplier applies only to exponential backoff"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, backoff: {jitter: decorelated}}"),
      ElementsAre("plan.yaml:8:44: error: retry.backoff.jitter: unknown jitter 'decorelated'; did you mean "
                  "'decorrelated'? (known: none, full, equal, decorrelated)"));
}

TEST(retry_errors, fatal_on_and_retry_on_do_not_overlap) {
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, retry_on: [429, 503, timeout], fatal_on: [400, 503, timeout]}"),
      ElementsAre("plan.yaml:8:73: error: retry.fatal_on[1]: 503 is also in retry_on",
                  "plan.yaml:8:78: error: retry.fatal_on[2]: timeout is also in retry_on"));
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, fatal_on: [502]}"),
              ElementsAre("plan.yaml:8:37: error: retry.fatal_on[0]: 502 is also in retry_on (by default)"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, fatal_on: [418, teapot]}"),
      ElementsAre("plan.yaml:8:42: error: retry.fatal_on[1]: expected an HTTP status 100..599 or an error "
                  "class (timeout, connect_timeout, read_timeout, connection_error, connect_error, reset, tls_error, "
                  "schema_error, protocol_error), got 'teapot'"));
}

TEST(retry_errors, circuit_breaker) {
  EXPECT_THAT(
      small_errors(R"(retry:
  max_attempts: 2
  circuit_breaker:
    window: sliding
    size: 10
    failure_rate: 0
    slow_call: {rate: 50%}
    open_for: 0s
    half_open_calls: 0
    cooldown: 5s)"),
      ElementsAre(
          "plan.yaml:11:13: error: retry.circuit_breaker.window: unknown window 'sliding' (known: "
          "count, time)",
          "plan.yaml:13:19: error: retry.circuit_breaker.failure_rate: expected a ratio > 0, got '0'",
          "plan.yaml:14:16: error: retry.circuit_breaker.slow_call: missing required key 'threshold'",
          "plan.yaml:15:15: error: retry.circuit_breaker.open_for: expected a duration > 0, got '0s'",
          "plan.yaml:16:22: error: retry.circuit_breaker.half_open_calls: expected an integer >= 1, "
          "got '0'",
          "plan.yaml:17:5: error: retry.circuit_breaker: unknown key 'cooldown' (known: window, size, "
          "failure_rate, slow_call, min_calls, consecutive_failures, failures_per_interval, open_for, "
          "half_open_calls, half_open_max_wait)"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {window: time, size: 20}}"),
      ElementsAre("plan.yaml:8:64: error: retry.circuit_breaker.size: expected a duration such as 250ms, 2s "
                  "or 1m, got '20'"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {size: 30s}}"),
      ElementsAre("plan.yaml:8:50: error: retry.circuit_breaker.size: expected an integer >= 1 (calls in the "
                  "window), got '30s'"));
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, circuit_breaker: {size: 5, min_calls: 8}}"),
      ElementsAre("plan.yaml:8:64: error: retry.circuit_breaker: min_calls (8) exceeds the window size (5): "
                  "the breaker could never open"));
}

TEST(retry_errors, budget_and_idempotency) {
  EXPECT_THAT(
      small_errors("retry: {max_attempts: 2, retry_budget: {ratio: 2, min_per_second: -1}}"),
      ElementsAre("plan.yaml:8:48: error: retry.retry_budget.ratio: expected a ratio such as 0.99 or 99%, "
                  "got '2'",
                  "plan.yaml:8:67: error: retry.retry_budget.min_per_second: expected a number >= 0, got "
                  "'-1'"));
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, idempotency: {notes: x}}"),
              ElementsAre("plan.yaml:8:39: error: retry.idempotency: missing required key 'approach'"));
  EXPECT_THAT(small_errors("retry: {max_attempts: 2, idempotency: {approach: natural-key}}"),
              ElementsAre("plan.yaml:8:50: error: retry.idempotency.approach: unknown idempotency approach "
                          "'natural-key'; did you mean 'natural_key'? (known: header, natural_key, none)"));
}

// The plan's breaker and budget, which phases below switch off or reshape.
constexpr std::string_view guarded = R"(retry:
  max_attempts: 3
  backoff: {multiplier: 3}
  retry_budget: {ratio: 10%}
  circuit_breaker: {window: time, size: 30s, failure_rate: 40%, slow_call: {threshold: 1s}}
phases:
  - name: p1
    settings: {retry: {circuit_breaker: off, retry_budget: off, backoff: {jitter: none}}}
  - name: p2
    settings: {retry: {circuit_breaker: {window: count, size: 40}, fatal_on: [404]}}
  - name: p3)";

TEST(retry, phases_merge_the_new_fields) {
  const auto plan = load_small(guarded);
  ASSERT_TRUE(plan.retry.circuit_breaker);
  ASSERT_TRUE(plan.retry.retry_budget);
  const auto& p1 = *plan.phases.at(0).retry_settings;
  EXPECT_FALSE(p1.circuit_breaker);
  EXPECT_FALSE(p1.retry_budget);
  EXPECT_EQ(p1.backoff.jitter, jitter_kind::none);
  EXPECT_EQ(p1.backoff.multiplier, 3.0);  // from the plan
  const auto& p2 = *plan.phases.at(1).retry_settings;
  ASSERT_TRUE(p2.circuit_breaker);
  EXPECT_EQ(p2.circuit_breaker->window, breaker_window::count);
  EXPECT_EQ(p2.circuit_breaker->size, 40);
  EXPECT_DOUBLE_EQ(p2.circuit_breaker->failure_rate, 0.4);  // the plan's, merged key by key
  EXPECT_EQ(p2.circuit_breaker->slow_call->threshold, 1s);
  EXPECT_THAT(conditions_text(p2.fatal_on), ElementsAre("404"));
  EXPECT_DOUBLE_EQ(p2.retry_budget->ratio, 0.1);
  EXPECT_FALSE(plan.phases.at(2).retry_settings);
}

TEST(retry, a_phase_can_switch_how_the_breaker_opens) {
  const auto plan = load_small(R"(retry:
  max_attempts: 3
  circuit_breaker: {window: time, size: 30s, failure_rate: 40%, open_for: 20s}
phases:
  - name: p1
    settings: {retry: {circuit_breaker: {consecutive_failures: 5}}}
  - name: p2
    settings: {retry: {circuit_breaker: {failures_per_interval: {count: 3, interval: 1m}}}}
  - name: p3
    settings: {retry: {circuit_breaker: {failure_rate: 60%}}})");
  const auto& p1 = *plan.phases.at(0).retry_settings->circuit_breaker;
  EXPECT_EQ(p1.mode, breaker_mode::consecutive_failures);
  EXPECT_EQ(p1.consecutive_failures, 5);
  EXPECT_EQ(p1.open_for, 20s);  // the keys every mode shares still merge
  EXPECT_EQ(p1.window, breaker_window::count);  // the plan's window is left out, back to its default
  const auto& p2 = *plan.phases.at(1).retry_settings->circuit_breaker;
  EXPECT_EQ(p2.mode, breaker_mode::failures_per_interval);
  EXPECT_EQ(p2.failures_per_interval.count, 3);
  const auto& p3 = *plan.phases.at(2).retry_settings->circuit_breaker;
  EXPECT_EQ(p3.mode, breaker_mode::failure_rate);
  EXPECT_EQ(p3.time_size, 30s);  // same mode: merged key by key
  EXPECT_DOUBLE_EQ(p3.failure_rate, 0.6);
  // And back: a plan in consecutive mode, a phase with a failure rate.
  const auto back = load_small(R"(retry:
  max_attempts: 3
  circuit_breaker: {consecutive_failures: 4}
phases:
  - name: p1
    settings: {retry: {circuit_breaker: {window: count, size: 10, min_calls: 5}}})");
  EXPECT_EQ(back.phases.at(0).retry_settings->circuit_breaker->mode, breaker_mode::failure_rate);
  EXPECT_EQ(back.retry.circuit_breaker->mode, breaker_mode::consecutive_failures);
  // A phase naming two ways at once is still an error.
  EXPECT_THAT(small_errors(R"(retry:
  max_attempts: 3
  circuit_breaker: {consecutive_failures: 4}
phases:
  - name: p1
    settings: {retry: {circuit_breaker: {failure_rate: 50%, failures_per_interval: {count: 2}}}})"),
              ElementsAre("plan.yaml:13:61: error: phases[0].settings.retry.circuit_breaker: failures_per_interval "
                          "and failure_rate belong to different ways of opening the breaker (failure_rate over a "
                          "window, consecutive_failures, failures_per_interval): give one"));
}

TEST(retry, phase_errors_point_at_the_phase) {
  EXPECT_THAT(
      small_errors(std::string(guarded) + "\n    settings: {retry: {circuit_breaker: {min_calls: 0}}}"),
      ElementsAre("plan.yaml:19:53: error: phases[2].settings.retry.circuit_breaker.min_calls: expected an "
                  "integer >= 1, got '0'"));
  // A phase that switches back to constant backoff while the plan keeps its multiplier.
  EXPECT_THAT(
      small_errors(std::string(guarded) + "\n    settings: {retry: {backoff: {strategy: constant}}}"),
      ElementsAre("plan.yaml:10:13: error: phases[2].settings.retry.backoff: multiplier applies only to "
                  "exponential backoff"));
}

TEST(retry, set_reaches_the_new_fields) {
  auto plan = load_small(guarded, with_sets({"retry.circuit_breaker=off"}));
  EXPECT_FALSE(plan.retry.circuit_breaker);
  EXPECT_FALSE(plan.phases.at(1).retry_settings->circuit_breaker->slow_call);  // merged with the override
  plan = load_small(guarded,
                    with_sets({"retry.circuit_breaker.failure_rate=90%", "retry.backoff.jitter=decorrelated",
                               "retry.fatal_on=[400]", "phases.p2.settings.retry.retry_budget.ratio=5%"}));
  EXPECT_DOUBLE_EQ(plan.retry.circuit_breaker->failure_rate, 0.9);
  EXPECT_EQ(plan.retry.backoff.jitter, jitter_kind::decorrelated);
  EXPECT_THAT(conditions_text(plan.retry.fatal_on), ElementsAre("400"));
  EXPECT_DOUBLE_EQ(plan.phases.at(1).retry_settings->retry_budget->ratio, 0.05);
  EXPECT_DOUBLE_EQ(plan.retry.retry_budget->ratio, 0.1);
  EXPECT_THAT(
      small_errors(guarded, with_sets({"retry.circuit_breaker=sometimes"})),
      ElementsAre("--set: error: retry.circuit_breaker: expected off or a map such as {failure_rate: 50%, "
                  "open_for: 30s}, got 'sometimes'"));
}

}  // namespace
}  // namespace planproof::plan
