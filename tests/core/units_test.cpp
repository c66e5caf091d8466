#include "core/units.hpp"

#include <gtest/gtest.h>

namespace planproof::core {
namespace {

using namespace std::chrono_literals;

TEST(parse_duration, accepts_every_unit) {
  EXPECT_EQ(parse_duration("250ms"), duration(250ms));
  EXPECT_EQ(parse_duration("2s"), duration(2s));
  EXPECT_EQ(parse_duration("1.5s"), duration(1500ms));
  EXPECT_EQ(parse_duration("1m"), duration(60s));
  EXPECT_EQ(parse_duration("2h"), duration(7200s));
  EXPECT_EQ(parse_duration("90d"), duration(90 * 86400s));
  EXPECT_EQ(parse_duration("1.5d"), duration(36h));
  EXPECT_EQ(parse_duration("10us"), duration(10us));
  EXPECT_EQ(parse_duration("7ns"), duration(7ns));
  EXPECT_EQ(parse_duration("0"), duration(0s));
  EXPECT_EQ(parse_duration(" 3s "), duration(3s));
}

TEST(parse_duration, rejects_what_is_not_a_duration) {
  for (const char* bad : {"", "s", "5", "-1s", "1 s", "1sec", "abc", "1.2.3s", "1e3s", ".s", "99999999999h",
                          "1D", "12000d", "d", "1dd"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(parse_rate, per_second_minute_hour) {
  EXPECT_DOUBLE_EQ(*parse_rate("20/s"), 20.0);
  EXPECT_DOUBLE_EQ(*parse_rate("600/m"), 10.0);
  EXPECT_DOUBLE_EQ(*parse_rate("3600/h"), 1.0);
  EXPECT_FALSE(parse_rate("20"));
  EXPECT_FALSE(parse_rate("0/s"));
  EXPECT_FALSE(parse_rate("20/d"));
  EXPECT_FALSE(parse_rate("/s"));
}

TEST(parse_ratio, decimal_and_percent) {
  EXPECT_DOUBLE_EQ(*parse_ratio("0.99"), 0.99);
  EXPECT_DOUBLE_EQ(*parse_ratio("99%"), 0.99);
  EXPECT_DOUBLE_EQ(*parse_ratio("100%"), 1.0);
  EXPECT_FALSE(parse_ratio("1.5"));
  EXPECT_FALSE(parse_ratio("101%"));
  EXPECT_FALSE(parse_ratio("x"));
}

TEST(format_duration, round_trips_common_values) {
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(2s), "2s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(60s), "1m");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(36h), "36h");  // whole days only
  EXPECT_EQ(format_duration(24h), "1d");
  EXPECT_EQ(format_duration(90 * 86400s), "90d");
}

TEST(format_number, whole_values_plainly_others_to_the_given_digits) {
  EXPECT_EQ(format_number(20), "20");
  EXPECT_EQ(format_number(0.9483), "0.9483");
  EXPECT_EQ(format_number(2.0 / 3.0, 4), "0.6667");
  EXPECT_EQ(format_number(2.0 / 3.0), "0.666667");
}

}  // namespace
}  // namespace planproof::core
