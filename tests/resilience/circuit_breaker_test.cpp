#include "resilience/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using core::duration;
using core::time_point;
using state = breaker_state;
using reason = transition_reason;

const time_point t0 = time_point{} + 1000h;

struct recorder final : breaker_observer {
  std::vector<breaker_transition> seen;
  void on_transition(const breaker_transition& t) override { seen.push_back(t); }
};

plan::circuit_breaker_config count_window(int size, double rate, int min_calls) {
  plan::circuit_breaker_config c;
  c.window = plan::breaker_window::count;
  c.size = size;
  c.failure_rate = rate;
  c.min_calls = min_calls;
  c.open_for = 30s;
  c.half_open_calls = 3;
  c.half_open_max_wait = 60s;
  return c;
}

// One call through the breaker, reported at once.
bool call(circuit_breaker& b, time_point now, bool ok, duration latency = 10ms) {
  auto p = b.try_acquire(now);
  if (!p) return false;
  if (ok) b.on_success(p, now, latency);
  else b.on_failure(p, now, latency);
  return true;
}

struct breaker_test : ::testing::Test {
  recorder log;
};

// --- failure rate, count window ---------------------------------------------------------------------

TEST_F(breaker_test, does_not_open_before_min_calls_whatever_the_rate) {
  circuit_breaker b(count_window(10, 0.5, 5), &log);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(call(b, t0, false));
  EXPECT_EQ(b.state(), state::closed);  // 4 of 4 failed, but only 4 calls
  EXPECT_TRUE(log.seen.empty());
  ASSERT_TRUE(call(b, t0, false));
  EXPECT_EQ(b.state(), state::open);
  ASSERT_EQ(log.seen.size(), 1u);
  EXPECT_EQ(log.seen[0].from, state::closed);
  EXPECT_EQ(log.seen[0].to, state::open);
  EXPECT_EQ(log.seen[0].reason, reason::failure_rate);
  EXPECT_EQ(log.seen[0].at, t0);
  EXPECT_EQ(log.seen[0].counts.calls, 5u);
  EXPECT_EQ(log.seen[0].counts.failures, 5u);
  EXPECT_DOUBLE_EQ(log.seen[0].counts.failure_rate(), 1.0);
}

TEST_F(breaker_test, opens_when_the_rate_reaches_the_threshold_not_below) {
  circuit_breaker b(count_window(10, 0.6, 5), &log);
  for (bool ok : {false, true, false, true, true}) call(b, t0, ok);  // 2 of 5: 40%
  EXPECT_EQ(b.state(), state::closed);
  call(b, t0, false);  // 3 of 6: 50%
  EXPECT_EQ(b.state(), state::closed);
  call(b, t0, false);  // 4 of 7: 57%
  EXPECT_EQ(b.state(), state::closed);
  call(b, t0, false);  // 5 of 8: 62.5%
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(log.seen.at(0).counts.calls, 8u);
  EXPECT_EQ(log.seen.at(0).counts.failures, 5u);

  // Exactly at the threshold (3 of 5 = 60%, which is not exact in binary) opens.
  circuit_breaker exact(count_window(5, 0.6, 5));
  for (bool ok : {false, false, false, true, true}) call(exact, t0, ok);
  EXPECT_EQ(exact.state(), state::open);
}

TEST_F(breaker_test, the_count_window_forgets_calls_older_than_the_last_size) {
  circuit_breaker b(count_window(4, 0.5, 4), &log);
  for (bool ok : {false, true, true, true}) call(b, t0, ok);  // 1 of 4
  EXPECT_EQ(b.counts(t0).failures, 1u);
  call(b, t0, true);  // the failure slides out
  EXPECT_EQ(b.counts(t0).calls, 4u);
  EXPECT_EQ(b.counts(t0).failures, 0u);
  call(b, t0, false);
  EXPECT_EQ(b.state(), state::closed);  // 1 of 4
  call(b, t0, false);                   // 2 of 4
  EXPECT_EQ(b.state(), state::open);
}

TEST_F(breaker_test, slow_calls_open_it_at_their_own_rate) {
  auto config = count_window(10, 0.5, 4);
  config.slow_call = plan::slow_call_config{.threshold = 1s, .rate = 0.75};
  circuit_breaker b(config, &log);
  call(b, t0, true, 2s);
  call(b, t0, true, 1s);  // not slower than the threshold
  call(b, t0, true, 3s);
  call(b, t0, true, 5s);  // 3 of 4 slow, all succeeded
  EXPECT_EQ(b.state(), state::open);
  ASSERT_EQ(log.seen.size(), 1u);
  EXPECT_EQ(log.seen[0].reason, reason::slow_call_rate);
  EXPECT_EQ(log.seen[0].counts.slow, 3u);
  EXPECT_DOUBLE_EQ(log.seen[0].counts.slow_rate(), 0.75);
  EXPECT_EQ(log.seen[0].counts.failures, 0u);
}

TEST_F(breaker_test, a_min_calls_above_the_window_opens_once_the_window_is_full) {
  circuit_breaker b(count_window(3, 0.5, 10));  // the loader rejects this; Resilience4j's reading
  for (int i = 0; i < 3; ++i) call(b, t0, false);
  EXPECT_EQ(b.state(), state::open);
}

// --- open, half-open ---------------------------------------------------------------------------------

struct opened : breaker_test {
  circuit_breaker b{count_window(4, 0.5, 4), &log};
  void SetUp() override {
    for (int i = 0; i < 4; ++i) call(b, t0, false);
    ASSERT_EQ(b.state(), state::open);
    log.seen.clear();
  }
};

TEST_F(opened, rejects_until_open_for_then_lets_trial_calls_through) {
  auto p = b.try_acquire(t0 + 10s);
  EXPECT_FALSE(p);
  EXPECT_EQ(p.retry_in(), duration(20s));
  EXPECT_FALSE(b.try_acquire(t0 + 30s - 1ns));
  EXPECT_TRUE(log.seen.empty());
  auto trial = b.try_acquire(t0 + 30s);
  EXPECT_TRUE(trial);
  EXPECT_TRUE(trial.trial());
  EXPECT_EQ(b.state(), state::half_open);
  ASSERT_EQ(log.seen.size(), 1u);
  EXPECT_EQ(log.seen[0].from, state::open);
  EXPECT_EQ(log.seen[0].to, state::half_open);
  EXPECT_EQ(log.seen[0].reason, reason::open_for_elapsed);
  EXPECT_EQ(log.seen[0].at, t0 + 30s);
}

TEST_F(opened, a_clock_that_does_not_advance_keeps_it_open) {
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(b.try_acquire(t0));
  EXPECT_EQ(b.try_acquire(t0).retry_in(), duration(30s));
  EXPECT_EQ(b.state(), state::open);
}

TEST_F(opened, a_clock_stepping_back_never_waits_more_than_open_for) {
  EXPECT_EQ(b.try_acquire(t0 - 1h).retry_in(), duration(30s));
  EXPECT_TRUE(b.try_acquire(t0 + 30s));
}

TEST_F(opened, two_callers_racing_for_the_last_trial_permit_get_one) {
  auto a = b.try_acquire(t0 + 30s);
  auto c = b.try_acquire(t0 + 30s);
  ASSERT_TRUE(a);
  ASSERT_TRUE(c);
  auto last = b.try_acquire(t0 + 31s);
  auto late = b.try_acquire(t0 + 31s);
  EXPECT_TRUE(last);
  EXPECT_FALSE(late);
  // Every trial permit is out: the earliest a call gets through without their results is when
  // the breaker gives up on them (60 s after going half-open) and then stays open for 30 s.
  EXPECT_EQ(late.retry_in(), duration(59s + 30s));
  EXPECT_EQ(b.counts(t0 + 31s).pending, 3u);
}

TEST_F(opened, closes_when_the_trial_calls_fail_below_the_threshold) {
  auto p1 = b.try_acquire(t0 + 30s);
  auto p2 = b.try_acquire(t0 + 30s);
  auto p3 = b.try_acquire(t0 + 30s);
  EXPECT_TRUE(b.on_failure(p1, t0 + 31s));  // 1 of 3: 33% < 50%
  EXPECT_TRUE(b.on_success(p2, t0 + 31s));
  EXPECT_EQ(b.state(), state::half_open);  // waits for the last trial call
  EXPECT_TRUE(b.on_success(p3, t0 + 32s));
  EXPECT_EQ(b.state(), state::closed);
  ASSERT_EQ(log.seen.size(), 2u);
  EXPECT_EQ(log.seen[1].reason, reason::trial_calls_passed);
  EXPECT_EQ(log.seen[1].counts.calls, 3u);
  EXPECT_EQ(log.seen[1].counts.failures, 1u);
  // It starts from an empty window: the failures that opened it are gone.
  EXPECT_EQ(b.counts(t0 + 32s).calls, 0u);
  EXPECT_TRUE(call(b, t0 + 33s, false));
  EXPECT_EQ(b.state(), state::closed);
}

TEST_F(opened, reopens_as_soon_as_the_trial_failures_reach_the_threshold) {
  auto p1 = b.try_acquire(t0 + 30s);
  auto p2 = b.try_acquire(t0 + 30s);
  auto p3 = b.try_acquire(t0 + 30s);
  b.on_failure(p1, t0 + 31s);
  EXPECT_EQ(b.state(), state::half_open);
  b.on_failure(p2, t0 + 32s);  // 2 of 3 whatever the third does: 67% >= 50%
  EXPECT_EQ(b.state(), state::open);
  ASSERT_EQ(log.seen.size(), 2u);
  EXPECT_EQ(log.seen[1].reason, reason::trial_calls_failed);
  EXPECT_EQ(log.seen[1].counts.failures, 2u);
  EXPECT_EQ(log.seen[1].counts.pending, 1u);
  // The third trial call's result arrives after the breaker reopened: it changes nothing.
  EXPECT_FALSE(b.on_success(p3, t0 + 33s));
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(b.stale_results(), 1u);
  EXPECT_FALSE(b.try_acquire(t0 + 33s));
  EXPECT_EQ(b.try_acquire(t0 + 33s).retry_in(), duration(29s));  // open for 30 s from the reopening
  EXPECT_TRUE(b.try_acquire(t0 + 62s));
}

TEST_F(opened, results_of_calls_started_while_closed_do_not_count_as_trial_calls) {
  circuit_breaker fresh(count_window(4, 0.5, 4), &log);
  auto before = fresh.try_acquire(t0);  // given while closed, still out when it opens
  for (int i = 0; i < 4; ++i) call(fresh, t0, false);
  ASSERT_EQ(fresh.state(), state::open);
  EXPECT_FALSE(fresh.on_failure(before, t0 + 1s));  // in open: stale
  auto before2 = fresh.try_acquire(t0 - 1s);  // rejected: a rejected permit reports nothing
  EXPECT_FALSE(fresh.on_success(before2, t0 + 1s));

  circuit_breaker other(count_window(4, 0.5, 4), &log);
  auto old = other.try_acquire(t0);
  for (int i = 0; i < 4; ++i) call(other, t0, false);
  auto t1 = other.try_acquire(t0 + 30s);  // half-open
  ASSERT_TRUE(t1);
  // Three successes from before would close it if they counted as trial calls; one old one can't.
  EXPECT_FALSE(other.on_success(old, t0 + 31s));
  EXPECT_EQ(other.counts(t0 + 31s).calls, 0u);
  EXPECT_EQ(other.counts(t0 + 31s).pending, 1u);
  EXPECT_EQ(other.state(), state::half_open);
  EXPECT_EQ(other.stale_results(), 1u);
}

TEST_F(opened, a_trial_permit_reported_again_after_closing_does_not_enter_the_new_window) {
  auto p1 = b.try_acquire(t0 + 30s);
  auto p2 = b.try_acquire(t0 + 30s);
  auto p3 = b.try_acquire(t0 + 30s);
  for (auto* p : {&p1, &p2, &p3}) b.on_success(*p, t0 + 31s);
  ASSERT_EQ(b.state(), state::closed);
  auto in_closed = b.try_acquire(t0 + 40s);
  // A trial permit reported a second time counts nothing; a permit of the new closed state does.
  EXPECT_FALSE(b.on_failure(p1, t0 + 41s));
  EXPECT_EQ(b.counts(t0 + 41s).calls, 0u);
  EXPECT_TRUE(b.on_failure(in_closed, t0 + 41s));
  EXPECT_EQ(b.counts(t0 + 41s).calls, 1u);
}

TEST_F(opened, a_result_is_counted_once) {
  auto p = b.try_acquire(t0 + 30s);
  EXPECT_TRUE(b.on_success(p, t0 + 31s));
  EXPECT_FALSE(p.allowed());  // spent
  EXPECT_FALSE(b.on_success(p, t0 + 31s));
  EXPECT_FALSE(b.on_failure(p, t0 + 31s));
  EXPECT_EQ(b.counts(t0 + 31s).calls, 1u);
}

TEST_F(opened, an_abandoned_trial_permit_goes_back_to_the_pool) {
  auto p1 = b.try_acquire(t0 + 30s);
  auto p2 = b.try_acquire(t0 + 30s);
  auto p3 = b.try_acquire(t0 + 30s);
  ASSERT_FALSE(b.try_acquire(t0 + 30s));
  b.on_ignored(p2, t0 + 31s);  // the caller was cancelled, or got a 4xx it caused
  b.on_ignored(p2, t0 + 31s);  // twice gives back one permit, not two
  auto p4 = b.try_acquire(t0 + 31s);
  EXPECT_TRUE(p4);
  EXPECT_FALSE(b.try_acquire(t0 + 31s));
  for (auto* p : {&p1, &p3, &p4}) b.on_success(*p, t0 + 32s);
  EXPECT_EQ(b.state(), state::closed);
  EXPECT_EQ(log.seen.back().counts.calls, 3u);
}

TEST_F(opened, trial_calls_that_never_report_back_reopen_it_after_the_max_wait) {
  auto p1 = b.try_acquire(t0 + 30s);
  auto p2 = b.try_acquire(t0 + 30s);
  auto p3 = b.try_acquire(t0 + 30s);
  b.on_success(p1, t0 + 31s);
  EXPECT_FALSE(b.try_acquire(t0 + 89s));
  EXPECT_EQ(b.state(), state::half_open);
  // 60 s after going half-open, with two trial calls lost: open again, for open_for.
  auto p = b.try_acquire(t0 + 90s);
  EXPECT_FALSE(p);
  EXPECT_EQ(p.retry_in(), duration(30s));
  EXPECT_EQ(b.state(), state::open);
  ASSERT_EQ(log.seen.size(), 2u);
  EXPECT_EQ(log.seen[1].reason, reason::trial_calls_timed_out);
  EXPECT_EQ(log.seen[1].at, t0 + 90s);
  EXPECT_EQ(log.seen[1].counts.calls, 1u);
  EXPECT_EQ(log.seen[1].counts.pending, 2u);
  // Their results, should they ever come, are stale; the cycle goes on.
  EXPECT_FALSE(b.on_success(p2, t0 + 95s));
  b.on_ignored(p3, t0 + 95s);
  EXPECT_TRUE(b.try_acquire(t0 + 120s));
  EXPECT_EQ(b.state(), state::half_open);
}

TEST_F(opened, update_alone_applies_the_max_wait) {
  auto p1 = b.try_acquire(t0 + 30s);
  b.update(t0 + 89s);
  EXPECT_EQ(b.state(), state::half_open);
  b.update(t0 + 90s);
  EXPECT_EQ(b.state(), state::open);
  EXPECT_FALSE(b.on_failure(p1, t0 + 90s));
}

TEST_F(opened, a_half_open_breaker_without_trial_calls_out_is_not_stuck_and_stays_half_open) {
  auto p1 = b.try_acquire(t0 + 30s);
  b.on_success(p1, t0 + 31s);
  // Nobody called for an hour: no trial call is lost, a permit is free.
  auto p2 = b.try_acquire(t0 + 1h);
  EXPECT_TRUE(p2);
  EXPECT_EQ(b.state(), state::half_open);
}

TEST_F(opened, a_jump_of_hours_goes_half_open_at_once) {
  EXPECT_TRUE(b.try_acquire(t0 + 24h * 365));
  EXPECT_EQ(b.state(), state::half_open);
}

// --- failure rate, time window -----------------------------------------------------------------------

plan::circuit_breaker_config time_window(duration size, double rate, int min_calls) {
  auto c = count_window(20, rate, min_calls);
  c.window = plan::breaker_window::time;
  c.time_size = size;
  return c;
}

TEST_F(breaker_test, the_time_window_forgets_calls_older_than_its_size) {
  circuit_breaker b(time_window(10s, 0.5, 4), &log);
  for (int i = 0; i < 3; ++i) call(b, t0 + std::chrono::seconds(i), false);
  EXPECT_EQ(b.counts(t0 + 3s).failures, 3u);
  // 10 s later the first failure has left the window (1 s slices).
  EXPECT_EQ(b.counts(t0 + 10s).calls, 2u);
  call(b, t0 + 10s, true);
  EXPECT_EQ(b.state(), state::closed);  // 3 calls: below min_calls
  call(b, t0 + 10s, true);              // 2 of 4: 50%
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(log.seen.at(0).counts.calls, 4u);
}

TEST_F(breaker_test, min_calls_counts_calls_in_the_time_window_only) {
  circuit_breaker b(time_window(10s, 0.5, 5));
  // One failure every 3 s: never 5 in a 10 s window.
  for (int i = 0; i < 100; ++i) call(b, t0 + std::chrono::seconds(3 * i), false);
  EXPECT_EQ(b.state(), state::closed);
}

TEST_F(breaker_test, the_time_window_survives_a_clock_that_stands_still_and_one_that_jumps) {
  circuit_breaker b(time_window(60s, 0.5, 100));
  for (int i = 0; i < 99; ++i) call(b, t0, false);
  EXPECT_EQ(b.counts(t0).calls, 99u);
  EXPECT_EQ(b.counts(t0 + 24h * 365 * 100).calls, 0u);  // one pass over the slices, then empty
  call(b, t0 + 24h * 365 * 100, false);
  EXPECT_EQ(b.state(), state::closed);
}

TEST_F(breaker_test, a_sub_second_time_window_slides_in_finer_slices) {
  circuit_breaker b(time_window(500ms, 0.5, 2));
  call(b, t0, false);
  EXPECT_EQ(b.counts(t0 + 449ms).calls, 1u);
  EXPECT_EQ(b.counts(t0 + 500ms).calls, 0u);
}

// --- consecutive failures ----------------------------------------------------------------------------

plan::circuit_breaker_config consecutive(int n) {
  plan::circuit_breaker_config c;
  c.mode = plan::breaker_mode::consecutive_failures;
  c.consecutive_failures = n;
  c.open_for = 10s;
  c.half_open_calls = 2;
  return c;
}

TEST_F(breaker_test, consecutive_failures_open_it_and_a_success_starts_over) {
  circuit_breaker b(consecutive(3), &log);
  for (bool ok : {false, false, true, false, false}) call(b, t0, ok);
  EXPECT_EQ(b.state(), state::closed);
  EXPECT_EQ(b.counts(t0).failures, 2u);
  call(b, t0, false);
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(log.seen.at(0).reason, reason::consecutive_failures);
  EXPECT_EQ(log.seen.at(0).counts.failures, 3u);
}

TEST_F(breaker_test, consecutive_mode_closes_only_when_every_trial_call_succeeds) {
  circuit_breaker b(consecutive(1), &log);
  call(b, t0, false);
  ASSERT_EQ(b.state(), state::open);
  auto p1 = b.try_acquire(t0 + 10s);
  auto p2 = b.try_acquire(t0 + 10s);
  b.on_success(p1, t0 + 11s);
  b.on_failure(p2, t0 + 11s);
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(log.seen.back().reason, reason::trial_calls_failed);
  p1 = b.try_acquire(t0 + 21s);
  p2 = b.try_acquire(t0 + 21s);
  b.on_failure(p1, t0 + 21s);  // the first failure reopens at once
  EXPECT_EQ(b.state(), state::open);
  EXPECT_FALSE(b.on_success(p2, t0 + 21s));
  p1 = b.try_acquire(t0 + 31s);
  p2 = b.try_acquire(t0 + 31s);
  b.on_success(p1, t0 + 31s);
  b.on_success(p2, t0 + 31s);
  EXPECT_EQ(b.state(), state::closed);
}

// --- failures per interval ---------------------------------------------------------------------------

plan::circuit_breaker_config per_interval(int count, duration interval) {
  plan::circuit_breaker_config c;
  c.mode = plan::breaker_mode::failures_per_interval;
  c.failures_per_interval.count = count;
  c.failures_per_interval.interval = interval;
  return c;
}

TEST_F(breaker_test, n_failures_within_the_interval_open_it) {
  circuit_breaker b(per_interval(3, 10s), &log);
  call(b, t0, false);
  call(b, t0 + 4s, false);
  for (int i = 0; i < 50; ++i) call(b, t0 + 5s, true);  // successes do not reset this mode
  call(b, t0 + 9999ms, false);
  EXPECT_EQ(b.state(), state::open);
  EXPECT_EQ(log.seen.at(0).reason, reason::failures_per_interval);
  EXPECT_EQ(log.seen.at(0).counts.failures, 3u);
}

TEST_F(breaker_test, n_failures_spread_wider_than_the_interval_do_not) {
  circuit_breaker b(per_interval(3, 10s), &log);
  for (int i = 0; i < 20; ++i) call(b, t0 + std::chrono::seconds(5 * i), false);  // 2 per 10 s
  EXPECT_EQ(b.state(), state::closed);
  EXPECT_EQ(b.counts(t0 + 95s).failures, 2u);
  call(b, t0 + 99s, false);  // 90, 95 and 99: 3 within 10 s
  EXPECT_EQ(b.state(), state::open);
}

TEST_F(breaker_test, one_failure_per_interval_opens_at_the_first) {
  circuit_breaker b(per_interval(1, 1s));
  call(b, t0, false);
  EXPECT_EQ(b.state(), state::open);
}

// --- what counts ---------------------------------------------------------------------------------------

TEST(breaker_outcome_for, follows_the_retry_classification) {
  using core::error_class;
  EXPECT_EQ(breaker_outcome_for({200}, attempt_class::success), breaker_outcome::success);
  EXPECT_EQ(breaker_outcome_for({503}, attempt_class::retryable), breaker_outcome::failure);
  // 429 is Retry-After's and the budget's business: rate limiting never opens the breaker.
  EXPECT_EQ(breaker_outcome_for({429}, attempt_class::retryable), breaker_outcome::ignored);
  EXPECT_EQ(breaker_outcome_for({500}, attempt_class::fatal), breaker_outcome::failure);
  EXPECT_EQ(breaker_outcome_for({0, error_class::tls_error}, attempt_class::fatal), breaker_outcome::failure);
  EXPECT_EQ(breaker_outcome_for({0, error_class::read_timeout}, attempt_class::retryable), breaker_outcome::failure);
  EXPECT_EQ(breaker_outcome_for({200, error_class::schema_error}, attempt_class::fatal), breaker_outcome::failure);
  EXPECT_EQ(breaker_outcome_for({404}, attempt_class::fatal), breaker_outcome::ignored);
  EXPECT_EQ(breaker_outcome_for({422}, attempt_class::fatal), breaker_outcome::ignored);
  EXPECT_EQ(breaker_outcome_for({401}, attempt_class::refresh_auth), breaker_outcome::ignored);
}

TEST(breaker_names, states_and_reasons) {
  EXPECT_EQ(to_string(state::half_open), "half_open");
  EXPECT_EQ(to_string(reason::trial_calls_timed_out), "trial_calls_timed_out");
  EXPECT_EQ(to_string(reason::failures_per_interval), "failures_per_interval");
}

}  // namespace
}  // namespace planproof::resilience
