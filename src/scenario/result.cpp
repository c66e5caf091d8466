#include "scenario/result.hpp"

#include <algorithm>

namespace planproof::scenario {

std::string_view to_string(verdict v) noexcept {
  switch (v) {
    case verdict::held: return "held";
    case verdict::broken: return "broken";
    case verdict::error: return "error";
    case verdict::skipped: return "skipped";
  }
  return "error";
}

std::size_t run_result::count(verdict v) const noexcept {
  return static_cast<std::size_t>(std::count_if(failure_modes.begin(), failure_modes.end(),
                                                [v](const auto& f) { return f.outcome == v; }));
}

int run_result::exit_code() const noexcept {
  if (interrupted || count(verdict::error) > 0) return 3;
  if (count(verdict::broken) > 0 || count(verdict::skipped) > 0) return 1;
  return 0;
}

}  // namespace planproof::scenario
