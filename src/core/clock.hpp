// Time as the policies see it. Policies read `now` from a clock they are given and never sleep;
// the live executor hands them plan time derived from the steady clock, tests a manual clock.
#pragma once

#include <chrono>

#include "core/units.hpp"

namespace planproof::core {

using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;

class clock {
 public:
  virtual ~clock() = default;
  virtual time_point now() const noexcept = 0;
};

// Multiplies every plan duration by `factor` to get wall time (`--time-scale`), and back.
struct time_scale {
  double factor = 1.0;

  // Rounded up, so a wait of plan duration d never ends early in plan time.
  duration to_real(duration plan) const noexcept;
  duration to_plan(duration real) const noexcept;
};

// Plan time: the origin is the moment of construction, and it advances 1/factor times as fast as
// the steady clock, so every component sees the plan's own numbers whatever the scale.
class plan_clock final : public clock {
 public:
  explicit plan_clock(time_scale scale) noexcept;
  time_point now() const noexcept override;
  time_point origin() const noexcept { return origin_; }
  const time_scale& scale() const noexcept { return scale_; }
  // Plan time elapsed since the origin.
  duration elapsed() const noexcept { return now() - origin_; }

 private:
  time_scale scale_;
  std::chrono::steady_clock::time_point real_origin_;
  time_point origin_;
};

// Calendar time that runs at plan speed: the wall clock's reading at `origin`, advanced by the plan
// time elapsed since. The client stamps JWT iat and exp with it and the mock checks them with it,
// so both agree at any --time-scale; at scale 1 it is the wall clock.
struct plan_calendar {
  std::chrono::system_clock::time_point wall_at_origin{};
  time_point origin{};
  // Calendar seconds per plan second. 1: plan speed, as above. The time scale's factor: the wall
  // clock itself, for a real upstream that checks iat and exp against its own clock.
  double pace = 1.0;

  std::chrono::system_clock::time_point exact(time_point t) const noexcept {
    return wall_at_origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                std::chrono::duration<double, std::nano>(t - origin) * pace);
  }
  std::chrono::sys_seconds at(time_point t) const noexcept {
    return std::chrono::floor<std::chrono::seconds>(exact(t));
  }
  // Plan time at the moment the calendar reads `wall`.
  time_point plan_time(std::chrono::system_clock::time_point wall) const noexcept {
    return origin + std::chrono::duration_cast<duration>(std::chrono::duration<double, std::nano>(wall - wall_at_origin) / pace);
  }
};

// A clock that moves only when told to: for tests and the simulator.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = time_point{}) noexcept : now_(start) {}
  time_point now() const noexcept override { return now_; }
  void advance(duration d) noexcept { now_ += d; }
  void set(time_point t) noexcept { now_ = t; }

 private:
  time_point now_;
};

}  // namespace planproof::core
