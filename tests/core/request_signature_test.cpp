// The `auth: hmac` request signature: the documented format pinned by an independent computation,
// every component's tampering caught, the tolerance edges, and hostile or broken headers.
#include "core/request_signature.hpp"

#include <cctype>

#include <gtest/gtest.h>

namespace planproof::core {
namespace {

using namespace std::chrono_literals;
using enum signature_verdict;

constexpr std::string_view key = "whsec_test_key";
constexpr std::string_view body = R"({"amount":1200})";
// sha256sum of the body above and of nothing, computed outside planproof.
constexpr std::string_view body_sha256 = "f9e5779e3418d0cdc4de71fc757a6c75a099ed3030b70edcf818ba4d6776835f";
constexpr std::string_view empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::chrono::sys_seconds t0{std::chrono::seconds(1'700'000'000)};

signature_scheme all_components(hmac_digest d = hmac_digest::sha256) {
  signature_scheme s;
  s.digest = d;
  s.components = {signed_part::method, signed_part::path, signed_part::query,
                  signed_part::timestamp, signed_part::body, signed_part::host};
  return s;
}

request_parts charge() { return {"POST", "/v1/charges/ch%2F1?limit=10&cursor=a%3D", "api.example.com", body}; }

// A signed request as the verifier receives it: the parts plus the headers the signer produced.
struct signed_request {
  request_parts parts;
  std::string timestamp;  // "" when no timestamp header was produced
  std::string signature;
  bool has_timestamp = false;

  presented_signature presented() const {
    presented_signature p;
    p.signature = signature;
    if (has_timestamp) p.timestamp = timestamp;
    return p;
  }
};

signed_request sign(const signature_scheme& s, const request_parts& parts, std::chrono::sys_seconds at = t0) {
  signed_request r{parts};
  for (const auto& [name, value] : sign_request(s, parts, key, at)) {
    if (name == s.timestamp_header) {
      r.timestamp = value;
      r.has_timestamp = true;
    } else if (name == s.signature_header) {
      r.signature = value;
    } else {
      ADD_FAILURE() << "unexpected header " << name;
    }
  }
  return r;
}

signature_verdict verify(const signature_scheme& s, const signed_request& r, std::chrono::sys_seconds now = t0) {
  return verify_request(s, r.parts, r.presented(), key, now).verdict;
}

TEST(request_signature, body_digest_is_hex_sha256) {
  EXPECT_EQ(body_digest_hex(body), body_sha256);
  EXPECT_EQ(body_digest_hex(""), empty_sha256);
}

TEST(request_signature, host_header_value_omits_default_ports) {
  EXPECT_EQ(host_header_value("API.Example.com", 443, true), "api.example.com");
  EXPECT_EQ(host_header_value("api.example.com", 80, false), "api.example.com");
  EXPECT_EQ(host_header_value("api.example.com", 80, true), "api.example.com:80");
  EXPECT_EQ(host_header_value("127.0.0.1", 8443, true), "127.0.0.1:8443");
  EXPECT_EQ(host_header_value("::1", 8080, false), "[::1]:8080");
  EXPECT_EQ(host_header_value("[::1]", 443, true), "[::1]");
}

TEST(request_signature, canonical_string_follows_the_documented_lines) {
  const request_parts parts{"post", "/v1/charges/ch%2F1?limit=10&cursor=a%3D", "API.Example.com:8443", body};
  EXPECT_EQ(canonical_string(all_components(), parts, "1700000000"),
            "POST\n/v1/charges/ch%2F1\nlimit=10&cursor=a%3D\n1700000000\n" + std::string(body_sha256) +
                "\napi.example.com:8443");
  // No query, and an empty one, both give an empty line; an empty body its own digest.
  signature_scheme s;
  s.components = {signed_part::query, signed_part::path, signed_part::body};
  EXPECT_EQ(canonical_string(s, {"GET", "/v1/items", "h", ""}, ""), "\n/v1/items\n" + std::string(empty_sha256));
  EXPECT_EQ(canonical_string(s, {"GET", "/v1/items?", "h", ""}, ""), "\n/v1/items\n" + std::string(empty_sha256));
  // Only the first `?` splits; later ones belong to the query.
  s.components = {signed_part::path, signed_part::query};
  EXPECT_EQ(canonical_string(s, {"GET", "/a?b=?c", "h", ""}, ""), "/a\nb=?c");
  // A component listed twice is written twice.
  s.components = {signed_part::method, signed_part::method};
  EXPECT_EQ(canonical_string(s, {"get", "/", "h", ""}, ""), "GET\nGET");
}

// The fixed vector: built here from the header's description with nothing but hmac_hex, so a change
// to the format (order, separators, digest, prefix) fails this test.
TEST(request_signature, fixed_vector_with_default_components) {
  const signature_scheme s;  // method, path, timestamp, body; Signature, X-Timestamp
  const auto headers = sign_request(s, {"POST", "/v1/charges", "api.example.com", body}, key, t0);
  const std::string canonical = "POST\n/v1/charges\n1700000000\n" + std::string(body_sha256);
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].first, "X-Timestamp");
  EXPECT_EQ(headers[0].second, "1700000000");
  EXPECT_EQ(headers[1].first, "Signature");
  EXPECT_EQ(headers[1].second, "v1=" + hmac_hex(hmac_digest::sha256, key, canonical));
  EXPECT_EQ(headers[1].second.size(), 3u + 64u);
}

TEST(request_signature, fixed_vector_sha512_with_every_component) {
  auto s = all_components(hmac_digest::sha512);
  s.signature_header = "X-Signature";
  s.timestamp_header = "X-Signed-At";
  const auto headers =
      sign_request(s, {"post", "/v1/charges/ch%2F1?limit=10", "API.example.com:8443", body}, key, t0);
  const std::string canonical =
      "POST\n/v1/charges/ch%2F1\nlimit=10\n1700000000\n" + std::string(body_sha256) + "\napi.example.com:8443";
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"X-Signed-At", "1700000000"}));
  EXPECT_EQ(headers[1].first, "X-Signature");
  EXPECT_EQ(headers[1].second, "v1=" + hmac_hex(hmac_digest::sha512, key, canonical));
  EXPECT_EQ(headers[1].second.size(), 3u + 128u);
}

TEST(request_signature, without_a_signed_timestamp_no_timestamp_header_is_sent_or_checked) {
  signature_scheme s;
  s.components = {signed_part::method, signed_part::path, signed_part::body};
  const auto headers = sign_request(s, charge(), key, t0);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].first, "Signature");
  EXPECT_EQ(headers[0].second,
            "v1=" + hmac_hex(hmac_digest::sha256, key, "POST\n/v1/charges/ch%2F1\n" + std::string(body_sha256)));
  // Nothing dates the request, so a day later it still verifies.
  EXPECT_EQ(verify(s, sign(s, charge()), t0 + 24h), ok);
}

TEST(request_signature, signed_requests_verify) {
  for (const auto d : {hmac_digest::sha256, hmac_digest::sha512}) {
    const auto s = all_components(d);
    const auto r = sign(s, charge());
    const auto check = verify_request(s, r.parts, r.presented(), key, t0);
    EXPECT_TRUE(check.ok());
    EXPECT_EQ(check.verdict, ok);
    EXPECT_EQ(check.reason, "signature valid");
  }
  const signature_scheme defaults;
  EXPECT_EQ(verify(defaults, sign(defaults, {"GET", "/v1/items", std::nullopt, ""})), ok);
}

TEST(request_signature, tampering_with_each_component_is_a_mismatch) {
  const auto s = all_components();
  const auto original = sign(s, charge());
  ASSERT_EQ(verify(s, original), ok);

  auto r = original;
  r.parts.method = "PUT";
  EXPECT_EQ(verify(s, r), mismatch) << "method";
  r = original;
  r.parts.target = "/v1/charges/ch%2F2?limit=10&cursor=a%3D";
  EXPECT_EQ(verify(s, r), mismatch) << "path";
  r = original;
  r.parts.target = "/v1/charges/ch/1?limit=10&cursor=a%3D";  // decoding the path is tampering too
  EXPECT_EQ(verify(s, r), mismatch) << "path encoding";
  r = original;
  r.parts.target = "/v1/charges/ch%2F1?limit=1000&cursor=a%3D";
  EXPECT_EQ(verify(s, r), mismatch) << "query";
  r = original;
  r.parts.target = "/v1/charges/ch%2F1";
  EXPECT_EQ(verify(s, r), mismatch) << "query removed";
  r = original;
  r.timestamp = "1700000001";  // still fresh, but not what was signed
  EXPECT_EQ(verify(s, r), mismatch) << "timestamp";
  r = original;
  r.parts.body = R"({"amount":1201})";
  EXPECT_EQ(verify(s, r), mismatch) << "body";
  r = original;
  r.parts.host = "evil.example.com";
  EXPECT_EQ(verify(s, r), mismatch) << "host";
  r = original;
  r.signature[5] = r.signature[5] == 'a' ? 'b' : 'a';
  EXPECT_EQ(verify(s, r), mismatch) << "signature";
  EXPECT_EQ(verify_request(s, original.parts, original.presented(), "another key", t0).verdict, mismatch);
}

TEST(request_signature, verifier_case_differences_that_the_format_normalizes) {
  const auto s = all_components();
  auto r = sign(s, charge());
  r.parts.method = "post";            // method is upper-cased on both sides
  r.parts.host = "API.EXAMPLE.COM";   // host is lower-cased on both sides
  for (std::size_t i = 3; i < r.signature.size(); ++i) {
    r.signature[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(r.signature[i])));
  }
  EXPECT_EQ(verify(s, r), ok);
}

TEST(request_signature, components_left_out_are_not_covered) {
  const signature_scheme s;  // no query, no host
  auto r = sign(s, charge());
  r.parts.target = "/v1/charges/ch%2F1?limit=99";
  r.parts.host = "other.example.com";
  EXPECT_EQ(verify(s, r), ok);
}

TEST(request_signature, tolerance_edges_are_inclusive) {
  auto s = all_components();
  s.tolerance = 5min;
  const auto r = sign(s, charge());
  EXPECT_EQ(verify(s, r, t0 + 5min), ok);
  EXPECT_EQ(verify(s, r, t0 - 5min), ok);
  EXPECT_EQ(verify(s, r, t0 + 5min + 1s), stale);
  EXPECT_EQ(verify(s, r, t0 - 5min - 1s), stale);
  const auto check = verify_request(s, r.parts, r.presented(), key, t0 + 1h);
  EXPECT_EQ(check.verdict, stale);
  EXPECT_EQ(check.reason, "timestamp outside the accepted clock skew");

  s.tolerance = 1500ms;  // whole-second timestamps: 1 s away is in, 2 s away out
  EXPECT_EQ(verify(s, r, t0 + 1s), ok);
  EXPECT_EQ(verify(s, r, t0 + 2s), stale);
  s.tolerance = 0s;
  EXPECT_EQ(verify(s, r, t0), ok);
  EXPECT_EQ(verify(s, r, t0 + 1s), stale);
}

TEST(request_signature, a_forgery_is_a_mismatch_whatever_its_age) {
  const auto s = all_components();
  auto r = sign(s, charge(), t0 - 1h);
  r.signature[3] = r.signature[3] == '0' ? '1' : '0';
  EXPECT_EQ(verify(s, r), mismatch);
}

TEST(request_signature, missing_headers) {
  const auto s = all_components();
  const auto r = sign(s, charge());

  presented_signature p = r.presented();
  p.signature.reset();
  auto check = verify_request(s, r.parts, p, key, t0);
  EXPECT_EQ(check.verdict, missing);
  EXPECT_EQ(check.reason, "signature header missing");

  p = r.presented();
  p.timestamp.reset();
  check = verify_request(s, r.parts, p, key, t0);
  EXPECT_EQ(check.verdict, missing);
  EXPECT_EQ(check.reason, "timestamp header missing");

  auto parts = r.parts;
  parts.host.reset();
  check = verify_request(s, parts, r.presented(), key, t0);
  EXPECT_EQ(check.verdict, missing);
  EXPECT_EQ(check.reason, "Host header missing");
}

TEST(request_signature, malformed_signature_headers) {
  const auto s = all_components();
  const auto r = sign(s, charge());
  const std::string hex = r.signature.substr(3);
  for (const std::string& bad : {std::string{}, std::string("v1="), hex, "v2=" + hex, "V1=" + hex, " v1=" + hex,
                                "v1=" + hex + "0", "v1=" + hex.substr(1), "v1=" + hex.substr(1) + "g",
                                "v1=" + hex + "," + "v1=" + hex, "sha256=" + hex}) {
    auto p = r.presented();
    p.signature = bad;
    const auto check = verify_request(s, r.parts, p, key, t0);
    EXPECT_EQ(check.verdict, malformed) << bad;
    EXPECT_EQ(check.reason, "signature header is not v1=<hex HMAC>") << bad;
  }
  // A SHA-512 signature under a SHA-256 scheme has the wrong length.
  const auto long_one = sign(all_components(hmac_digest::sha512), charge());
  auto p = r.presented();
  p.signature = long_one.signature;
  EXPECT_EQ(verify_request(s, r.parts, p, key, t0).verdict, malformed);
}

TEST(request_signature, malformed_timestamps) {
  const auto s = all_components();
  const auto r = sign(s, charge());
  for (const std::string_view bad : {"", "-1700000000", "+1700000000", "1700000000.5", "1.7e9", " 1700000000",
                                     "0x6553f100", "1234567890123456", "Tue, 14 Nov 2023 22:13:20 GMT"}) {
    auto p = r.presented();
    p.timestamp = bad;
    const auto check = verify_request(s, r.parts, p, key, t0);
    EXPECT_EQ(check.verdict, malformed) << bad;
    EXPECT_EQ(check.reason, "timestamp header is not Unix seconds") << bad;
  }
  // Fifteen digits parse (and are stale, if they were signed); the limit keeps arithmetic exact.
  auto r15 = sign(s, charge(), std::chrono::sys_seconds(std::chrono::seconds(999'999'999'999'999)));
  EXPECT_EQ(r15.timestamp, "999999999999999");
  EXPECT_EQ(verify(s, r15), stale);
}

TEST(request_signature, line_breaks_in_components_are_malformed) {
  const auto s = all_components();
  auto r = sign(s, charge());
  r.parts.target = "/v1/charges\n/x";
  EXPECT_EQ(verify(s, r), malformed);
  r = sign(s, charge());
  r.parts.host = "api.example.com\r";
  EXPECT_EQ(verify(s, r), malformed);
  r = sign(s, charge());
  r.parts.method = "PO\nST";
  EXPECT_EQ(verify(s, r), malformed);
}

TEST(request_signature, huge_inputs_are_bounded) {
  const auto s = all_components();
  // Large but legitimate: a 16 MiB body and a 64 KiB target sign and verify.
  const std::string big_body(16u << 20, 'x');
  const std::string big_target = "/upload?" + std::string(64u << 10, 'q');
  const auto r = sign(s, {"PUT", big_target, "api.example.com", big_body});
  EXPECT_EQ(verify(s, r), ok);

  // Hostile headers are refused by their length before any hashing.
  const std::string huge_signature = "v1=" + std::string(1u << 20, 'a');
  const std::string huge_timestamp(1u << 20, '9');
  auto p = r.presented();
  p.signature = huge_signature;
  EXPECT_EQ(verify_request(s, r.parts, p, key, t0).verdict, malformed);
  p = r.presented();
  p.timestamp = huge_timestamp;
  EXPECT_EQ(verify_request(s, r.parts, p, key, t0).verdict, malformed);
}

TEST(request_signature, names) {
  EXPECT_EQ(to_string(signed_part::method), "method");
  EXPECT_EQ(to_string(signed_part::path), "path");
  EXPECT_EQ(to_string(signed_part::query), "query");
  EXPECT_EQ(to_string(signed_part::timestamp), "timestamp");
  EXPECT_EQ(to_string(signed_part::body), "body");
  EXPECT_EQ(to_string(signed_part::host), "host");
  EXPECT_EQ(to_string(ok), "ok");
  EXPECT_EQ(to_string(missing), "missing");
  EXPECT_EQ(to_string(malformed), "malformed");
  EXPECT_EQ(to_string(mismatch), "mismatch");
  EXPECT_EQ(to_string(stale), "stale");
}

}  // namespace
}  // namespace planproof::core
