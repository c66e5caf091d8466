#include "plan/traffic_profile.hpp"

#include <algorithm>
#include <cmath>

namespace planproof::plan {
namespace {

double seconds(duration d) noexcept { return core::to_seconds(d); }

bool positive(double v) noexcept { return std::isfinite(v) && v > 0; }

// What the arithmetic below divides by is there: the loader guarantees it for a plan it loads.
bool schedulable(const traffic_config& t) noexcept {
  if (t.duration <= duration::zero() || !positive(t.rate)) return false;
  switch (t.profile) {
    case traffic_profile::constant: return true;
    case traffic_profile::ramp: return positive(t.from);
    case traffic_profile::burst:
      return positive(t.burst.rate) && t.burst.length > duration::zero() && t.burst.every > t.burst.length &&
             t.burst.at >= duration::zero();
    case traffic_profile::closed_loop: return false;
  }
  return false;
}

// Burst time in [0, s]: whole periods since the first burst, then the part of the current one.
double burst_seconds_until(const traffic_burst& b, double s) noexcept {
  const double since = s - seconds(b.at);
  if (since <= 0) return 0;
  const double every = seconds(b.every), length = seconds(b.length);
  const double periods = std::floor(since / every);
  return periods * length + std::min(length, since - periods * every);
}

}  // namespace

double rate_at(const traffic_config& t, duration at) noexcept {
  switch (t.profile) {
    case traffic_profile::constant: return t.rate;
    case traffic_profile::ramp: {
      if (t.duration <= duration::zero()) return t.rate;
      const double f = std::clamp(seconds(at) / seconds(t.duration), 0.0, 1.0);
      return t.from + (t.rate - t.from) * f;
    }
    case traffic_profile::burst: {
      if (at < t.burst.at || t.burst.every <= duration::zero()) return t.rate;
      const auto into = (at - t.burst.at) % t.burst.every;
      return into < t.burst.length ? t.burst.rate : t.rate;
    }
    case traffic_profile::closed_loop: return 0;
  }
  return 0;
}

double requests_due(const traffic_config& t, duration at) noexcept {
  const double s = std::max(0.0, seconds(at));
  switch (t.profile) {
    case traffic_profile::constant: return t.rate * s;
    case traffic_profile::ramp:
      if (t.duration <= duration::zero()) return t.rate * s;
      return t.from * s + (t.rate - t.from) * s * s / (2 * seconds(t.duration));
    case traffic_profile::burst:
      if (t.burst.every <= duration::zero()) return t.rate * s;
      return t.rate * s + (t.burst.rate - t.rate) * burst_seconds_until(t.burst, s);
    case traffic_profile::closed_loop: return 0;
  }
  return 0;
}

std::optional<double> peak_rate(const traffic_config& t) noexcept {
  switch (t.profile) {
    case traffic_profile::constant: return t.rate;
    case traffic_profile::ramp: return std::max(t.from, t.rate);
    case traffic_profile::burst: return t.burst.at < t.duration ? std::max(t.rate, t.burst.rate) : t.rate;
    case traffic_profile::closed_loop: return std::nullopt;
  }
  return std::nullopt;
}

arrival_schedule::arrival_schedule(const traffic_config& t) : t_(t) {
  if (!schedulable(t)) return;
  const double due = requests_due(t, t.duration);
  if (!std::isfinite(due) || due <= 0) return;
  const auto cap = max_planned_requests;
  // The integral rounded up counts the requests due before the end (request k is due once k are);
  // floating point can put the last one a hair either side of the end, which the loops settle.
  std::uint64_t n = due >= static_cast<double>(cap) ? cap : static_cast<std::uint64_t>(std::ceil(due - 1e-9));
  while (n > 0 && at(n - 1) >= t.duration) --n;
  while (n < cap && at(n) < t.duration) ++n;
  size_ = n;
}

duration arrival_schedule::at(std::uint64_t k) const noexcept {
  return duration{static_cast<duration::rep>(std::llround(seconds_at(static_cast<double>(k)) * 1e9))};
}

double arrival_schedule::seconds_at(double k) const noexcept {
  const auto& t = t_;
  switch (t.profile) {
    case traffic_profile::constant: return k / t.rate;
    case traffic_profile::ramp: {
      // from·s + (rate − from)·s²/2D = k, solved in the form that stays exact when rate ≈ from.
      const double slope = (t.rate - t.from) / seconds(t.duration);
      return 2 * k / (t.from + std::sqrt(std::max(0.0, t.from * t.from + 2 * slope * k)));
    }
    case traffic_profile::burst: {
      const auto& b = t.burst;
      const double base = t.rate, fast = b.rate;
      const double start = seconds(b.at), every = seconds(b.every), length = seconds(b.length);
      const double before = base * start;  // due before the first burst
      if (k < before) return k / base;
      // Each period: `length` at the burst's rate, then the rest at the base rate.
      const double in_burst = fast * length;
      const double per_period = in_burst + base * (every - length);
      const double r = k - before;
      double periods = std::floor(r / per_period);
      double rest = r - periods * per_period;
      if (rest < 0) rest = 0;
      if (rest >= per_period) {
        periods += 1;
        rest -= per_period;
      }
      const double period_start = start + periods * every;
      if (rest < in_burst) return period_start + rest / fast;
      return period_start + length + (rest - in_burst) / base;
    }
    case traffic_profile::closed_loop: return 0;
  }
  return 0;
}

}  // namespace planproof::plan
