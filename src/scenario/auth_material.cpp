#include "scenario/auth_material.hpp"

#include <cstdio>
#include <random>

#include "core/logging.hpp"
#include "core/secret.hpp"

namespace planproof::scenario {

auth_material resolve_auth(const plan::auth_config& auth) {
  auth_material m;
  // Methods this version cannot drive are skipped per failure mode; nothing to resolve for them.
  if (auth.method == plan::auth_method::none || !auth.secret || !plan::is_supported(auth.method)) return m;
  auto resolved = core::resolve_secret(*auth.secret);
  std::string value;
  if (resolved.value) {
    value = *resolved.value;
  } else {
    std::random_device rd;
    char buf[40];
    std::snprintf(buf, sizeof buf, "pp_test_%08x%08x", rd(), rd());
    value = buf;
    core::redactor::instance().add(value);
    m.generated = true;
    m.unresolved = resolved.error;
  }
  if (auth.method == plan::auth_method::api_key) {
    m.header = {auth.header, value};
  } else {
    m.header = {"Authorization", "Bearer " + value};
  }
  return m;
}

signing_secret resolve_signing_secret(const core::secret_ref& ref) {
  signing_secret s;
  auto resolved = core::resolve_secret(ref);
  if (resolved.value) {
    s.value = *resolved.value;
    return s;
  }
  std::random_device rd;
  char buf[48];
  std::snprintf(buf, sizeof buf, "pp_test_whsec_%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  s.value = buf;
  core::redactor::instance().add(s.value);
  s.generated = true;
  s.unresolved = resolved.error;
  return s;
}

}  // namespace planproof::scenario
