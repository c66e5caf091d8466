#include "resilience/backoff.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using core::duration;

plan::backoff_config exponential(duration base, duration max, plan::jitter_kind jitter) {
  return {plan::backoff_strategy::exponential, base, max, jitter};
}

TEST(backoff_policy, exponential_doubles_until_the_cap) {
  const backoff_policy b(exponential(200ms, 5s, plan::jitter_kind::none));
  EXPECT_EQ(b.ceiling(1), duration(200ms));
  EXPECT_EQ(b.ceiling(2), duration(400ms));
  EXPECT_EQ(b.ceiling(3), duration(800ms));
  EXPECT_EQ(b.ceiling(5), duration(3200ms));
  EXPECT_EQ(b.ceiling(6), duration(5s));
  EXPECT_EQ(b.ceiling(1000), duration(5s));  // saturates, no overflow
}

TEST(backoff_policy, exponential_grows_by_the_multiplier) {
  plan::backoff_config config = exponential(100ms, 10s, plan::jitter_kind::none);
  config.multiplier = 3;
  const backoff_policy b(config);
  EXPECT_EQ(b.ceiling(1), duration(100ms));
  EXPECT_EQ(b.ceiling(2), duration(300ms));
  EXPECT_EQ(b.ceiling(3), duration(900ms));
  EXPECT_EQ(b.ceiling(5), duration(8100ms));
  EXPECT_EQ(b.ceiling(6), duration(10s));
  EXPECT_EQ(b.ceiling(100000), duration(10s));
  config.multiplier = 1.5;
  const backoff_policy slow(config);
  EXPECT_EQ(slow.ceiling(2), duration(150ms));
  EXPECT_EQ(slow.ceiling(3), duration(225ms));
}

TEST(backoff_policy, zero_base_stays_zero) {
  const backoff_policy b(exponential(0ms, 5s, plan::jitter_kind::none));
  EXPECT_EQ(b.ceiling(1), duration::zero());
  EXPECT_EQ(b.ceiling(40), duration::zero());
}

TEST(backoff_policy, constant_ignores_the_attempt_number) {
  const backoff_policy b({plan::backoff_strategy::constant, 300ms, 5s, plan::jitter_kind::none});
  EXPECT_EQ(b.ceiling(1), duration(300ms));
  EXPECT_EQ(b.ceiling(7), duration(300ms));
}

TEST(backoff_policy, no_jitter_waits_the_ceiling) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::none));
  fixed_random rng({fixed_random::for_unit(0.5)});
  EXPECT_EQ(b.next(3, rng), duration(400ms));
}

TEST(backoff_policy, full_jitter_scales_the_ceiling_by_the_draw) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::full));
  fixed_random rng({fixed_random::for_unit(0.0), fixed_random::for_unit(0.5), fixed_random::for_unit(0.25)});
  EXPECT_EQ(b.next(3, rng), duration(0ms));
  EXPECT_EQ(b.next(3, rng), duration(200ms));
  EXPECT_EQ(b.next(5, rng), duration(250ms));  // ceiling 1s (capped), a quarter of it
}

TEST(backoff_policy, full_jitter_stays_within_bounds_for_any_draw) {
  const backoff_policy b(exponential(200ms, 5s, plan::jitter_kind::full));
  seeded_random rng(7);
  for (int retry = 1; retry < 12; ++retry) {
    for (int i = 0; i < 200; ++i) {
      const auto d = b.next(retry, rng);
      EXPECT_GE(d, duration::zero());
      EXPECT_LE(d, b.ceiling(retry));
    }
  }
}

TEST(backoff_policy, same_seed_same_delays) {
  const backoff_policy b(exponential(200ms, 5s, plan::jitter_kind::full));
  seeded_random a(42), c(42), other(43);
  bool any_difference = false;
  for (int i = 1; i < 20; ++i) {
    const auto x = b.next(i, a);
    EXPECT_EQ(x, b.next(i, c));
    any_difference = any_difference || x != b.next(i, other);
  }
  EXPECT_TRUE(any_difference);
}

}  // namespace
}  // namespace planproof::resilience
