// Sorts an attempt's result into success, retryable, fatal or refresh_auth, from the endpoint's
// success statuses and the plan's `retry_on` / `fatal_on`. Anything the plan does not name as
// retryable is fatal: the client never retries on a guess.
#pragma once

#include <bitset>
#include <cstdint>
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

enum class attempt_class {
  success,
  retryable,
  fatal,
  // A 401 the credential can fix: fetch a new one, then send the request again (at most once per
  // logical request; retry_state keeps count).
  refresh_auth,
};

class retry_classifier {
 public:
  // `can_refresh_credentials`: the auth method can obtain a new credential on demand (OAuth2 client
  // credentials, JWT; see refreshable()). Then a 401 means "refresh", not "retry the same request".
  retry_classifier(const std::vector<int>& success_statuses, const std::vector<plan::retry_condition>& retry_on,
                   const std::vector<plan::retry_condition>& fatal_on = {}, bool can_refresh_credentials = false);

  // In order: an error class is fatal when fatal_on covers it, retryable when retry_on covers it
  // (`timeout` covers read_timeout...), fatal otherwise, so tls_error is fatal unless listed itself.
  // A success status is success. A 401 with a refreshable credential is refresh_auth until the
  // logical request has refreshed once (`auth_refreshed`), fatal after: a fresh credential that is
  // refused again will not be fixed by a third; fatal_on: [401] turns the refresh off. Other
  // statuses: fatal_on, then retry_on, then fatal. No allocation, no search: bit tests.
  attempt_class classify(const attempt_result& r, bool auth_refreshed = false) const noexcept;

  bool can_refresh_credentials() const noexcept { return can_refresh_; }

 private:
  static constexpr std::size_t statuses = 600;
  std::bitset<statuses> success_, retry_statuses_, fatal_statuses_;
  std::uint32_t retry_errors_ = 0;  // bit per error_class: the fine and umbrella classes covered
  std::uint32_t fatal_errors_ = 0;
  bool can_refresh_ = false;
};

// Whether `m` can fetch a new credential when one is refused (the credential is minted or issued,
// not configured).
bool refreshable(plan::auth_method m) noexcept;

}  // namespace planproof::resilience
