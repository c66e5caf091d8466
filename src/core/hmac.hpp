// HMAC signatures and constant-time comparison, for webhook signatures and signed requests. Both
// sides of planproof use them: the mocks sign deliveries and verify signed requests, the client signs.
#pragma once

#include <string>
#include <string_view>

namespace planproof::core {

enum class hmac_digest { sha256, sha512 };

// Lower-case hex of HMAC(key, data).
std::string hmac_hex(hmac_digest digest, std::string_view key, std::string_view data);

// Whether a and b are equal, taking the same time whatever bytes differ (only a length mismatch
// returns early: lengths of signatures are public).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace planproof::core
