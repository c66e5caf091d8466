// A log-linear histogram of non-negative values (1% relative precision), for percentiles of
// unbounded runs in fixed memory.
#pragma once

#include <array>
#include <cstdint>

namespace planproof::scenario {

class histogram {
 public:
  void add(double value) noexcept;
  // The value at quantile q in [0, 1]; 0 when empty. Accurate to about 1%.
  double quantile(double q) const noexcept;
  std::uint64_t count() const noexcept { return count_; }
  double max() const noexcept { return max_; }

 private:
  // Bucket 0 holds values up to 1e-3; then 64 buckets per doubling, up to about 4e9.
  static constexpr int sub = 64;
  static constexpr int octaves = 42;
  static constexpr double min_value = 1e-3;
  std::array<std::uint64_t, sub * octaves + 2> buckets_{};
  std::uint64_t count_ = 0;
  double max_ = 0;
};

}  // namespace planproof::scenario
