// The mock upstream's auth as a client on a loopback socket sees it: an OAuth2 token endpoint with
// tokens that really expire and can be revoked, a token endpoint that fails or is slow, HMAC-signed
// requests, and revoked API keys.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/request_signature.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
using namespace testing;
namespace http = boost::beast::http;

setup oauth_setup(std::vector<plan::fault> faults = {}) {
  setup s;
  token_authority_config config;
  config.client_id = "app";
  config.client_secret = "s3cret";
  config.scopes = {"payments:write"};
  config.expires_in = 1h;
  s.auth.oauth2 = config;
  s.auth.token_path = "/oauth/token";
  s.faults = std::move(faults);
  return s;
}

// A token from the mock's token endpoint (client_secret_post), or "" with the status it answered.
std::pair<int, std::string> fetch_token(test_client& c) {
  http::request<http::string_body> req(http::verb::post, "/oauth/token", 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  req.body() = "grant_type=client_credentials&client_id=app&client_secret=s3cret";
  if (c.send(std::move(req))) return {0, ""};
  const auto r = c.read();
  if (r.ec || r.res.result_int() != 200) return {r.ec ? 0 : r.res.result_int(), ""};
  return {200, std::string(boost::json::parse(r.res.body()).at("access_token").as_string())};
}

int get_items(test_client& c, const std::string& token) {
  return c.get("/v1/items", {{"Authorization", "Bearer " + token}}).res.result_int();
}

TEST(mock_oauth2, issues_tokens_and_checks_them) {
  running_server s(oauth_setup());
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 401);
  const auto refused = c.get("/v1/items", {{"Authorization", "Bearer not-a-token"}});
  EXPECT_EQ(refused.res.result_int(), 401);
  EXPECT_NE(header(refused.res, "WWW-Authenticate").find("error=\"invalid_token\""), std::string::npos);
  const auto [status, token] = fetch_token(c);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(get_items(c, token), 200);
  const auto records = s.srv().records();
  ASSERT_GE(records.size(), 3u);
  EXPECT_EQ(records[2].endpoint_id, "(token)");
  EXPECT_EQ(s.srv().metrics().by_endpoint.at("(token)"), 1u);
}

TEST(mock_oauth2, tokens_expire_with_the_clock) {
  auto s_setup = oauth_setup();
  s_setup.auth.oauth2->expires_in = 60s;
  running_server s(s_setup);
  test_client c(s.port());
  const auto token = fetch_token(c).second;
  EXPECT_EQ(get_items(c, token), 200);
  s.advance(61s, 2);
  EXPECT_EQ(get_items(c, token), 401);
  EXPECT_EQ(get_items(c, fetch_token(c).second), 200) << "a new token works";
}

TEST(mock_oauth2, auth_expiry_revokes_the_token_it_hits) {
  auto f = kind_fault("auth_expiry");
  f.first = 1;
  running_server s(oauth_setup({f}));
  test_client c(s.port());
  const auto token = fetch_token(c).second;
  const auto revoked = c.get("/v1/items", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(revoked.res.result_int(), 401);
  EXPECT_NE(header(revoked.res, "WWW-Authenticate").find("revoked"), std::string::npos);
  EXPECT_EQ(get_items(c, token), 401) << "the token stays dead";
  EXPECT_EQ(get_items(c, fetch_token(c).second), 200) << "refreshing fixes it";
  EXPECT_EQ(s.srv().faults().at(0).injected, 1u);
}

TEST(mock_oauth2, auth_expiry_with_expire_after_makes_tokens_die_early) {
  auto f = kind_fault("auth_expiry");
  f.expire_after = 10s;
  running_server s(oauth_setup({f}));
  test_client c(s.port());
  const auto [status, token] = fetch_token(c);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(get_items(c, token), 200);
  s.advance(11s, 2);
  EXPECT_EQ(get_items(c, token), 401) << "announced an hour, lived ten seconds";
}

TEST(mock_oauth2, token_endpoint_down_fails_or_slows_token_requests_only) {
  auto down = kind_fault("token_endpoint_down");
  down.status = 503;
  down.first = 1;
  running_server s(oauth_setup({down}));
  test_client c(s.port());
  EXPECT_EQ(fetch_token(c).first, 503);
  const auto [status, token] = fetch_token(c);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(get_items(c, token), 200) << "API routes are not affected";

  auto slow = kind_fault("token_endpoint_down");
  slow.status = 0;
  slow.delay = 50ms;
  running_server t(oauth_setup({slow}));
  test_client d(t.port());
  EXPECT_EQ(fetch_token(d).first, 200);
  EXPECT_EQ(t.srv().records().at(0).outcome, fate::delayed);
}

TEST(mock_hmac, signed_requests_pass_and_tampered_ones_do_not) {
  setup st;
  core::signature_scheme scheme;
  scheme.components = {core::signed_part::method, core::signed_part::path, core::signed_part::timestamp,
                       core::signed_part::body};
  st.auth.hmac = scheme;
  st.auth.hmac_key = "k3y";
  running_server s(st);
  test_client c(s.port());
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto signed_get = [&](std::string_view target, std::string_view key, std::chrono::sys_seconds at) {
    const auto headers = core::sign_request(scheme, {"GET", target, std::nullopt, ""}, key, at);
    http::request<http::string_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    EXPECT_FALSE(c.send(std::move(req)));
    return c.read();
  };
  EXPECT_EQ(signed_get("/v1/items", "k3y", now).res.result_int(), 200);
  const auto wrong = signed_get("/v1/items", "other", now);
  EXPECT_EQ(wrong.res.result_int(), 401);
  EXPECT_NE(wrong.res.body().find("invalid_signature_mismatch"), std::string::npos);
  const auto stale = signed_get("/v1/items", "k3y", now - 1h);
  EXPECT_NE(stale.res.body().find("invalid_signature_stale"), std::string::npos);
  EXPECT_NE(c.get("/v1/items").res.body().find("invalid_signature_missing"), std::string::npos);
}

TEST(mock_api_key, auth_expiry_answers_401_invalid_token) {
  setup st;
  st.auth.header = "Authorization";
  st.auth.expected_value = "Bearer t0k";
  auto f = kind_fault("auth_expiry");
  f.every = 2;
  st.faults = {f};
  running_server s(st);
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items", {{"Authorization", "Bearer t0k"}}).res.result_int(), 200);
  const auto r = c.get("/v1/items", {{"Authorization", "Bearer t0k"}});
  EXPECT_EQ(r.res.result_int(), 401);
  EXPECT_EQ(header(r.res, "WWW-Authenticate"), R"(Bearer error="invalid_token")");
}

TEST(mock_api_key, a_key_in_the_query_is_decoded_and_compared) {
  setup st;
  st.auth.query_param = "api_key";
  st.auth.expected_value = "k+y/= z";
  running_server s(st);
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items?api_key=k%2By%2F%3D+z").res.result_int(), 200);
  EXPECT_EQ(c.get("/v1/items?limit=5&api_key=k%2By%2F%3D%20z").res.result_int(), 200);
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 401);
  EXPECT_EQ(c.get("/v1/items?api_key=k%2By%2F%3D").res.result_int(), 401);
  EXPECT_EQ(c.get("/v1/items?key=k%2By%2F%3D+z").res.result_int(), 401);
  // In a header it does not count.
  EXPECT_EQ(c.get("/v1/items", {{"api_key", "k+y/= z"}}).res.result_int(), 401);
}

}  // namespace
}  // namespace planproof::mocks
