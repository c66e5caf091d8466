// HMAC signatures and constant-time comparison, for webhook signatures and signed requests. Both
// sides of planproof use them: the mocks sign deliveries and verify signed requests, the client signs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace planproof::core {

enum class hmac_digest { sha256, sha512 };

// Lower-case hex of HMAC(key, data).
std::string hmac_hex(hmac_digest digest, std::string_view key, std::string_view data);

// How many hex digits hmac_hex gives for `digest`: 64 (SHA-256) or 128 (SHA-512).
std::size_t hex_length(hmac_digest digest) noexcept;

// Lower-case hex of `bytes`.
std::string to_hex(std::span<const unsigned char> bytes);

// A signature timestamp, Unix seconds as ASCII digits only (no sign, no spaces), at most
// `max_digits` of them; nullopt otherwise. max_digits <= 18 keeps the value inside an int64.
std::optional<std::int64_t> parse_unix_seconds(std::string_view digits, std::size_t max_digits) noexcept;

// Whether a and b are equal, taking the same time whatever bytes differ (only a length mismatch
// returns early: lengths of signatures are public).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace planproof::core
