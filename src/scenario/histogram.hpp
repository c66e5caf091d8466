// A log-linear histogram of non-negative values (1% relative precision), for percentiles of
// unbounded runs in fixed memory.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace planproof::scenario {

class histogram {
 public:
  void add(double value) noexcept;
  // The value at quantile q in [0, 1]; 0 when empty. Accurate to about 1%.
  double quantile(double q) const noexcept;
  std::uint64_t count() const noexcept { return count_; }
  double max() const noexcept { return max_; }

  // Values from lower to upper; the first bin of all starts at 0.
  struct bin {
    double lower = 0;
    double upper = 0;
    std::uint64_t count = 0;
  };
  // The counts merged into `per_octave` bins per doubling (a divisor of 64; other values are taken
  // as the next divisor up), from the first non-empty bin to the last: what a chart of the
  // distribution draws. At most 42 * per_octave + 2 bins; empty when nothing was added.
  std::vector<bin> bins(int per_octave) const;

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
