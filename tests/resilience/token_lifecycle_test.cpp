#include "resilience/token_lifecycle.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;

token_lifecycle_config config() {
  token_lifecycle_config c;
  c.refresh_before_expiry = 60s;
  c.default_lifetime = 1h;
  c.fetch_backoff = {.strategy = plan::backoff_strategy::exponential, .base = 1s, .max = 8s,
                     .jitter = plan::jitter_kind::none, .multiplier = 2.0};
  return c;
}

class token_lifecycle_test : public ::testing::Test {
 protected:
  core::manual_clock clock{core::time_point{} + 1000s};
  token_lifecycle tokens{config()};
  fixed_random rng{{0}};
};

TEST_F(token_lifecycle_test, first_caller_fetches_and_the_others_wait_for_it) {
  auto first = tokens.acquire(clock.now());
  EXPECT_EQ(first.action, token_action::fetch);
  EXPECT_EQ(tokens.pending_reason(), refresh_reason::initial);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::wait);
  const auto gen = tokens.on_issued(clock.now(), 10min);
  EXPECT_EQ(gen, 1u);
  const auto next = tokens.acquire(clock.now());
  EXPECT_EQ(next.action, token_action::use);
  EXPECT_EQ(next.generation, 1u);
  EXPECT_EQ(tokens.issued(), 1u);
}

TEST_F(token_lifecycle_test, refreshes_ahead_of_expiry_once_while_the_token_is_still_used) {
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), 10min);
  clock.advance(10min - 61s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use);
  clock.advance(1s);  // exactly refresh_before_expiry left
  const auto due = tokens.acquire(clock.now());
  EXPECT_EQ(due.action, token_action::use_and_refresh);
  EXPECT_EQ(due.generation, 1u);
  EXPECT_EQ(tokens.pending_reason(), refresh_reason::scheduled);
  // The others keep sending with the valid token; nobody starts a second fetch.
  for (int i = 0; i < 3; ++i) {
    const auto g = tokens.acquire(clock.now());
    EXPECT_EQ(g.action, token_action::use);
    EXPECT_EQ(g.generation, 1u);
  }
  EXPECT_EQ(tokens.on_issued(clock.now(), 10min), 2u);
  EXPECT_EQ(tokens.acquire(clock.now()).generation, 2u);
}

TEST_F(token_lifecycle_test, no_expires_in_uses_the_default_lifetime) {
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), std::nullopt);
  EXPECT_EQ(tokens.expires_at(), clock.now() + 1h);
}

TEST_F(token_lifecycle_test, a_lifetime_shorter_than_the_margin_refreshes_at_half_of_it) {
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), 30s);  // shorter than the 60 s margin
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use);
  clock.advance(15s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use_and_refresh);
}

TEST_F(token_lifecycle_test, concurrent_rejections_of_one_token_cause_one_fetch) {
  tokens.acquire(clock.now());
  const auto gen = tokens.on_issued(clock.now(), 1h);
  // Five requests in flight with generation 1 all get 401.
  int dropped = 0;
  for (int i = 0; i < 5; ++i) dropped += tokens.on_rejected(clock.now(), gen) ? 1 : 0;
  EXPECT_EQ(dropped, 1);
  int fetchers = 0;
  for (int i = 0; i < 5; ++i) fetchers += tokens.acquire(clock.now()).action == token_action::fetch ? 1 : 0;
  EXPECT_EQ(fetchers, 1);
  EXPECT_EQ(tokens.pending_reason(), refresh_reason::rejected);
  const auto fresh = tokens.on_issued(clock.now(), 1h);
  // A late 401 for the old token does not drop the new one.
  EXPECT_FALSE(tokens.on_rejected(clock.now(), gen));
  EXPECT_EQ(tokens.acquire(clock.now()).generation, fresh);
  EXPECT_EQ(tokens.issued(), 2u);
}

TEST_F(token_lifecycle_test, failed_fetches_back_off_and_waiters_learn_when_the_next_may_start) {
  tokens.acquire(clock.now());
  EXPECT_EQ(tokens.on_fetch_failed(clock.now(), rng), 1s);
  auto g = tokens.acquire(clock.now());
  EXPECT_EQ(g.action, token_action::wait);
  EXPECT_EQ(g.retry_at, clock.now() + 1s);
  clock.advance(1s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::fetch);
  EXPECT_EQ(tokens.on_fetch_failed(clock.now(), rng), 2s);
  clock.advance(2s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::fetch);
  EXPECT_EQ(tokens.on_fetch_failed(clock.now(), rng), 4s);
  EXPECT_EQ(tokens.consecutive_failures(), 3);
  clock.advance(4s);
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), 1h);
  EXPECT_EQ(tokens.consecutive_failures(), 0);
}

TEST_F(token_lifecycle_test, a_failed_scheduled_refresh_keeps_using_the_valid_token) {
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), 10min);
  clock.advance(9min + 30s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use_and_refresh);
  tokens.on_fetch_failed(clock.now(), rng);
  // Still valid for 30 s: used, and no new fetch until the backoff has passed.
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use);
  clock.advance(1s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use_and_refresh);
}

TEST_F(token_lifecycle_test, expiry_is_exact_and_the_clock_not_advancing_changes_nothing) {
  tokens.acquire(clock.now());
  tokens.on_issued(clock.now(), 2min);
  const auto at_issue = tokens.acquire(clock.now());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(tokens.acquire(clock.now()).action, at_issue.action);
  clock.set(tokens.expires_at());
  // Past the refresh point a fetch was due; take it, and then the token is gone too.
  auto g = tokens.acquire(clock.now());
  EXPECT_EQ(g.action, token_action::fetch);
  EXPECT_EQ(tokens.pending_reason(), refresh_reason::expired);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::wait);
}

TEST_F(token_lifecycle_test, a_rejection_during_a_scheduled_refresh_waits_for_that_refresh) {
  tokens.acquire(clock.now());
  const auto gen = tokens.on_issued(clock.now(), 10min);
  clock.advance(9min + 30s);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use_and_refresh);
  EXPECT_TRUE(tokens.on_rejected(clock.now(), gen));
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::wait);
  tokens.on_issued(clock.now(), 10min);
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::use);
}

TEST_F(token_lifecycle_test, a_rejection_after_a_failed_fetch_may_fetch_at_once) {
  tokens.acquire(clock.now());
  const auto gen = tokens.on_issued(clock.now(), 10min);
  clock.advance(9min + 30s);
  tokens.acquire(clock.now());
  tokens.on_fetch_failed(clock.now(), rng);
  EXPECT_TRUE(tokens.on_rejected(clock.now(), gen));
  EXPECT_EQ(tokens.acquire(clock.now()).action, token_action::fetch);
}

}  // namespace
}  // namespace planproof::resilience
