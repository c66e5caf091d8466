// Webhook signing and verification: the format pinned by a vector computed independently (Python's
// hmac module), both header layouts, rotation, and every way a delivery can be wrong.
#include "core/webhook_signature.hpp"

#include <cctype>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace planproof::core {
namespace {

constexpr std::string_view secret = "whsec_test";
constexpr std::string_view body = R"({"id":"evt_1"})";
constexpr std::int64_t t0 = 1'700'000'000;
// HMAC-SHA256("whsec_test", "1700000000.{"id":"evt_1"}") and the same with SHA-512.
constexpr std::string_view mac256 = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925";
constexpr std::string_view mac512 =
    "29802fda59098918840a210b11523d6f88b9ee1150fd4c08ab15b091820f6d5ca5776cd825b811336324ff25c86cf9c0"
    "68c4110b6ebbc20240797e22632abbab";

webhook_signature_params stripe_style() {
  return {.digest = hmac_digest::sha256, .signature_header = "Webhook-Signature", .tolerance = 5min};
}

webhook_signature_params separate_timestamp() {
  return {.digest = hmac_digest::sha256,
          .signature_header = "ParcelHub-Signature",
          .timestamp_header = "ParcelHub-Timestamp",
          .tolerance = 5min};
}

verify_result verify(const webhook_signature_params& p, const signed_headers& h, std::string_view b = body,
                     std::int64_t now = t0, std::string_view key = secret) {
  return verify_webhook(p, key, std::span<const header_field>(h), b, now);
}

TEST(webhook_signature, fixed_vector_in_the_stripe_layout) {
  const auto h = sign_webhook(stripe_style(), secret, t0, body);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].name, "Webhook-Signature");
  EXPECT_EQ(h[0].value, "t=1700000000,v1=" + std::string(mac256));
  EXPECT_EQ(verify(stripe_style(), h), verify_result::ok);
}

TEST(webhook_signature, fixed_vector_with_a_timestamp_header) {
  const auto h = sign_webhook(separate_timestamp(), secret, t0, body);
  const signed_headers expected{{"ParcelHub-Timestamp", "1700000000"},
                                {"ParcelHub-Signature", "v1=" + std::string(mac256)}};
  EXPECT_EQ(h, expected);
  EXPECT_EQ(verify(separate_timestamp(), h), verify_result::ok);
}

TEST(webhook_signature, sha512) {
  auto p = stripe_style();
  p.digest = hmac_digest::sha512;
  const auto h = sign_webhook(p, secret, t0, body);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].value, "t=1700000000,v1=" + std::string(mac512));
  EXPECT_EQ(verify(p, h), verify_result::ok);
  // A SHA-256 MAC where SHA-512 is configured has the wrong length: not even a candidate.
  EXPECT_EQ(verify(stripe_style(), h), verify_result::malformed);
  EXPECT_EQ(verify(p, sign_webhook(stripe_style(), secret, t0, body)), verify_result::malformed);
}

TEST(webhook_signature, header_names_are_case_insensitive_and_spaces_around_items_ignored) {
  const signed_headers h{{"webhook-signature", " t=1700000000 , v1=" + std::string(mac256) + " "}};
  EXPECT_EQ(verify(stripe_style(), h), verify_result::ok);
  // Upper-case hex means the same bytes.
  std::string upper(mac256);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(verify(stripe_style(), {{"Webhook-Signature", "t=1700000000,v1=" + upper}}), verify_result::ok);
}

TEST(webhook_signature, rotation_accepts_any_of_several_v1_entries_and_ignores_unknown_keys) {
  const std::string old_secret_mac = hmac_hex(hmac_digest::sha256, "whsec_old", "1700000000." + std::string(body));
  const signed_headers first_matches{
      {"Webhook-Signature", "t=1700000000,v1=" + std::string(mac256) + ",v1=" + old_secret_mac}};
  const signed_headers second_matches{
      {"Webhook-Signature", "t=1700000000,v0=deadbeef,v1=" + old_secret_mac + ",v1=" + std::string(mac256) +
                                ",scheme=v2,x=,"}};
  EXPECT_EQ(verify(stripe_style(), first_matches), verify_result::ok);
  EXPECT_EQ(verify(stripe_style(), second_matches), verify_result::ok);
  EXPECT_EQ(verify(stripe_style(), second_matches, body, t0, "whsec_old"), verify_result::ok);
  EXPECT_EQ(verify(stripe_style(), second_matches, body, t0, "whsec_other"), verify_result::mismatch);
  // With a timestamp header, a `t=` inside the signature header is just another unknown key.
  const signed_headers with_t{{"ParcelHub-Timestamp", "1700000000"},
                              {"ParcelHub-Signature", "t=1,v1=" + std::string(mac256)}};
  EXPECT_EQ(verify(separate_timestamp(), with_t), verify_result::ok);
}

TEST(webhook_signature, tampered_body_and_wrong_secret_mismatch) {
  for (const auto& p : {stripe_style(), separate_timestamp()}) {
    const auto h = sign_webhook(p, secret, t0, body);
    EXPECT_EQ(verify(p, h, R"({"id":"evt_2"})"), verify_result::mismatch);
    EXPECT_EQ(verify(p, h, std::string(body) + " "), verify_result::mismatch);
    EXPECT_EQ(verify(p, h, ""), verify_result::mismatch);
    EXPECT_EQ(verify(p, h, body, t0, "whsec_tesT"), verify_result::mismatch);
    EXPECT_EQ(verify(p, h, body, t0, ""), verify_result::mismatch);
  }
}

TEST(webhook_signature, a_changed_timestamp_breaks_the_mac) {
  // Replaying an old delivery with a fresh timestamp must not pass: the timestamp is signed.
  const signed_headers h{{"Webhook-Signature", "t=1700000001,v1=" + std::string(mac256)}};
  EXPECT_EQ(verify(stripe_style(), h), verify_result::mismatch);
  const signed_headers separate{{"ParcelHub-Timestamp", "1700000001"},
                                {"ParcelHub-Signature", "v1=" + std::string(mac256)}};
  EXPECT_EQ(verify(separate_timestamp(), separate), verify_result::mismatch);
}

TEST(webhook_signature, tolerance_edges_in_both_directions) {
  for (const auto& p : {stripe_style(), separate_timestamp()}) {
    const auto h = sign_webhook(p, secret, t0, body);
    EXPECT_EQ(verify(p, h, body, t0 + 300), verify_result::ok);     // exactly 5 minutes old
    EXPECT_EQ(verify(p, h, body, t0 + 301), verify_result::stale);  // one second more
    EXPECT_EQ(verify(p, h, body, t0 - 300), verify_result::ok);     // 5 minutes in the future
    EXPECT_EQ(verify(p, h, body, t0 - 301), verify_result::stale);
    EXPECT_EQ(verify(p, h, body, 0), verify_result::stale);
    // Extreme clocks never overflow into "fresh".
    EXPECT_EQ(verify(p, h, body, std::numeric_limits<std::int64_t>::max()), verify_result::stale);
    EXPECT_EQ(verify(p, h, body, std::numeric_limits<std::int64_t>::min()), verify_result::stale);
  }
  auto zero = stripe_style();
  zero.tolerance = 0s;
  const auto h = sign_webhook(zero, secret, t0, body);
  EXPECT_EQ(verify(zero, h, body, t0), verify_result::ok);
  EXPECT_EQ(verify(zero, h, body, t0 + 1), verify_result::stale);
  // A stale and forged delivery is a forgery first.
  EXPECT_EQ(verify(zero, h, "other", t0 + 1000), verify_result::mismatch);
}

TEST(webhook_signature, missing_headers) {
  EXPECT_EQ(verify(stripe_style(), {}), verify_result::missing);
  EXPECT_EQ(verify(stripe_style(), {{"Other", "t=1,v1=x"}}), verify_result::missing);
  const auto h = sign_webhook(separate_timestamp(), secret, t0, body);
  EXPECT_EQ(verify(separate_timestamp(), {h[0]}), verify_result::missing);  // no signature
  EXPECT_EQ(verify(separate_timestamp(), {h[1]}), verify_result::missing);  // no timestamp
  EXPECT_EQ(verify_webhook(stripe_style(), secret, header_lookup{}, body, t0), verify_result::missing);
}

TEST(webhook_signature, malformed_headers) {
  const std::string mac(mac256);
  const std::vector<std::string> stripe_values{
      "",
      "   ",
      ",",
      "garbage",
      "t=1700000000",                         // no v1
      "v1=" + mac,                            // no t
      "t=,v1=" + mac,                         // empty timestamp
      "t=-1700000000,v1=" + mac,              // signed
      "t=17e8,v1=" + mac,                     // not an integer
      "t=1700000000,t=1700000000,v1=" + mac,  // two timestamps
      "t=99999999999999999999,v1=" + mac,     // beyond int64
      "t=1700000000,v1=" + mac.substr(1),     // short MAC
      "t=1700000000,v1=" + mac + "00",        // long MAC
      "t=1700000000,v1=" + std::string(64, 'g'),
      "t=1700000000,v1=",
      "t=1700000000,=" + mac,
      "t=1700000000 v1=" + mac,
      std::string("t=1700000000,v1=") + std::string(60, 'a') + std::string("\0\0\0\0", 4),
  };
  for (const auto& v : stripe_values) {
    SCOPED_TRACE(v);
    EXPECT_EQ(verify(stripe_style(), {{"Webhook-Signature", v}}), verify_result::malformed);
  }
  const std::vector<std::pair<std::string, std::string>> separate_values{
      {"1700000000", ""},
      {"1700000000", "garbage"},
      {"", "v1=" + mac},
      {"soon", "v1=" + mac},
      {"1700000000.5", "v1=" + mac},
      {"0x65", "v1=" + mac},
  };
  for (const auto& [ts, sig] : separate_values) {
    SCOPED_TRACE(ts + " / " + sig);
    EXPECT_EQ(verify(separate_timestamp(), {{"ParcelHub-Timestamp", ts}, {"ParcelHub-Signature", sig}}),
              verify_result::malformed);
  }
}

TEST(webhook_signature, huge_and_hostile_headers_are_malformed_not_a_crash) {
  const std::string mac(mac256);
  // A valid entry buried past the size limit is not looked for.
  const std::string huge = "t=1700000000," + std::string(max_signature_header_size, 'x') + "=1,v1=" + mac;
  EXPECT_EQ(verify(stripe_style(), {{"Webhook-Signature", huge}}), verify_result::malformed);
  std::string many = "t=1700000000";
  for (std::size_t i = 0; i < max_signature_items; ++i) many += ",k=v";
  many += ",v1=" + mac;
  EXPECT_EQ(verify(stripe_style(), {{"Webhook-Signature", many}}), verify_result::malformed);
  // Just under the item limit still parses.
  std::string enough = "t=1700000000";
  for (std::size_t i = 0; i + 2 < max_signature_items; ++i) enough += ",k=v";
  enough += ",v1=" + mac;
  EXPECT_EQ(verify(stripe_style(), {{"Webhook-Signature", enough}}), verify_result::ok);
  EXPECT_EQ(verify(separate_timestamp(),
                   {{"ParcelHub-Timestamp", std::string(1'000'000, '9')}, {"ParcelHub-Signature", "v1=" + mac}}),
            verify_result::malformed);
  // Every byte value in a header, one at a time: a result, never a crash.
  for (int c = 0; c < 256; ++c) {
    std::string v = "t=1700000000,v1=" + mac;
    v[static_cast<std::size_t>(c) % v.size()] = static_cast<char>(c);
    const auto r = verify(stripe_style(), {{"Webhook-Signature", v}});
    EXPECT_NE(r, verify_result::missing);
  }
}

TEST(webhook_signature, results_have_names) {
  EXPECT_EQ(to_string(verify_result::ok), "ok");
  EXPECT_EQ(to_string(verify_result::missing), "missing");
  EXPECT_EQ(to_string(verify_result::malformed), "malformed");
  EXPECT_EQ(to_string(verify_result::stale), "stale");
  EXPECT_EQ(to_string(verify_result::mismatch), "mismatch");
}

}  // namespace
}  // namespace planproof::core
