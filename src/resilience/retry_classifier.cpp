#include "resilience/retry_classifier.hpp"

#include <algorithm>

namespace planproof::resilience {

retry_classifier::retry_classifier(std::vector<int> success_statuses,
                                   const std::vector<plan::retry_condition>& retry_on)
    : success_(std::move(success_statuses)) {
  for (const auto& c : retry_on) {
    if (const int* status = std::get_if<int>(&c)) retry_statuses_.push_back(*status);
    else retry_errors_.push_back(std::get<core::error_class>(c));
  }
}

attempt_class retry_classifier::classify(const attempt_result& r) const noexcept {
  auto contains = [](const auto& v, auto x) { return std::find(v.begin(), v.end(), x) != v.end(); };
  if (r.error != core::error_class::none) {
    return contains(retry_errors_, r.error) ? attempt_class::retryable : attempt_class::fatal;
  }
  if (contains(success_, r.status)) return attempt_class::success;
  return contains(retry_statuses_, r.status) ? attempt_class::retryable : attempt_class::fatal;
}

}  // namespace planproof::resilience
