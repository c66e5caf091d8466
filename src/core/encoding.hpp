// The text encodings credentials travel in: base64 (HTTP Basic), base64url (tokens, JWT) and
// application/x-www-form-urlencoded (OAuth2 token requests).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace planproof::core {

// RFC 4648 section 4, with padding.
std::string base64_encode(std::string_view bytes);
// RFC 4648 section 5, without padding (as JWT and opaque tokens use it).
std::string base64url_encode(std::string_view bytes);
// Standard base64 with padding, strictly: wrong length, characters outside the alphabet, or
// non-zero bits under the padding are refused, so a credential never decodes two ways.
std::optional<std::string> base64_decode(std::string_view text);
// base64url without padding, as strictly: padding, `+` or `/` are refused.
std::optional<std::string> base64url_decode(std::string_view text);

// Characters (code points) in UTF-8 text: bytes that do not continue a sequence. JSON Schema's and
// the mapping's lengths count these, not bytes.
std::size_t utf8_length(std::string_view text) noexcept;

// One form name or value: unreserved characters as they are, space as `+`, the rest as %XX.
std::string form_encode(std::string_view text);
// The reverse: `+` is a space, `%XX` a byte. A `%` not followed by two hex digits is refused
// rather than passed through, so a client that forgot to encode its secret is told so.
std::optional<std::string> form_decode(std::string_view text);

}  // namespace planproof::core
