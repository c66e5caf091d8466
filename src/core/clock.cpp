#include "core/clock.hpp"

#include <cmath>

namespace planproof::core {

duration time_scale::to_real(duration plan) const noexcept {
  if (factor == 1.0) return plan;
  return duration{static_cast<duration::rep>(std::ceil(static_cast<double>(plan.count()) * factor))};
}

duration time_scale::to_plan(duration real) const noexcept {
  if (factor == 1.0) return real;
  return duration{static_cast<duration::rep>(std::floor(static_cast<double>(real.count()) / factor))};
}

plan_clock::plan_clock(time_scale scale) noexcept
    : scale_(scale),
      real_origin_(std::chrono::steady_clock::now()),
      origin_(std::chrono::duration_cast<duration>(real_origin_.time_since_epoch())) {}

time_point plan_clock::now() const noexcept {
  const auto real = std::chrono::steady_clock::now() - real_origin_;
  return origin_ + scale_.to_plan(std::chrono::duration_cast<duration>(real));
}

}  // namespace planproof::core
