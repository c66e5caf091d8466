// The arrival schedule of each open-loop profile, the rate it asks for over time and its peak.
#include "plan/traffic_profile.hpp"

#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;

traffic_config constant(double rate, duration length) {
  traffic_config t;
  t.endpoint = "e";
  t.rate = rate;
  t.duration = length;
  return t;
}

traffic_config ramp(double from, double to, duration length) {
  auto t = constant(to, length);
  t.profile = traffic_profile::ramp;
  t.from = from;
  return t;
}

traffic_config burst(double base, traffic_burst b, duration length) {
  auto t = constant(base, length);
  t.profile = traffic_profile::burst;
  t.burst = b;
  return t;
}

std::vector<duration> arrivals(const traffic_config& t) {
  const arrival_schedule s(t);
  std::vector<duration> out;
  for (std::uint64_t k = 0; k < s.size(); ++k) out.push_back(s.at(k));
  return out;
}

std::uint64_t count_in(const std::vector<duration>& a, duration from, duration to) {
  std::uint64_t n = 0;
  for (auto d : a) n += d >= from && d < to ? 1 : 0;
  return n;
}

void expect_increasing_and_inside(const std::vector<duration>& a, duration end) {
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a.front(), 0s);
  for (std::size_t k = 1; k < a.size(); ++k) EXPECT_LT(a[k - 1], a[k]) << "request " << k;
  EXPECT_LT(a.back(), end);
}

TEST(arrival_schedule, constant_rate_is_evenly_spaced_from_the_start) {
  const auto a = arrivals(constant(20, 60s));
  ASSERT_EQ(a.size(), 1200u);
  for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k], 50ms * static_cast<std::int64_t>(k)) << k;
}

TEST(arrival_schedule, counts_match_rate_times_duration_within_one) {
  // Request k is due once k are: the count is the integral rounded up.
  EXPECT_EQ(arrival_schedule(constant(3, 1500ms)).size(), 5u);  // 4.5: 0, 1/3, 2/3, 1, 4/3 s
  EXPECT_EQ(arrival_schedule(constant(0.3, 1s)).size(), 1u);    // 0.3: the one at the start
  EXPECT_EQ(arrival_schedule(constant(1, 500ms)).size(), 1u);
  EXPECT_EQ(arrival_schedule(constant(7, 3s)).size(), 21u);     // 21 exactly: the 22nd would be at the end
  for (double rate : {0.5, 1.0, 2.5, 9.99, 33.3, 100.0, 1234.5}) {
    for (auto length : {1s, 7s, 60s}) {
      const double expected = rate * core::to_seconds(length);
      const auto n = static_cast<double>(arrival_schedule(constant(rate, length)).size());
      EXPECT_LE(std::abs(n - expected), 1.0) << rate << "/s over " << core::format_duration(length);
    }
  }
}

TEST(arrival_schedule, ramp_arrivals_follow_the_integral_of_the_linear_rate) {
  // 2/s to 6/s over 1s: 2s + 2s² requests are due by s, 4 in all; request k at (sqrt(1 + 2k) - 1) / 2.
  const auto a = arrivals(ramp(2, 6, 1s));
  ASSERT_EQ(a.size(), 4u);
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double expected = (std::sqrt(1.0 + 2.0 * static_cast<double>(k)) - 1.0) / 2.0;
    EXPECT_NEAR(core::to_seconds(a[k]), expected, 1e-9) << k;
  }
  // 1/s to 9/s over 2s: s + 2s², 10 in all; at 1s, 3 were due, so the 4th (k = 3) is exactly at 1s.
  const auto b = arrivals(ramp(1, 9, 2s));
  ASSERT_EQ(b.size(), 10u);
  EXPECT_EQ(b[3], 1s);
  const traffic_config t = ramp(1, 9, 2s);
  for (std::size_t k = 0; k < b.size(); ++k) EXPECT_NEAR(requests_due(t, b[k]), static_cast<double>(k), 1e-6) << k;
}

TEST(arrival_schedule, a_ramp_up_shrinks_the_gaps_and_a_ramp_down_widens_them) {
  const auto up = arrivals(ramp(2, 20, 60s));
  expect_increasing_and_inside(up, 60s);
  EXPECT_EQ(up.size(), 660u);  // (2 + 20) / 2 × 60
  for (std::size_t k = 2; k < up.size(); ++k) EXPECT_LE(up[k] - up[k - 1], up[k - 1] - up[k - 2] + 1ns) << k;
  // Fewer in the first ten seconds than in the last ten: 2..5/s against 17..20/s.
  EXPECT_EQ(count_in(up, 0s, 10s), 35u);
  EXPECT_EQ(count_in(up, 50s, 60s), 185u);

  const auto down = arrivals(ramp(20, 2, 60s));
  expect_increasing_and_inside(down, 60s);
  EXPECT_EQ(down.size(), 660u);
  for (std::size_t k = 2; k < down.size(); ++k) EXPECT_GE(down[k] - down[k - 1] + 1ns, down[k - 1] - down[k - 2]) << k;
  EXPECT_EQ(count_in(down, 0s, 10s), 185u);
}

TEST(arrival_schedule, a_ramp_between_equal_rates_is_the_constant_rate) {
  EXPECT_EQ(arrivals(ramp(20, 20, 60s)), arrivals(constant(20, 60s)));
}

TEST(arrival_schedule, burst_arrivals_are_denser_inside_the_burst_windows) {
  // 10/s, with 100/s for 1s every 10s from 2s, over 20s: 10 × 20 + 90 × 2 = 380.
  const auto a = arrivals(burst(10, {.rate = 100, .every = 10s, .length = 1s, .at = 2s}, 20s));
  expect_increasing_and_inside(a, 20s);
  ASSERT_EQ(a.size(), 380u);
  EXPECT_EQ(count_in(a, 0s, 2s), 20u);
  EXPECT_EQ(count_in(a, 2s, 3s), 100u);
  EXPECT_EQ(count_in(a, 3s, 12s), 90u);
  EXPECT_EQ(count_in(a, 12s, 13s), 100u);
  EXPECT_EQ(count_in(a, 13s, 20s), 70u);
  // Exactly where the windows start and end.
  EXPECT_EQ(a[19], 1900ms);
  EXPECT_EQ(a[20], 2s);
  EXPECT_EQ(a[21], 2010ms);
  EXPECT_EQ(a[119], 2990ms);
  EXPECT_EQ(a[120], 3s);
  EXPECT_EQ(a[121], 3100ms);
  EXPECT_EQ(a[210], 12s);
  EXPECT_EQ(a.back(), 19900ms);
}

TEST(arrival_schedule, burst_edge_cases) {
  // The first burst at the start (at defaults to 0).
  const auto first = arrivals(burst(10, {.rate = 50, .every = 5s, .length = 1s}, 10s));
  ASSERT_EQ(first.size(), 180u);  // 10 × 10 + 40 × 2
  EXPECT_EQ(count_in(first, 0s, 1s), 50u);
  EXPECT_EQ(first[50], 1s);
  // The traffic ends in the middle of a burst: only its first half counts.
  const auto cut = arrivals(burst(10, {.rate = 100, .every = 10s, .length = 2s, .at = 4s}, 5s));
  ASSERT_EQ(cut.size(), 140u);  // 40 before, 100 in the second that is left
  EXPECT_EQ(count_in(cut, 4s, 5s), 100u);
  // A burst almost as long as its period: the base rate fills the rest.
  const auto near = arrivals(burst(1, {.rate = 2, .every = 1s, .length = 999ms}, 10s));
  EXPECT_LE(std::abs(static_cast<double>(near.size()) - (10 + 10 * 0.999)), 1.0) << near.size();
  expect_increasing_and_inside(near, 10s);
}

TEST(arrival_schedule, closed_loop_and_unschedulable_traffic_have_no_arrivals) {
  auto closed = constant(20, 60s);
  closed.profile = traffic_profile::closed_loop;
  EXPECT_EQ(arrival_schedule(closed).size(), 0u);
  EXPECT_EQ(arrival_schedule(constant(0, 60s)).size(), 0u);
  EXPECT_EQ(arrival_schedule(constant(20, 0s)).size(), 0u);
  EXPECT_EQ(arrival_schedule(ramp(0, 20, 60s)).size(), 0u);
  EXPECT_EQ(arrival_schedule(burst(10, {.rate = 100, .every = 1s, .length = 1s}, 10s)).size(), 0u);
}

TEST(arrival_schedule, never_holds_more_than_the_bound) {
  EXPECT_EQ(arrival_schedule(constant(1e6, 1h)).size(), max_planned_requests);
  // Just under it, every request is there.
  EXPECT_EQ(arrival_schedule(constant(1000, 2000s)).size(), 2'000'000u);
}

TEST(traffic_profile, rate_over_time_and_peak) {
  const auto c = constant(20, 60s);
  EXPECT_EQ(rate_at(c, 30s), 20);
  EXPECT_EQ(peak_rate(c), 20);

  const auto r = ramp(2, 20, 60s);
  EXPECT_DOUBLE_EQ(rate_at(r, 0s), 2);
  EXPECT_DOUBLE_EQ(rate_at(r, 30s), 11);
  EXPECT_DOUBLE_EQ(rate_at(r, 60s), 20);
  EXPECT_DOUBLE_EQ(requests_due(r, 60s), 660);
  EXPECT_EQ(peak_rate(r), 20);
  EXPECT_EQ(peak_rate(ramp(30, 5, 60s)), 30);

  const auto b = burst(20, {.rate = 200, .every = 20s, .length = 2s, .at = 5s}, 60s);
  EXPECT_EQ(rate_at(b, 4999ms), 20);
  EXPECT_EQ(rate_at(b, 5s), 200);
  EXPECT_EQ(rate_at(b, 6999ms), 200);
  EXPECT_EQ(rate_at(b, 7s), 20);
  EXPECT_EQ(rate_at(b, 25500ms), 200);
  EXPECT_DOUBLE_EQ(requests_due(b, 60s), 20 * 60 + 180 * 2 * 3);  // bursts at 5, 25 and 45 s
  EXPECT_EQ(peak_rate(b), 200);
  // A burst that would start after the end never raises the peak.
  const auto late = burst(20, {.rate = 200, .every = 20s, .length = 2s, .at = 60s}, 60s);
  EXPECT_EQ(peak_rate(late), 20);

  auto closed = c;
  closed.profile = traffic_profile::closed_loop;
  EXPECT_EQ(peak_rate(closed), std::nullopt);
  EXPECT_EQ(rate_at(closed, 1s), 0);
}

}  // namespace
}  // namespace planproof::plan
