#include "scenario/timeline.hpp"

#include <algorithm>

namespace planproof::scenario {

std::string_view to_string(series s) noexcept {
  switch (s) {
    case series::attempts: return "attempts";
    case series::succeeded: return "succeeded";
    case series::retryable: return "retryable";
    case series::fatal: return "fatal";
    case series::errors: return "errors";
    case series::rejected: return "rejected";
    case series::faults: return "faults";
  }
  return "?";
}

timeline::timeline(core::duration planned) {
  using namespace std::chrono_literals;
  const auto wanted = planned / 100;
  core::duration width = 1ms;
  for (std::int64_t decade = 1; width < wanted; decade *= 10) {
    for (const auto step : {1, 2, 5}) {
      width = std::chrono::milliseconds(decade * step);
      if (width >= wanted) break;
    }
  }
  width_ = width.count();
}

std::uint64_t timeline::total(series s) const noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < used_; ++i) n += buckets_[i][static_cast<std::size_t>(s)];
  return n;
}

std::int64_t timeline::coarsen(core::duration::rep at) noexcept {
  for (std::size_t i = 0; i < max_buckets / 2; ++i) {
    for (std::size_t s = 0; s < series_count; ++s) buckets_[i][s] = buckets_[2 * i][s] + buckets_[2 * i + 1][s];
  }
  std::fill(buckets_.begin() + max_buckets / 2, buckets_.end(), std::array<std::uint64_t, series_count>{});
  used_ = (used_ + 1) / 2;
  width_ *= 2;
  return at / width_;
}

std::vector<fault_window> fault_windows(const std::vector<plan::fault>& inject) {
  std::vector<fault_window> out;
  for (const auto& f : inject) {
    std::string name = f.kind;
    if (f.kind == "status") name += " " + std::to_string(f.status);
    if (f.kind == "outage") name += f.outage == plan::outage_mode::status ? " " + std::to_string(f.status) : " (reset)";
    if (f.during.empty()) out.push_back({name, 0, std::nullopt});
    for (const auto& w : f.during) {
      out.push_back({name, core::to_millis(w.from), w.to ? std::optional<double>(core::to_millis(*w.to)) : std::nullopt});
    }
  }
  return out;
}

}  // namespace planproof::scenario
