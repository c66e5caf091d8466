// Whether a secret reached anything a command wrote: every file under a directory and what the
// commands printed, searched for the secrets in whole and base64-encoded, HMAC signatures as
// clients send them (v1=<64 hex>) and Authorization credentials (Bearer or Basic and a token).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "support/process.hpp"

namespace planproof::test {

struct output {
  std::string name;
  std::string text;
};

// Every regular file under `dir`, after what the commands printed.
inline std::vector<output> everything_written(const std::filesystem::path& dir, std::vector<output> printed) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) printed.push_back({entry.path().string(), read_file(entry.path())});
  }
  return printed;
}

namespace detail {

inline bool hex64_at(std::string_view text, std::size_t at) {
  if (text.size() - at < 64) return false;
  for (std::size_t i = at; i < at + 64; ++i) {
    const char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

inline std::size_t token_length(std::string_view text, std::size_t at) {
  std::size_t n = 0;
  for (; at + n < text.size(); ++n) {
    const char c = text[at + n];
    const bool token = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       std::string_view("+/=._~-").find(c) != std::string_view::npos;
    if (!token) break;
  }
  return n;
}

}  // namespace detail

// Fails naming the output and what was found in it; the secrets themselves are never printed.
inline testing::AssertionResult no_secret_in(const std::vector<output>& outputs, const std::vector<std::string>& secrets) {
  for (const auto& o : outputs) {
    const std::string_view text = o.text;
    for (std::size_t s = 0; s < secrets.size(); ++s) {
      const auto& secret = secrets[s];
      if (text.find(secret) != std::string_view::npos) {
        return testing::AssertionFailure() << "secret #" << s + 1 << " is in " << o.name;
      }
      // Only the secret's whole 3-byte groups: the tail's encoding depends on what follows it.
      const auto whole = std::string_view(secret).substr(0, secret.size() / 3 * 3);
      for (const auto& encoded : {core::base64_encode(whole), core::base64url_encode(whole)}) {
        if (encoded.size() >= 12 && text.find(encoded) != std::string_view::npos) {
          return testing::AssertionFailure() << "secret #" << s + 1 << " (base64) is in " << o.name;
        }
      }
    }
    for (auto at = text.find("v1="); at != std::string_view::npos; at = text.find("v1=", at + 1)) {
      if (detail::hex64_at(text, at + 3)) return testing::AssertionFailure() << "a signature is in " << o.name;
    }
    for (const std::string_view scheme : {"Bearer ", "Basic "}) {
      for (auto at = text.find(scheme); at != std::string_view::npos; at = text.find(scheme, at + 1)) {
        if (detail::token_length(text, at + scheme.size()) >= 8) {
          return testing::AssertionFailure() << "a credential (" << scheme << "...) is in " << o.name;
        }
      }
    }
  }
  return testing::AssertionSuccess();
}

}  // namespace planproof::test
