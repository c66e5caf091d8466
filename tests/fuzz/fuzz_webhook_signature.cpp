// The receiver's signature check on any headers and body, in both header layouts. A signature the
// fuzzer does not know the secret of must never verify; a correctly signed one always does.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/webhook_signature.hpp"

namespace {

constexpr std::string_view secret = "whsec_fuzz";
constexpr std::int64_t now = 1'767'225'600;

// "signature\ntimestamp\nbody": the parts a sender controls.
std::vector<std::string_view> split(std::string_view text, std::size_t parts) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < parts) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    out.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  out.push_back(text);
  while (out.size() < parts) out.emplace_back();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace core = planproof::core;
  if (size == 0) return 0;
  const auto layout = data[0];
  const auto parts = split(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 3);
  core::webhook_signature_params params;
  params.digest = (layout & 1) != 0 ? core::hmac_digest::sha512 : core::hmac_digest::sha256;
  params.signature_header = "Webhook-Signature";
  if ((layout & 2) != 0) params.timestamp_header = "Webhook-Timestamp";
  std::vector<core::header_field> headers;
  if ((layout & 4) == 0) headers.push_back({params.signature_header, std::string(parts[0])});
  if ((layout & 8) == 0 && !params.timestamp_header.empty()) {
    headers.push_back({params.timestamp_header, std::string(parts[1])});
  }
  const auto body = parts[2];
  const auto verdict = core::verify_webhook(params, secret, headers, body, now);
  // Without the secret the fuzzer could only match a MAC by breaking HMAC.
  if (verdict == core::verify_result::ok) std::abort();

  // The same body signed with the secret verifies, whatever the body.
  const auto signed_headers = core::sign_webhook(params, secret, now, body);
  if (core::verify_webhook(params, secret, signed_headers, body, now) != core::verify_result::ok) std::abort();
  return 0;
}
