#include "scenario/histogram.hpp"

#include <gtest/gtest.h>

namespace planproof::scenario {
namespace {

TEST(histogram, quantiles_within_two_percent) {
  histogram h;
  for (int i = 1; i <= 10000; ++i) h.add(i * 0.1);  // 0.1 .. 1000 ms
  EXPECT_NEAR(h.quantile(0.5), 500.0, 10.0);
  EXPECT_NEAR(h.quantile(0.99), 990.0, 20.0);
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 1000.0);
  EXPECT_EQ(h.count(), 10000u);
}

TEST(histogram, empty_and_tiny_values) {
  histogram h;
  EXPECT_EQ(h.quantile(0.5), 0.0);
  h.add(0);
  h.add(0.0001);
  EXPECT_EQ(h.quantile(0.5), 0.0);
  h.add(1e12);  // beyond the last bucket: clamped, never out of bounds
  EXPECT_DOUBLE_EQ(h.quantile(1.0), 1e12);
}

}  // namespace
}  // namespace planproof::scenario
