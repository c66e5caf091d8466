#include "core/hmac.hpp"

#include <array>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace planproof::core {

std::string hmac_hex(hmac_digest digest, std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  const EVP_MD* md = digest == hmac_digest::sha512 ? EVP_sha512() : EVP_sha256();
  // One-shot HMAC cannot fail for these digests with in-memory input; an empty result would make
  // every comparison fail, which is the safe direction.
  if (HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), mac.data(), &length) == nullptr) {
    return {};
  }
  return to_hex(std::span(mac.data(), length));
}

std::size_t hex_length(hmac_digest digest) noexcept { return digest == hmac_digest::sha512 ? 128 : 64; }

std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

std::optional<std::int64_t> parse_unix_seconds(std::string_view digits, std::size_t max_digits) noexcept {
  if (digits.empty() || digits.size() > max_digits) return std::nullopt;
  std::int64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace planproof::core
