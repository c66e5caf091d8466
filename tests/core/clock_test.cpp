#include "core/clock.hpp"

#include <gtest/gtest.h>

namespace planproof::core {
namespace {

using namespace std::chrono_literals;

TEST(time_scale, real_wait_never_ends_early_in_plan_time) {
  const time_scale scale{0.05};
  for (auto d : {duration(1ns), duration(7ms), duration(2s), duration(333333333ns)}) {
    EXPECT_GE(scale.to_plan(scale.to_real(d)), d - 1ns) << d.count();
    EXPECT_GE(static_cast<double>(scale.to_real(d).count()), static_cast<double>(d.count()) * 0.05);
  }
  EXPECT_EQ(time_scale{1.0}.to_real(3s), duration(3s));
}

TEST(manual_clock, moves_only_when_told) {
  manual_clock c;
  const auto t0 = c.now();
  EXPECT_EQ(c.now(), t0);
  c.advance(250ms);
  EXPECT_EQ(c.now() - t0, duration(250ms));
}

TEST(plan_clock, runs_faster_when_scaled_down) {
  plan_clock c(time_scale{0.001});
  const auto real_start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - real_start < 2ms) {
  }
  // 2 ms of wall time is at least 2 s of plan time at scale 0.001.
  EXPECT_GE(c.elapsed(), duration(2s));
}

// At plan speed (pace 1) a calendar advances by plan time; at the time scale's pace it is the wall
// clock, which a real upstream checks JWT iat and exp against.
TEST(plan_calendar, runs_at_plan_speed_or_at_the_wall_clock_pace) {
  const std::chrono::sys_seconds wall{std::chrono::seconds(1'700'000'000)};
  const time_point origin{};
  const plan_calendar plan_speed{wall, origin};
  EXPECT_EQ(plan_speed.at(origin + 10s), wall + 10s);
  EXPECT_EQ(plan_speed.plan_time(wall + 10s), origin + 10s);

  const plan_calendar wall_clock{wall, origin, 0.1};  // --time-scale 0.1: 10 s of plan time is 1 s of wall time
  EXPECT_EQ(wall_clock.at(origin + 10s), wall + 1s);
  EXPECT_EQ(wall_clock.plan_time(wall + 300s), origin + 3000s);  // a 300 s token lasts 3000 s of plan time
}

}  // namespace
}  // namespace planproof::core
