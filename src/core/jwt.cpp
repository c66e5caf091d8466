#include "core/jwt.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "core/encoding.hpp"
#include "core/hmac.hpp"

namespace planproof::core {
namespace {

namespace json = boost::json;

constexpr std::size_t min_hs256_key = 32;  // RFC 7518 section 3.2: a key as long as the hash output
constexpr int min_rsa_bits = 2048;         // RFC 7518 section 3.3
constexpr std::size_t es256_half = 32;     // R and S of a P-256 signature, RFC 7518 section 3.4

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ecdsa_sig_ptr = std::unique_ptr<ECDSA_SIG, openssl_deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<evp_pkey_st> own(EVP_PKEY* k) { return {k, EVP_PKEY_free}; }

// A passphrase-protected key is refused rather than prompted for on the terminal.
int no_passphrase(char*, int, int, void*) { return -1; }

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// What is wrong with an asymmetric key for `algorithm`; empty when it fits.
std::string unfit(jws_algorithm algorithm, EVP_PKEY* k) {
  if (algorithm == jws_algorithm::RS256) {
    if (!EVP_PKEY_is_a(k, "RSA")) return "RS256 needs an RSA private key";
    if (const int bits = EVP_PKEY_get_bits(k); bits < min_rsa_bits) {
      return "RSA key of " + std::to_string(bits) + " bits; RS256 needs at least 2048 (RFC 7518 section 3.3)";
    }
    return {};
  }
  if (!EVP_PKEY_is_a(k, "EC")) return "ES256 needs an EC private key on P-256";
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(), &length) != 1 ||
      (std::strcmp(group.data(), "prime256v1") != 0 && std::strcmp(group.data(), "P-256") != 0)) {
    return "EC key on " + std::string(group.data(), length) + "; ES256 needs P-256";
  }
  return {};
}

std::string digest_sign(EVP_PKEY* k, std::string_view input) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes(input), input.size()) != 1) {
    return {};
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes(input),
                     input.size()) != 1) {
    return {};
  }
  signature.resize(length);
  return signature;
}

bool digest_verify(EVP_PKEY* k, std::string_view input, std::string_view signature) {
  md_ctx_ptr ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, k) == 1 &&
         EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(input), input.size()) == 1;
}

// ECDSA signatures: OpenSSL speaks DER, JWS the two 32-byte integers side by side.
std::string der_to_raw(std::string_view der) {
  const unsigned char* p = bytes(der);
  ecdsa_sig_ptr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return {};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * es256_half, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, es256_half) < 0 || BN_bn2binpad(s, out + es256_half, es256_half) < 0) return {};
  return raw;
}

std::string raw_to_der(std::string_view raw) {
  if (raw.size() != 2 * es256_half) return {};
  ecdsa_sig_ptr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes(raw), es256_half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes(raw) + es256_half, es256_half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::string hs256(std::string_view key, std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(input), input.size(), mac.data(),
           &length) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

// A NumericDate (RFC 7519 section 2): a JSON number of seconds, fractions dropped.
std::optional<std::int64_t> numeric_date(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return std::nullopt;  // beyond int64: no date anyone means
  if (v.is_double() && std::isfinite(v.get_double()) && std::fabs(v.get_double()) < 9.2e18) {
    return static_cast<std::int64_t>(std::floor(v.get_double()));
  }
  return std::nullopt;
}

std::optional<json::object> decode_object(std::string_view part) {
  const auto text = base64url_decode(part);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(*text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

bool claim_matches(std::string_view name, const json::value& actual, std::string_view expected) {
  if (const auto* s = actual.if_string()) return *s == expected;
  if (name == "aud") {
    if (const auto* list = actual.if_array()) {
      for (const auto& item : *list) {
        if (const auto* s = item.if_string(); s != nullptr && *s == expected) return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(jws_algorithm a) noexcept {
  switch (a) {
    case jws_algorithm::HS256: return "HS256";
    case jws_algorithm::RS256: return "RS256";
    case jws_algorithm::ES256: return "ES256";
  }
  return "HS256";
}

std::string_view to_string(jwt_verdict v) noexcept {
  switch (v) {
    case jwt_verdict::valid: return "valid";
    case jwt_verdict::malformed: return "malformed";
    case jwt_verdict::algorithm_mismatch: return "algorithm_mismatch";
    case jwt_verdict::bad_signature: return "bad_signature";
    case jwt_verdict::expired: return "expired";
    case jwt_verdict::not_yet_valid: return "not_yet_valid";
    case jwt_verdict::missing_claim: return "missing_claim";
    case jwt_verdict::claim_mismatch: return "claim_mismatch";
  }
  return "malformed";
}

jws_key::jws_key(jws_algorithm algorithm, std::string secret, std::shared_ptr<evp_pkey_st> pkey, bool has_private)
    : algorithm_(algorithm), secret_(std::move(secret)), pkey_(std::move(pkey)), has_private_(has_private) {}

jws_key::parsed jws_key::from_secret(jws_algorithm algorithm, std::string_view secret) {
  if (algorithm == jws_algorithm::HS256) {
    if (secret.size() < min_hs256_key) {
      return {std::nullopt, "HS256 key of " + std::to_string(secret.size()) +
                                " bytes; RFC 7518 section 3.2 requires at least 32"};
    }
    return {jws_key(algorithm, std::string(secret), nullptr, true), {}};
  }
  bio_ptr bio(BIO_new_mem_buf(secret.data(), static_cast<int>(secret.size())));
  EVP_PKEY* k = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr) : nullptr;
  ERR_clear_error();
  if (k == nullptr) {
    return {std::nullopt, "not an unencrypted PEM private key (" + std::string(to_string(algorithm)) +
                              " needs " + (algorithm == jws_algorithm::RS256 ? "an RSA" : "an EC P-256") + " key)"};
  }
  auto key = own(k);
  if (auto why = unfit(algorithm, k); !why.empty()) return {std::nullopt, std::move(why)};
  return {jws_key(algorithm, {}, std::move(key), true), {}};
}

std::optional<jws_key> jws_key::generate(jws_algorithm algorithm) {
  if (algorithm == jws_algorithm::HS256) {
    std::array<unsigned char, min_hs256_key> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) return std::nullopt;
    // Printable, so a user of `serve` can be given it: 43 characters, 256 bits of randomness.
    return jws_key(algorithm, base64url_encode(std::string_view(reinterpret_cast<const char*>(random.data()), random.size())),
                   nullptr, true);
  }
  EVP_PKEY* k = algorithm == jws_algorithm::RS256 ? EVP_RSA_gen(min_rsa_bits) : EVP_EC_gen("P-256");
  ERR_clear_error();
  if (k == nullptr) return std::nullopt;
  return jws_key(algorithm, {}, own(k), true);
}

jws_key jws_key::verifier() const {
  if (!pkey_) return *this;
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(pkey_.get(), &der);
  if (length <= 0) return jws_key(algorithm_, {}, nullptr, false);
  const unsigned char* p = der;
  EVP_PKEY* pub = d2i_PUBKEY(nullptr, &p, length);
  OPENSSL_free(der);
  ERR_clear_error();
  return jws_key(algorithm_, {}, pub != nullptr ? own(pub) : nullptr, false);
}

std::string jws_key::private_pem() const {
  if (!pkey_ || !has_private_) return {};
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), pkey_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

std::string jws_key::sign(std::string_view input) const {
  if (algorithm_ == jws_algorithm::HS256) return hs256(secret_, input);
  if (!pkey_ || !has_private_) return {};
  auto signature = digest_sign(pkey_.get(), input);
  ERR_clear_error();
  return algorithm_ == jws_algorithm::ES256 && !signature.empty() ? der_to_raw(signature) : signature;
}

bool jws_key::verify(std::string_view input, std::string_view signature) const {
  if (algorithm_ == jws_algorithm::HS256) {
    const auto expected = hs256(secret_, input);
    return !expected.empty() && constant_time_equal(expected, signature);
  }
  if (!pkey_) return false;
  bool ok = false;
  if (algorithm_ == jws_algorithm::ES256) {
    const auto der = raw_to_der(signature);
    ok = !der.empty() && digest_verify(pkey_.get(), input, der);
  } else {
    ok = digest_verify(pkey_.get(), input, signature);
  }
  ERR_clear_error();
  return ok;
}

std::string mint_jwt(const jws_key& key, const std::map<std::string, std::string, std::less<>>& claims,
                     std::chrono::sys_seconds issued_at, std::chrono::seconds lifetime, std::string_view jti) {
  const json::object header{{"alg", to_string(key.algorithm())}, {"typ", "JWT"}};
  json::object payload;
  for (const auto& [name, value] : claims) payload[name] = value;
  const auto iat = issued_at.time_since_epoch().count();
  payload["iat"] = iat;
  payload["exp"] = iat + lifetime.count();
  payload["jti"] = jti;
  std::string token = base64url_encode(json::serialize(header));
  token += '.';
  token += base64url_encode(json::serialize(payload));
  const auto signature = key.sign(token);
  if (signature.empty()) return {};
  token += '.';
  token += base64url_encode(signature);
  return token;
}

jwt_check verify_jwt(const jws_key& key, std::string_view token, const jwt_expectations& expected,
                     std::chrono::sys_seconds now) {
  jwt_check check;
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) return check;
  const auto header = decode_object(token.substr(0, first));
  if (!header) return check;
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != to_string(key.algorithm()) ||
      header->contains("crit")) {
    check.verdict = jwt_verdict::algorithm_mismatch;
    return check;
  }
  const auto signature = base64url_decode(token.substr(second + 1));
  if (!signature) return check;
  if (!key.verify(token.substr(0, second), *signature)) {
    check.verdict = jwt_verdict::bad_signature;
    return check;
  }
  const auto payload = decode_object(token.substr(first + 1, second - first - 1));
  if (!payload) return check;

  if (const auto* jti = payload->if_contains("jti"); jti != nullptr && jti->is_string()) {
    check.jti = std::string(jti->get_string());
  }
  auto date = [&](std::string_view name, std::optional<std::int64_t>& out) {
    const auto* v = payload->if_contains(name);
    if (v == nullptr) return true;
    out = numeric_date(*v);
    return out.has_value();
  };
  std::optional<std::int64_t> exp, iat, nbf;
  if (!date("exp", exp) || !date("iat", iat) || !date("nbf", nbf)) return check;  // malformed
  auto missing = [&](std::string_view claim) {
    check.verdict = jwt_verdict::missing_claim;
    check.claim = claim;
    return check;
  };
  if (!exp) return missing("exp");
  check.expires_at = std::chrono::sys_seconds(std::chrono::seconds(*exp));
  const auto t = now.time_since_epoch().count();
  const auto leeway = expected.leeway.count();
  if (t >= *exp) {
    check.verdict = jwt_verdict::expired;
    return check;
  }
  if ((iat && *iat > t + leeway) || (nbf && *nbf > t + leeway)) {
    check.verdict = jwt_verdict::not_yet_valid;
    return check;
  }
  if (expected.max_lifetime.count() > 0) {
    if (!iat) return missing("iat");
    if (*exp - *iat > expected.max_lifetime.count()) {
      check.verdict = jwt_verdict::claim_mismatch;
      check.claim = "exp";
      return check;
    }
  }
  for (const auto& [name, value] : expected.claims) {
    const auto* actual = payload->if_contains(name);
    if (actual == nullptr) return missing(name);
    if (!claim_matches(name, *actual, value)) {
      check.verdict = jwt_verdict::claim_mismatch;
      check.claim = name;
      return check;
    }
  }
  check.verdict = jwt_verdict::valid;
  return check;
}

}  // namespace planproof::core
