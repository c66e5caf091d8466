// What a failure mode's run looked like over plan time, for the reports' charts: counts per slice
// of time (attempts by what came of them, calls the breaker refused, faults the mock injected) and
// the moments worth marking (breaker transitions, token refreshes), all in memory bounded whatever
// the run's length.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "plan/model.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/token_lifecycle.hpp"

namespace planproof::scenario {

enum class series : std::uint8_t {
  attempts,   // attempts the client sent upstream
  succeeded,  // attempts answered with a success status
  retryable,  // answered with a status the plan retries (or a refused token the client renews)
  fatal,      // answered with a status the plan does not retry
  errors,     // no usable answer: an error class (timeout, reset, schema_error...)
  rejected,   // calls the circuit breaker refused: no upstream call was made
  faults,     // requests the mock upstream injected a fault into
};
inline constexpr std::size_t series_count = 7;
std::string_view to_string(series s) noexcept;

// Counts per bucket of plan time. At most max_buckets buckets: when a count falls past the last,
// neighbouring buckets merge in pairs and the width doubles, so any run fits.
class timeline {
 public:
  static constexpr std::size_t max_buckets = 120;

  // Buckets of a round width (1, 2 or 5 times a power of ten milliseconds) such that `planned`
  // spans at most 100 of them; the rest takes the requests still finishing after the traffic.
  explicit timeline(core::duration planned = {});

  // `at`: plan time since the run began; earlier counts in the first bucket.
  void add(core::duration at, series s, std::uint64_t n = 1) noexcept {
    auto i = at.count() <= 0 ? 0 : at.count() / width_;
    while (i >= static_cast<std::int64_t>(max_buckets)) i = coarsen(at.count());
    auto& b = buckets_[static_cast<std::size_t>(i)];
    b[static_cast<std::size_t>(s)] += n;
    if (static_cast<std::size_t>(i) >= used_) used_ = static_cast<std::size_t>(i) + 1;
  }

  core::duration bucket_width() const noexcept { return core::duration{width_}; }
  // Buckets up to the last one that holds a count.
  std::size_t size() const noexcept { return used_; }
  std::uint64_t at(std::size_t bucket, series s) const noexcept {
    return bucket < used_ && bucket < max_buckets ? buckets_[bucket][static_cast<std::size_t>(s)] : 0;
  }
  std::uint64_t total(series s) const noexcept;

 private:
  std::int64_t coarsen(core::duration::rep at) noexcept;  // returns the bucket of `at` after it

  std::array<std::array<std::uint64_t, series_count>, max_buckets> buckets_{};
  core::duration::rep width_ = 1;
  std::size_t used_ = 0;
};

// Where a fault of the failure mode was in scope: a window of its `inject[].during`, or the whole
// run when it has none.
struct fault_window {
  std::string fault;  // "status 503", "hang", ...
  double from_ms = 0;
  std::optional<double> to_ms;  // none: until the end of the run
};
std::vector<fault_window> fault_windows(const std::vector<plan::fault>& inject);

// Moments marked on the charts, the first max_marks of each kind (totals are counted apart).
inline constexpr std::size_t max_marks = 200;
struct breaker_mark {
  double at_ms = 0;
  resilience::breaker_state state = resilience::breaker_state::closed;  // the state entered
};
struct token_mark {
  double at_ms = 0;
  bool failed = false;  // a fetch that failed; else a token issued in place of another
  resilience::refresh_reason reason = resilience::refresh_reason::scheduled;
};

}  // namespace planproof::scenario
