// auth: every method read in full, with its defaults, and the errors each one draws.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using test_support::load_small;
using test_support::small_errors;
using test_support::with_sets;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

TEST(auth, none_takes_nothing_else) {
  const auto plan = load_small("auth: {method: none}");
  EXPECT_EQ(plan.auth.method, auth_method::none);
  EXPECT_FALSE(plan.auth.secret);
  EXPECT_FALSE(plan.auth.rotation);
  EXPECT_THAT(small_errors("auth: {method: none, rotation: 90d}"),
              ElementsAre("plan.yaml:8:22: error: auth: unknown key 'rotation' (known: method, security_notes)"));
  // Why no credential is needed is worth writing down.
  EXPECT_THAT(load_small("auth: {method: none, security_notes: [the sandbox is open]}").auth.security_notes,
              ElementsAre("the sandbox is open"));
}

TEST(auth, api_key_in_a_header_by_default) {
  const auto plan = load_small(R"(auth:
  method: api_key
  key: env:KEY
  rotation: 90d
  required_scopes: [payments:write]
  security_notes: [restricted key, rotated by the vault])");
  const auto& a = plan.auth;
  EXPECT_EQ(a.key_in, api_key_location::header);
  EXPECT_EQ(a.header, "X-API-Key");
  EXPECT_EQ(a.query_param, "");
  EXPECT_EQ(a.secret->str(), "env:KEY");
  EXPECT_EQ(a.rotation, std::chrono::hours(24 * 90));
  EXPECT_THAT(a.required_scopes, ElementsAre("payments:write"));
  EXPECT_THAT(a.security_notes, ElementsAre("restricted key", "rotated by the vault"));
  EXPECT_FALSE(a.oauth2);
  EXPECT_FALSE(a.hmac);
  EXPECT_FALSE(a.mtls);
  EXPECT_FALSE(a.jwt);
  EXPECT_EQ(a.where.line, 9);
}

TEST(auth, api_key_in_the_query) {
  const auto plan = load_small("auth: {method: api_key, in: query, param: api_key, key: file:/run/key}");
  EXPECT_EQ(plan.auth.key_in, api_key_location::query);
  EXPECT_EQ(plan.auth.query_param, "api_key");
  EXPECT_EQ(plan.auth.header, "");
  EXPECT_EQ(plan.auth.secret->str(), "file:/run/key");
}

TEST(auth, api_key_errors) {
  EXPECT_THAT(
      small_errors("auth: {method: api_key, in: query, key: env:K}"),
      ElementsAre("plan.yaml:8:7: error: auth: missing required key 'param' (required with in: query)"));
  EXPECT_THAT(small_errors("auth: {method: api_key, in: query, param: k, header: X-Key, key: env:K}"),
              ElementsAre("plan.yaml:8:46: error: auth: header applies only with in: header"));
  EXPECT_THAT(small_errors("auth: {method: api_key, param: k, key: env:K}"),
              ElementsAre("plan.yaml:8:25: error: auth: param applies only with in: query"));
  EXPECT_THAT(
      small_errors("auth: {method: api_key, in: body, key: env:K}"),
      ElementsAre("plan.yaml:8:29: error: auth.in: unknown api key location 'body' (known: header, query)"));
  EXPECT_THAT(small_errors("auth: {method: api_key, header: X Key, key: env:K}"),
              ElementsAre("plan.yaml:8:33: error: auth.header: expected a header name (letters, digits and "
                          "!#$%&'*+-.^_`|~), got 'X Key'"));
  EXPECT_THAT(
      small_errors("auth: {method: api_key, key: env:K, rotation: 90 days}"),
      ElementsAre("plan.yaml:8:47: error: auth.rotation: expected a duration such as 250ms, 2s or 1m, "
                  "got '90 days'"));
}

TEST(auth, bearer) {
  const auto plan = load_small("auth: {method: bearer, token: env:TOKEN, rotation: 30d}");
  EXPECT_EQ(plan.auth.secret->str(), "env:TOKEN");
  EXPECT_EQ(plan.auth.header, "");
  EXPECT_EQ(plan.auth.rotation, std::chrono::hours(24 * 30));
  EXPECT_THAT(small_errors("auth: {method: bearer}"),
              ElementsAre("plan.yaml:8:7: error: auth: missing required key 'token'"));
  EXPECT_THAT(
      small_errors("auth: {method: bearer, token: eyJhbGciOi}"),
      ElementsAre("plan.yaml:8:31: error: auth.token: must be a secret reference (env:NAME or file:PATH); "
                  "never write the secret in the plan"));
}

TEST(auth, oauth2_client_credentials_in_full) {
  const auto plan = load_small(R"(auth:
  method: oauth2_client_credentials
  token_url: https://login.example.com/oauth2/token
  client_id: crm-sync
  client_secret: env:CLIENT_SECRET
  scopes: [api, refresh_token]
  audience: https://api.example.com
  refresh_before_expiry: 2m
  token_lifetime: 30m)");
  ASSERT_TRUE(plan.auth.oauth2);
  const auto& o = *plan.auth.oauth2;
  EXPECT_EQ(o.token_url, "https://login.example.com/oauth2/token");
  EXPECT_EQ(o.client_id.text, "crm-sync");
  EXPECT_FALSE(o.client_id.secret);
  EXPECT_EQ(o.client_id.where.line, 11);
  EXPECT_THAT(o.scopes, ElementsAre("api", "refresh_token"));
  EXPECT_EQ(o.audience, "https://api.example.com");
  EXPECT_EQ(o.refresh_before_expiry, 2min);
  EXPECT_EQ(o.token_lifetime, 30min);
  EXPECT_EQ(o.where.line, 9);
  EXPECT_EQ(plan.auth.secret->str(), "env:CLIENT_SECRET");  // the client secret is the credential
  EXPECT_EQ(plan.auth.header, "");
}

TEST(auth, oauth2_defaults_and_a_client_id_by_reference) {
  const auto plan = load_small(
      "auth: {method: oauth2_client_credentials, token_url: /oauth/token, client_id: env:ID, client_secret: "
      "env:S}");
  const auto& o = *plan.auth.oauth2;
  EXPECT_EQ(o.client_id.text, "");
  EXPECT_EQ(o.client_id.secret->str(), "env:ID");
  EXPECT_TRUE(o.scopes.empty());
  EXPECT_EQ(o.audience, "");
  const oauth2_client_credentials_config defaults;
  EXPECT_EQ(o.refresh_before_expiry, defaults.refresh_before_expiry);
  EXPECT_EQ(o.refresh_before_expiry, 60s);
  EXPECT_EQ(o.token_lifetime, 1h);
}

TEST(auth, oauth2_errors) {
  EXPECT_THAT(small_errors("auth: {method: oauth2_client_credentials, client_secret: env:S}"),
              ElementsAre("plan.yaml:8:7: error: auth: missing required key 'token_url'"));
  EXPECT_THAT(
      small_errors("auth: {method: oauth2_client_credentials, token_url: oauth/token, client_secret: env:S}"),
      ElementsAre("plan.yaml:8:54: error: auth.token_url: expected a path starting with '/' or an http(s) "
                  "URL, got 'oauth/token'"));
  EXPECT_THAT(
      small_errors("auth: {method: oauth2_client_credentials, token_url: /t, client_secret: hunter2}"),
      ElementsAre("plan.yaml:8:73: error: auth.client_secret: must be a secret reference (env:NAME or "
                  "file:PATH); never write the secret in the plan"));
  EXPECT_THAT(small_errors(R"(auth:
  method: oauth2_client_credentials
  token_url: /t
  client_secret: env:S
  refresh_before_expiry: 10m
  token_lifetime: 5m)"),
              ElementsAre("plan.yaml:12:26: error: auth: refresh_before_expiry (10m) must be shorter than "
                          "token_lifetime (5m)"));
  // With only a short lifetime written, the default refresh margin no longer fits.
  EXPECT_THAT(small_errors("auth: {method: oauth2_client_credentials, token_url: /t, client_secret: env:S, "
                           "token_lifetime: 30s}"),
              ElementsAre("plan.yaml:8:96: error: auth: refresh_before_expiry (1m) must be shorter than "
                          "token_lifetime (30s)"));
  EXPECT_THAT(small_errors("auth: {method: oauth2_client_credentials, token_url: /t, client_secret: env:S, "
                           "scope: [a]}"),
              ElementsAre("plan.yaml:8:80: error: auth: unknown key 'scope'; did you mean 'scopes'?"));
}

TEST(auth, hmac_defaults) {
  const auto plan = load_small("auth: {method: hmac, secret: env:HMAC}");
  ASSERT_TRUE(plan.auth.hmac);
  const auto& h = *plan.auth.hmac;
  EXPECT_EQ(h.algorithm, hmac_algorithm::sha256);
  EXPECT_THAT(h.signed_components, ElementsAre(signed_component::method, signed_component::path,
                                               signed_component::timestamp, signed_component::body));
  EXPECT_EQ(h.timestamp_header, "X-Timestamp");
  EXPECT_EQ(h.tolerance, 5min);
  EXPECT_EQ(plan.auth.header, "Signature");
  EXPECT_EQ(plan.auth.secret->str(), "env:HMAC");
}

TEST(auth, hmac_in_full) {
  const auto plan = load_small(
      "auth: {method: hmac, algorithm: sha512, secret: file:/run/hmac, header: X-Sig, "
      "signed_components: [host, method, query], timestamp_header: X-Date, tolerance: 30s}");
  const auto& h = *plan.auth.hmac;
  EXPECT_EQ(h.algorithm, hmac_algorithm::sha512);
  EXPECT_THAT(h.signed_components,
              ElementsAre(signed_component::host, signed_component::method, signed_component::query));
  EXPECT_EQ(h.timestamp_header, "X-Date");
  EXPECT_EQ(h.tolerance, 30s);
  EXPECT_EQ(plan.auth.header, "X-Sig");
}

TEST(auth, hmac_errors) {
  EXPECT_THAT(
      small_errors("auth: {method: hmac, secret: env:H, signed_components: []}"),
      ElementsAre("plan.yaml:8:56: error: auth.signed_components: expected at least one signed component"));
  EXPECT_THAT(
      small_errors("auth: {method: hmac, secret: env:H, signed_components: [method, bdy, method]}"),
      ElementsAre("plan.yaml:8:65: error: auth.signed_components[1]: unknown signed component 'bdy'; did "
                  "you mean 'body'? (known: method, path, query, timestamp, body, host)",
                  "plan.yaml:8:70: error: auth.signed_components[2]: 'method' is listed twice"));
  EXPECT_THAT(
      small_errors("auth: {method: hmac, secret: env:H, algorithm: md5}"),
      ElementsAre("plan.yaml:8:48: error: auth.algorithm: unknown algorithm 'md5' (known: sha256, sha512)"));
  EXPECT_THAT(small_errors("auth: {method: hmac, secret: env:H, tolerance: 0s}"),
              ElementsAre("plan.yaml:8:48: error: auth.tolerance: expected a duration > 0, got '0s'"));
}

TEST(auth, mtls) {
  const auto plan = load_small(
      "auth: {method: mtls, client_cert: file:/etc/pki/client.pem, client_key: file:/etc/pki/client.key}");
  ASSERT_TRUE(plan.auth.mtls);
  EXPECT_EQ(plan.auth.mtls->client_cert.str(), "file:/etc/pki/client.pem");
  EXPECT_EQ(plan.auth.mtls->client_key.str(), "file:/etc/pki/client.key");
  EXPECT_FALSE(plan.auth.mtls->ca);
  EXPECT_FALSE(plan.auth.secret);  // no header credential
  const auto with_ca =
      load_small("auth: {method: mtls, client_cert: file:c, client_key: file:k, ca: file:ca.pem}");
  EXPECT_EQ(with_ca.auth.mtls->ca->str(), "file:ca.pem");
  EXPECT_THAT(small_errors("auth: {method: mtls, client_cert: file:c}"),
              ElementsAre("plan.yaml:8:7: error: auth: missing required key 'client_key'"));
  EXPECT_THAT(small_errors("auth: {method: mtls, client_cert: file:c, client_key: \"-----BEGIN KEY-----\"}"),
              ElementsAre("plan.yaml:8:55: error: auth.client_key: must be a secret reference (env:NAME or "
                          "file:PATH); never write the secret in the plan"));
}

TEST(auth, jwt) {
  const auto defaults = load_small("auth: {method: jwt, signing_key: file:/run/jwt.pem}");
  ASSERT_TRUE(defaults.auth.jwt);
  EXPECT_EQ(defaults.auth.jwt->algorithm, jwt_algorithm::RS256);
  EXPECT_TRUE(defaults.auth.jwt->claims.empty());
  EXPECT_EQ(defaults.auth.jwt->lifetime, 5min);
  EXPECT_EQ(defaults.auth.header, "Authorization");
  EXPECT_EQ(defaults.auth.secret->str(), "file:/run/jwt.pem");

  const auto plan = load_small(R"(auth:
  method: jwt
  signing_key: env:JWT_KEY
  algorithm: ES256
  claims: {iss: acme, sub: sync-service, aud: "https://api.example.com"}
  lifetime: 1m
  header: X-Assertion)");
  const auto& j = *plan.auth.jwt;
  EXPECT_EQ(j.algorithm, jwt_algorithm::ES256);
  EXPECT_EQ(j.claims.at("iss"), "acme");
  EXPECT_EQ(j.claims.at("sub"), "sync-service");
  EXPECT_EQ(j.claims.at("aud"), "https://api.example.com");
  EXPECT_EQ(j.lifetime, 1min);
  EXPECT_EQ(plan.auth.header, "X-Assertion");

  EXPECT_THAT(
      small_errors("auth: {method: jwt, signing_key: env:K, algorithm: HS512}"),
      ElementsAre("plan.yaml:8:52: error: auth.algorithm: unknown algorithm 'HS512' (known: HS256, RS256, "
                  "ES256)"));
  EXPECT_THAT(small_errors("auth: {method: jwt, signing_key: env:K, claims: {iss: a, aud: [x, y], iss: b}}"),
              ElementsAre("plan.yaml:8:63: error: auth.claims.aud: expected a string, got a list",
                          "plan.yaml:8:71: error: auth.claims: duplicate key 'iss' (first at line 8)"));
}

TEST(auth, keys_of_another_method_are_unknown) {
  EXPECT_THAT(
      small_errors("auth: {method: bearer, token: env:T, token_url: /t}"),
      ElementsAre("plan.yaml:8:38: error: auth: unknown key 'token_url' (known: method, token, rotation, "
                  "required_scopes, security_notes)"));
}

TEST(auth, set_reaches_the_new_keys) {
  const auto plan =
      load_small("auth: {method: hmac, secret: env:H}",
                 with_sets({"auth.algorithm=sha512", "auth.signed_components=[body]", "auth.rotation=30d"}));
  EXPECT_EQ(plan.auth.hmac->algorithm, hmac_algorithm::sha512);
  EXPECT_THAT(plan.auth.hmac->signed_components, ElementsAre(signed_component::body));
  EXPECT_EQ(plan.auth.rotation, std::chrono::hours(24 * 30));
  EXPECT_THAT(
      small_errors("auth: {method: hmac, secret: env:H}", with_sets({"auth.tolerance=soon"})),
      ElementsAre("--set: error: auth.tolerance: expected a duration such as 250ms, 2s or 1m, got 'soon'"));
}

}  // namespace
}  // namespace planproof::plan
