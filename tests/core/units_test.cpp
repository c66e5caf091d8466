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

TEST(parse_duration, accepts_parts_largest_unit_first) {
  EXPECT_EQ(parse_duration("1h30m"), duration(90min));
  EXPECT_EQ(parse_duration("1m41.5s"), duration(101500ms));
  EXPECT_EQ(parse_duration("1d2h3m4s5ms"), duration(86400s + 2h + 3min + 4s + 5ms));
  for (const char* bad : {"30m1h", "1s1s", "1m 30s", "1m30", "1h-5m", "1ms1s"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

// Found by fuzz_units: 2501s was printed `41m41s` and a fractional duration of more than a minute
// with an exponent, neither of which a plan could take back.
TEST(format_duration, what_it_writes_reads_back) {
  for (const auto d : {duration(2501s), duration(123456500ms), duration(302min + 7ns), duration(61001ms), duration(90061s), duration(59999999999ns),
                       duration(1ns), duration(999999ns), duration(36h + 1s)}) {
    const auto text = format_duration(d);
    const auto back = parse_duration(text);
    ASSERT_TRUE(back) << text;
    EXPECT_NEAR(static_cast<double>(back->count()), static_cast<double>(d.count()), 1e-3 * static_cast<double>(d.count()))
        << text;
  }
  EXPECT_EQ(format_duration(123456500ms), "2057m36.5s");
  EXPECT_EQ(format_duration(302min + 7ns), "302m7ns");  // was 302m7e-09s
  EXPECT_EQ(parse_duration("302m7ns"), duration(302min + 7ns));
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
