#include "resilience/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace planproof::resilience {

core::duration backoff_policy::ceiling(int retry) const noexcept {
  if (config_.strategy == plan::backoff_strategy::constant || retry <= 1) {
    return std::min(config_.base, config_.max);
  }
  if (config_.base <= core::duration::zero()) return core::duration::zero();
  // base * multiplier^(retry-1), in floating point so large retry counts saturate instead of overflowing.
  const double scaled =
      static_cast<double>(config_.base.count()) * std::pow(config_.multiplier, std::min(retry - 1, 1000));
  if (!(scaled < static_cast<double>(config_.max.count()))) return config_.max;
  return core::duration{static_cast<core::duration::rep>(scaled)};
}

core::duration backoff_policy::next(int retry, random_source& rng) const {
  const auto cap = ceiling(retry);
  if (config_.jitter == plan::jitter_kind::none) return cap;
  const double draw = rng.next_unit();
  return core::duration{static_cast<core::duration::rep>(static_cast<double>(cap.count()) * draw)};
}

}  // namespace planproof::resilience
