#include "resilience/retry_after.hpp"

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

using namespace std::chrono_literals;

TEST(parse_retry_after, delay_seconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(parse_retry_after("2", now), core::duration(2s));
  EXPECT_EQ(parse_retry_after(" 120 ", now), core::duration(120s));
  EXPECT_EQ(parse_retry_after("0", now), core::duration(0s));
}

TEST(parse_retry_after, the_largest_delay_seconds_fit_a_duration) {
  // 2^32 - 1 seconds is 136 years: far beyond any cap, but it must come out as itself, not wrapped.
  const auto d = parse_retry_after("4294967295", std::chrono::system_clock::now());
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, core::duration(std::chrono::seconds(4294967295LL)));
  EXPECT_GT(*d, core::duration::zero());
}

TEST(parse_retry_after, http_date_measured_from_now) {
  // 1994-11-06T08:49:37Z
  const auto date = std::chrono::system_clock::from_time_t(784111777);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date - 30s), core::duration(30s));
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", date + 30s), core::duration(0s));
}

// Found by fuzz_http_response: a date centuries ahead overflowed the nanosecond clock (undefined
// behaviour). It is the longest wait the header can say, which the retry policy then caps.
TEST(parse_retry_after, a_date_centuries_ahead_is_the_longest_wait) {
  const auto now = std::chrono::system_clock::from_time_t(1'767'225'600);
  const auto d = parse_retry_after("Wed, 21 Oct 9615 07:28:00 GMT", now);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, core::duration(std::chrono::seconds(4294967295LL)));
  EXPECT_EQ(parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now), core::duration(60s));
}

TEST(parse_retry_after, garbage_is_not_a_wait) {
  const auto now = std::chrono::system_clock::now();
  for (const char* bad : {"", "soon", "-1", "2.5", "1e3", "99999999999", "Sun, 06 Nov 1994"}) {
    EXPECT_FALSE(parse_retry_after(bad, now)) << bad;
  }
}

}  // namespace
}  // namespace planproof::resilience
