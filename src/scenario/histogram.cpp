#include "scenario/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace planproof::scenario {

void histogram::add(double value) noexcept {
  ++count_;
  max_ = std::max(max_, value);
  if (!(value > min_value)) {
    ++buckets_[0];
    return;
  }
  const double index = std::log2(value / min_value) * sub;
  const auto i = static_cast<std::size_t>(std::min<double>(index, sub * octaves)) + 1;
  ++buckets_[std::min(i, buckets_.size() - 1)];
}

double histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) {
      if (i == 0) return 0;
      if (i == buckets_.size() - 1) return max_;  // the overflow bucket has no upper edge
      // Upper edge of the bucket, never above the largest value seen.
      return std::min(max_, min_value * std::exp2(static_cast<double>(i) / sub));
    }
  }
  return max_;
}

std::vector<histogram::bin> histogram::bins(int per_octave) const {
  int step = sub;  // fine buckets per bin
  while (step > 1 && sub / step < per_octave) step /= 2;
  std::vector<bin> out;
  if (count_ == 0) return out;
  out.push_back({0, min_value, buckets_[0]});
  const std::size_t overflow = buckets_.size() - 1;
  for (std::size_t i = 1; i < overflow; i += static_cast<std::size_t>(step)) {
    bin b{min_value * std::exp2(static_cast<double>(i - 1) / sub), min_value * std::exp2(static_cast<double>(i - 1 + step) / sub), 0};
    for (std::size_t k = i; k < i + static_cast<std::size_t>(step) && k < overflow; ++k) b.count += buckets_[k];
    out.push_back(b);
  }
  if (buckets_[overflow] != 0) out.push_back({out.back().upper, max_, buckets_[overflow]});
  const auto first = std::find_if(out.begin(), out.end(), [](const bin& b) { return b.count != 0; });
  const auto last = std::find_if(out.rbegin(), out.rend(), [](const bin& b) { return b.count != 0; }).base();
  return {first, last};
}

}  // namespace planproof::scenario
