#include "resilience/retry_state.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using action = retry_decision::action;
using core::duration;
using core::error_class;

plan::retry_config payments_retry() {
  plan::retry_config r;
  r.max_attempts = 4;
  r.backoff = {plan::backoff_strategy::exponential, 200ms, 5s, plan::jitter_kind::none};
  r.retry_on = {429, 503, error_class::timeout};
  r.retry_after = {true, 30s};
  r.timeouts = {2s, 10s, 30s};
  return r;
}

plan::endpoint payment_endpoint() {
  plan::endpoint e;
  e.id = "create_payment";
  e.method = "POST";
  e.statuses.success = {200, 201};
  return e;
}

struct retry_state_test : ::testing::Test {
  plan::retry_config config = payments_retry();
  plan::endpoint endpoint = payment_endpoint();
  core::manual_clock clock;
  fixed_random rng{{fixed_random::for_unit(0.5)}};
  retry_policy policy{config, endpoint};
  retry_state state{policy, clock, rng};
};

TEST_F(retry_state_test, success_ends_the_request) {
  ASSERT_TRUE(state.begin_attempt());
  const auto d = state.on_result({201});
  EXPECT_EQ(d.what, action::succeed);
  EXPECT_EQ(state.attempts(), 1);
}

TEST_F(retry_state_test, retryable_status_backs_off_exponentially_then_exhausts) {
  std::vector<duration> delays;
  for (;;) {
    ASSERT_TRUE(state.begin_attempt());
    const auto d = state.on_result({503});
    if (d.what != action::retry) {
      EXPECT_EQ(d.what, action::give_up);
      EXPECT_EQ(d.reason, core::end_reason::attempts_exhausted);
      break;
    }
    delays.push_back(d.delay);
    clock.advance(d.delay);
  }
  EXPECT_EQ(state.attempts(), 4);
  EXPECT_EQ(delays, (std::vector<duration>{200ms, 400ms, 800ms}));
}

TEST_F(retry_state_test, fatal_status_and_unlisted_errors_are_not_retried) {
  state.begin_attempt();
  const auto d = state.on_result({400});
  EXPECT_EQ(d.what, action::give_up);
  EXPECT_EQ(d.reason, core::end_reason::fatal_status);

  retry_state other(policy, clock, rng);
  other.begin_attempt();
  const auto e = other.on_result({0, error_class::connection_error});  // not in retry_on
  EXPECT_EQ(e.what, action::give_up);
  EXPECT_EQ(e.reason, core::end_reason::fatal_error);

  retry_state third(policy, clock, rng);
  third.begin_attempt();
  EXPECT_EQ(third.on_result({0, error_class::timeout}).what, action::retry);
}

TEST_F(retry_state_test, waits_at_least_the_retry_after) {
  state.begin_attempt();
  const auto d = state.on_result({429, error_class::none, 2s});
  EXPECT_EQ(d.what, action::retry);
  EXPECT_EQ(d.delay, duration(2s));  // backoff would be 200ms
}

TEST_F(retry_state_test, backoff_longer_than_retry_after_wins) {
  state.begin_attempt();
  const auto d = state.on_result({429, error_class::none, 50ms});
  EXPECT_EQ(d.delay, duration(200ms));
}

TEST_F(retry_state_test, retry_after_ignored_when_not_honored) {
  config.retry_after.honor = false;
  retry_policy p(config, endpoint);
  retry_state s(p, clock, rng);
  s.begin_attempt();
  EXPECT_EQ(s.on_result({429, error_class::none, 2s}).delay, duration(200ms));
}

TEST_F(retry_state_test, retry_after_beyond_the_cap_gives_up_instead_of_retrying_early) {
  state.begin_attempt();
  const auto d = state.on_result({429, error_class::none, 31s});
  EXPECT_EQ(d.what, action::give_up);
  EXPECT_EQ(d.reason, core::end_reason::retry_after_exceeds_cap);
}

TEST_F(retry_state_test, total_deadline_bounds_attempts_and_waits) {
  auto first = state.begin_attempt();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->read_timeout, duration(10s));
  clock.advance(25s);  // a slow first attempt
  auto d = state.on_result({0, error_class::timeout});
  ASSERT_EQ(d.what, action::retry);
  clock.advance(d.delay);
  auto second = state.begin_attempt();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->read_timeout, duration(30s) - duration(25s) - d.delay);  // what is left
  clock.advance(second->read_timeout);
  EXPECT_EQ(state.remaining(), duration::zero());
  auto e = state.on_result({0, error_class::timeout});
  EXPECT_EQ(e.what, action::give_up);
  EXPECT_EQ(e.reason, core::end_reason::deadline_exceeded);
  EXPECT_FALSE(state.begin_attempt());
}

TEST_F(retry_state_test, zero_retry_after_waits_the_backoff) {
  state.begin_attempt();
  const auto d = state.on_result({503, error_class::none, 0s});
  EXPECT_EQ(d.what, action::retry);
  EXPECT_EQ(d.delay, duration(200ms));
}

TEST_F(retry_state_test, huge_retry_after_ends_the_request_without_overflow) {
  // Even honored without a cap, 136 years cannot be waited within the total deadline; the clock
  // sits far from its epoch so that now + wait would overflow if it were computed.
  config.retry_after.cap = duration::max();
  retry_policy p(config, endpoint);
  core::manual_clock late(core::time_point{} + std::chrono::hours(24 * 365 * 200));
  retry_state s(p, late, rng);
  s.begin_attempt();
  const auto d = s.on_result({429, error_class::none, std::chrono::seconds(4294967295LL)});
  EXPECT_EQ(d.what, action::give_up);
  EXPECT_EQ(d.reason, core::end_reason::deadline_exceeded);
  s.begin_attempt();
  EXPECT_EQ(s.on_result({429, error_class::none, duration::max()}).reason, core::end_reason::deadline_exceeded);
}

TEST_F(retry_state_test, clock_that_does_not_advance_still_exhausts_attempts) {
  // A driver whose clock never moves (a simulator between events) must still end the request.
  int attempts = 0;
  while (state.begin_attempt()) {
    ++attempts;
    if (state.on_result({503}).what != action::retry) break;
  }
  EXPECT_EQ(attempts, 4);
  EXPECT_EQ(state.remaining(), duration(30s));
}

TEST_F(retry_state_test, retry_after_that_would_pass_the_deadline_gives_up) {
  state.begin_attempt();
  clock.advance(20s);
  const auto d = state.on_result({429, error_class::none, 15s});
  EXPECT_EQ(d.what, action::give_up);
  EXPECT_EQ(d.reason, core::end_reason::deadline_exceeded);
}


struct refresh_test : retry_state_test {
  retry_policy oauth{config, endpoint, true};
  retry_state s{oauth, clock, rng};
};

TEST_F(refresh_test, a_401_refreshes_once_at_once_then_is_fatal) {
  ASSERT_TRUE(s.begin_attempt());
  const auto d = s.on_result({401});
  EXPECT_EQ(d.what, action::refresh_auth_then_retry);
  EXPECT_EQ(d.delay, duration::zero());
  EXPECT_TRUE(s.auth_refreshed());
  ASSERT_TRUE(s.begin_attempt());
  const auto again = s.on_result({401});
  EXPECT_EQ(again.what, action::give_up);
  EXPECT_EQ(again.reason, core::end_reason::fatal_status);
  EXPECT_EQ(s.attempts(), 2);
}

TEST_F(refresh_test, the_refresh_counts_as_an_attempt_but_not_as_a_backoff) {
  ASSERT_TRUE(s.begin_attempt());
  ASSERT_EQ(s.on_result({503}).delay, duration(200ms));
  clock.advance(200ms);
  ASSERT_TRUE(s.begin_attempt());
  ASSERT_EQ(s.on_result({401}).what, action::refresh_auth_then_retry);
  ASSERT_TRUE(s.begin_attempt());
  // The second backoff, as if the refresh had not happened (400ms, not 800ms)...
  const auto d = s.on_result({503});
  EXPECT_EQ(d.what, action::retry);
  EXPECT_EQ(d.delay, duration(400ms));
  clock.advance(d.delay);
  // ...but the refreshed attempt used one of the four attempts.
  ASSERT_TRUE(s.begin_attempt());
  EXPECT_EQ(s.on_result({503}).reason, core::end_reason::attempts_exhausted);
  EXPECT_EQ(s.attempts(), 4);
}

TEST_F(refresh_test, no_refresh_when_attempts_are_used_up) {
  config.max_attempts = 1;
  retry_policy one(config, endpoint, true);
  retry_state t(one, clock, rng);
  t.begin_attempt();
  const auto d = t.on_result({401});
  EXPECT_EQ(d.what, action::give_up);
  EXPECT_EQ(d.reason, core::end_reason::attempts_exhausted);
}

TEST_F(refresh_test, no_refresh_past_the_deadline) {
  s.begin_attempt();
  clock.advance(30s);
  EXPECT_EQ(s.on_result({401}).reason, core::end_reason::deadline_exceeded);
}

TEST_F(refresh_test, a_credential_that_cannot_be_refreshed_makes_401_an_ordinary_status) {
  state.begin_attempt();
  EXPECT_EQ(state.on_result({401}).reason, core::end_reason::fatal_status);  // not in retry_on
  config.retry_on.push_back(401);
  retry_policy listed(config, endpoint);
  retry_state t(listed, clock, rng);
  t.begin_attempt();
  EXPECT_EQ(t.on_result({401}).what, action::retry);
}

TEST_F(refresh_test, fatal_on_401_turns_the_refresh_off) {
  config.fatal_on = {401};
  retry_policy strict(config, endpoint, true);
  retry_state t(strict, clock, rng);
  t.begin_attempt();
  EXPECT_EQ(t.on_result({401}).reason, core::end_reason::fatal_status);
}

TEST_F(refresh_test, the_refresh_does_not_draw_from_the_retry_budget) {
  retry_budget budget({.ratio = 0, .min_per_second = 0, .ttl = 10s});  // no retries at all
  retry_state t(oauth, clock, rng, &budget);
  t.begin_attempt();
  EXPECT_EQ(t.on_result({401}).what, action::refresh_auth_then_retry);
  t.begin_attempt();
  EXPECT_EQ(t.on_result({503}).reason, core::end_reason::retry_budget_exhausted);
  EXPECT_EQ(budget.window(clock.now()).requests, 1u);
  EXPECT_EQ(budget.window(clock.now()).retries, 0u);
}


TEST_F(retry_state_test, fine_error_classes_match_the_plans_umbrellas_and_fatal_on_wins) {
  config.retry_on = {503, error_class::timeout, error_class::connection_error};
  config.fatal_on = {error_class::read_timeout};  // e.g. a POST: the upstream may have acted on it
  retry_policy p(config, endpoint);
  auto first = [&](error_class e) {
    retry_state s(p, clock, rng);
    s.begin_attempt();
    return s.on_result({0, e});
  };
  EXPECT_EQ(first(error_class::connect_timeout).what, action::retry);
  EXPECT_EQ(first(error_class::read_timeout).reason, core::end_reason::fatal_error);
  EXPECT_EQ(first(error_class::connect_error).what, action::retry);
  EXPECT_EQ(first(error_class::reset).what, action::retry);
  EXPECT_EQ(first(error_class::tls_error).reason, core::end_reason::fatal_error);
  EXPECT_EQ(first(error_class::protocol_error).reason, core::end_reason::fatal_error);
}

TEST_F(retry_state_test, decorrelated_jitter_grows_from_the_previous_backoff) {
  config.backoff = {plan::backoff_strategy::exponential, 100ms, 10s, plan::jitter_kind::decorrelated};
  retry_policy p(config, endpoint);
  fixed_random top({fixed_random::for_unit(0.5)});
  retry_state s(p, clock, top);
  std::vector<duration> delays;
  for (int i = 0; i < 3; ++i) {
    s.begin_attempt();
    const auto d = s.on_result({503});
    ASSERT_EQ(d.what, action::retry);
    delays.push_back(d.delay);
    EXPECT_EQ(s.previous_backoff(), d.delay);
    clock.advance(d.delay);
  }
  // 100 + (3*100 - 100)/2 = 200; 100 + (600 - 100)/2 = 350; 100 + (1050 - 100)/2 = 575.
  EXPECT_EQ(delays, (std::vector<duration>{200ms, 350ms, 575ms}));
}

TEST_F(retry_state_test, a_long_retry_after_does_not_inflate_the_next_decorrelated_wait) {
  config.backoff = {plan::backoff_strategy::exponential, 100ms, 10s, plan::jitter_kind::decorrelated};
  retry_policy p(config, endpoint);
  fixed_random top({fixed_random::for_unit(0.5)});
  retry_state s(p, clock, top);
  s.begin_attempt();
  EXPECT_EQ(s.on_result({429, error_class::none, 5s}).delay, duration(5s));
  EXPECT_EQ(s.previous_backoff(), duration(200ms));
  clock.advance(5s);
  s.begin_attempt();
  EXPECT_EQ(s.on_result({503}).delay, duration(350ms));  // from 200ms, not from 5s
}

TEST_F(retry_state_test, the_retry_budget_is_charged_per_retry_and_ends_requests_when_spent) {
  // min_per_second 0.1 over 10s: one retry with no traffic at all; each request adds 0.5.
  retry_budget budget({.ratio = 0.5, .min_per_second = 0.1, .ttl = 10s});
  retry_state a(policy, clock, rng, &budget);
  a.begin_attempt();                                          // deposit 1: allows 1.5
  EXPECT_EQ(a.on_result({503}).what, action::retry);          // 1 of 1.5
  a.begin_attempt();
  EXPECT_EQ(a.on_result({503}).reason, core::end_reason::retry_budget_exhausted);
  EXPECT_EQ(budget.window(clock.now()).retries, 1u);  // the refused retry withdrew nothing
  retry_state b(policy, clock, rng, &budget);
  b.begin_attempt();                                          // deposit 2: allows 2
  EXPECT_EQ(b.on_result({503}).what, action::retry);
  // A request that ends for another reason before the budget is asked does not withdraw.
  retry_state c(policy, clock, rng, &budget);
  c.begin_attempt();
  EXPECT_EQ(c.on_result({429, error_class::none, 31s}).reason, core::end_reason::retry_after_exceeds_cap);
  EXPECT_EQ(budget.window(clock.now()).retries, 2u);
}

}  // namespace
}  // namespace planproof::resilience
