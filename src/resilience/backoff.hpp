// Backoff between attempts: exponential or constant, capped, with optional full jitter
// (a uniform draw in [0, ceiling], as in AWS's "Exponential Backoff and Jitter").
#pragma once

#include "core/units.hpp"
#include "plan/model.hpp"
#include "resilience/random.hpp"

namespace planproof::resilience {

class backoff_policy {
 public:
  explicit backoff_policy(plan::backoff_config config) noexcept : config_(config) {}

  // Upper bound of the wait before retry number `retry` (1 = the wait after the first attempt).
  core::duration ceiling(int retry) const noexcept;
  // The wait itself: the ceiling, or a uniform draw below it with full jitter.
  core::duration next(int retry, random_source& rng) const;

  const plan::backoff_config& config() const noexcept { return config_; }

 private:
  plan::backoff_config config_;
};

}  // namespace planproof::resilience
