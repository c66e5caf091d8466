// JSON Web Tokens (RFC 7519) in JWS compact serialization (RFC 7515), signed with HS256, RS256 or
// ES256 (RFC 7518): the client mints them for `auth: jwt`, the mock upstream verifies them.
// OpenSSL does the cryptography; nothing here does I/O or reads a clock.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct evp_pkey_st;

namespace planproof::core {

enum class jws_algorithm { HS256, RS256, ES256 };
std::string_view to_string(jws_algorithm a) noexcept;

// A signing or verifying key for one algorithm. Copies share the key material.
class jws_key {
 public:
  // From the plan's `signing_key`: for HS256 the shared secret itself, at least 32 bytes (RFC 7518
  // section 3.2); for RS256 and ES256 an unencrypted PEM private key, RSA of at least 2048 bits or
  // EC on P-256. `error` says what is wrong without quoting the key.
  struct parsed;
  static parsed from_secret(jws_algorithm algorithm, std::string_view secret);
  // A fresh random key: 32 bytes for HS256, RSA 2048 or P-256. Nullopt only if OpenSSL fails.
  static std::optional<jws_key> generate(jws_algorithm algorithm);

  jws_algorithm algorithm() const noexcept { return algorithm_; }
  // The half a verifier holds: the public key for RS256 and ES256, the same secret for HS256.
  jws_key verifier() const;
  // RS256 and ES256: the private key as PEM (PKCS #8), for a key a user has to be handed; empty
  // for HS256 and for a verifier.
  std::string private_pem() const;

  // The JWS signature of `input` (raw bytes; ES256 as R || S, 64 bytes). Empty if OpenSSL fails.
  std::string sign(std::string_view input) const;
  // Whether `signature` is this key's signature of `input`; HMACs are compared in constant time.
  bool verify(std::string_view input, std::string_view signature) const;

 private:
  jws_key(jws_algorithm algorithm, std::string secret, std::shared_ptr<evp_pkey_st> pkey, bool has_private);

  jws_algorithm algorithm_ = jws_algorithm::HS256;
  std::string secret_;                // HS256
  std::shared_ptr<evp_pkey_st> pkey_;  // RS256, ES256
  bool has_private_ = false;
};

struct jws_key::parsed {
  std::optional<jws_key> key;
  std::string error;  // when key is empty: "not a PEM private key", "RSA key of 1024 bits; RS256 needs..."
};

// A signed token: header {"alg", "typ": "JWT"}, then `claims` (as strings), then iat, exp =
// iat + lifetime and jti, which win over claims of those names. Empty when the key cannot sign
// (a verifier, or OpenSSL failed).
std::string mint_jwt(const jws_key& key, const std::map<std::string, std::string, std::less<>>& claims,
                     std::chrono::sys_seconds issued_at, std::chrono::seconds lifetime, std::string_view jti);

enum class jwt_verdict {
  valid,
  malformed,           // not three base64url parts of JSON objects, or exp/iat/nbf not numbers
  algorithm_mismatch,  // the header's alg is not the key's (including "none"), or it names crit extensions
  bad_signature,
  expired,             // now >= exp
  not_yet_valid,       // iat or nbf later than now + leeway
  missing_claim,       // no exp, iat or jti, or a claim the verifier requires is absent
  claim_mismatch,      // a required claim has another value, or exp - iat exceeds the allowed lifetime
};
std::string_view to_string(jwt_verdict v) noexcept;

struct jwt_expectations {
  std::map<std::string, std::string, std::less<>> claims;  // each must be present with this value (aud may be a list holding it)
  std::chrono::seconds max_lifetime{0};                    // exp - iat at most this; 0 = any
  std::chrono::seconds leeway{0};                          // for iat and nbf in the future only; exp is exact
};

struct jwt_check {
  jwt_verdict verdict = jwt_verdict::malformed;
  std::string claim;  // the claim a missing_claim or claim_mismatch is about
  std::string jti;
  std::chrono::sys_seconds expires_at{};
  bool ok() const noexcept { return verdict == jwt_verdict::valid; }
};

// Checks the signature first, so nothing from an unsigned or forged token is trusted.
jwt_check verify_jwt(const jws_key& key, std::string_view token, const jwt_expectations& expected,
                     std::chrono::sys_seconds now);

}  // namespace planproof::core
