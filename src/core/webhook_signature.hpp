// Webhook signatures as providers send them and receivers must check them: pure signing and
// verification, no I/O. The mocks sign deliveries with it; planproof judges receivers with it.
//
// Format. The signed payload is `<unix seconds>.<raw body>` (decimal seconds, no sign, then a dot,
// then the body bytes exactly as sent). The MAC is the lower-case hex HMAC of that payload keyed by
// the secret, SHA-256 or SHA-512 (core::hmac_hex). Two header layouts:
//   - no timestamp header (Stripe style): the signature header carries `t=<unix>,v1=<hex>`;
//   - with a timestamp header: that header carries `<unix>` and the signature header `v1=<hex>`.
// The signature header is a comma-separated list of `key=value` items (spaces around items are
// ignored). A receiver accepts the delivery when any `v1=` entry matches (a provider rotating its
// secret sends one per secret) and ignores keys it does not know (`v0=`, a scheme's future keys).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hmac.hpp"
#include "core/units.hpp"

namespace planproof::core {

using namespace std::chrono_literals;

// How a webhook endpoint signs. Plain fields rather than plan::signature_config because core sits
// below plan in the dependency order; mocks map one to the other.
struct webhook_signature_params {
  hmac_digest digest = hmac_digest::sha256;
  std::string signature_header;  // required
  std::string timestamp_header;  // empty: the timestamp is the `t=` item of the signature header
  duration tolerance = 5min;     // |now - timestamp| accepted, both ways (replays and skewed clocks)
};

struct header_field {
  std::string name;
  std::string value;
  bool operator==(const header_field&) const = default;
};
using signed_headers = std::vector<header_field>;

// The headers to send with `body` signed at `unix_seconds` (>= 0): the timestamp header first when
// there is one, then the signature header.
signed_headers sign_webhook(const webhook_signature_params& params, std::string_view secret,
                            std::int64_t unix_seconds, std::string_view body);

// Why a delivery is accepted or not. Checked in this order: a header absent (missing), a header that
// does not parse (malformed), no `v1=` entry equal to the MAC (mismatch), a timestamp outside
// ±tolerance of `now` (stale, edges included as valid). The MAC is checked before the age so that
// `stale` means "authentic but replayed or skewed" and a forgery is `mismatch` whatever it claims.
enum class verify_result { ok, missing, malformed, stale, mismatch };
std::string_view to_string(verify_result r) noexcept;

// Looks a header up by name (case-insensitively, as HTTP names are); nullopt when absent.
using header_lookup = std::function<std::optional<std::string_view>(std::string_view name)>;

// Limits on what a receiver reads before judging: a signature header longer than this, or with more
// items, is malformed rather than parsed (a hostile sender controls it).
inline constexpr std::size_t max_signature_header_size = 8 * 1024;
inline constexpr std::size_t max_signature_items = 32;

// Never throws and never reads beyond the headers' own bytes; a present but empty header is
// malformed, an absent one missing.
verify_result verify_webhook(const webhook_signature_params& params, std::string_view secret,
                             const header_lookup& lookup, std::string_view body, std::int64_t now_unix);
// The same over a list of headers (first match by case-insensitive name).
verify_result verify_webhook(const webhook_signature_params& params, std::string_view secret,
                             std::span<const header_field> headers, std::string_view body,
                             std::int64_t now_unix);

}  // namespace planproof::core
