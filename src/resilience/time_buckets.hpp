// Counts over a sliding time window, kept as a ring of equal time slices: what the retry budget and
// a time-window circuit breaker count. The ring is sized once; adding and reading never allocate.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/clock.hpp"

namespace planproof::resilience::detail {

// `Counters` counts per slice (requests and retries; calls, failures and slow calls). The window
// is the newest slice (the one `now` falls in) and the slices - 1 before it: it spans between
// (slices - 1) / slices of `window` and all of it, so more slices means a smoother slide.
template <std::size_t Counters>
class time_buckets {
 public:
  using counts = std::array<std::uint64_t, Counters>;

  // `window` and `slices` are clamped to at least one slice of one nanosecond.
  time_buckets(core::duration window, std::size_t slices)
      : ring_(std::max<std::size_t>(slices, 1)),
        width_(std::max<core::duration::rep>(window.count() / static_cast<core::duration::rep>(ring_.size()), 1)) {}

  void add(core::time_point now, std::size_t counter, std::uint64_t n = 1) noexcept {
    advance(now);
    ring_[slot(head_)][counter] += n;
    totals_[counter] += n;
  }

  void add(core::time_point now, const counts& n) noexcept {
    advance(now);
    auto& c = ring_[slot(head_)];
    for (std::size_t k = 0; k < Counters; ++k) {
      c[k] += n[k];
      totals_[k] += n[k];
    }
  }

  // The window's totals as of `now`.
  const counts& totals(core::time_point now) noexcept {
    advance(now);
    return totals_;
  }

  void clear() noexcept {
    std::fill(ring_.begin(), ring_.end(), counts{});
    totals_ = {};
  }

  core::duration slice_width() const noexcept { return core::duration{width_}; }

 private:
  static constexpr std::int64_t none = std::numeric_limits<std::int64_t>::min();

  // Drops the slices that fell out of the window. A clock that stands still or steps back keeps
  // counting into the newest slice (the window never slides backwards, so nothing is counted
  // twice); a jump of any length costs at most one pass over the ring.
  void advance(core::time_point now) noexcept {
    const std::int64_t index = slice_index(now);
    if (head_ == none) {
      head_ = index;
      return;
    }
    if (index <= head_) return;
    const auto size = static_cast<std::int64_t>(ring_.size());
    if (index - head_ >= size) {
      clear();
    } else {
      for (std::int64_t i = head_ + 1; i <= index; ++i) {
        auto& c = ring_[slot(i)];
        for (std::size_t k = 0; k < Counters; ++k) totals_[k] -= c[k];
        c = {};
      }
    }
    head_ = index;
  }

  // floor(t / width), also for times before the clock's epoch.
  std::int64_t slice_index(core::time_point t) const noexcept {
    const auto ns = t.time_since_epoch().count();
    const auto q = ns / width_;
    return (ns % width_ < 0) ? q - 1 : q;
  }

  std::size_t slot(std::int64_t index) const noexcept {
    const auto size = static_cast<std::int64_t>(ring_.size());
    const auto r = index % size;
    return static_cast<std::size_t>(r < 0 ? r + size : r);
  }

  std::vector<counts> ring_;
  core::duration::rep width_;
  counts totals_{};
  std::int64_t head_ = none;  // slice index of the newest slice
};

}  // namespace planproof::resilience::detail
