#include "resilience/retry_budget.hpp"

#include <algorithm>

namespace planproof::resilience {

namespace {

// ratio * requests is computed in floating point: 0.1 * 30 must allow the 3rd retry, not miss it by
// an ulp.
constexpr double slack = 1e-9;

}  // namespace

retry_budget::retry_budget(const plan::retry_budget_config& config)
    : config_(config),
      reserve_(std::max(config.min_per_second, 0.0) * core::to_seconds(std::max(config.ttl, core::duration::zero()))),
      window_(config.ttl, slices) {}

void retry_budget::on_request(core::time_point now) noexcept { window_.add(now, requests); }

double retry_budget::balance(core::time_point now) noexcept {
  const auto& t = window_.totals(now);
  return std::max(config_.ratio, 0.0) * static_cast<double>(t[requests]) + reserve_ -
         static_cast<double>(t[retries]);
}

bool retry_budget::try_retry(core::time_point now) noexcept {
  if (balance(now) + slack < 1) return false;
  window_.add(now, retries);
  return true;
}

retry_budget::window_counts retry_budget::window(core::time_point now) noexcept {
  const auto& t = window_.totals(now);
  return {t[requests], t[retries]};
}

}  // namespace planproof::resilience
