#include "resilience/retry_state.hpp"

#include <algorithm>

namespace planproof::resilience {

retry_policy::retry_policy(const plan::retry_config& config, const plan::endpoint& endpoint,
                           bool can_refresh_credentials)
    : config_(config),
      backoff_(config.backoff),
      classifier_(endpoint.statuses.success, config.retry_on, config.fatal_on, can_refresh_credentials) {}

core::duration retry_state::remaining() const noexcept {
  return std::max(core::duration::zero(), deadline_ - clock_->now());
}

void retry_state::start() {
  if (started_) return;
  started_ = true;
  const auto now = clock_->now();
  deadline_ = now + policy_->config().timeouts.total;
  if (budget_ != nullptr) budget_->on_request(now);
}

std::optional<attempt_budget> retry_state::begin_attempt() {
  const auto& t = policy_->config().timeouts;
  start();
  const auto left = remaining();
  if (left <= core::duration::zero()) return std::nullopt;
  ++attempts_;
  return attempt_budget{attempts_, std::min(t.connect, left), std::min(t.read, left)};
}

retry_decision retry_state::on_result(const attempt_result& result) {
  using action = retry_decision::action;
  const auto& cfg = policy_->config();
  switch (policy_->classifier().classify(result, auth_refreshed_)) {
    case attempt_class::success: return {action::succeed, {}, core::end_reason::succeeded};
    case attempt_class::fatal:
      return {action::give_up, {},
              result.error == core::error_class::none ? core::end_reason::fatal_status
                                                      : core::end_reason::fatal_error};
    case attempt_class::refresh_auth:
      auth_refreshed_ = true;
      if (attempts_ >= cfg.max_attempts) return {action::give_up, {}, core::end_reason::attempts_exhausted};
      if (clock_->now() >= deadline_) return {action::give_up, {}, core::end_reason::deadline_exceeded};
      return {action::refresh_auth_then_retry, {}, core::end_reason::succeeded};
    case attempt_class::retryable: break;
  }
  if (attempts_ >= cfg.max_attempts) return {action::give_up, {}, core::end_reason::attempts_exhausted};

  const auto backoff = policy_->backoff().next(backoffs_ + 1, previous_backoff_, *rng_);
  auto delay = backoff;
  if (cfg.retry_after.honor && result.retry_after) {
    // Retrying before the upstream's Retry-After is exactly what it asked us not to do; when the
    // wait is longer than the plan accepts, ending the request is the honest outcome.
    if (*result.retry_after > cfg.retry_after.cap) {
      return {action::give_up, {}, core::end_reason::retry_after_exceeds_cap};
    }
    delay = std::max(delay, *result.retry_after);
  }
  const auto now = clock_->now();
  if (delay >= deadline_ - now) return {action::give_up, {}, core::end_reason::deadline_exceeded};
  // Last, so that a withdrawal is only made for a retry that will happen.
  if (budget_ != nullptr && !budget_->try_retry(now)) {
    return {action::give_up, {}, core::end_reason::retry_budget_exhausted};
  }
  ++backoffs_;
  previous_backoff_ = backoff;
  return {action::retry, delay, core::end_reason::succeeded};
}

}  // namespace planproof::resilience
