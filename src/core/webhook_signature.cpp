#include "core/webhook_signature.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace planproof::core {

namespace {

constexpr std::string_view signature_version = "v1";
// Unix seconds as we accept them: digits only, at most 18 so the value fits an int64 with room.
constexpr std::size_t max_timestamp_digits = 18;

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::int64_t> parse_unix(std::string_view s) noexcept {
  return parse_unix_seconds(trim(s), max_timestamp_digits);
}

// A `v1=` value as compared: lower-cased hex of the digest's length, or nullopt.
std::optional<std::string> normalized_mac(std::string_view v, hmac_digest d) {
  if (v.size() != hex_length(d)) return std::nullopt;
  std::string out(v);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isxdigit(u)) return std::nullopt;
    c = static_cast<char>(std::tolower(u));
  }
  return out;
}

std::string payload(std::int64_t unix_seconds, std::string_view body) {
  std::string p = std::to_string(unix_seconds);
  p.reserve(p.size() + 1 + body.size());
  p += '.';
  p.append(body);
  return p;
}

// The signature header's items. `t` is kept only when the timestamp lives in this header.
struct parsed_signature {
  std::optional<std::int64_t> timestamp;
  std::vector<std::string> macs;
};

std::optional<parsed_signature> parse_signature(std::string_view header, bool timestamp_inside,
                                                hmac_digest digest) {
  if (header.size() > max_signature_header_size) return std::nullopt;
  parsed_signature out;
  std::size_t items = 0;
  bool saw_timestamp = false;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (item.empty()) continue;  // `a=1,,b=2` or a trailing comma: nothing to read, nothing forged
    if (++items > max_signature_items) return std::nullopt;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = trim(item.substr(0, eq));
    const std::string_view value = trim(item.substr(eq + 1));
    if (key == signature_version) {
      auto mac = normalized_mac(value, digest);
      if (!mac) return std::nullopt;
      out.macs.push_back(std::move(*mac));
    } else if (key == "t" && timestamp_inside) {
      if (saw_timestamp) return std::nullopt;  // two timestamps: which one was signed is ambiguous
      saw_timestamp = true;
      out.timestamp = parse_unix(value);
      if (!out.timestamp) return std::nullopt;
    }
    // Any other key is a scheme version or extension this receiver does not know: ignored.
  }
  if (out.macs.empty()) return std::nullopt;
  if (timestamp_inside && !out.timestamp) return std::nullopt;
  return out;
}

// |now - t| <= tolerance without overflow for any now: t is in [0, 10^18), so the difference taken
// in unsigned arithmetic is exact.
bool within_tolerance(std::int64_t t, std::int64_t now, duration tolerance) noexcept {
  const auto tol_seconds = std::chrono::duration_cast<std::chrono::seconds>(tolerance).count();
  const std::uint64_t tol = tol_seconds < 0 ? 0 : static_cast<std::uint64_t>(tol_seconds);
  const auto ut = static_cast<std::uint64_t>(t);
  const auto un = static_cast<std::uint64_t>(now);
  const std::uint64_t diff = now >= t ? un - ut : ut - un;
  return diff <= tol;
}

}  // namespace

std::string_view to_string(verify_result r) noexcept {
  switch (r) {
    case verify_result::ok: return "ok";
    case verify_result::missing: return "missing";
    case verify_result::malformed: return "malformed";
    case verify_result::stale: return "stale";
    case verify_result::mismatch: return "mismatch";
  }
  return "malformed";
}

signed_headers sign_webhook(const webhook_signature_params& params, std::string_view secret,
                            std::int64_t unix_seconds, std::string_view body) {
  const std::string mac = hmac_hex(params.digest, secret, payload(unix_seconds, body));
  signed_headers out;
  if (params.timestamp_header.empty()) {
    out.push_back({params.signature_header, "t=" + std::to_string(unix_seconds) + ",v1=" + mac});
  } else {
    out.push_back({params.timestamp_header, std::to_string(unix_seconds)});
    out.push_back({params.signature_header, "v1=" + mac});
  }
  return out;
}

verify_result verify_webhook(const webhook_signature_params& params, std::string_view secret,
                             const header_lookup& lookup, std::string_view body, std::int64_t now_unix) {
  if (!lookup) return verify_result::missing;
  const bool timestamp_inside = params.timestamp_header.empty();
  const auto signature = lookup(params.signature_header);
  std::optional<std::string_view> timestamp_value;
  if (!timestamp_inside) timestamp_value = lookup(params.timestamp_header);
  if (!signature || (!timestamp_inside && !timestamp_value)) return verify_result::missing;

  auto parsed = parse_signature(*signature, timestamp_inside, params.digest);
  if (!parsed) return verify_result::malformed;
  if (!timestamp_inside) {
    parsed->timestamp = parse_unix(*timestamp_value);
    if (!parsed->timestamp) return verify_result::malformed;
  }

  const std::string expected = hmac_hex(params.digest, secret, payload(*parsed->timestamp, body));
  bool matched = false;
  // Every entry is compared, so the time taken does not tell which entry (if any) matched.
  for (const auto& mac : parsed->macs) matched = constant_time_equal(mac, expected) || matched;
  if (!matched) return verify_result::mismatch;
  if (!within_tolerance(*parsed->timestamp, now_unix, params.tolerance)) return verify_result::stale;
  return verify_result::ok;
}

verify_result verify_webhook(const webhook_signature_params& params, std::string_view secret,
                             std::span<const header_field> headers, std::string_view body,
                             std::int64_t now_unix) {
  const header_lookup lookup = [headers](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& h : headers) {
      if (iequals(h.name, name)) return std::string_view(h.value);
    }
    return std::nullopt;
  };
  return verify_webhook(params, secret, lookup, body, now_unix);
}

}  // namespace planproof::core
