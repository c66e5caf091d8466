// The credential a plan's auth method puts on every request, resolved once and shared by the
// client and the mocks (`planproof run`), or by the mocks alone (`planproof serve`).
#pragma once

#include <string>

#include "client/http_client.hpp"
#include "plan/model.hpp"

namespace planproof::scenario {

struct auth_material {
  client::header header;  // empty name: no credential is checked (none, or a method this version cannot drive)
  // The plan's secret could not be resolved, so `header` holds a throwaway credential: against a
  // mock the secret only has to match on both sides, and the plan's real one never has to exist.
  bool generated = false;
  std::string unresolved;  // why the secret could not be resolved ("environment variable X is not set")
};

// Resolves the plan's secret reference (registering it for redaction) or, when it cannot be
// resolved, generates a `pp_test_...` value, registered for redaction too.
auth_material resolve_auth(const plan::auth_config& auth);

// A webhook signing secret: the one the plan's reference names, or a throwaway when it cannot be
// resolved, since the mock provider and the receiver under test only have to agree on it.
struct signing_secret {
  std::string value;
  bool generated = false;
  std::string unresolved;  // why the reference could not be resolved
};

// Resolves `ref` (registering the value for redaction) or generates a `pp_test_whsec_...` value,
// registered for redaction too.
signing_secret resolve_signing_secret(const core::secret_ref& ref);

}  // namespace planproof::scenario
