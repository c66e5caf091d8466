// The retry decision for one logical request, sans I/O: the driver asks before each attempt how
// long it may take, reports what the attempt produced, and gets back what to do next. The live
// client and the simulator drive the same object, so what one proves the other does.
#pragma once

#include <optional>

#include "core/clock.hpp"
#include "core/events.hpp"
#include "plan/model.hpp"
#include "resilience/backoff.hpp"
#include "resilience/retry_budget.hpp"
#include "resilience/retry_classifier.hpp"

namespace planproof::resilience {

// Immutable per run: the plan's retry settings for one endpoint.
class retry_policy {
 public:
  // `can_refresh_credentials`: whether a 401 can be answered with a new credential (see
  // retry_classifier and refreshable()); the driver must then be able to refresh it.
  retry_policy(const plan::retry_config& config, const plan::endpoint& endpoint, bool can_refresh_credentials = false);

  const plan::retry_config& config() const noexcept { return config_; }
  const backoff_policy& backoff() const noexcept { return backoff_; }
  const retry_classifier& classifier() const noexcept { return classifier_; }

 private:
  plan::retry_config config_;
  backoff_policy backoff_;
  retry_classifier classifier_;
};

struct attempt_budget {
  int attempt = 0;  // 1-based
  core::duration connect_timeout{};
  core::duration read_timeout{};
};

struct retry_decision {
  enum class action {
    succeed,
    retry,    // wait `delay`, then the next attempt
    give_up,  // `reason` says why
    // Refresh the credential, then send the next attempt at once (delay is zero).
    refresh_auth_then_retry,
  };
  action what = action::give_up;
  core::duration delay{};  // retry: wait this long (plan time) before the next attempt
  core::end_reason reason = core::end_reason::succeeded;  // succeed / give_up
};

// Attempts, backoff and credential refresh of one logical request.
//
// The credential refresh (a 401 with a refreshable credential) happens at most once per logical
// request and is an attempt like any other: it counts against max_attempts, because max_attempts
// bounds what one logical request may send to the upstream, and the refreshed attempt is sent. It
// is not a retry in the backoff's or the budget's sense, as with the AWS SDKs' credential refresh
// and a Polly retry-on-401 handler placed outside the retry policy: no wait (the cause is known and
// fixed), the next backoff is drawn as if it had not happened, and the retry budget, which guards an
// overloaded upstream against retry storms, is not charged for a request the upstream refused for
// its credential.
class retry_state {
 public:
  // `budget`, when given, is shared by the client's logical requests: this request deposits on its
  // first attempt and withdraws for each retry; a refused withdrawal ends the request.
  retry_state(const retry_policy& policy, const core::clock& clock, random_source& rng,
              retry_budget* budget = nullptr) noexcept
      : policy_(&policy), clock_(&clock), rng_(&rng), budget_(budget) {}

  // Starts the total deadline (the first begin_attempt does it when this was not called): work
  // before the first attempt, such as waiting for an access token, counts against it.
  void start();
  // Before each attempt: its timeouts, bounded by what is left of the total deadline.
  // nullopt when the deadline has already passed (the request ends with deadline_exceeded).
  std::optional<attempt_budget> begin_attempt();
  // What is left of the total deadline now (never negative).
  core::duration remaining() const noexcept;
  // After each attempt. In order: success; fatal (fatal_status / fatal_error); refresh_auth (once;
  // max_attempts and the deadline still apply); then a retryable result ends the request when
  // attempts are exhausted, when Retry-After exceeds the plan's cap, when the wait would pass the
  // deadline or when the budget refuses, and is retried after max(backoff, Retry-After) otherwise.
  retry_decision on_result(const attempt_result& result);

  int attempts() const noexcept { return attempts_; }
  bool auth_refreshed() const noexcept { return auth_refreshed_; }
  // The last backoff drawn (before any Retry-After stretched it): decorrelated jitter grows from it,
  // so an upstream's long Retry-After does not inflate the waits after it.
  core::duration previous_backoff() const noexcept { return previous_backoff_; }

 private:
  const retry_policy* policy_;
  const core::clock* clock_;
  random_source* rng_;
  retry_budget* budget_;
  int attempts_ = 0;
  int backoffs_ = 0;  // retries that waited a backoff (the refresh attempt does not)
  bool auth_refreshed_ = false;
  core::duration previous_backoff_{};
  core::time_point deadline_{};
  bool started_ = false;
};

}  // namespace planproof::resilience
