// The `auth: hmac` request signature: the client signs each request, the mock verifies it. Both
// sides use this unit, and the format below is the contract for anyone who signs in another language.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/hmac.hpp"
#include "core/units.hpp"

namespace planproof::core {

using namespace std::chrono_literals;

// ## The signing format, version 1
//
// Settings (from the plan's `auth: {method: hmac, ...}`): the secret key K (its bytes exactly as
// resolved from the reference, no trailing newline), the algorithm (sha256 or sha512), the signed
// components in order (default method, path, timestamp, body), the signature header S (default
// `Signature`) and the timestamp header T (default `X-Timestamp`).
//
// To sign a request:
//
//  1. If `timestamp` is a signed component, take the current Unix time in whole seconds as a
//     decimal number without sign or leading zeros (`1700000000`) and send it in header T.
//     Otherwise send no T (nothing would protect it).
//  2. Write one line per signed component, in the configured order (a component listed twice is
//     written twice):
//       method     the request method in upper case                        POST
//       path       the request target up to, not including, the first `?`,  /v1/charges/ch%2F1
//                  exactly as sent: percent-encoding untouched, no decoding
//                  or normalization
//       query      the request target after the first `?`, exactly as sent,  limit=10&cursor=a%3D
//                  without the `?`; an empty line when there is none
//       timestamp  the value sent in header T                               1700000000
//       body       lower-case hex SHA-256 of the body bytes as sent (still    e3b0c442...7852b855
//                  compressed if a Content-Encoding applies; a chunked body     (empty body)
//                  de-chunked), whatever the algorithm; of the empty string
//                  when there is no body
//       host       the Host header value as sent, in lower case: host name,   api.example.com
//                  with `:port` only when the port is not the scheme's         127.0.0.1:8443
//                  default (host_header_value() below builds it)
//  3. Join the lines with a single LF (`\n`): no CR, no LF after the last line. This is the
//     canonical string. For method, path, timestamp, body:
//       "POST\n/v1/charges\n1700000000\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
//  4. Compute HMAC-SHA256 (or HMAC-SHA512) of the canonical string's bytes with key K and write it
//     as lower-case hex (64 or 128 digits).
//  5. Send header S with the value `v1=` followed by that hex: `Signature: v1=5f0c...`.
//
// The verifier rebuilds the canonical string from the request it received and answers, in this
// order of checks:
//   missing    no header S; or `timestamp` is signed and there is no header T; or `host` is signed
//              and there is no Host header
//   malformed  S is not `v1=` followed by exactly 64 (sha256) or 128 (sha512) hex digits (upper
//              case accepted); T is not 1 to 15 ASCII digits; or a signed component holds CR/LF
//   mismatch   the signature is not the HMAC of the canonical string (compared in constant time)
//   stale      the signature matches but T is more than `tolerance` seconds before or after the
//              verifier's clock (exactly `tolerance` away is accepted)
//   ok         otherwise
// Staleness is judged after the signature so that `stale` always means "right key and format,
// wrong clock", which is the useful thing to tell someone debugging their signer.

// What the signature covers; the same names as the plan's `signed_components`.
enum class signed_part { method, path, query, timestamp, body, host };
std::string_view to_string(signed_part p) noexcept;

struct signature_scheme {
  hmac_digest digest = hmac_digest::sha256;
  // In signing order; never empty in a loaded plan.
  std::vector<signed_part> components{signed_part::method, signed_part::path, signed_part::timestamp,
                                      signed_part::body};
  std::string signature_header = "Signature";
  std::string timestamp_header = "X-Timestamp";
  duration tolerance = 5min;  // clock skew the verifier accepts, either way
};

// The parts of a request the signature can cover. Views: the caller keeps the request alive.
struct request_parts {
  std::string_view method;
  std::string_view target;  // origin-form, as on the request line: path and optional `?query`
  std::optional<std::string_view> host;  // the Host header value; nullopt when absent
  std::string_view body;
};

// The signature headers as a verifier found them on a request; nullopt when absent.
struct presented_signature {
  std::optional<std::string_view> signature;  // header S
  std::optional<std::string_view> timestamp;  // header T
};

// Lower-case hex SHA-256 of `body`: the `body` component.
std::string body_digest_hex(std::string_view body);

// The Host header value a client sends (and signs): `host` lower-cased, IPv6 literals bracketed,
// `:port` appended unless it is the default of the scheme (443 with TLS, 80 without).
std::string host_header_value(std::string_view host, std::uint16_t port, bool tls);

// Step 3 of the format: the canonical string, given the timestamp header's value (ignored unless
// `timestamp` is signed). Exposed so tests and debugging tools can show what was signed.
std::string canonical_string(const signature_scheme& scheme, const request_parts& request,
                             std::string_view timestamp);

// The headers to add to the request, in order: T (only when `timestamp` is signed) then S. `now`
// is wall-clock time; a client keeps it from the system clock, tests pin it.
std::vector<std::pair<std::string, std::string>> sign_request(const signature_scheme& scheme,
                                                              const request_parts& request, std::string_view key,
                                                              std::chrono::sys_seconds now);

enum class signature_verdict { ok, missing, malformed, mismatch, stale };
std::string_view to_string(signature_verdict v) noexcept;

struct signature_check {
  signature_verdict verdict = signature_verdict::ok;
  // A fixed sentence for a response body or a log ("signature header missing"); it never quotes
  // the key, the expected signature or anything else derived from the key.
  std::string_view reason;
  bool ok() const noexcept { return verdict == signature_verdict::ok; }
};

// The verifier's side of the format. Cost is bounded by the request's size: malformed headers are
// refused before any hashing.
signature_check verify_request(const signature_scheme& scheme, const request_parts& request,
                               const presented_signature& presented, std::string_view key,
                               std::chrono::sys_seconds now);

}  // namespace planproof::core
