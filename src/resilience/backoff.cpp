#include "resilience/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace planproof::resilience {

namespace {

// Arithmetic is in double so that any retry count or multiplier saturates instead of overflowing;
// this brings it back, clamped to [0, hi] (NaN, from 0 * inf, is 0).
core::duration clamp_to(double nanoseconds, core::duration hi) noexcept {
  if (!(nanoseconds > 0)) return core::duration::zero();
  if (!(nanoseconds < static_cast<double>(hi.count()))) return hi;
  return core::duration{static_cast<core::duration::rep>(nanoseconds)};
}

double count_of(core::duration d) noexcept { return static_cast<double>(std::max(d, core::duration::zero()).count()); }

}  // namespace

core::duration backoff_policy::ceiling(int retry) const noexcept {
  const auto cap = std::max(config_.max, core::duration::zero());
  const double base = count_of(config_.base);
  const double n = std::max(retry, 1);
  switch (config_.strategy) {
    case plan::backoff_strategy::constant: return clamp_to(base, cap);
    case plan::backoff_strategy::linear: return clamp_to(base * n, cap);
    case plan::backoff_strategy::exponential: break;
  }
  return clamp_to(base * std::pow(config_.multiplier, n - 1), cap);
}

core::duration backoff_policy::next(int retry, core::duration previous, random_source& rng) const {
  switch (config_.jitter) {
    case plan::jitter_kind::none: return ceiling(retry);
    case plan::jitter_kind::full: {
      const auto t = ceiling(retry);
      return clamp_to(count_of(t) * rng.next_unit(), t);
    }
    case plan::jitter_kind::equal: {
      // Half the ceiling is guaranteed, so a wait never collapses to almost nothing.
      const auto t = ceiling(retry);
      const double half = count_of(t) / 2;
      return clamp_to(half + half * rng.next_unit(), t);
    }
    case plan::jitter_kind::decorrelated: break;
  }
  // min(cap, uniform(base, 3 * previous)): the wait grows from the last one drawn rather than from
  // the retry number, so concurrent clients drift apart. Before the first retry previous is base.
  const double base = count_of(config_.base);
  const double hi = 3 * std::max(count_of(previous), base);
  return clamp_to(base + (hi - base) * rng.next_unit(), std::max(config_.max, core::duration::zero()));
}

}  // namespace planproof::resilience
