// The mock's OAuth2 authorization server (client credentials, RFC 6749 section 4.4) and the
// resource side of bearer tokens (RFC 6750): issues, checks and revokes tokens, with no sockets.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/clock.hpp"
#include "core/request_signature.hpp"

namespace planproof::plan {
struct auth_config;
}

namespace planproof::mocks {

using namespace std::chrono_literals;

struct token_authority_config {
  // The one client this authority knows. Plain values: the caller resolves secret references.
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;  // what it can grant; a request without `scope` gets all of them
  // The lifetime announced as `expires_in` and given to each token, in whole seconds (truncated,
  // at least 1s): announcing one number and enforcing another is the early-expiry fault's job.
  core::duration expires_in = 1h;
  // When set, a request may name it in `audience` (and gets it without asking); any other value
  // is refused with invalid_target (RFC 8707). When empty, an `audience` parameter is ignored.
  std::string audience;
  std::string realm = "planproof";  // of the Basic challenge on invalid_client
  // Tokens are random bytes from a generator with this seed: a run is reproducible, and tokens
  // are predictable to whoever knows the seed, which is fine for a mock and nothing else.
  std::uint64_t seed = 1;
  std::size_t body_limit = 4096;  // a token request is a few hundred bytes; beyond this, invalid_request
  // Tokens remembered (so that check() can say expired or revoked rather than unknown); when full,
  // expired and revoked ones go first, then the oldest.
  std::size_t max_tokens = 100'000;
};

// The token endpoint's error codes (RFC 6749 section 5.2, and RFC 8707's invalid_target).
enum class oauth_error { invalid_request, invalid_client, unsupported_grant_type, invalid_scope, invalid_target };
inline constexpr std::size_t oauth_error_count = 5;
std::string_view to_string(oauth_error e) noexcept;

struct token_authority_stats {
  std::uint64_t issued = 0;
  std::array<std::uint64_t, oauth_error_count> refused{};  // indexed by oauth_error

  std::uint64_t refused_by(oauth_error e) const noexcept { return refused[static_cast<std::size_t>(e)]; }
  std::uint64_t refused_total() const noexcept;
};

enum class token_status { valid, expired, revoked, unknown };
std::string_view to_string(token_status s) noexcept;

struct token_check {
  token_status status = token_status::unknown;
  // What the token was issued with; filled for every token the authority remembers, so a report
  // can say which scopes an expired token had.
  std::vector<std::string> scopes;
  std::string audience;
  core::time_point expires_at{};  // the first instant it is no longer valid; an early expiry shows here
};

// A resource request's credential, judged (RFC 6750 section 3.1).
enum class access_verdict {
  granted,             // valid token with every required scope
  no_credential,       // no Authorization header, or another scheme than Bearer: 401, plain challenge
  invalid_request,     // a malformed Bearer credential or several Authorization headers: 400
  invalid_token,       // expired, revoked or unknown (see token): 401
  insufficient_scope,  // valid but lacking a required scope: 403
};
std::string_view to_string(access_verdict v) noexcept;

struct access_decision {
  access_verdict verdict = access_verdict::no_credential;
  token_status token = token_status::unknown;  // meaningful for granted and invalid_token
  std::vector<std::string> required_scopes;    // what was asked; named in an insufficient_scope challenge

  bool granted() const noexcept { return verdict == access_verdict::granted; }
  // The status to answer with: 200 when granted, else 400, 401 or 403 as RFC 6750 says.
  unsigned status() const noexcept;
};

// The WWW-Authenticate value for a refused resource request (empty when granted):
//   no_credential       Bearer
//   invalid_request     Bearer error="invalid_request", error_description="..."
//   invalid_token       Bearer error="invalid_token", error_description="The access token expired"
//                       (or "was revoked", "is not known")
//   insufficient_scope  Bearer error="insufficient_scope", scope="payments:write payments:read"
std::string bearer_challenge(const access_decision& decision);

// Thread-safe: every member function may be called from any thread at once (one mutex guards the
// generator, the tokens, the knobs and the counters; no call holds it while doing anything slow).
// Tokens and secrets are never logged, and nothing here logs at all.
class token_authority {
 public:
  using request = boost::beast::http::request<boost::beast::http::string_body>;
  using response = boost::beast::http::response<boost::beast::http::string_body>;

  // `clock` dates issue and expiry and must outlive the authority.
  token_authority(token_authority_config config, const core::clock& clock);
  ~token_authority();
  token_authority(const token_authority&) = delete;
  token_authority& operator=(const token_authority&) = delete;

  // The token endpoint: a complete response (status, JSON body, Content-Type, Content-Length,
  // Cache-Control: no-store, Pragma: no-cache, WWW-Authenticate on 401) in the request's HTTP
  // version and keep-alive. Success: 200 {"access_token","token_type":"Bearer","expires_in","scope"}.
  // Refusals: 400 invalid_request (not POST, not application/x-www-form-urlencoded, body over the
  // limit, bad percent-encoding, a parameter twice, no grant_type, two client authentication
  // methods, control characters in a header), 401 invalid_client (with a Basic challenge),
  // 400 unsupported_grant_type, 400 invalid_scope, 400 invalid_target. Never throws for any input.
  response handle_token_request(const request& req);

  // The state of a token at the clock's now. Expiry is exact: valid before expires_at, expired
  // from that instant on. A revoked token reads revoked whether or not it has expired since.
  token_check check(std::string_view bearer_token) const;

  // A resource request's Authorization header(s) against the scopes the resource requires.
  access_decision authorize(const request& req, std::span<const std::string> required_scopes = {}) const;
  // The same from the header values found (none, one, or several: several is invalid_request).
  access_decision authorize(std::span<const std::string_view> authorization_values,
                            std::span<const std::string> required_scopes = {}) const;

  bool revoke(std::string_view bearer_token);  // false when the token is not known
  std::size_t revoke_all();                    // how many valid tokens were revoked

  // The auth_expiry fault: while set, new tokens stop being valid after `lifetime` (if shorter
  // than expires_in) while still announcing the full expires_in. Tokens already issued keep theirs.
  void set_early_expiry(std::optional<core::duration> lifetime);

  token_authority_stats stats() const;
  const token_authority_config& config() const noexcept { return config_; }
  // The tokens it still remembers (at most max_tokens), oldest first: for a check that none of
  // them reached a log, never to be printed.
  std::vector<std::string> issued_tokens() const;

 private:
  struct state;
  const token_authority_config config_;
  const core::clock& clock_;
  std::unique_ptr<state> state_;
};

// From the plan's `auth: oauth2_client_credentials`: scopes (the plan's `scopes` and
// `required_scopes`), `token_lifetime`, `audience`. The caller resolves and passes the
// credentials. nullopt when the plan's auth is another method.
std::optional<token_authority_config> token_authority_config_from_plan(const plan::auth_config& auth,
                                                                       std::string client_id,
                                                                       std::string client_secret,
                                                                       std::uint64_t seed);

// From the plan's `auth: hmac` (core sees no plan types): algorithm, signed components, the
// signature header (`auth.header`, default Signature), timestamp header and tolerance. nullopt when
// the plan's auth is another method.
std::optional<core::signature_scheme> signature_scheme_from_plan(const plan::auth_config& auth);

// core::verify_request on a Beast request: the signature, timestamp and Host headers looked up
// (case-insensitively); any of them sent twice is malformed.
core::signature_check verify_signed_request(const core::signature_scheme& scheme,
                                            const token_authority::request& req, std::string_view key,
                                            std::chrono::sys_seconds now);

}  // namespace planproof::mocks
