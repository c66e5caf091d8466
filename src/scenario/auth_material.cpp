#include "scenario/auth_material.hpp"

#include <cstdio>
#include <random>

#include "core/encoding.hpp"
#include "core/logging.hpp"
#include "core/secret.hpp"
#include "mocks/token_authority.hpp"
#include "resilience/token_lifecycle.hpp"

namespace planproof::scenario {
namespace {

// A throwaway credential: `prefix` and `words` random 32-bit words in hex, registered for redaction.
std::string generated_credential(std::string_view prefix, int words) {
  std::random_device rd;
  std::string value(prefix);
  char word[9];
  for (int i = 0; i < words; ++i) {
    std::snprintf(word, sizeof word, "%08x", rd());
    value += word;
  }
  core::redactor::instance().add(value);
  return value;
}

// The value of a reference, or a throwaway `<prefix>...` one when it cannot be resolved (then
// `m` says why). Both are registered for redaction.
std::string resolve_or_generate(const core::secret_ref& ref, std::string_view prefix, auth_material& m) {
  auto resolved = core::resolve_secret(ref);
  if (resolved.value) {
    m.resolved.emplace_back("secret " + ref.str(), *resolved.value);
    return *resolved.value;
  }
  std::string value = generated_credential(prefix, 2);
  m.resolved.emplace_back("generated stand-in for " + ref.str(), value);
  m.unresolved += (m.unresolved.empty() ? "" : ", ") + resolved.error;
  m.generated = true;
  return value;
}

bool mock_checks(plan::auth_method m) {
  return m == plan::auth_method::api_key || m == plan::auth_method::bearer ||
         m == plan::auth_method::oauth2_client_credentials || m == plan::auth_method::hmac ||
         m == plan::auth_method::jwt;
}

core::jws_algorithm jws_algorithm_of(plan::jwt_algorithm a) {
  switch (a) {
    case plan::jwt_algorithm::HS256: return core::jws_algorithm::HS256;
    case plan::jwt_algorithm::RS256: return core::jws_algorithm::RS256;
    case plan::jwt_algorithm::ES256: return core::jws_algorithm::ES256;
  }
  return core::jws_algorithm::RS256;
}

// auth: jwt. A resolved key must fit the algorithm; an unresolved one is replaced by a throwaway
// of the same algorithm (HS256: a generated secret, registered for redaction like the others).
void resolve_jwt(const plan::auth_config& auth, auth_material& m) {
  const auto algorithm = jws_algorithm_of(auth.jwt->algorithm);
  auto resolved = core::resolve_secret(*auth.secret);
  if (resolved.value) {
    m.resolved.emplace_back("secret " + auth.secret->str(), *resolved.value);
    auto parsed = core::jws_key::from_secret(algorithm, *resolved.value);
    if (!parsed.key) {
      m.error = "auth.signing_key (" + auth.secret->str() + "): " + parsed.error;
      return;
    }
    m.jwt_key = std::move(parsed.key);
    return;
  }
  m.unresolved += (m.unresolved.empty() ? "" : ", ") + resolved.error;
  m.generated = true;
  if (algorithm == core::jws_algorithm::HS256) {
    m.signing_key = generated_credential("pp_test_", 8);
    m.resolved.emplace_back("generated stand-in for " + auth.secret->str(), m.signing_key);
    m.jwt_key = core::jws_key::from_secret(algorithm, m.signing_key).key;
  } else {
    m.jwt_key = core::jws_key::generate(algorithm);
  }
  if (!m.jwt_key) m.error = "cannot generate a " + std::string(core::to_string(algorithm)) + " key (OpenSSL failed)";
}

}  // namespace

auth_material resolve_auth(const plan::auth_config& auth, bool for_mock_only) {
  auth_material m;
  // Methods nobody here can drive are skipped per failure mode; nothing to resolve for them.
  const bool wanted = for_mock_only ? mock_checks(auth.method) : plan::is_supported(auth.method);
  if (auth.method == plan::auth_method::none || !auth.secret || !wanted) return m;
  if (auth.method == plan::auth_method::jwt) {
    resolve_jwt(auth, m);
    return m;
  }
  const std::string value = resolve_or_generate(*auth.secret, "pp_test_", m);
  switch (auth.method) {
    case plan::auth_method::api_key:
      if (auth.key_in == plan::api_key_location::header) {
        m.header = {auth.header, value};
      } else {
        m.query = {auth.query_param, value};
        // As it travels in a target: wherever a target is written, the key is redacted too.
        core::redactor::instance().add(core::form_encode(value));
      }
      break;
    case plan::auth_method::bearer:
      m.header = {"Authorization", "Bearer " + value};
      break;
    case plan::auth_method::oauth2_client_credentials: {
      m.client_secret = value;
      const auto& id = auth.oauth2->client_id;
      if (id.secret) {
        m.client_id = resolve_or_generate(*id.secret, "pp_client_", m);
      } else {
        m.client_id = id.text.empty() ? "planproof-client" : id.text;
      }
      break;
    }
    case plan::auth_method::hmac:
      m.signing_key = value;
      break;
    default:
      break;
  }
  return m;
}

mocks::auth_requirement mock_requirement(const plan::auth_config& auth, const auth_material& material,
                                         std::uint64_t seed, const core::plan_calendar& calendar) {
  mocks::auth_requirement r{material.header.name, material.header.value};
  if (!material.query.name.empty()) {
    r.query_param = material.query.name;
    r.expected_value = material.query.value;
  }
  if (material.jwt_key && auth.jwt) {
    core::jwt_expectations expect;
    expect.claims.insert(auth.jwt->claims.begin(), auth.jwt->claims.end());
    expect.max_lifetime = std::chrono::ceil<std::chrono::seconds>(auth.jwt->lifetime);
    // Clocks of two processes on one machine differ by far less; a token stamped later than that
    // is the client's bug.
    expect.leeway = std::chrono::seconds(5);
    r.jwt = mocks::jwt_requirement{material.jwt_key->verifier(), std::move(expect), auth.header, calendar};
  }
  if (!material.client_secret.empty()) {
    r.oauth2 = mocks::token_authority_config_from_plan(auth, material.client_id, material.client_secret, seed);
    if (r.oauth2) r.token_path = token_path_of(auth.oauth2->token_url);
  }
  if (!material.signing_key.empty()) {
    r.hmac = mocks::signature_scheme_from_plan(auth);
    r.hmac_key = material.signing_key;
  }
  return r;
}

std::function<std::vector<client::header>(std::string_view, std::string_view, std::string_view)> request_signer(
    const core::signature_scheme& scheme, std::string key, std::string host) {
  return [scheme, key = std::move(key), host = std::move(host)](std::string_view method, std::string_view target,
                                                                 std::string_view body) {
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    std::vector<client::header> out;
    for (auto& [name, value] : core::sign_request(scheme, {.method = method, .target = target, .host = host, .body = body}, key, now)) {
      out.push_back({std::move(name), std::move(value)});
    }
    return out;
  };
}

client::oauth2_options oauth2_client_options(const plan::auth_config& auth, const auth_material& material,
                                             const plan::retry_config& retry) {
  client::oauth2_options o;
  const auto& cfg = *auth.oauth2;
  o.token_target = token_path_of(cfg.token_url);
  o.client_id = material.client_id;
  o.client_secret = material.client_secret;
  o.scopes = cfg.scopes;
  o.audience = cfg.audience;
  o.lifecycle = *resilience::lifecycle_for(auth, retry);
  return o;
}

client::jwt_options jwt_client_options(const plan::auth_config& auth, const auth_material& material,
                                       const plan::retry_config& retry, const core::plan_calendar& calendar) {
  const auto& cfg = *auth.jwt;
  client::jwt_options o{.key = *material.jwt_key};
  o.claims.insert(cfg.claims.begin(), cfg.claims.end());
  o.lifetime = std::chrono::duration_cast<std::chrono::seconds>(resilience::minted_jwt_lifetime(cfg));
  o.header = auth.header;
  o.calendar = calendar;
  o.lifecycle = *resilience::lifecycle_for(auth, retry);
  return o;
}

std::string use_plan_certificate(const plan::mtls_config& m, mocks::client_tls_config& config, std::string_view real) {
  auto take = [real](const core::secret_ref& ref, std::string_view key, std::string& file, std::string& text) {
    if (ref.from == core::secret_ref::source::file) {
      file = ref.name;
      return std::string();
    }
    auto resolved = core::resolve_secret(ref);
    if (!resolved.value) {
      return "cannot resolve the plan's auth." + std::string(key) + " (" + resolved.error + "): " + std::string(real) +
             " and needs the real one";
    }
    text = *resolved.value + '\n';  // resolving strips the PEM's last newline
    return std::string();
  };
  if (auto why = take(m.client_cert, "client_cert", config.cert_file, config.cert_pem); !why.empty()) return why;
  if (auto why = take(m.client_key, "client_key", config.key_file, config.key_pem); !why.empty()) return why;
  if (m.ca && config.ca_file.empty()) return take(*m.ca, "ca", config.ca_file, config.ca_pem);
  return {};
}

std::string token_path_of(std::string_view token_url) {
  std::string_view rest = token_url;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
    const auto path = rest.find_first_of("/?#");
    rest = path == std::string_view::npos ? std::string_view() : rest.substr(path);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  return rest.starts_with('/') ? std::string(rest) : "/" + std::string(rest);
}

signing_secret resolve_signing_secret(const core::secret_ref& ref) {
  signing_secret s;
  auto resolved = core::resolve_secret(ref);
  if (resolved.value) {
    s.value = *resolved.value;
    return s;
  }
  s.value = generated_credential("pp_test_whsec_", 4);
  s.generated = true;
  s.unresolved = resolved.error;
  return s;
}

}  // namespace planproof::scenario
