// JWTs as the client mints them and the mock verifies them: the RFC 7515 example, every verdict,
// the algorithm confusions a verifier must refuse, and keys that do not fit their algorithm.
#include "core/jwt.hpp"

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/encoding.hpp"

namespace planproof::core {
namespace {

using namespace std::chrono_literals;
using claims_map = std::map<std::string, std::string, std::less<>>;

const std::chrono::sys_seconds t0{std::chrono::seconds(1'800'000'000)};

const jws_key& key_for(jws_algorithm a) {
  static const auto hs = jws_key::generate(jws_algorithm::HS256);
  static const auto rs = jws_key::generate(jws_algorithm::RS256);
  static const auto es = jws_key::generate(jws_algorithm::ES256);
  switch (a) {
    case jws_algorithm::HS256: return *hs;
    case jws_algorithm::RS256: return *rs;
    case jws_algorithm::ES256: return *es;
  }
  return *hs;
}

std::string part(std::string_view token, int index) {
  std::size_t from = 0;
  for (int i = 0; i < index; ++i) from = token.find('.', from) + 1;
  const auto to = token.find('.', from);
  return std::string(token.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
}

boost::json::object decoded(std::string_view token, int index) {
  return boost::json::parse(*base64url_decode(part(token, index))).as_object();
}

// A PEM private key made by OpenSSL directly, for keys planproof must refuse.
std::string pem_of(EVP_PKEY* k, const EVP_CIPHER* cipher = nullptr, const char* passphrase = nullptr) {
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_mem()), BIO_free_all);
  PEM_write_bio_PrivateKey(bio.get(), k, cipher, reinterpret_cast<const unsigned char*>(passphrase),
                           passphrase == nullptr ? 0 : static_cast<int>(std::strlen(passphrase)), nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  EVP_PKEY_free(k);
  return std::string(data, static_cast<std::size_t>(n));
}

class every_algorithm : public testing::TestWithParam<jws_algorithm> {};

TEST_P(every_algorithm, a_minted_token_verifies_with_the_public_half_and_carries_its_claims) {
  const auto& key = key_for(GetParam());
  const auto token = mint_jwt(key, {{"iss", "acme"}, {"aud", "https://api.example.com"}}, t0, 300s, "id-1");
  const auto header = decoded(token, 0);
  EXPECT_EQ(header.at("alg").as_string(), to_string(GetParam()));
  EXPECT_EQ(header.at("typ").as_string(), "JWT");
  const auto payload = decoded(token, 1);
  EXPECT_EQ(payload.at("iss").as_string(), "acme");
  EXPECT_EQ(payload.at("iat").as_int64(), 1'800'000'000);
  EXPECT_EQ(payload.at("exp").as_int64(), 1'800'000'300);
  EXPECT_EQ(payload.at("jti").as_string(), "id-1");

  const jwt_expectations expect{{{"iss", "acme"}, {"aud", "https://api.example.com"}}, 300s, 5s};
  const auto check = verify_jwt(key.verifier(), token, expect, t0 + 10s);
  EXPECT_EQ(check.verdict, jwt_verdict::valid) << to_string(check.verdict) << " " << check.claim;
  EXPECT_EQ(check.jti, "id-1");
  EXPECT_EQ(check.expires_at, t0 + 300s);
  if (GetParam() == jws_algorithm::ES256) {
    EXPECT_EQ(base64url_decode(part(token, 2))->size(), 64u);  // R || S, not DER
  }
}

TEST_P(every_algorithm, a_token_is_refused_once_expired_and_before_it_was_issued) {
  const auto& key = key_for(GetParam());
  const auto token = mint_jwt(key, {}, t0, 60s, "id");
  const jwt_expectations expect{{}, 0s, 5s};
  EXPECT_EQ(verify_jwt(key, token, expect, t0 + 59s).verdict, jwt_verdict::valid);
  EXPECT_EQ(verify_jwt(key, token, expect, t0 + 60s).verdict, jwt_verdict::expired);  // exp is the first invalid second
  EXPECT_EQ(verify_jwt(key, token, expect, t0 - 5s).verdict, jwt_verdict::valid);   // within the leeway
  EXPECT_EQ(verify_jwt(key, token, expect, t0 - 6s).verdict, jwt_verdict::not_yet_valid);
}

TEST_P(every_algorithm, a_changed_payload_or_signature_is_a_bad_signature) {
  const auto& key = key_for(GetParam());
  const auto token = mint_jwt(key, {{"sub", "sync"}}, t0, 60s, "id");
  const jwt_expectations expect;
  const auto forged_payload = base64url_encode(R"({"sub":"admin","iat":1800000000,"exp":1900000000,"jti":"id"})");
  const auto forged = part(token, 0) + "." + forged_payload + "." + part(token, 2);
  EXPECT_EQ(verify_jwt(key, forged, expect, t0).verdict, jwt_verdict::bad_signature);

  auto signature = *base64url_decode(part(token, 2));
  signature[signature.size() / 2] ^= 0x01;
  const auto flipped = part(token, 0) + "." + part(token, 1) + "." + base64url_encode(signature);
  EXPECT_EQ(verify_jwt(key, flipped, expect, t0).verdict, jwt_verdict::bad_signature);

  const auto other = *jws_key::generate(GetParam());
  EXPECT_EQ(verify_jwt(other, token, expect, t0).verdict, jwt_verdict::bad_signature);
}

INSTANTIATE_TEST_SUITE_P(jwt, every_algorithm,
                         testing::Values(jws_algorithm::HS256, jws_algorithm::RS256, jws_algorithm::ES256),
                         [](const auto& info) { return std::string(to_string(info.param)); });

// RFC 7515 appendix A.1: the HS256 example token, verified with the example key.
TEST(jwt, verifies_the_rfc_7515_hs256_example) {
  const auto secret = base64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(secret);
  const auto key = jws_key::from_secret(jws_algorithm::HS256, *secret).key;
  ASSERT_TRUE(key);
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
      ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
      ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::chrono::sys_seconds before{std::chrono::seconds(1'300'819'000)};
  const auto check = verify_jwt(*key, token, {{{"iss", "joe"}}, 0s, 0s}, before);
  EXPECT_EQ(check.verdict, jwt_verdict::valid) << to_string(check.verdict);
  EXPECT_EQ(verify_jwt(*key, token, {}, std::chrono::sys_seconds{std::chrono::seconds(1'300'819'380)}).verdict,
            jwt_verdict::expired);
}

TEST(jwt, alg_none_and_algorithm_confusion_are_refused) {
  const auto& rs = key_for(jws_algorithm::RS256);
  const std::string payload = base64url_encode(R"({"iat":1800000000,"exp":1900000000,"jti":"x"})");
  // alg none: no signature at all.
  const auto unsigned_token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  EXPECT_EQ(verify_jwt(rs.verifier(), unsigned_token, {}, t0).verdict, jwt_verdict::algorithm_mismatch);
  // HS256 "signed" with the RSA public key's bytes as the HMAC secret: the classic confusion.
  const auto confused_input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + payload;
  const auto hs = jws_key::from_secret(jws_algorithm::HS256, std::string(64, 'k')).key;
  const auto confused = confused_input + "." + base64url_encode(hs->sign(confused_input));
  EXPECT_EQ(verify_jwt(rs.verifier(), confused, {}, t0).verdict, jwt_verdict::algorithm_mismatch);
  // A critical extension this verifier does not know (RFC 7515 section 4.1.11).
  const auto crit_input = base64url_encode(R"({"alg":"RS256","crit":["exp2"],"exp2":1})") + "." + payload;
  const auto crit = crit_input + "." + base64url_encode(rs.sign(crit_input));
  EXPECT_EQ(verify_jwt(rs.verifier(), crit, {}, t0).verdict, jwt_verdict::algorithm_mismatch);
}

TEST(jwt, claims_are_checked_after_the_signature) {
  const auto& key = key_for(jws_algorithm::ES256);
  const auto token = mint_jwt(key, {{"iss", "acme"}, {"sub", "sync"}}, t0, 300s, "id");
  EXPECT_EQ(verify_jwt(key, token, {{{"iss", "acme"}}, 300s, 5s}, t0).verdict, jwt_verdict::valid);

  auto check = verify_jwt(key, token, {{{"iss", "someone-else"}}, 0s, 5s}, t0);
  EXPECT_EQ(check.verdict, jwt_verdict::claim_mismatch);
  EXPECT_EQ(check.claim, "iss");
  check = verify_jwt(key, token, {{{"aud", "https://api.example.com"}}, 0s, 5s}, t0);
  EXPECT_EQ(check.verdict, jwt_verdict::missing_claim);
  EXPECT_EQ(check.claim, "aud");
  // A token living longer than the plan allows.
  check = verify_jwt(key, token, {{}, 299s, 5s}, t0);
  EXPECT_EQ(check.verdict, jwt_verdict::claim_mismatch);
  EXPECT_EQ(check.claim, "exp");
}

TEST(jwt, aud_may_be_a_list_holding_the_expected_audience) {
  const auto& key = key_for(jws_algorithm::HS256);
  const auto input = base64url_encode(R"({"alg":"HS256"})") + "." +
                     base64url_encode(R"({"aud":["a","https://api.example.com"],"exp":1900000000})");
  const auto token = input + "." + base64url_encode(key.sign(input));
  EXPECT_EQ(verify_jwt(key, token, {{{"aud", "https://api.example.com"}}, 0s, 0s}, t0).verdict, jwt_verdict::valid);
  EXPECT_EQ(verify_jwt(key, token, {{{"aud", "b"}}, 0s, 0s}, t0).verdict, jwt_verdict::claim_mismatch);
  // Only aud is a list of values; any other claim must be the text itself.
  const auto input2 = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode(R"({"iss":["acme"],"exp":1900000000})");
  const auto token2 = input2 + "." + base64url_encode(key.sign(input2));
  EXPECT_EQ(verify_jwt(key, token2, {{{"iss", "acme"}}, 0s, 0s}, t0).verdict, jwt_verdict::claim_mismatch);
}

TEST(jwt, malformed_tokens_and_missing_exp) {
  const auto& key = key_for(jws_algorithm::HS256);
  const jwt_expectations expect;
  for (const std::string bad : {"", "abc", "a.b", "a.b.c.d", "!!.e30.", "e30.e30.e30"}) {
    const auto v = verify_jwt(key, bad, expect, t0).verdict;
    EXPECT_TRUE(v == jwt_verdict::malformed || v == jwt_verdict::algorithm_mismatch) << bad << ": " << to_string(v);
  }
  auto signed_token = [&](std::string_view payload) {
    const auto input = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode(payload);
    return input + "." + base64url_encode(key.sign(input));
  };
  EXPECT_EQ(verify_jwt(key, signed_token("[1,2]"), expect, t0).verdict, jwt_verdict::malformed);
  EXPECT_EQ(verify_jwt(key, signed_token(R"({"exp":"tomorrow"})"), expect, t0).verdict, jwt_verdict::malformed);
  const auto no_exp = verify_jwt(key, signed_token(R"({"iat":1800000000})"), expect, t0);
  EXPECT_EQ(no_exp.verdict, jwt_verdict::missing_claim);
  EXPECT_EQ(no_exp.claim, "exp");
  // A fractional NumericDate is allowed (RFC 7519 section 2).
  EXPECT_EQ(verify_jwt(key, signed_token(R"({"exp":1800000100.5})"), expect, t0).verdict, jwt_verdict::valid);
}

TEST(jwt, keys_that_do_not_fit_their_algorithm_are_refused_without_quoting_them) {
  auto r = jws_key::from_secret(jws_algorithm::HS256, "short-secret");
  EXPECT_FALSE(r.key);
  EXPECT_EQ(r.error, "HS256 key of 12 bytes; RFC 7518 section 3.2 requires at least 32");

  r = jws_key::from_secret(jws_algorithm::RS256, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
  EXPECT_FALSE(r.key);
  EXPECT_EQ(r.error.find("not base64"), std::string::npos);
  EXPECT_NE(r.error.find("not an unencrypted PEM private key"), std::string::npos);

  r = jws_key::from_secret(jws_algorithm::RS256, pem_of(EVP_RSA_gen(1024)));
  EXPECT_EQ(r.error, "RSA key of 1024 bits; RS256 needs at least 2048 (RFC 7518 section 3.3)");
  r = jws_key::from_secret(jws_algorithm::ES256, pem_of(EVP_EC_gen("P-384")));
  EXPECT_EQ(r.error, "EC key on secp384r1; ES256 needs P-256");
  r = jws_key::from_secret(jws_algorithm::ES256, key_for(jws_algorithm::RS256).private_pem());
  EXPECT_EQ(r.error, "ES256 needs an EC private key on P-256");
  // An encrypted key is refused, never prompted for.
  r = jws_key::from_secret(jws_algorithm::ES256, pem_of(EVP_EC_gen("P-256"), EVP_aes_128_cbc(), "passphrase"));
  EXPECT_FALSE(r.key);

  // A key read back from its own PEM signs tokens the original's verifier accepts.
  const auto& es = key_for(jws_algorithm::ES256);
  const auto again = jws_key::from_secret(jws_algorithm::ES256, es.private_pem()).key;
  ASSERT_TRUE(again);
  EXPECT_EQ(verify_jwt(es.verifier(), mint_jwt(*again, {}, t0, 60s, "x"), {}, t0).verdict, jwt_verdict::valid);
}

TEST(jwt, a_verifier_cannot_sign) {
  for (const auto a : {jws_algorithm::RS256, jws_algorithm::ES256}) {
    const auto verifier = key_for(a).verifier();
    EXPECT_TRUE(verifier.sign("input").empty());
    EXPECT_TRUE(verifier.private_pem().empty());
    EXPECT_TRUE(mint_jwt(verifier, {}, t0, 60s, "x").empty());
  }
}

TEST(base64url, decodes_strictly) {
  EXPECT_EQ(base64url_decode(""), std::string());
  EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_FALSE(base64url_decode("Zm9vYg=="));  // padding
  EXPECT_FALSE(base64url_decode("+/8"));        // the other alphabet
  EXPECT_FALSE(base64url_decode("Zm9vY"));      // a length no encoding has
  EXPECT_FALSE(base64url_decode("Zh"));         // non-zero bits past the last byte
}

}  // namespace
}  // namespace planproof::core
