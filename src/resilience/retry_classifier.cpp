#include "resilience/retry_classifier.hpp"

namespace planproof::resilience {

namespace {

constexpr std::uint32_t bit(core::error_class e) noexcept { return std::uint32_t{1} << static_cast<unsigned>(e); }

// Every class `condition` covers, as bits, so that classify() is one test per list.
std::uint32_t covered(core::error_class condition) noexcept {
  std::uint32_t out = 0;
  for (auto e : core::named_error_classes) {
    if (core::covers(condition, e)) out |= bit(e);
  }
  return out;
}

template <std::size_t N>
bool in(const std::bitset<N>& set, int status) noexcept {
  return status >= 0 && static_cast<std::size_t>(status) < N && set.test(static_cast<std::size_t>(status));
}

}  // namespace

retry_classifier::retry_classifier(const std::vector<int>& success_statuses,
                                   const std::vector<plan::retry_condition>& retry_on,
                                   const std::vector<plan::retry_condition>& fatal_on, bool can_refresh_credentials)
    : can_refresh_(can_refresh_credentials) {
  auto add = [](const std::vector<plan::retry_condition>& list, std::bitset<statuses>& codes, std::uint32_t& errors) {
    for (const auto& c : list) {
      if (const int* status = std::get_if<int>(&c)) {
        if (*status >= 0 && static_cast<std::size_t>(*status) < statuses) codes.set(static_cast<std::size_t>(*status));
      } else {
        errors |= covered(std::get<core::error_class>(c));
      }
    }
  };
  for (int s : success_statuses) {
    if (s >= 0 && static_cast<std::size_t>(s) < statuses) success_.set(static_cast<std::size_t>(s));
  }
  add(retry_on, retry_statuses_, retry_errors_);
  add(fatal_on, fatal_statuses_, fatal_errors_);
}

attempt_class retry_classifier::classify(const attempt_result& r, bool auth_refreshed) const noexcept {
  if (r.error != core::error_class::none) {
    if ((fatal_errors_ & bit(r.error)) != 0) return attempt_class::fatal;
    return (retry_errors_ & bit(r.error)) != 0 ? attempt_class::retryable : attempt_class::fatal;
  }
  if (in(success_, r.status)) return attempt_class::success;
  if (in(fatal_statuses_, r.status)) return attempt_class::fatal;
  if (r.status == 401 && can_refresh_) return auth_refreshed ? attempt_class::fatal : attempt_class::refresh_auth;
  return in(retry_statuses_, r.status) ? attempt_class::retryable : attempt_class::fatal;
}

bool refreshable(plan::auth_method m) noexcept {
  return m == plan::auth_method::oauth2_client_credentials || m == plan::auth_method::jwt;
}

}  // namespace planproof::resilience
