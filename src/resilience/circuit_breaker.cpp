#include "resilience/circuit_breaker.hpp"

#include <algorithm>
#include <chrono>
#include <climits>

namespace planproof::resilience {

namespace {

constexpr std::uint8_t failed_bit = 1;
constexpr std::uint8_t slow_bit = 2;

// Rates from counts: 3 of 5 calls must reach a 60% threshold although 0.6 is not exact in binary.
constexpr double slack = 1e-9;

bool reaches(std::uint32_t part, std::uint32_t whole, double threshold) noexcept {
  return whole > 0 && static_cast<double>(part) + slack >= threshold * static_cast<double>(whole);
}

// A second per slice as Resilience4j's time window has, finer for windows under 10 s (at least 10
// slices), coarser beyond an hour (at most 3600 slices, so a day-long window stays 86 KB).
std::size_t time_slices(core::duration window) noexcept {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(window).count();
  return static_cast<std::size_t>(std::clamp<std::int64_t>(seconds, 10, 3600));
}

}  // namespace

std::string_view to_string(breaker_state s) noexcept {
  switch (s) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "closed";
}

std::string_view to_string(transition_reason r) noexcept {
  switch (r) {
    case transition_reason::failure_rate: return "failure_rate";
    case transition_reason::slow_call_rate: return "slow_call_rate";
    case transition_reason::consecutive_failures: return "consecutive_failures";
    case transition_reason::failures_per_interval: return "failures_per_interval";
    case transition_reason::open_for_elapsed: return "open_for_elapsed";
    case transition_reason::trial_calls_passed: return "trial_calls_passed";
    case transition_reason::trial_calls_failed: return "trial_calls_failed";
    case transition_reason::trial_calls_timed_out: return "trial_calls_timed_out";
  }
  return "failure_rate";
}

circuit_breaker::circuit_breaker(const plan::circuit_breaker_config& config, breaker_observer* observer)
    : config_(config), observer_(observer) {
  // Sizes below 1 would make a window that can never hold a call; the loader rejects them, a
  // hand-built config gets the smallest working value instead of a division by zero.
  config_.size = std::max(config_.size, 1);
  // As in Resilience4j, a count window smaller than min_calls opens once it is full (the loader
  // rejects such plans; a hand-built config gets the working reading).
  config_.min_calls = std::clamp(config_.min_calls, 1,
                                 config_.window == plan::breaker_window::count ? config_.size : INT_MAX);
  config_.half_open_calls = std::max(config_.half_open_calls, 1);
  config_.consecutive_failures = std::max(config_.consecutive_failures, 1);
  config_.failures_per_interval.count = std::max(config_.failures_per_interval.count, 1);
  switch (config_.mode) {
    case plan::breaker_mode::failure_rate:
      if (config_.window == plan::breaker_window::count) {
        ring_.assign(static_cast<std::size_t>(config_.size), 0);
      } else {
        timed_.emplace(config_.time_size, time_slices(config_.time_size));
      }
      break;
    case plan::breaker_mode::consecutive_failures: break;
    case plan::breaker_mode::failures_per_interval:
      failure_times_.assign(static_cast<std::size_t>(config_.failures_per_interval.count), core::time_point{});
      break;
  }
}

void circuit_breaker::update(core::time_point now) noexcept {
  if (state_ == breaker_state::half_open && trial_out_ > 0 && now - half_open_since_ >= config_.half_open_max_wait) {
    transition(breaker_state::open, now, transition_reason::trial_calls_timed_out, trial_counts());
  }
}

breaker_permit circuit_breaker::try_acquire(core::time_point now) noexcept {
  update(now);
  breaker_permit p;
  if (state_ == breaker_state::open) {
    const auto waited = std::max(now - opened_at_, core::duration::zero());  // a clock stepping back waits no less
    if (waited < config_.open_for) {
      p.retry_in_ = config_.open_for - waited;
      return p;
    }
    transition(breaker_state::half_open, now, transition_reason::open_for_elapsed, {});
  }
  if (state_ == breaker_state::half_open) {
    if (trial_out_ + trial_calls_ >= static_cast<std::uint32_t>(config_.half_open_calls)) {
      const auto in_half_open = std::max(now - half_open_since_, core::duration::zero());
      p.retry_in_ = std::max(core::duration::zero(), config_.half_open_max_wait - in_half_open) + config_.open_for;
      return p;
    }
    ++trial_out_;
    p.trial_ = true;
  }
  p.allowed_ = true;
  p.generation_ = generation_;
  return p;
}

bool circuit_breaker::on_success(breaker_permit& p, core::time_point now, core::duration latency) noexcept {
  return record(p, now, latency, outcome::success);
}

bool circuit_breaker::on_failure(breaker_permit& p, core::time_point now, core::duration latency) noexcept {
  return record(p, now, latency, outcome::failure);
}

void circuit_breaker::on_ignored(breaker_permit& p, core::time_point now) noexcept {
  update(now);
  if (!p.allowed_) return;
  p.allowed_ = false;
  if (p.generation_ == generation_ && state_ == breaker_state::half_open && p.trial_) --trial_out_;
}

bool circuit_breaker::record(breaker_permit& p, core::time_point now, core::duration latency, outcome o) noexcept {
  update(now);
  if (!p.allowed_) return false;
  p.allowed_ = false;
  if (p.generation_ != generation_) {
    ++stale_;
    return false;
  }
  const bool failed = o == outcome::failure;
  const bool is_slow = config_.mode == plan::breaker_mode::failure_rate && config_.slow_call &&
                       latency > config_.slow_call->threshold;
  if (state_ == breaker_state::closed) {
    record_closed(now, failed, is_slow);
  } else if (state_ == breaker_state::half_open && p.trial_) {
    --trial_out_;
    record_trial(now, failed, is_slow);
  }
  return true;
}

void circuit_breaker::record_closed(core::time_point now, bool failed, bool is_slow) noexcept {
  switch (config_.mode) {
    case plan::breaker_mode::consecutive_failures:
      streak_ = failed ? streak_ + 1 : 0;
      if (streak_ >= static_cast<std::uint32_t>(config_.consecutive_failures)) {
        transition(breaker_state::open, now, transition_reason::consecutive_failures, {streak_, streak_, 0, 0});
      }
      return;
    case plan::breaker_mode::failures_per_interval: {
      if (!failed) return;
      // A ring of the last `count` failure times: when it is full, the slot about to be overwritten
      // holds the oldest of the last `count` failures.
      const auto n = failure_times_.size();
      failure_times_[failure_next_] = now;
      failure_next_ = (failure_next_ + 1) % n;
      failure_filled_ = std::min(failure_filled_ + 1, n);
      if (failure_filled_ == n && now - failure_times_[failure_next_] < config_.failures_per_interval.interval) {
        const auto c = static_cast<std::uint32_t>(n);
        transition(breaker_state::open, now, transition_reason::failures_per_interval, {c, c, 0, 0});
      }
      return;
    }
    case plan::breaker_mode::failure_rate: break;
  }
  if (timed_) {
    timed_->add(now, {1, failed ? 1u : 0u, is_slow ? 1u : 0u});
  } else {
    auto& slot = ring_[ring_next_];
    if (ring_calls_ == ring_.size()) {
      ring_failures_ -= (slot & failed_bit) != 0;
      ring_slow_ -= (slot & slow_bit) != 0;
    } else {
      ++ring_calls_;
    }
    slot = static_cast<std::uint8_t>((failed ? failed_bit : 0) | (is_slow ? slow_bit : 0));
    ring_failures_ += failed;
    ring_slow_ += is_slow;
    ring_next_ = ring_next_ + 1 == ring_.size() ? 0 : ring_next_ + 1;
  }
  const auto c = closed_counts(now);
  if (c.calls < static_cast<std::uint32_t>(config_.min_calls)) return;
  if (reaches(c.failures, c.calls, config_.failure_rate)) {
    transition(breaker_state::open, now, transition_reason::failure_rate, c);
  } else if (config_.slow_call && reaches(c.slow, c.calls, config_.slow_call->rate)) {
    transition(breaker_state::open, now, transition_reason::slow_call_rate, c);
  }
}

void circuit_breaker::record_trial(core::time_point now, bool failed, bool is_slow) noexcept {
  ++trial_calls_;
  trial_failures_ += failed;
  trial_slow_ += is_slow;
  const auto planned = static_cast<std::uint32_t>(config_.half_open_calls);
  if (config_.mode != plan::breaker_mode::failure_rate) {
    if (failed) {
      transition(breaker_state::open, now, transition_reason::trial_calls_failed, trial_counts());
    } else if (trial_calls_ == planned) {
      transition(breaker_state::closed, now, transition_reason::trial_calls_passed, trial_counts());
    }
    return;
  }
  // Rates over all the trial calls: once the failures (or slow calls) reported so far reach a
  // threshold of the whole, the outstanding ones cannot bring the rate back under it.
  const bool too_many_failures = reaches(trial_failures_, planned, config_.failure_rate);
  const bool too_slow = config_.slow_call && reaches(trial_slow_, planned, config_.slow_call->rate);
  if (too_many_failures || too_slow) {
    transition(breaker_state::open, now, transition_reason::trial_calls_failed, trial_counts());
  } else if (trial_calls_ == planned) {
    transition(breaker_state::closed, now, transition_reason::trial_calls_passed, trial_counts());
  }
}

void circuit_breaker::transition(breaker_state to, core::time_point now, transition_reason why,
                                 const breaker_counts& c) noexcept {
  const auto from = state_;
  state_ = to;
  ++generation_;  // every permit given before now is stale
  switch (to) {
    case breaker_state::open: opened_at_ = now; break;
    case breaker_state::half_open:
      half_open_since_ = now;
      trial_out_ = trial_calls_ = trial_failures_ = trial_slow_ = 0;
      break;
    case breaker_state::closed: break;
  }
  // A breaker that closes (or opens) starts from an empty window, as Resilience4j's does.
  reset_closed_window();
  if (observer_ != nullptr) observer_->on_transition({from, to, now, why, c});
}

void circuit_breaker::reset_closed_window() noexcept {
  std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
  ring_next_ = 0;
  ring_calls_ = ring_failures_ = ring_slow_ = 0;
  if (timed_) timed_->clear();
  streak_ = 0;
  failure_next_ = failure_filled_ = 0;
}

breaker_counts circuit_breaker::closed_counts(core::time_point now) noexcept {
  if (timed_) {
    const auto& t = timed_->totals(now);
    return {static_cast<std::uint32_t>(t[calls]), static_cast<std::uint32_t>(t[failures]),
            static_cast<std::uint32_t>(t[slow]), 0};
  }
  switch (config_.mode) {
    case plan::breaker_mode::consecutive_failures: return {streak_, streak_, 0, 0};
    case plan::breaker_mode::failures_per_interval: {
      std::uint32_t recent = 0;
      for (std::size_t i = 0; i < failure_filled_; ++i) {
        recent += now - failure_times_[i] < config_.failures_per_interval.interval;
      }
      return {recent, recent, 0, 0};
    }
    case plan::breaker_mode::failure_rate: break;
  }
  return {ring_calls_, ring_failures_, ring_slow_, 0};
}

breaker_counts circuit_breaker::trial_counts() const noexcept {
  return {trial_calls_, trial_failures_, trial_slow_, trial_out_};
}

breaker_counts circuit_breaker::counts(core::time_point now) noexcept {
  update(now);
  return state_ == breaker_state::half_open ? trial_counts() : closed_counts(now);
}

breaker_outcome breaker_outcome_for(const attempt_result& r, attempt_class c) noexcept {
  // 429 says "slow down", not "broken": Retry-After and the retry budget answer it. A breaker
  // opened by rate limiting would refuse calls the upstream is about to accept again.
  if (r.error == core::error_class::none && r.status == 429) return breaker_outcome::ignored;
  switch (c) {
    case attempt_class::success: return breaker_outcome::success;
    case attempt_class::refresh_auth: return breaker_outcome::ignored;
    case attempt_class::retryable: return breaker_outcome::failure;
    case attempt_class::fatal: break;
  }
  if (r.error != core::error_class::none || r.status >= 500 || r.status == 0) return breaker_outcome::failure;
  return breaker_outcome::ignored;  // a 4xx (or other status) the plan calls final: the caller's error
}

}  // namespace planproof::resilience
