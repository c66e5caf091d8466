// A retry budget (Finagle's RetryBudget): retries may add at most `ratio` of the logical requests
// of the last `ttl`, plus a floor of min_per_second * ttl so quiet periods can still retry. It stops
// a struggling upstream from seeing every request max_attempts times, whatever each request's
// retry policy says. Shared by every logical request of a client; time comes in as `now`.
#pragma once

#include <cstdint>

#include "core/clock.hpp"
#include "plan/model.hpp"
#include "resilience/time_buckets.hpp"

namespace planproof::resilience {

class retry_budget {
 public:
  // The window slides in tenths of `ttl` (as Finagle's): a deposit counts for between 0.9 and 1 ttl.
  static constexpr std::size_t slices = 10;

  explicit retry_budget(const plan::retry_budget_config& config);

  // A logical request's first attempt: deposits.
  void on_request(core::time_point now) noexcept;
  // Withdraws one retry when the retries of the window, this one included, stay within
  // ratio * requests + min_per_second * ttl; false (and nothing withdrawn) otherwise.
  bool try_retry(core::time_point now) noexcept;

  // Retries the window still allows now: ratio * requests + min_per_second * ttl - retries. Below
  // 1, try_retry refuses. Can be negative once the requests that paid for past retries expire first.
  double balance(core::time_point now) noexcept;
  struct window_counts {
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
  };
  window_counts window(core::time_point now) noexcept;

  const plan::retry_budget_config& config() const noexcept { return config_; }

 private:
  enum counter : std::size_t { requests, retries };

  plan::retry_budget_config config_;
  double reserve_;  // min_per_second * ttl: retries allowed with no requests at all
  detail::time_buckets<2> window_;
};

}  // namespace planproof::resilience
