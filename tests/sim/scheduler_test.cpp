#include "sim/scheduler.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace planproof::sim {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint32_t> drain(scheduler& s, core::time_point until) {
  std::vector<std::uint32_t> kinds;
  sim_event e;
  while (s.next(e, until)) kinds.push_back(e.kind);
  return kinds;
}

TEST(scheduler, runs_events_by_time_then_in_the_order_they_were_scheduled) {
  scheduler s;
  const auto t0 = s.now();
  s.at(t0 + 20ms, 1, 0);
  s.at(t0 + 10ms, 2, 0);
  s.at(t0 + 20ms, 3, 0);
  s.at(t0 + 10ms, 4, 0);
  EXPECT_EQ(drain(s, t0 + 1h), (std::vector<std::uint32_t>{2, 4, 1, 3}));
  EXPECT_EQ(s.now(), t0 + 20ms);
  EXPECT_EQ(s.dispatched(), 4u);
}

TEST(scheduler, the_clock_jumps_to_each_event_and_stops_at_the_bound) {
  scheduler s;
  const auto t0 = s.now();
  s.after(5s, 1, 7);
  s.after(1h, 2, 8);
  sim_event e;
  ASSERT_TRUE(s.next(e, t0 + 10s));
  EXPECT_EQ(e.slot, 7u);
  EXPECT_EQ(s.clock().now(), t0 + 5s);
  EXPECT_FALSE(s.next(e, t0 + 10s));  // the next lies past the bound: the clock stays
  EXPECT_EQ(s.now(), t0 + 5s);
  EXPECT_EQ(s.pending(), 1u);
}

TEST(scheduler, an_event_in_the_past_runs_now_after_what_is_due) {
  scheduler s;
  const auto t0 = s.now();
  s.at(t0 + 1s, 1, 0);
  sim_event e;
  ASSERT_TRUE(s.next(e, t0 + 1h));
  s.at(t0, 2, 0);  // in the past
  s.at(t0 + 1s, 3, 0);
  EXPECT_EQ(drain(s, t0 + 1h), (std::vector<std::uint32_t>{2, 3}));
  EXPECT_EQ(s.now(), t0 + 1s);
}

}  // namespace
}  // namespace planproof::sim
