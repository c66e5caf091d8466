// The mock OAuth2 authorization server without sockets: every success and refusal of the token
// endpoint, token state against a manual clock, bearer challenges, the plan mappings, and input a
// hostile client could send.
#include "mocks/token_authority.hpp"

#include <cctype>
#include <random>
#include <set>
#include <thread>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "plan/model.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
namespace json = boost::json;
using request = token_authority::request;
using response = token_authority::response;

constexpr std::string_view form_type = "application/x-www-form-urlencoded";

token_authority_config default_config() {
  token_authority_config c;
  c.client_id = "client-1";
  c.client_secret = "s3cret";
  c.scopes = {"payments:read", "payments:write"};
  c.expires_in = 1h;
  c.seed = 7;
  return c;
}

// Written here rather than taken from the unit under test, so both sides are independent.
std::string base64(std::string_view in) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t g = std::uint32_t(static_cast<unsigned char>(in[i])) << 16 |
                            std::uint32_t(static_cast<unsigned char>(in[i + 1])) << 8 |
                            static_cast<unsigned char>(in[i + 2]);
    for (int k = 3; k >= 0; --k) out += alphabet[(g >> (6 * k)) & 0x3f];
  }
  if (const auto rest = in.size() - i; rest > 0) {
    std::uint32_t g = std::uint32_t(static_cast<unsigned char>(in[i])) << 16;
    if (rest == 2) g |= std::uint32_t(static_cast<unsigned char>(in[i + 1])) << 8;
    out += alphabet[(g >> 18) & 0x3f];
    out += alphabet[(g >> 12) & 0x3f];
    out += rest == 2 ? alphabet[(g >> 6) & 0x3f] : '=';
    out += '=';
  }
  return out;
}

// application/x-www-form-urlencoded: unreserved bytes as they are, space as `+`, the rest %XX.
std::string form_encode(std::string_view in) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0f];
    }
  }
  return out;
}

std::string basic(std::string_view id, std::string_view secret) {
  return "Basic " + base64(form_encode(id) + ":" + form_encode(secret));
}

request token_request(std::string body, std::string_view content_type = form_type) {
  request req{http::verb::post, "/oauth/token", 11};
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

request post_auth(std::string extra = {}) {
  return token_request("grant_type=client_credentials&client_id=client-1&client_secret=s3cret" + extra);
}

request basic_auth(std::string body = "grant_type=client_credentials") {
  auto req = token_request(std::move(body));
  req.set(http::field::authorization, basic("client-1", "s3cret"));
  return req;
}

json::object body_of(const response& res) {
  boost::system::error_code ec;
  auto v = json::parse(res.body(), ec);
  EXPECT_FALSE(ec) << res.body();
  return v.is_object() ? v.as_object() : json::object{};
}

std::string header(const response& res, http::field f) { return std::string(res[f]); }

// A refusal as RFC 6749 section 5.2 shapes it; returns the error code for further checks.
std::string expect_error(const response& res, unsigned status, std::string_view error) {
  EXPECT_EQ(res.result_int(), status) << res.body();
  EXPECT_EQ(header(res, http::field::content_type), "application/json");
  EXPECT_EQ(header(res, http::field::cache_control), "no-store");
  const auto body = body_of(res);
  const auto* code = body.if_contains("error");
  EXPECT_TRUE(code && code->is_string()) << res.body();
  EXPECT_TRUE(body.contains("error_description")) << res.body();
  if (status == 401) {
    EXPECT_EQ(header(res, http::field::www_authenticate), R"(Basic realm="planproof")");
  } else {
    EXPECT_EQ(res.count(http::field::www_authenticate), 0u);
  }
  const std::string got = code && code->is_string() ? std::string(code->as_string()) : "";
  EXPECT_EQ(got, error) << res.body();
  return got;
}

std::string token_of(const response& res) {
  const auto body = body_of(res);
  const auto* t = body.if_contains("access_token");
  return t && t->is_string() ? std::string(t->as_string()) : "";
}

class token_authority_test : public ::testing::Test {
 protected:
  core::manual_clock clock_{core::time_point{} + 1000s};
  token_authority authority_{default_config(), clock_};

  std::string issue(request req) {
    const auto res = authority_.handle_token_request(req);
    EXPECT_EQ(res.result_int(), 200u) << res.body();
    return token_of(res);
  }
};

// ---- the token endpoint: successes ----------------------------------------------------------

TEST_F(token_authority_test, client_secret_post_gets_a_bearer_token_for_every_scope) {
  const auto res = authority_.handle_token_request(post_auth());
  ASSERT_EQ(res.result_int(), 200u) << res.body();
  EXPECT_EQ(header(res, http::field::content_type), "application/json");
  EXPECT_EQ(header(res, http::field::cache_control), "no-store");
  EXPECT_EQ(header(res, http::field::pragma), "no-cache");
  EXPECT_EQ(header(res, http::field::content_length), std::to_string(res.body().size()));
  EXPECT_EQ(res.count(http::field::www_authenticate), 0u);
  const auto body = body_of(res);
  EXPECT_EQ(body.size(), 4u) << res.body();
  EXPECT_EQ(body.at("token_type"), "Bearer");
  EXPECT_EQ(body.at("expires_in"), 3600);
  EXPECT_EQ(body.at("scope"), "payments:read payments:write");
  const std::string token(body.at("access_token").as_string());

  const auto c = authority_.check(token);
  EXPECT_EQ(c.status, token_status::valid);
  EXPECT_EQ(c.scopes, (std::vector<std::string>{"payments:read", "payments:write"}));
  EXPECT_EQ(c.expires_at, clock_.now() + 1h);
  EXPECT_EQ(c.audience, "");
  EXPECT_EQ(authority_.stats().issued, 1u);
  EXPECT_EQ(authority_.stats().refused_total(), 0u);
}

TEST_F(token_authority_test, client_secret_basic_gets_a_token) {
  const auto token = issue(basic_auth());
  EXPECT_EQ(authority_.check(token).status, token_status::valid);
  // The scheme name is case-insensitive, and a matching client_id in the body is allowed.
  auto req = basic_auth("grant_type=client_credentials&client_id=client-1");
  req.set(http::field::authorization, "basic " + base64("client-1:s3cret"));
  EXPECT_EQ(authority_.check(issue(req)).status, token_status::valid);
}

TEST_F(token_authority_test, a_charset_parameter_and_case_in_the_content_type_are_accepted) {
  auto req = post_auth();
  req.set(http::field::content_type, "Application/X-WWW-Form-URLEncoded ; charset=UTF-8");
  EXPECT_FALSE(issue(req).empty());
}

TEST_F(token_authority_test, unknown_and_empty_parameters_are_ignored) {
  EXPECT_FALSE(issue(post_auth("&foo=bar&&state=")).empty());
  // `scope=` is as if no scope was sent: every scope.
  const auto res = authority_.handle_token_request(post_auth("&scope="));
  EXPECT_EQ(body_of(res).at("scope"), "payments:read payments:write");
}

TEST(token_authority, percent_encoded_credentials_work_by_basic_and_post) {
  core::manual_clock clock;
  auto config = default_config();
  config.client_id = "my client:1";
  config.client_secret = "p@ss:w%rd+/=& ü";
  token_authority authority(config, clock);

  auto req = token_request("grant_type=client_credentials");
  req.set(http::field::authorization, basic(config.client_id, config.client_secret));
  EXPECT_EQ(authority.handle_token_request(req).result_int(), 200u);

  const auto post = token_request("grant_type=client_credentials&client_id=" + form_encode(config.client_id) +
                                  "&client_secret=" + form_encode(config.client_secret));
  EXPECT_EQ(authority.handle_token_request(post).result_int(), 200u);

  // `%20` and `+` both decode to a space.
  auto plus = token_request("grant_type=client_credentials&client_id=my%20client%3A1&client_secret=" +
                            form_encode(config.client_secret));
  EXPECT_EQ(authority.handle_token_request(plus).result_int(), 200u);

  // Unencoded in Basic, the `%` is not valid form encoding: the client is told it failed.
  req.set(http::field::authorization, "Basic " + base64("my+client%3A1:" + config.client_secret));
  expect_error(authority.handle_token_request(req), 401, "invalid_client");
  // A raw colon in the id would split in the wrong place.
  req.set(http::field::authorization, "Basic " + base64("my client:1:" + form_encode(config.client_secret)));
  expect_error(authority.handle_token_request(req), 401, "invalid_client");
}

TEST_F(token_authority_test, a_scope_subset_is_granted_as_asked) {
  const auto res = authority_.handle_token_request(post_auth("&scope=payments%3Aread"));
  ASSERT_EQ(res.result_int(), 200u);
  EXPECT_EQ(body_of(res).at("scope"), "payments:read");
  EXPECT_EQ(authority_.check(token_of(res)).scopes, std::vector<std::string>{"payments:read"});

  // Order as asked, repeats once.
  const auto both = authority_.handle_token_request(post_auth("&scope=payments:write+payments:read+payments:write"));
  EXPECT_EQ(body_of(both).at("scope"), "payments:write payments:read");
}

TEST_F(token_authority_test, an_unknown_or_malformed_scope_is_invalid_scope) {
  expect_error(authority_.handle_token_request(post_auth("&scope=payments:read+admin")), 400, "invalid_scope");
  for (const std::string_view bad : {"+payments:read", "payments:read+", "payments:read++payments:write",
                                "payments%22read", "payments%5Cread", "payments%09read"}) {
    expect_error(authority_.handle_token_request(post_auth("&scope=" + std::string(bad))), 400, "invalid_scope");
  }
  EXPECT_EQ(authority_.stats().refused_by(oauth_error::invalid_scope), 7u);
  EXPECT_EQ(authority_.stats().issued, 0u);
}

TEST_F(token_authority_test, every_token_is_distinct_opaque_and_base64url) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto token = issue(i % 2 ? post_auth() : basic_auth());
    EXPECT_EQ(token.size(), 43u);  // 32 random bytes, unpadded
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_EQ(token.find("client"), std::string::npos);
    EXPECT_TRUE(seen.insert(token).second) << "token issued twice";
  }
  EXPECT_EQ(authority_.stats().issued, 200u);
}

TEST(token_authority, the_seed_makes_token_sequences_reproducible) {
  core::manual_clock clock;
  auto config = default_config();
  token_authority a(config, clock), b(config, clock);
  config.seed = 8;
  token_authority c(config, clock);
  for (int i = 0; i < 3; ++i) {
    const auto ta = token_of(a.handle_token_request(post_auth()));
    EXPECT_EQ(ta, token_of(b.handle_token_request(post_auth())));
    EXPECT_NE(ta, token_of(c.handle_token_request(post_auth())));
  }
}

TEST_F(token_authority_test, the_response_follows_the_request_version_and_keep_alive) {
  auto req = post_auth();
  req.version(10);
  auto res = authority_.handle_token_request(req);
  EXPECT_EQ(res.version(), 10u);
  EXPECT_FALSE(res.keep_alive());
  req = post_auth();
  req.keep_alive(false);
  EXPECT_FALSE(authority_.handle_token_request(req).keep_alive());
  EXPECT_TRUE(authority_.handle_token_request(post_auth()).keep_alive());
}

TEST(token_authority, an_audience_when_configured_is_granted_or_refused) {
  core::manual_clock clock;
  auto config = default_config();
  config.audience = "https://api.example.com";
  token_authority authority(config, clock);
  const auto plain = token_of(authority.handle_token_request(post_auth()));
  EXPECT_EQ(authority.check(plain).audience, "https://api.example.com");
  EXPECT_EQ(authority.handle_token_request(post_auth("&audience=https%3A%2F%2Fapi.example.com")).result_int(), 200u);
  expect_error(authority.handle_token_request(post_auth("&audience=https%3A%2F%2Fother.example.com")), 400,
               "invalid_target");
  EXPECT_EQ(authority.stats().refused_by(oauth_error::invalid_target), 1u);

  // Without a configured audience the parameter is an unknown one, ignored.
  token_authority open(default_config(), clock);
  EXPECT_EQ(open.handle_token_request(post_auth("&audience=anything")).result_int(), 200u);
}

// ---- the token endpoint: refusals -----------------------------------------------------------

TEST_F(token_authority_test, wrong_method_or_content_type_is_invalid_request) {
  auto get = post_auth();
  get.method(http::verb::get);
  expect_error(authority_.handle_token_request(get), 400, "invalid_request");
  auto put = post_auth();
  put.method(http::verb::put);
  expect_error(authority_.handle_token_request(put), 400, "invalid_request");

  const std::string body = "grant_type=client_credentials&client_id=client-1&client_secret=s3cret";
  expect_error(authority_.handle_token_request(token_request(body, "")), 400, "invalid_request");
  expect_error(authority_.handle_token_request(token_request(body, "application/json")), 400, "invalid_request");
  expect_error(authority_.handle_token_request(token_request(body, "application/x-www-form-urlencodedx")), 400,
               "invalid_request");
  expect_error(authority_.handle_token_request(token_request(body, "multipart/form-data; boundary=x")), 400,
               "invalid_request");
  auto twice = token_request(body);
  twice.insert(http::field::content_type, form_type);
  expect_error(authority_.handle_token_request(twice), 400, "invalid_request");
  EXPECT_EQ(authority_.stats().refused_by(oauth_error::invalid_request), 7u);
}

TEST_F(token_authority_test, a_missing_grant_type_is_invalid_request) {
  expect_error(authority_.handle_token_request(token_request("client_id=client-1&client_secret=s3cret")), 400,
               "invalid_request");
  expect_error(authority_.handle_token_request(
                   token_request("grant_type=&client_id=client-1&client_secret=s3cret")),
               400, "invalid_request");
  expect_error(authority_.handle_token_request(token_request("")), 400, "invalid_request");
}

TEST_F(token_authority_test, a_repeated_parameter_is_invalid_request) {
  expect_error(authority_.handle_token_request(post_auth("&grant_type=client_credentials")), 400, "invalid_request");
  expect_error(authority_.handle_token_request(post_auth("&scope=payments:read&scope=payments:write")), 400,
               "invalid_request");
  expect_error(authority_.handle_token_request(post_auth("&foo=1&foo=2")), 400, "invalid_request");
}

TEST_F(token_authority_test, another_grant_type_is_unsupported_grant_type) {
  for (const std::string_view g : {"password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"}) {
    const auto res = authority_.handle_token_request(
        token_request("grant_type=" + std::string(g) + "&client_id=client-1&client_secret=s3cret"));
    expect_error(res, 400, "unsupported_grant_type");
  }
  EXPECT_EQ(authority_.stats().refused_by(oauth_error::unsupported_grant_type), 4u);
}

TEST_F(token_authority_test, failed_client_authentication_is_invalid_client_with_a_basic_challenge) {
  // Wrong secret, wrong id: by post and by Basic.
  expect_error(authority_.handle_token_request(
                   token_request("grant_type=client_credentials&client_id=client-1&client_secret=wrong")),
               401, "invalid_client");
  expect_error(authority_.handle_token_request(
                   token_request("grant_type=client_credentials&client_id=client-2&client_secret=s3cret")),
               401, "invalid_client");
  auto req = basic_auth();
  req.set(http::field::authorization, basic("client-1", "s3cre"));
  expect_error(authority_.handle_token_request(req), 401, "invalid_client");
  req.set(http::field::authorization, basic("client-1", "s3crett"));
  expect_error(authority_.handle_token_request(req), 401, "invalid_client");
  // No credentials at all, or half of them.
  expect_error(authority_.handle_token_request(token_request("grant_type=client_credentials")), 401,
               "invalid_client");
  expect_error(authority_.handle_token_request(token_request("grant_type=client_credentials&client_id=client-1")),
               401, "invalid_client");
  expect_error(authority_.handle_token_request(token_request("grant_type=client_credentials&client_secret=s3cret")),
               401, "invalid_client");
  // Broken Basic credentials, and another scheme than Basic.
  const std::vector<std::string> broken{"Basic",
                                        "Basic ",
                                        "Basic !!!!",
                                        "Basic " + base64("no-colon"),
                                        "Basic " + base64("client-1:s3cret").substr(1),  // length not 4n
                                        "Basic Y2xpZW50LTE6czNjcmV0=",                   // stray padding
                                        "Bearer abc",
                                        "Digest username=client-1"};
  for (const auto& bad : broken) {
    req.set(http::field::authorization, bad);
    expect_error(authority_.handle_token_request(req), 401, "invalid_client");
  }
  EXPECT_EQ(authority_.stats().refused_by(oauth_error::invalid_client), 15u);
  EXPECT_EQ(authority_.stats().issued, 0u);
}

TEST_F(token_authority_test, the_client_is_authenticated_before_the_grant_type_is_judged) {
  const auto res = authority_.handle_token_request(
      token_request("grant_type=password&client_id=client-1&client_secret=wrong"));
  expect_error(res, 401, "invalid_client");
}

TEST_F(token_authority_test, refusals_never_echo_the_credentials) {
  const auto res = authority_.handle_token_request(
      token_request("grant_type=client_credentials&client_id=client-1&client_secret=hunter2-guess"));
  EXPECT_EQ(res.body().find("hunter2"), std::string::npos);
  EXPECT_EQ(res.body().find("s3cret"), std::string::npos);
  for (const auto& field : res) EXPECT_EQ(std::string_view(field.value()).find("hunter2"), std::string_view::npos);
}

TEST_F(token_authority_test, two_authentication_methods_or_two_authorization_headers_are_invalid_request) {
  auto both = basic_auth("grant_type=client_credentials&client_secret=s3cret");
  expect_error(authority_.handle_token_request(both), 400, "invalid_request");
  auto other_id = basic_auth("grant_type=client_credentials&client_id=client-2");
  expect_error(authority_.handle_token_request(other_id), 400, "invalid_request");
  auto twice = basic_auth();
  twice.insert(http::field::authorization, basic("client-1", "s3cret"));
  expect_error(authority_.handle_token_request(twice), 400, "invalid_request");
}

// ---- bounded input ---------------------------------------------------------------------------

TEST_F(token_authority_test, an_oversized_body_is_invalid_request) {
  const std::string pad(5000, 'a');
  expect_error(authority_.handle_token_request(post_auth("&pad=" + pad)), 400, "invalid_request");
  // Just under the limit is fine.
  const std::string base = "grant_type=client_credentials&client_id=client-1&client_secret=s3cret&pad=";
  EXPECT_EQ(authority_.handle_token_request(token_request(base + std::string(4096 - base.size(), 'a'))).result_int(),
            200u);
  EXPECT_EQ(
      authority_.handle_token_request(token_request(base + std::string(4097 - base.size(), 'a'))).result_int(),
      400u);
}

TEST_F(token_authority_test, garbage_form_encoding_is_invalid_request) {
  for (const std::string_view bad : {"%", "%4", "%zz", "grant_type=client%5", "grant_type=client_credentials&a=%G1",
                                     "%ZZ=1&grant_type=client_credentials"}) {
    expect_error(authority_.handle_token_request(token_request(std::string(bad))), 400, "invalid_request");
  }
  std::string many = "grant_type=client_credentials&client_id=client-1&client_secret=s3cret";
  for (int i = 0; i < 40; ++i) many += "&p" + std::to_string(i) + "=1";
  expect_error(authority_.handle_token_request(token_request(many)), 400, "invalid_request");
}

TEST_F(token_authority_test, control_characters_in_a_header_are_invalid_request) {
  for (const std::string_view bad : {std::string_view("a\x01" "b"), std::string_view("a\x7f"),
                                     std::string_view("a\0b", 3), std::string_view("x\ry")}) {
    auto req = basic_auth();
    req.set(http::field::authorization, "Basic " + std::string(bad));
    expect_error(authority_.handle_token_request(req), 400, "invalid_request");
    req = post_auth();
    req.set("X-Anything", bad);
    expect_error(authority_.handle_token_request(req), 400, "invalid_request");
  }
  // A tab is allowed whitespace, not a control character here.
  auto req = post_auth();
  req.set("X-Anything", "a\tb");
  EXPECT_EQ(authority_.handle_token_request(req).result_int(), 200u);
}

TEST_F(token_authority_test, huge_authorization_headers_are_refused_cleanly) {
  // 40 KB of Basic credentials (Beast itself refuses a field value over 64 KB).
  auto req = basic_auth();
  req.set(http::field::authorization, "Basic " + base64(std::string(30'000, 'x') + ":" + "s3cret"));
  expect_error(authority_.handle_token_request(req), 401, "invalid_client");
}

TEST_F(token_authority_test, random_bytes_never_crash_and_never_grant) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 300);
  const std::string alphabet = "=&%+ abcdefgrant_typeclient_credentials0123456789ABCDEF";
  for (int i = 0; i < 2000; ++i) {
    std::string body;
    const int n = length(rng);
    for (int k = 0; k < n; ++k) {
      body += i % 2 ? static_cast<char>(byte(rng)) : alphabet[static_cast<std::size_t>(byte(rng)) % alphabet.size()];
    }
    auto req = token_request(body);
    if (i % 3 == 0) {
      std::string auth = "Basic ";
      for (int k = 0; k < n / 4; ++k) auth += alphabet[static_cast<std::size_t>(byte(rng)) % alphabet.size()];
      req.set(http::field::authorization, auth);
    }
    const auto res = authority_.handle_token_request(req);
    EXPECT_TRUE(res.result_int() == 400 || res.result_int() == 401) << res.result_int();
    EXPECT_FALSE(body_of(res).empty());
  }
  EXPECT_EQ(authority_.stats().issued, 0u);
  EXPECT_EQ(authority_.stats().refused_total(), 2000u);
}

// ---- token state -----------------------------------------------------------------------------

TEST_F(token_authority_test, a_token_expires_exactly_at_expires_in) {
  const auto token = issue(post_auth());
  clock_.advance(1h - 1ns);
  EXPECT_EQ(authority_.check(token).status, token_status::valid);
  clock_.advance(1ns);
  const auto c = authority_.check(token);
  EXPECT_EQ(c.status, token_status::expired);
  EXPECT_EQ(c.scopes.size(), 2u);  // what it had is still known
  clock_.advance(24h);
  EXPECT_EQ(authority_.check(token).status, token_status::expired);
}

TEST(token_authority, expires_in_is_whole_seconds_and_at_least_one) {
  core::manual_clock clock;
  auto config = default_config();
  config.expires_in = 1500ms;
  token_authority a(config, clock);
  const auto res = a.handle_token_request(post_auth());
  EXPECT_EQ(body_of(res).at("expires_in"), 1);
  EXPECT_EQ(a.check(token_of(res)).expires_at, clock.now() + 1s);

  config.expires_in = 200ms;
  token_authority b(config, clock);
  EXPECT_EQ(body_of(b.handle_token_request(post_auth())).at("expires_in"), 1);
}

TEST_F(token_authority_test, unknown_tokens_are_unknown) {
  EXPECT_EQ(authority_.check("").status, token_status::unknown);
  EXPECT_EQ(authority_.check("not-a-token").status, token_status::unknown);
  const auto token = issue(post_auth());
  EXPECT_EQ(authority_.check(token.substr(1)).status, token_status::unknown);
  EXPECT_EQ(authority_.check(token + "A").status, token_status::unknown);
}

TEST_F(token_authority_test, revocation) {
  const auto a = issue(post_auth());
  const auto b = issue(post_auth());
  EXPECT_TRUE(authority_.revoke(a));
  EXPECT_FALSE(authority_.revoke("not-a-token"));
  EXPECT_EQ(authority_.check(a).status, token_status::revoked);
  EXPECT_EQ(authority_.check(b).status, token_status::valid);
  // Revoked stays revoked after it would have expired.
  clock_.advance(2h);
  EXPECT_EQ(authority_.check(a).status, token_status::revoked);
  EXPECT_EQ(authority_.check(b).status, token_status::expired);
}

TEST_F(token_authority_test, revoke_all_revokes_what_was_issued_not_what_comes_next) {
  const auto old = issue(post_auth());
  clock_.advance(2h);
  const auto a = issue(post_auth());
  const auto b = issue(basic_auth());
  EXPECT_EQ(authority_.revoke_all(), 2u);  // `old` had expired already
  EXPECT_EQ(authority_.check(a).status, token_status::revoked);
  EXPECT_EQ(authority_.check(b).status, token_status::revoked);
  EXPECT_EQ(authority_.check(old).status, token_status::revoked);
  const auto fresh = issue(post_auth());
  EXPECT_EQ(authority_.check(fresh).status, token_status::valid);
  EXPECT_EQ(authority_.revoke_all(), 1u);
  EXPECT_EQ(authority_.revoke_all(), 0u);
}

TEST_F(token_authority_test, early_expiry_announces_the_full_lifetime_and_ends_sooner) {
  const auto before = issue(post_auth());
  authority_.set_early_expiry(30s);
  const auto res = authority_.handle_token_request(post_auth());
  EXPECT_EQ(body_of(res).at("expires_in"), 3600);  // the lie the auth_expiry fault tells
  const auto early = token_of(res);
  EXPECT_EQ(authority_.check(early).expires_at, clock_.now() + 30s);
  authority_.set_early_expiry(std::nullopt);
  const auto after = issue(post_auth());

  clock_.advance(30s - 1ns);
  EXPECT_EQ(authority_.check(early).status, token_status::valid);
  clock_.advance(1ns);
  EXPECT_EQ(authority_.check(early).status, token_status::expired);
  EXPECT_EQ(authority_.check(before).status, token_status::valid);
  EXPECT_EQ(authority_.check(after).status, token_status::valid);
  EXPECT_EQ(authority_.check(after).expires_at, clock_.now() - 30s + 1h);

  // A knob longer than the lifetime changes nothing; zero makes tokens dead on arrival.
  authority_.set_early_expiry(2h);
  EXPECT_EQ(authority_.check(issue(post_auth())).expires_at, clock_.now() + 1h);
  authority_.set_early_expiry(0s);
  EXPECT_EQ(authority_.check(issue(post_auth())).status, token_status::expired);
}

TEST(token_authority, a_full_store_forgets_expired_then_oldest_tokens) {
  core::manual_clock clock;
  auto config = default_config();
  config.max_tokens = 10;
  token_authority authority(config, clock);
  std::vector<std::string> expired;
  for (int i = 0; i < 5; ++i) expired.push_back(token_of(authority.handle_token_request(post_auth())));
  clock.advance(2h);
  std::vector<std::string> live;
  for (int i = 0; i < 5; ++i) live.push_back(token_of(authority.handle_token_request(post_auth())));
  // Full: the next issue sweeps the five expired ones and keeps every live one.
  live.push_back(token_of(authority.handle_token_request(post_auth())));
  for (const auto& t : expired) EXPECT_EQ(authority.check(t).status, token_status::unknown);
  for (const auto& t : live) EXPECT_EQ(authority.check(t).status, token_status::valid);
  // Only live tokens: the oldest go first.
  for (int i = 0; i < 4; ++i) live.push_back(token_of(authority.handle_token_request(post_auth())));
  live.push_back(token_of(authority.handle_token_request(post_auth())));
  EXPECT_EQ(authority.check(live.front()).status, token_status::unknown);
  EXPECT_EQ(authority.check(live.back()).status, token_status::valid);
  EXPECT_EQ(authority.stats().issued, 16u);
}

// ---- resource requests and challenges --------------------------------------------------------

request resource_request(std::optional<std::string> authorization) {
  request req{http::verb::get, "/v1/payments", 11};
  req.set(http::field::host, "127.0.0.1");
  if (authorization) req.set(http::field::authorization, *authorization);
  return req;
}

TEST_F(token_authority_test, no_credential_gets_a_plain_bearer_challenge) {
  const auto d = authority_.authorize(resource_request(std::nullopt));
  EXPECT_EQ(d.verdict, access_verdict::no_credential);
  EXPECT_EQ(d.status(), 401u);
  EXPECT_EQ(bearer_challenge(d), "Bearer");
  // Another scheme is not a bearer credential.
  const auto other = authority_.authorize(resource_request(basic("client-1", "s3cret")));
  EXPECT_EQ(other.verdict, access_verdict::no_credential);
  EXPECT_EQ(bearer_challenge(other), "Bearer");
}

TEST_F(token_authority_test, a_valid_token_is_granted) {
  const auto token = issue(post_auth());
  const auto d = authority_.authorize(resource_request("Bearer " + token));
  EXPECT_TRUE(d.granted());
  EXPECT_EQ(d.token, token_status::valid);
  EXPECT_EQ(d.status(), 200u);
  EXPECT_EQ(bearer_challenge(d), "");
  EXPECT_TRUE(authority_.authorize(resource_request("bearer   " + token)).granted());
  const std::vector<std::string> both{"payments:write", "payments:read"};
  EXPECT_TRUE(authority_.authorize(resource_request("Bearer " + token), both).granted());
}

TEST_F(token_authority_test, expired_revoked_and_unknown_tokens_get_invalid_token) {
  const auto expiring = issue(post_auth());
  const auto revoked = issue(post_auth());
  authority_.revoke(revoked);
  clock_.advance(1h);

  auto d = authority_.authorize(resource_request("Bearer " + expiring));
  EXPECT_EQ(d.verdict, access_verdict::invalid_token);
  EXPECT_EQ(d.token, token_status::expired);
  EXPECT_EQ(d.status(), 401u);
  EXPECT_EQ(bearer_challenge(d), R"(Bearer error="invalid_token", error_description="The access token expired")");

  d = authority_.authorize(resource_request("Bearer " + revoked));
  EXPECT_EQ(d.token, token_status::revoked);
  EXPECT_EQ(bearer_challenge(d),
            R"(Bearer error="invalid_token", error_description="The access token was revoked")");

  d = authority_.authorize(resource_request("Bearer c29tZXRoaW5nIGVsc2U="));
  EXPECT_EQ(d.token, token_status::unknown);
  EXPECT_EQ(bearer_challenge(d),
            R"(Bearer error="invalid_token", error_description="The access token is not known")");
  EXPECT_EQ(bearer_challenge(d).find(expiring), std::string::npos);
}

TEST_F(token_authority_test, a_missing_scope_is_insufficient_scope_naming_what_is_required) {
  const auto token = token_of(authority_.handle_token_request(post_auth("&scope=payments:read")));
  const std::vector<std::string> write{"payments:write"};
  auto d = authority_.authorize(resource_request("Bearer " + token), write);
  EXPECT_EQ(d.verdict, access_verdict::insufficient_scope);
  EXPECT_EQ(d.status(), 403u);
  EXPECT_EQ(bearer_challenge(d), R"(Bearer error="insufficient_scope", scope="payments:write")");
  const std::vector<std::string> both{"payments:read", "payments:write"};
  d = authority_.authorize(resource_request("Bearer " + token), both);
  EXPECT_EQ(bearer_challenge(d), R"(Bearer error="insufficient_scope", scope="payments:read payments:write")");
}

TEST_F(token_authority_test, malformed_bearer_credentials_are_invalid_request) {
  const auto token = issue(post_auth());
  const std::vector<std::string> malformed{"Bearer",    "Bearer ",    "Bearer a b",
                                           "Bearer tok@en", "Bearer ==", "Bearer a=b",
                                           "Bearer " + token + "\x01"};
  for (const auto& bad : malformed) {
    const auto d = authority_.authorize(resource_request(bad));
    EXPECT_EQ(d.verdict, access_verdict::invalid_request) << bad;
    EXPECT_EQ(d.status(), 400u);
    EXPECT_EQ(bearer_challenge(d), R"(Bearer error="invalid_request", )"
                                   R"(error_description="The Authorization header is not one Bearer credential")");
  }
  auto twice = resource_request("Bearer " + token);
  twice.insert(http::field::authorization, "Bearer " + token);
  EXPECT_EQ(authority_.authorize(twice).verdict, access_verdict::invalid_request);
  // The span overload judges the same values.
  const std::string_view values[] = {"Bearer x", "Bearer y"};
  EXPECT_EQ(authority_.authorize(values).verdict, access_verdict::invalid_request);
  const std::string with_padding = "Bearer " + token + "==";
  EXPECT_EQ(authority_.authorize(resource_request(with_padding)).verdict, access_verdict::invalid_token);
}

TEST(token_authority, names) {
  EXPECT_EQ(to_string(oauth_error::invalid_request), "invalid_request");
  EXPECT_EQ(to_string(oauth_error::invalid_client), "invalid_client");
  EXPECT_EQ(to_string(oauth_error::unsupported_grant_type), "unsupported_grant_type");
  EXPECT_EQ(to_string(oauth_error::invalid_scope), "invalid_scope");
  EXPECT_EQ(to_string(oauth_error::invalid_target), "invalid_target");
  EXPECT_EQ(to_string(token_status::valid), "valid");
  EXPECT_EQ(to_string(token_status::expired), "expired");
  EXPECT_EQ(to_string(token_status::revoked), "revoked");
  EXPECT_EQ(to_string(token_status::unknown), "unknown");
  EXPECT_EQ(to_string(access_verdict::granted), "granted");
  EXPECT_EQ(to_string(access_verdict::insufficient_scope), "insufficient_scope");
}

TEST(token_authority, concurrent_use_is_safe_and_counts_add_up) {
  core::manual_clock clock;
  token_authority authority(default_config(), clock);
  constexpr int threads = 4, per_thread = 200;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const auto res = authority.handle_token_request(i % 4 == 3 ? token_request("grant_type=x") : post_auth());
        const auto token = token_of(res);
        if (!token.empty()) {
          (void)authority.authorize(resource_request("Bearer " + token));
          if ((i + t) % 5 == 0) authority.revoke(token);
        }
        if (i % 50 == 0) authority.set_early_expiry(i % 100 == 0 ? std::optional(10s) : std::nullopt);
      }
    });
  }
  for (auto& th : pool) th.join();
  const auto stats = authority.stats();
  EXPECT_EQ(stats.issued, std::uint64_t{threads * per_thread * 3 / 4});
  EXPECT_EQ(stats.refused_by(oauth_error::invalid_client), std::uint64_t{threads * per_thread / 4});
}

// ---- mappings from the plan ------------------------------------------------------------------

TEST(token_authority, config_from_an_oauth2_plan) {
  plan::auth_config auth;
  auth.method = plan::auth_method::oauth2_client_credentials;
  auth.oauth2.emplace();
  auth.oauth2->scopes = {"payments:write"};
  auth.oauth2->audience = "https://api.example.com";
  auth.oauth2->token_lifetime = 15min;
  auth.required_scopes = {"payments:read", "payments:write"};
  const auto c = token_authority_config_from_plan(auth, "id", "secret", 9);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "id");
  EXPECT_EQ(c->client_secret, "secret");
  EXPECT_EQ(c->scopes, (std::vector<std::string>{"payments:write", "payments:read"}));
  EXPECT_EQ(c->audience, "https://api.example.com");
  EXPECT_EQ(c->expires_in, 15min);
  EXPECT_EQ(c->seed, 9u);

  auth.method = plan::auth_method::bearer;
  EXPECT_FALSE(token_authority_config_from_plan(auth, "id", "secret", 1));
}

TEST(token_authority, signature_scheme_from_an_hmac_plan) {
  plan::auth_config auth;
  auth.method = plan::auth_method::hmac;
  auth.header = "X-Signature";
  auth.hmac.emplace();
  auth.hmac->algorithm = plan::hmac_algorithm::sha512;
  auth.hmac->signed_components = {plan::signed_component::host, plan::signed_component::method,
                                  plan::signed_component::path, plan::signed_component::query,
                                  plan::signed_component::timestamp, plan::signed_component::body};
  auth.hmac->timestamp_header = "X-Signed-At";
  auth.hmac->tolerance = 90s;
  const auto s = signature_scheme_from_plan(auth);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->digest, core::hmac_digest::sha512);
  EXPECT_EQ(s->components,
            (std::vector<core::signed_part>{core::signed_part::host, core::signed_part::method, core::signed_part::path,
                                            core::signed_part::query, core::signed_part::timestamp,
                                            core::signed_part::body}));
  EXPECT_EQ(s->signature_header, "X-Signature");
  EXPECT_EQ(s->timestamp_header, "X-Signed-At");
  EXPECT_EQ(s->tolerance, 90s);

  auth.header.clear();
  EXPECT_EQ(signature_scheme_from_plan(auth)->signature_header, "Signature");
  auth.method = plan::auth_method::api_key;
  EXPECT_FALSE(signature_scheme_from_plan(auth));
}

TEST(token_authority, verify_signed_request_reads_a_beast_request) {
  core::signature_scheme scheme;
  scheme.components = {core::signed_part::method, core::signed_part::path, core::signed_part::query,
                       core::signed_part::timestamp, core::signed_part::body, core::signed_part::host};
  const std::chrono::sys_seconds now{std::chrono::seconds(1'700'000'000)};
  request req{http::verb::post, "/v1/charges?x=1", 11};
  req.set(http::field::host, "127.0.0.1:8080");
  req.body() = R"({"amount":1})";
  req.prepare_payload();
  for (const auto& [name, value] :
       core::sign_request(scheme, {"POST", "/v1/charges?x=1", "127.0.0.1:8080", req.body()}, "k", now)) {
    req.set(name, value);
  }
  EXPECT_EQ(verify_signed_request(scheme, req, "k", now).verdict, core::signature_verdict::ok);
  EXPECT_EQ(verify_signed_request(scheme, req, "other", now).verdict, core::signature_verdict::mismatch);
  EXPECT_EQ(verify_signed_request(scheme, req, "k", now + 1h).verdict, core::signature_verdict::stale);

  auto lower = req;  // header names are case-insensitive
  const std::string sig(req["Signature"]);
  lower.erase("Signature");
  lower.set("signature", sig);
  EXPECT_EQ(verify_signed_request(scheme, lower, "k", now).verdict, core::signature_verdict::ok);

  auto dup = req;
  dup.insert("Signature", sig);
  EXPECT_EQ(verify_signed_request(scheme, dup, "k", now).verdict, core::signature_verdict::malformed);
  dup = req;
  dup.insert(http::field::host, "127.0.0.1:8080");
  EXPECT_EQ(verify_signed_request(scheme, dup, "k", now).verdict, core::signature_verdict::malformed);
  dup = req;
  dup.insert("X-Timestamp", "1700000000");
  EXPECT_EQ(verify_signed_request(scheme, dup, "k", now).verdict, core::signature_verdict::malformed);

  auto bare = req;
  bare.erase("X-Timestamp");
  EXPECT_EQ(verify_signed_request(scheme, bare, "k", now).verdict, core::signature_verdict::missing);
  bare = req;
  bare.erase(http::field::host);
  EXPECT_EQ(verify_signed_request(scheme, bare, "k", now).verdict, core::signature_verdict::missing);
}

}  // namespace
}  // namespace planproof::mocks
