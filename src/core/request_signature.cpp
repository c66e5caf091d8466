#include "core/request_signature.hpp"

#include <array>
#include <cstdlib>

#include <openssl/evp.h>

namespace planproof::core {
namespace {

constexpr std::string_view version_prefix = "v1=";
// 15 digits reach past the year 30 million and keep every parsed value far from overflow.
constexpr std::size_t max_timestamp_digits = 15;

bool contains(const std::vector<signed_part>& parts, signed_part p) noexcept {
  for (const auto q : parts) {
    if (q == p) return true;
  }
  return false;
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool is_hex(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool has_line_break(std::string_view s) noexcept { return s.find_first_of("\r\n") != std::string_view::npos; }

std::string_view path_of(std::string_view target) noexcept { return target.substr(0, target.find('?')); }

std::string_view query_of(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) noexcept {
  return parse_unix_seconds(s, max_timestamp_digits);
}

}  // namespace

std::string_view to_string(signed_part p) noexcept {
  switch (p) {
    case signed_part::method: return "method";
    case signed_part::path: return "path";
    case signed_part::query: return "query";
    case signed_part::timestamp: return "timestamp";
    case signed_part::body: return "body";
    case signed_part::host: return "host";
  }
  return "method";
}

std::string_view to_string(signature_verdict v) noexcept {
  switch (v) {
    case signature_verdict::ok: return "ok";
    case signature_verdict::missing: return "missing";
    case signature_verdict::malformed: return "malformed";
    case signature_verdict::mismatch: return "mismatch";
    case signature_verdict::stale: return "stale";
  }
  return "ok";
}

std::string body_digest_hex(std::string_view body) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int length = 0;
  // A one-shot digest of memory cannot fail for SHA-256; an empty digest would only make the
  // signature mismatch, the safe direction.
  if (EVP_Digest(body.data(), body.size(), md.data(), &length, EVP_sha256(), nullptr) != 1) return {};
  return to_hex(std::span(md.data(), length));
}

std::string host_header_value(std::string_view host, std::uint16_t port, bool tls) {
  std::string out;
  const bool ipv6 = host.find(':') != std::string_view::npos && !host.starts_with('[');
  if (ipv6) out += '[';
  for (const char c : host) out += lower(c);
  if (ipv6) out += ']';
  if (port != (tls ? 443 : 80)) out.append(":").append(std::to_string(port));
  return out;
}

std::string canonical_string(const signature_scheme& scheme, const request_parts& request,
                             std::string_view timestamp) {
  std::string out;
  bool first = true;
  for (const auto part : scheme.components) {
    if (!first) out += '\n';
    first = false;
    switch (part) {
      case signed_part::method:
        for (const char c : request.method) out += upper(c);
        break;
      case signed_part::path: out.append(path_of(request.target)); break;
      case signed_part::query: out.append(query_of(request.target)); break;
      case signed_part::timestamp: out.append(timestamp); break;
      case signed_part::body: out.append(body_digest_hex(request.body)); break;
      case signed_part::host:
        for (const char c : request.host.value_or(std::string_view{})) out += lower(c);
        break;
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> sign_request(const signature_scheme& scheme,
                                                              const request_parts& request, std::string_view key,
                                                              std::chrono::sys_seconds now) {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string timestamp;
  if (contains(scheme.components, signed_part::timestamp)) {
    timestamp = std::to_string(now.time_since_epoch().count());
    headers.emplace_back(scheme.timestamp_header, timestamp);
  }
  std::string value(version_prefix);
  value += hmac_hex(scheme.digest, key, canonical_string(scheme, request, timestamp));
  headers.emplace_back(scheme.signature_header, std::move(value));
  return headers;
}

signature_check verify_request(const signature_scheme& scheme, const request_parts& request,
                               const presented_signature& presented, std::string_view key,
                               std::chrono::sys_seconds now) {
  using enum signature_verdict;
  const bool timestamp_signed = contains(scheme.components, signed_part::timestamp);
  const bool host_signed = contains(scheme.components, signed_part::host);

  if (!presented.signature) return {missing, "signature header missing"};
  if (timestamp_signed && !presented.timestamp) return {missing, "timestamp header missing"};
  if (host_signed && !request.host) return {missing, "Host header missing"};

  const std::string_view sig = *presented.signature;
  if (!sig.starts_with(version_prefix) || sig.size() != version_prefix.size() + hex_length(scheme.digest)) {
    return {malformed, "signature header is not v1=<hex HMAC>"};
  }
  std::string received;
  received.reserve(hex_length(scheme.digest));
  for (const char c : sig.substr(version_prefix.size())) {
    if (!is_hex(c)) return {malformed, "signature header is not v1=<hex HMAC>"};
    received += lower(c);
  }
  std::optional<std::int64_t> timestamp;
  if (timestamp_signed) {
    timestamp = parse_timestamp(*presented.timestamp);
    if (!timestamp) return {malformed, "timestamp header is not Unix seconds"};
  }
  // A line break inside a component would let two different requests share a canonical string.
  // HTTP parsers refuse them on the wire; this guards callers that build requests by hand.
  if (has_line_break(request.method) || has_line_break(request.target) ||
      (request.host && has_line_break(*request.host))) {
    return {malformed, "request line or Host header holds a line break"};
  }

  const std::string expected =
      hmac_hex(scheme.digest, key,
               canonical_string(scheme, request, timestamp_signed ? *presented.timestamp : std::string_view{}));
  if (!constant_time_equal(received, expected)) return {mismatch, "signature does not match the request"};

  if (timestamp) {
    // In whole seconds: a 15-digit timestamp in nanoseconds would overflow. Both sides are whole
    // seconds, so flooring the tolerance decides exactly as comparing in nanoseconds would.
    const std::int64_t skew = std::llabs(*timestamp - now.time_since_epoch().count());
    if (skew > std::chrono::floor<std::chrono::seconds>(scheme.tolerance).count()) {
      return {stale, "timestamp outside the accepted clock skew"};
    }
  }
  return {ok, "signature valid"};
}

}  // namespace planproof::core
