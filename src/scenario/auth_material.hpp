// The credentials a plan's auth method needs, resolved once and shared by the client and the mocks
// (`planproof run`), or by the mocks alone (`planproof serve`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/http_client.hpp"
#include "core/jwt.hpp"
#include "core/request_signature.hpp"
#include "mocks/server.hpp"
#include "mocks/tls.hpp"
#include "plan/model.hpp"

namespace planproof::scenario {

struct auth_material {
  client::header header;  // api_key in a header, bearer: what goes on every request; empty otherwise
  client::header query;   // api_key in the query: the parameter and its value; empty otherwise
  // oauth2_client_credentials: the client the mock token endpoint knows; hmac: the signing key;
  // jwt: a generated HS256 secret (to be shown to the user of `serve`).
  std::string client_id;
  std::string client_secret;
  std::string signing_key;
  // jwt: the key tokens are signed with (the mock holds its verifying half).
  std::optional<core::jws_key> jwt_key;
  // The plan's secret resolved but cannot be used (a malformed or too weak key): nothing can be
  // signed with it, so nothing runs. Says what is wrong without quoting the secret.
  std::string error;
  // The plan's secret could not be resolved, so a throwaway credential stands in for it: against a
  // mock the secret only has to match on both sides, and the plan's real one never has to exist.
  bool generated = false;
  std::string unresolved;  // why the secret could not be resolved ("environment variable X is not set")
  // Every secret value resolved or generated, named by its reference ("secret env:PAY_KEY",
  // "generated stand-in for env:PAY_KEY"): what no_secret_in_logs searches for.
  std::vector<std::pair<std::string, std::string>> resolved;
};

// Resolves the plan's secret references (registering them for redaction) or, when one cannot be
// resolved, generates a `pp_test_...` value in its place, registered for redaction too.
// `for_mock_only`: the caller drives no client of its own (`serve`), so every method the mock can
// check is resolved, not only those `run` can drive.
auth_material resolve_auth(const plan::auth_config& auth, bool for_mock_only = false);

// What the mock upstream checks on each request for that auth: a header or query parameter value,
// an OAuth2 token endpoint and the tokens it issued, an HMAC request signature, or JWTs. Empty for
// methods the mock does not check (none, mtls).
// `calendar`: what a JWT's iat and exp are checked against (the one the client stamps them with).
mocks::auth_requirement mock_requirement(const plan::auth_config& auth, const auth_material& material,
                                         std::uint64_t seed, const core::plan_calendar& calendar = {});

// Signs each attempt as `auth: hmac` says (src/core/request_signature.hpp), with the wall clock's
// time (the mock verifies against its own wall clock, as the real upstream would). `host`: the
// Host header the client sends, for a scheme that signs it.
std::function<std::vector<client::header>(std::string_view, std::string_view, std::string_view)> request_signer(
    const core::signature_scheme& scheme, std::string key, std::string host);

// The client side of `auth: oauth2_client_credentials`: the token endpoint's path, the resolved
// credentials, scopes and audience, and the token lifecycle from the plan (refresh_before_expiry,
// token_lifetime when the answer has no expires_in, the plan's backoff between failed fetches).
client::oauth2_options oauth2_client_options(const plan::auth_config& auth, const auth_material& material,
                                             const plan::retry_config& retry);

// The client side of `auth: jwt`: the resolved key, the plan's claims, lifetime and header, the
// calendar tokens are stamped with; a new token is minted when a fifth of the lifetime (at most
// 30s) is left.
client::jwt_options jwt_client_options(const plan::auth_config& auth, const auth_material& material,
                                       const plan::retry_config& retry, const core::plan_calendar& calendar);

// auth: mtls against a real upstream: the plan's client certificate and key, and its CA unless
// config.ca_file is already set. A file: reference is the PEM file itself (OpenSSL reads it and names
// it in errors), an env: one holds the PEM text (registered for redaction as it is resolved). Empty
// when all were found; otherwise which reference cannot be resolved, then ": <real> and needs the
// real one" (`real` says why a stand-in will not do, e.g. "a replay goes to a real upstream").
std::string use_plan_certificate(const plan::mtls_config& m, mocks::client_tls_config& config, std::string_view real);

// The path a token URL names: itself when it is a path, the path part of an absolute URL.
std::string token_path_of(std::string_view token_url);

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
