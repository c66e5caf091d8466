#include "resilience/retry_budget.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using core::duration;
using core::time_point;

const time_point t0 = time_point{} + 1000h;  // far from the epoch, as plan time is

int retries_allowed(retry_budget& b, time_point now) {
  int n = 0;
  while (b.try_retry(now) && n < 1'000'000) ++n;
  return n;
}

TEST(retry_budget, quiet_periods_get_the_floor) {
  retry_budget b({.ratio = 0.2, .min_per_second = 1, .ttl = 10s});
  EXPECT_DOUBLE_EQ(b.balance(t0), 10.0);  // 1/s over 10 s
  EXPECT_EQ(retries_allowed(b, t0), 10);
  EXPECT_FALSE(b.try_retry(t0));
}

TEST(retry_budget, each_request_adds_ratio_retries) {
  retry_budget b({.ratio = 0.1, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 30; ++i) b.on_request(t0);
  EXPECT_NEAR(b.balance(t0), 3.0, 1e-9);
  EXPECT_EQ(retries_allowed(b, t0), 3);
  EXPECT_EQ(b.window(t0).requests, 30u);
  EXPECT_EQ(b.window(t0).retries, 3u);
  b.on_request(t0);
  EXPECT_FALSE(b.try_retry(t0));  // 3.1 allows no 4th
  for (int i = 0; i < 9; ++i) b.on_request(t0);
  EXPECT_TRUE(b.try_retry(t0));  // 4.0
}

TEST(retry_budget, a_share_that_is_not_exact_in_binary_still_allows_its_whole_retries) {
  // 29% of 100 is 28.999999999999996 in double: the 29th retry is within the budget all the same.
  retry_budget b({.ratio = 0.29, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 100; ++i) b.on_request(t0);
  EXPECT_EQ(retries_allowed(b, t0), 29);
}

TEST(retry_budget, retries_in_the_window_never_exceed_ratio_times_requests_plus_the_floor) {
  const plan::retry_budget_config config{.ratio = 0.2, .min_per_second = 0.5, .ttl = 10s};
  retry_budget b(config);
  auto now = t0;
  for (int step = 0; step < 2000; ++step) {  // 200 s of 10 requests/s, each asking for 2 retries
    now += 100ms;
    b.on_request(now);
    b.try_retry(now);
    b.try_retry(now);
    const auto w = b.window(now);
    ASSERT_LE(static_cast<double>(w.retries), config.ratio * static_cast<double>(w.requests) +
                                                  config.min_per_second * 10 + 1e-9)
        << step;
  }
  // And the budget is used, not just respected: at least the ratio's share is retried (the rest of
  // the bound, up to a slice's worth, frees up as slices leave the window).
  const auto w = b.window(now);
  EXPECT_GE(static_cast<double>(w.retries), 0.2 * static_cast<double>(w.requests));
  EXPECT_GT(w.requests, 85u);
}

TEST(retry_budget, deposits_and_withdrawals_expire_after_ttl) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 5; ++i) b.on_request(t0);
  EXPECT_EQ(retries_allowed(b, t0 + 1s), 5);
  EXPECT_FALSE(b.try_retry(t0 + 5s));
  // Both the requests of t0 and the retries of t0 + 1s are out of the window by t0 + 11s.
  EXPECT_EQ(b.window(t0 + 11s).requests, 0u);
  EXPECT_EQ(b.window(t0 + 11s).retries, 0u);
  EXPECT_FALSE(b.try_retry(t0 + 11s));
  b.on_request(t0 + 11s);
  EXPECT_TRUE(b.try_retry(t0 + 11s));
}

TEST(retry_budget, balance_can_go_negative_when_the_requests_that_paid_expire_first) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  b.on_request(t0);
  EXPECT_TRUE(b.try_retry(t0 + 9s));
  EXPECT_DOUBLE_EQ(b.balance(t0 + 10s), -1.0);  // the request left the window, its retry has not
  EXPECT_FALSE(b.try_retry(t0 + 10s));
  EXPECT_DOUBLE_EQ(b.balance(t0 + 19s), 0.0);
}

TEST(retry_budget, a_clock_that_does_not_advance_counts_everything_in_one_slice) {
  retry_budget b({.ratio = 0.5, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 1000; ++i) b.on_request(t0);
  EXPECT_EQ(retries_allowed(b, t0), 500);
  EXPECT_EQ(b.window(t0).requests, 1000u);
}

TEST(retry_budget, a_clock_stepping_back_counts_into_the_newest_slice) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  b.on_request(t0 + 20s);
  b.on_request(t0);  // earlier than the newest: counted as now, not lost, not counted twice
  EXPECT_EQ(b.window(t0 + 20s).requests, 2u);
  EXPECT_EQ(b.window(t0 + 29s).requests, 2u);
  EXPECT_EQ(b.window(t0 + 30s).requests, 0u);
}

TEST(retry_budget, a_jump_of_hours_empties_the_window_in_one_step) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 7; ++i) b.on_request(t0);
  ASSERT_TRUE(b.try_retry(t0));
  const auto later = t0 + 24h * 365 * 100;  // a century
  EXPECT_EQ(b.window(later).requests, 0u);
  EXPECT_EQ(b.window(later).retries, 0u);
  EXPECT_FALSE(b.try_retry(later));
  b.on_request(later);
  EXPECT_TRUE(b.try_retry(later));
}

TEST(retry_budget, the_window_slides_in_tenths_of_ttl) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  b.on_request(t0);             // slice k
  b.on_request(t0 + 4500ms);    // slice k + 4 (slices are 1 s)
  EXPECT_EQ(b.window(t0 + 9999ms).requests, 2u);
  EXPECT_EQ(b.window(t0 + 10s).requests, 1u);  // slice k left
  EXPECT_EQ(b.window(t0 + 13s).requests, 1u);
  EXPECT_EQ(b.window(t0 + 14s).requests, 0u);  // slice k + 4 left: 4.5 s counted for 9.5 s
}

TEST(retry_budget, no_ratio_and_no_floor_allows_no_retries) {
  retry_budget b({.ratio = 0, .min_per_second = 0, .ttl = 10s});
  for (int i = 0; i < 100; ++i) b.on_request(t0);
  EXPECT_FALSE(b.try_retry(t0));
  EXPECT_EQ(b.window(t0).retries, 0u);
}

TEST(retry_budget, times_before_the_clock_epoch_work) {
  retry_budget b({.ratio = 1, .min_per_second = 0, .ttl = 10s});
  const time_point before = time_point{} - 25s;
  b.on_request(before);
  EXPECT_TRUE(b.try_retry(before + 1s));
  EXPECT_EQ(b.window(before + 9s).requests, 1u);
  EXPECT_EQ(b.window(before + 10s).requests, 0u);
}

}  // namespace
}  // namespace planproof::resilience
