#include "resilience/backoff.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;
using core::duration;

plan::backoff_config exponential(duration base, duration max, plan::jitter_kind jitter) {
  return {plan::backoff_strategy::exponential, base, max, jitter};
}

plan::backoff_config with(plan::backoff_strategy strategy, duration base, duration max, plan::jitter_kind jitter,
                          double multiplier = 2) {
  return {strategy, base, max, jitter, multiplier};
}

constexpr auto none = plan::jitter_kind::none;

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

TEST(backoff_policy, linear_grows_by_base_per_retry_until_the_cap) {
  const backoff_policy b(with(plan::backoff_strategy::linear, 300ms, 1s, none));
  EXPECT_EQ(b.ceiling(1), duration(300ms));
  EXPECT_EQ(b.ceiling(2), duration(600ms));
  EXPECT_EQ(b.ceiling(3), duration(900ms));
  EXPECT_EQ(b.ceiling(4), duration(1s));
  EXPECT_EQ(b.ceiling(std::numeric_limits<int>::max()), duration(1s));
  EXPECT_EQ(b.ceiling(0), duration(300ms));  // retry numbers below 1 are the first retry
  EXPECT_EQ(b.ceiling(-5), duration(300ms));
}

// Retry 10'000 with multiplier 10 and a base of an hour: 10^9999 hours does not fit any integer.
TEST(backoff_policy, huge_retry_counts_saturate_at_the_cap_for_every_strategy_and_jitter) {
  using enum plan::backoff_strategy;
  using enum plan::jitter_kind;
  for (auto strategy : {constant, linear, exponential}) {
    for (auto jitter : {none, full, equal, decorrelated}) {
      const backoff_policy b(with(strategy, 1h, 24h, jitter, 10));
      fixed_random rng({fixed_random::for_unit(0.999999), fixed_random::for_unit(0.0)});
      for (int retry : {10'000, 1'000'000, std::numeric_limits<int>::max()}) {
        SCOPED_TRACE(std::string(to_string(strategy)) + "/" + std::string(to_string(jitter)) + "/" +
                     std::to_string(retry));
        EXPECT_EQ(b.ceiling(retry), strategy == constant ? duration(1h) : duration(24h));
        for (auto previous : {duration::zero(), duration(24h), duration::max()}) {
          const auto d = b.next(retry, previous, rng);
          EXPECT_GE(d, duration::zero());
          EXPECT_LE(d, duration(24h));
        }
      }
    }
  }
}

TEST(backoff_policy, odd_configurations_never_give_negative_waits) {
  // A base above the cap waits the cap; a zero cap waits nothing; negative settings (which the
  // loader rejects) are read as zero rather than producing negative waits.
  fixed_random rng({fixed_random::for_unit(0.5)});
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::linear, 5s, 1s, none)).ceiling(1), duration(1s));
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::exponential, 5s, 0s, plan::jitter_kind::equal)).next(3, {}, rng),
            duration::zero());
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::exponential, -5s, 1s, none)).ceiling(4), duration::zero());
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::constant, 1s, -1s, none)).ceiling(1), duration::zero());
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::exponential, 0s, 1s, none,
                                std::numeric_limits<double>::infinity()))
                .ceiling(3),
            duration::zero());  // 0 * inf is NaN: no wait, not garbage
  EXPECT_EQ(backoff_policy(with(plan::backoff_strategy::exponential, 100ms, 1s, none,
                                std::numeric_limits<double>::quiet_NaN()))
                .ceiling(3),
            duration::zero());
}

TEST(backoff_policy, no_jitter_waits_the_ceiling) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::none));
  fixed_random rng({fixed_random::for_unit(0.5)});
  EXPECT_EQ(b.next(3, {}, rng), duration(400ms));
}

TEST(backoff_policy, full_jitter_scales_the_ceiling_by_the_draw) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::full));
  fixed_random rng({fixed_random::for_unit(0.0), fixed_random::for_unit(0.5), fixed_random::for_unit(0.25)});
  EXPECT_EQ(b.next(3, {}, rng), duration(0ms));
  EXPECT_EQ(b.next(3, {}, rng), duration(200ms));
  EXPECT_EQ(b.next(5, {}, rng), duration(250ms));  // ceiling 1s (capped), a quarter of it
}

TEST(backoff_policy, equal_jitter_keeps_half_the_ceiling_and_draws_the_rest) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::equal));
  fixed_random rng({fixed_random::for_unit(0.0), fixed_random::for_unit(0.5), fixed_random::for_unit(0.25)});
  EXPECT_EQ(b.next(3, {}, rng), duration(200ms));  // ceiling 400ms: 200 + 0
  EXPECT_EQ(b.next(3, {}, rng), duration(300ms));  // 200 + 0.5 * 200
  EXPECT_EQ(b.next(5, {}, rng), duration(625ms));  // ceiling 1s (capped): 500 + 0.25 * 500
}

TEST(backoff_policy, equal_jitter_follows_a_linear_ceiling) {
  const backoff_policy b(with(plan::backoff_strategy::linear, 200ms, 10s, plan::jitter_kind::equal));
  fixed_random rng({fixed_random::for_unit(0.5)});
  EXPECT_EQ(b.next(4, {}, rng), duration(600ms));  // ceiling 800ms: 400 + 0.5 * 400
}

TEST(backoff_policy, decorrelated_jitter_draws_between_base_and_three_times_the_previous_wait) {
  const backoff_policy b(exponential(100ms, 1s, plan::jitter_kind::decorrelated));
  fixed_random rng({fixed_random::for_unit(0.5), fixed_random::for_unit(0.0), fixed_random::for_unit(0.75),
                    fixed_random::for_unit(0.9)});
  // First retry: previous is base, so uniform in [100ms, 300ms].
  const auto first = b.next(1, duration::zero(), rng);
  EXPECT_EQ(first, duration(200ms));
  // From 200ms: [100ms, 600ms], the bottom of it.
  EXPECT_EQ(b.next(2, first, rng), duration(100ms));
  // From 300ms: [100ms, 900ms] at 0.75.
  EXPECT_EQ(b.next(3, 300ms, rng), duration(700ms));
  // From 900ms: [100ms, 2700ms] at 0.9 is 2440ms, capped at 1s.
  EXPECT_EQ(b.next(4, 900ms, rng), duration(1s));
}

TEST(backoff_policy, decorrelated_jitter_ignores_the_retry_number_and_strategy) {
  fixed_random a({fixed_random::for_unit(0.5)});
  fixed_random c({fixed_random::for_unit(0.5)});
  const backoff_policy exp(exponential(100ms, 10s, plan::jitter_kind::decorrelated));
  const backoff_policy constant(with(plan::backoff_strategy::constant, 100ms, 10s, plan::jitter_kind::decorrelated));
  EXPECT_EQ(exp.next(1, 400ms, a), duration(650ms));  // 100 + 0.5 * (1200 - 100)
  EXPECT_EQ(constant.next(9, 400ms, c), duration(650ms));
  // A previous wait below base (or none) counts as base.
  EXPECT_EQ(exp.next(2, 10ms, a), duration(200ms));
}

TEST(backoff_policy, every_jitter_stays_within_bounds_for_any_draw) {
  using enum plan::jitter_kind;
  for (auto jitter : {full, equal, decorrelated}) {
    const backoff_policy b(exponential(200ms, 5s, jitter));
    seeded_random rng(7);
    duration previous{};
    for (int retry = 1; retry < 12; ++retry) {
      for (int i = 0; i < 200; ++i) {
        const auto d = b.next(retry, previous, rng);
        EXPECT_GE(d, jitter == equal ? b.ceiling(retry) / 2 : jitter == decorrelated ? duration(200ms) : duration::zero());
        EXPECT_LE(d, jitter == decorrelated ? duration(5s) : b.ceiling(retry));
        previous = d;
      }
    }
  }
}

TEST(backoff_policy, full_jitter_stays_within_bounds_for_any_draw) {
  const backoff_policy b(exponential(200ms, 5s, plan::jitter_kind::full));
  seeded_random rng(7);
  for (int retry = 1; retry < 12; ++retry) {
    for (int i = 0; i < 200; ++i) {
      const auto d = b.next(retry, {}, rng);
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
    const auto x = b.next(i, {}, a);
    EXPECT_EQ(x, b.next(i, {}, c));
    any_difference = any_difference || x != b.next(i, {}, other);
  }
  EXPECT_TRUE(any_difference);
}

}  // namespace
}  // namespace planproof::resilience
