// Sorts an attempt's result into success, retryable or fatal, from the endpoint's success statuses
// and the plan's `retry_on` list. Anything the plan does not name as retryable is fatal: the client
// never retries on a guess.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/events.hpp"
#include "plan/model.hpp"

namespace planproof::resilience {

// What one attempt produced, as the policies need it.
struct attempt_result {
  int status = 0;  // 0 when no response arrived
  core::error_class error = core::error_class::none;
  std::optional<core::duration> retry_after;  // parsed Retry-After, when the upstream sent one
  std::string detail;            // schema_error: where the body broke the schema or mapping
  std::size_t records_rejected = 0;  // a list response used without these records
  std::size_t records = 0;           // records in a list response
};

enum class attempt_class { success, retryable, fatal };

class retry_classifier {
 public:
  retry_classifier(std::vector<int> success_statuses, const std::vector<plan::retry_condition>& retry_on);
  attempt_class classify(const attempt_result& r) const noexcept;

 private:
  std::vector<int> success_;
  std::vector<int> retry_statuses_;
  std::vector<core::error_class> retry_errors_;
};

}  // namespace planproof::resilience
