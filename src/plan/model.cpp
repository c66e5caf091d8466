#include "plan/model.hpp"

#include <algorithm>

namespace planproof::plan {

std::string_view to_string(auth_method m) noexcept {
  switch (m) {
    case auth_method::none: return "none";
    case auth_method::api_key: return "api_key";
    case auth_method::bearer: return "bearer";
    case auth_method::oauth2_client_credentials: return "oauth2_client_credentials";
    case auth_method::hmac: return "hmac";
    case auth_method::mtls: return "mtls";
    case auth_method::jwt: return "jwt";
  }
  return "none";
}

std::optional<auth_method> parse_auth_method(std::string_view s) noexcept {
  for (auto m : {auth_method::none, auth_method::api_key, auth_method::bearer,
                 auth_method::oauth2_client_credentials, auth_method::hmac, auth_method::mtls,
                 auth_method::jwt}) {
    if (to_string(m) == s) return m;
  }
  return std::nullopt;
}

bool is_supported(auth_method m) noexcept {
  return m == auth_method::none || m == auth_method::api_key || m == auth_method::bearer;
}

std::string_view to_string(backoff_strategy s) noexcept {
  return s == backoff_strategy::constant ? "constant" : "exponential";
}

std::string_view to_string(jitter_kind j) noexcept { return j == jitter_kind::none ? "none" : "full"; }

std::string_view to_string(comparison c) noexcept {
  switch (c) {
    case comparison::eq: return "==";
    case comparison::ne: return "!=";
    case comparison::lt: return "<";
    case comparison::le: return "<=";
    case comparison::gt: return ">";
    case comparison::ge: return ">=";
  }
  return "==";
}

const endpoint* integration_plan::find_endpoint(std::string_view id) const noexcept {
  auto it = std::find_if(endpoints.begin(), endpoints.end(), [&](const auto& e) { return e.id == id; });
  return it == endpoints.end() ? nullptr : &*it;
}

const failure_mode* integration_plan::find_failure_mode(std::string_view id) const noexcept {
  auto it = std::find_if(failure_modes.begin(), failure_modes.end(), [&](const auto& f) { return f.id == id; });
  return it == failure_modes.end() ? nullptr : &*it;
}

const phase* integration_plan::find_phase(std::string_view name) const noexcept {
  auto it = std::find_if(phases.begin(), phases.end(), [&](const auto& p) { return p.name == name; });
  return it == phases.end() ? nullptr : &*it;
}

}  // namespace planproof::plan
