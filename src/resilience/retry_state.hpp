// The retry decision for one logical request, sans I/O: the driver asks before each attempt how
// long it may take, reports what the attempt produced, and gets back what to do next. The live
// client and the simulator drive the same object, so what one proves the other does.
#pragma once

#include <optional>

#include "core/clock.hpp"
#include "core/events.hpp"
#include "plan/model.hpp"
#include "resilience/backoff.hpp"
#include "resilience/retry_classifier.hpp"

namespace planproof::resilience {

// Immutable per run: the plan's retry settings for one endpoint.
class retry_policy {
 public:
  retry_policy(const plan::retry_config& config, const plan::endpoint& endpoint);

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
  enum class action { succeed, retry, give_up };
  action what = action::give_up;
  core::duration delay{};  // retry: wait this long (plan time) before the next attempt
  core::end_reason reason = core::end_reason::succeeded;  // succeed / give_up
};

class retry_state {
 public:
  retry_state(const retry_policy& policy, const core::clock& clock, random_source& rng) noexcept
      : policy_(&policy), clock_(&clock), rng_(&rng) {}

  // Starts the total deadline (the first begin_attempt does it when this was not called): work
  // before the first attempt, such as waiting for an access token, counts against it.
  void start();
  // Before each attempt: its timeouts, bounded by what is left of the total deadline.
  // nullopt when the deadline has already passed (the request ends with deadline_exceeded).
  std::optional<attempt_budget> begin_attempt();
  // What is left of the total deadline now (never negative).
  core::duration remaining() const noexcept;
  // After each attempt.
  retry_decision on_result(const attempt_result& result);

  int attempts() const noexcept { return attempts_; }

 private:
  const retry_policy* policy_;
  const core::clock* clock_;
  random_source* rng_;
  int attempts_ = 0;
  core::time_point deadline_{};
  bool started_ = false;
};

}  // namespace planproof::resilience
