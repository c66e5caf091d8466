// The arrivals a traffic section plans: when each request of an open-loop profile (constant, ramp,
// burst) is due, how many there are, and the highest rate it reaches. Plain arithmetic on plan time:
// no clock, no sockets, so the runner, the loader's bound and lint read the same numbers.
#pragma once

#include <cstdint>
#include <optional>

#include "plan/model.hpp"

namespace planproof::plan {

// The most requests one traffic section may plan: a run keeps a record of every one.
inline constexpr std::uint64_t max_planned_requests = 2'000'000;

// Requests per second the profile asks for at plan time `at` since traffic start; 0 for closed_loop,
// whose pace is set by the upstream.
double rate_at(const traffic_config& t, duration at) noexcept;

// The integral of that rate from traffic start to `at`: how many requests are due by then. Closed
// loop: 0.
double requests_due(const traffic_config& t, duration at) noexcept;

// The highest rate the profile reaches within its duration (ramp: the faster end; burst: the
// burst's rate once a burst starts before the end); none for closed_loop.
std::optional<double> peak_rate(const traffic_config& t) noexcept;

// Open-loop arrivals. Request k (from 0) is due when the integral of the rate since traffic start
// reaches k: request 0 at the start, then at 1/rate intervals for a constant rate; for a ramp the
// gaps shrink (or grow) along the line; for a burst they are 1/burst.rate inside the bursts and
// 1/rate between them. The schedule holds the requests due before `duration` ends: about the
// integral over the duration (rate × duration for a constant rate), rounded up, at most
// max_planned_requests (the loader refuses a plan that asks for more).
class arrival_schedule {
 public:
  // A closed_loop traffic has no schedule: size() is 0.
  explicit arrival_schedule(const traffic_config& t);

  std::uint64_t size() const noexcept { return size_; }
  // Plan time since traffic start at which request k is due; k < size().
  duration at(std::uint64_t k) const noexcept;

 private:
  double seconds_at(double k) const noexcept;

  traffic_config t_;
  std::uint64_t size_ = 0;
};

}  // namespace planproof::plan
