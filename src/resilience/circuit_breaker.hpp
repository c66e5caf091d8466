// A circuit breaker with Resilience4j's states (closed, open, half-open) and the plan's three ways
// to open it, sans I/O: the driver asks for a permit before each call and reports how the call
// ended; time comes in as `now` and every state change goes to an observer as a transition.
//
// What counts as a failure is the driver's call; the recommendation (breaker_outcome_for) follows
// the retry classification: a retryable or fatal status from the upstream's side (429, 5xx) and
// every error class are failures; a success status is a success; other 4xx are the caller's error
// and are reported with on_ignored, as is a 401 answered by a credential refresh. A call the
// caller abandons (cancelled, or never sent) also gives its permit back with on_ignored.
//
// Not thread-safe: one breaker per endpoint, driven from one strand (the Asio client's executor,
// or the simulator's single thread).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "plan/model.hpp"
#include "resilience/retry_classifier.hpp"
#include "resilience/time_buckets.hpp"

namespace planproof::resilience {

enum class breaker_state : std::uint8_t { closed, open, half_open };
std::string_view to_string(breaker_state s) noexcept;

enum class transition_reason : std::uint8_t {
  failure_rate,           // closed -> open: the window's failure rate reached failure_rate
  slow_call_rate,         // closed -> open: the window's slow-call rate reached slow_call.rate
  consecutive_failures,   // closed -> open: that many failures in a row
  failures_per_interval,  // closed -> open: that many failures within the interval
  open_for_elapsed,       // open -> half_open: a call arrived after open_for
  trial_calls_passed,     // half_open -> closed
  trial_calls_failed,     // half_open -> open
  trial_calls_timed_out,  // half_open -> open: trial calls still out after half_open_max_wait
};
std::string_view to_string(transition_reason r) noexcept;

// The counts a decision was taken on, for evidence: the closed window's (failure-rate mode), the
// failures that opened it (the other modes), or the trial calls' (from half-open).
struct breaker_counts {
  std::uint32_t calls = 0;     // results the decision saw
  std::uint32_t failures = 0;
  std::uint32_t slow = 0;
  std::uint32_t pending = 0;   // half-open: trial calls given out and not reported back
  double failure_rate() const noexcept { return calls == 0 ? 0.0 : double(failures) / double(calls); }
  double slow_rate() const noexcept { return calls == 0 ? 0.0 : double(slow) / double(calls); }
};

struct breaker_transition {
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  core::time_point at{};
  transition_reason reason = transition_reason::failure_rate;
  breaker_counts counts;
};

// Receives every transition, synchronously, from inside the breaker call that caused it; it must
// not call back into the breaker.
class breaker_observer {
 public:
  virtual ~breaker_observer() = default;
  virtual void on_transition(const breaker_transition& t) = 0;
};

// The answer to try_acquire. An allowed permit is reported back exactly once (on_success,
// on_failure or on_ignored), which spends it; reporting a spent or rejected permit does nothing.
class breaker_permit {
 public:
  bool allowed() const noexcept { return allowed_; }
  explicit operator bool() const noexcept { return allowed_; }
  // Rejected: how long before a call can be let through if nothing else happens (open: until
  // half-open; half-open with every trial permit out: until they time out, plus open_for).
  core::duration retry_in() const noexcept { return retry_in_; }
  bool trial() const noexcept { return trial_; }  // a half-open trial call

 private:
  friend class circuit_breaker;
  std::uint64_t generation_ = 0;  // the breaker state it was given in; results from another are stale
  core::duration retry_in_{};
  bool allowed_ = false;
  bool trial_ = false;
};

class circuit_breaker {
 public:
  // Sizes its windows once, here: a count window of `size` calls; a time window of 10 to 3600
  // slices (a second each for windows from 10 s to an hour, finer below, coarser above); `count`
  // failure times. No call after this allocates.
  explicit circuit_breaker(const plan::circuit_breaker_config& config, breaker_observer* observer = nullptr);

  // Closed: allowed. Open: rejected until open_for has passed since it opened; the first call after
  // that turns it half-open. Half-open: allowed while fewer than half_open_calls trial calls are out
  // or reported; the rest are rejected, so two callers racing for the last permit get one permit.
  breaker_permit try_acquire(core::time_point now) noexcept;

  // Report a permitted call. `latency` decides slow calls (longer than slow_call.threshold).
  // Returns whether the result counted: a result whose permit was given in an earlier state (the
  // breaker opened, or went half-open, while the call was out) is stale and only counted in
  // stale_results(): it says nothing about the state the breaker is in now.
  //
  // Closed: the result enters the window, and the mode decides whether the breaker opens (failure
  // rate and slow-call rate are compared with >=, once min_calls results are in the window).
  // Half-open: the trial calls decide: failure-rate mode closes when, all trial calls reported,
  // both rates are below their thresholds, and reopens as soon as the reported failures (or slow
  // calls) alone reach a threshold; the other modes close when every trial call succeeded and
  // reopen at the first failure.
  bool on_success(breaker_permit& p, core::time_point now, core::duration latency = {}) noexcept;
  bool on_failure(breaker_permit& p, core::time_point now, core::duration latency = {}) noexcept;
  // Gives the permit back without a result: a caller error, a cancelled call. A trial permit
  // returns to the pool for another caller.
  void on_ignored(breaker_permit& p, core::time_point now) noexcept;

  // Applies what time alone changes: a half-open breaker with trial calls still out after
  // half_open_max_wait (counted from going half-open) opens again. (Open -> half-open waits for a
  // caller, as in Resilience4j without automatic transition.) Every call above starts with this.
  void update(core::time_point now) noexcept;

  breaker_state state() const noexcept { return state_; }
  // The closed window's counts now (failure-rate mode), or the trial calls' (half-open).
  breaker_counts counts(core::time_point now) noexcept;
  std::uint64_t stale_results() const noexcept { return stale_; }
  const plan::circuit_breaker_config& config() const noexcept { return config_; }

 private:
  enum class outcome : std::uint8_t { success, failure };
  enum counter : std::size_t { calls, failures, slow };

  bool record(breaker_permit& p, core::time_point now, core::duration latency, outcome o) noexcept;
  void record_closed(core::time_point now, bool failed, bool is_slow) noexcept;
  void record_trial(core::time_point now, bool failed, bool is_slow) noexcept;
  void transition(breaker_state to, core::time_point now, transition_reason why, const breaker_counts& c) noexcept;
  void reset_closed_window() noexcept;
  breaker_counts closed_counts(core::time_point now) noexcept;
  breaker_counts trial_counts() const noexcept;

  plan::circuit_breaker_config config_;
  breaker_observer* observer_;
  breaker_state state_ = breaker_state::closed;
  std::uint64_t generation_ = 1;
  std::uint64_t stale_ = 0;
  core::time_point opened_at_{};
  core::time_point half_open_since_{};

  // Closed, failure-rate mode over a count window: the last `size` results as bits (1 failure,
  // 2 slow) in a ring, with running totals.
  std::vector<std::uint8_t> ring_;
  std::size_t ring_next_ = 0;
  std::uint32_t ring_calls_ = 0, ring_failures_ = 0, ring_slow_ = 0;
  // ...over a time window.
  std::optional<detail::time_buckets<3>> timed_;
  // Consecutive-failures mode.
  std::uint32_t streak_ = 0;
  // Failures-per-interval mode: the times of the last `count` failures, oldest at failure_next_.
  std::vector<core::time_point> failure_times_;
  std::size_t failure_next_ = 0;
  std::size_t failure_filled_ = 0;

  // Half-open.
  std::uint32_t trial_out_ = 0;  // permits given and not yet reported
  std::uint32_t trial_calls_ = 0, trial_failures_ = 0, trial_slow_ = 0;
};

// The recommended breaker report for an attempt, from its retry classification (see the top of
// this header).
enum class breaker_outcome : std::uint8_t { success, failure, ignored };
breaker_outcome breaker_outcome_for(const attempt_result& r, attempt_class c) noexcept;

}  // namespace planproof::resilience
