// Backoff between attempts: the ceiling grows constantly, linearly or exponentially up to a cap, and
// jitter (none, full, equal, decorrelated; AWS's "Exponential Backoff and Jitter") draws the wait.
#pragma once

#include "core/units.hpp"
#include "plan/model.hpp"
#include "resilience/random.hpp"

namespace planproof::resilience {

class backoff_policy {
 public:
  explicit backoff_policy(plan::backoff_config config) noexcept : config_(config) {}

  // Upper bound of the wait before retry number `retry` (1 = the wait after the first attempt), by the
  // strategy alone. Saturates at the cap for any retry count; never negative.
  core::duration ceiling(int retry) const noexcept;
  // The wait itself. `previous` is the wait this policy drew before the previous retry (zero before
  // the first): only decorrelated jitter reads it, so the caller keeps it (retry_state does).
  // Always in [0, max] (with a base above max, max); one draw from `rng` unless jitter is none.
  core::duration next(int retry, core::duration previous, random_source& rng) const;

  const plan::backoff_config& config() const noexcept { return config_; }

 private:
  plan::backoff_config config_;
};

}  // namespace planproof::resilience
