#include "mocks/token_authority.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>
#include <variant>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/encoding.hpp"
#include "core/hmac.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::size_t token_bytes = 32;          // 256 bits, 43 base64url characters
constexpr std::size_t max_form_parameters = 32;  // a token request has at most six
constexpr std::size_t max_authorization = 4096;  // longer than any Basic credential we accept
constexpr std::string_view form_media_type = "application/x-www-form-urlencoded";

// CTLs other than HTAB (RFC 9110 section 5.5). Beast's parser refuses them on the wire; requests
// built by hand (tests, a proxy) could still carry them.
bool has_control(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

using form = std::vector<std::pair<std::string, std::string>>;

std::optional<form> parse_form(std::string_view body) {
  form params;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2": browsers and most parsers skip these
    if (params.size() == max_form_parameters) return std::nullopt;
    const auto eq = pair.find('=');
    auto name = core::form_decode(pair.substr(0, eq));
    auto value = core::form_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

bool has_duplicate(const form& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    for (std::size_t j = i + 1; j < params.size(); ++j) {
      if (params[i].first == params[j].first) return true;
    }
  }
  return false;
}

// RFC 6749 section 3.1: a parameter sent without a value is treated as omitted.
std::optional<std::string_view> param(const form& params, std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return v.empty() ? std::nullopt : std::optional<std::string_view>(v);
  }
  return std::nullopt;
}

// scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), RFC 6749 section 3.3.
bool is_scope_char(char ch) noexcept {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

// `scope = scope-token *( SP scope-token )`, strictly: no leading, trailing or doubled spaces.
std::optional<std::vector<std::string>> parse_scope(std::string_view s) {
  std::vector<std::string> out;
  for (;;) {
    const auto sp = s.find(' ');
    const std::string_view token = s.substr(0, sp);
    if (token.empty() || !std::all_of(token.begin(), token.end(), is_scope_char)) return std::nullopt;
    if (std::find(out.begin(), out.end(), token) == out.end()) out.emplace_back(token);
    if (sp == std::string_view::npos) return out;
    s = s.substr(sp + 1);
  }
}

bool is_b64token_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/';
}

// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", RFC 6750 section 2.1.
bool is_b64token(std::string_view s) noexcept {
  const auto last = s.find_last_not_of('=');  // everything after it is padding
  if (last == std::string_view::npos) return false;
  const auto body = s.substr(0, last + 1);
  return std::all_of(body.begin(), body.end(), is_b64token_char);
}

// Splits `Scheme credentials` at the first run of spaces; the scheme alone gives empty credentials.
std::pair<std::string_view, std::string_view> split_credentials(std::string_view value) {
  const auto sp = value.find(' ');
  if (sp == std::string_view::npos) return {value, {}};
  const auto rest = value.find_first_not_of(' ', sp);
  return {value.substr(0, sp), rest == std::string_view::npos ? std::string_view{} : value.substr(rest)};
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

struct grant {
  std::vector<std::string> scopes;
  std::string audience;
};

struct refusal {
  oauth_error error;
  std::string_view description;  // a fixed sentence: never quotes what the client sent
};

std::int64_t whole_seconds(core::duration d) noexcept {
  return std::max<std::int64_t>(1, std::chrono::floor<std::chrono::seconds>(d).count());
}

}  // namespace

std::string_view to_string(oauth_error e) noexcept {
  switch (e) {
    case oauth_error::invalid_request: return "invalid_request";
    case oauth_error::invalid_client: return "invalid_client";
    case oauth_error::unsupported_grant_type: return "unsupported_grant_type";
    case oauth_error::invalid_scope: return "invalid_scope";
    case oauth_error::invalid_target: return "invalid_target";
  }
  return "invalid_request";
}

std::string_view to_string(token_status s) noexcept {
  switch (s) {
    case token_status::valid: return "valid";
    case token_status::expired: return "expired";
    case token_status::revoked: return "revoked";
    case token_status::unknown: return "unknown";
  }
  return "unknown";
}

std::string_view to_string(access_verdict v) noexcept {
  switch (v) {
    case access_verdict::granted: return "granted";
    case access_verdict::no_credential: return "no_credential";
    case access_verdict::invalid_request: return "invalid_request";
    case access_verdict::invalid_token: return "invalid_token";
    case access_verdict::insufficient_scope: return "insufficient_scope";
  }
  return "no_credential";
}

std::uint64_t token_authority_stats::refused_total() const noexcept {
  std::uint64_t total = 0;
  for (const auto n : refused) total += n;
  return total;
}

unsigned access_decision::status() const noexcept {
  switch (verdict) {
    case access_verdict::granted: return 200;
    case access_verdict::no_credential: return 401;
    case access_verdict::invalid_request: return 400;
    case access_verdict::invalid_token: return 401;
    case access_verdict::insufficient_scope: return 403;
  }
  return 401;
}

std::string bearer_challenge(const access_decision& d) {
  switch (d.verdict) {
    case access_verdict::granted: return {};
    case access_verdict::no_credential: return "Bearer";
    case access_verdict::invalid_request:
      return R"(Bearer error="invalid_request", )"
             R"(error_description="The Authorization header is not one Bearer credential")";
    case access_verdict::invalid_token: {
      std::string_view why = "The access token is not known";
      if (d.token == token_status::expired) why = "The access token expired";
      if (d.token == token_status::revoked) why = "The access token was revoked";
      return std::string(R"(Bearer error="invalid_token", error_description=)") + quoted(why);
    }
    case access_verdict::insufficient_scope:
      return std::string(R"(Bearer error="insufficient_scope", scope=)") + quoted(join(d.required_scopes));
  }
  return "Bearer";
}

struct token_authority::state {
  struct token_record {
    std::vector<std::string> scopes;
    std::string audience;
    core::time_point expires_at;
    bool revoked = false;
  };
  // Heterogeneous lookup: check() takes a string_view and should not allocate to find a token.
  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  explicit state(std::uint64_t seed) : generator(seed) {}

  void evict_if_full(std::size_t max_tokens, core::time_point now);

  std::mutex mutex;  // guards everything below
  std::mt19937_64 generator;
  std::unordered_map<std::string, token_record, string_hash, std::equal_to<>> tokens;
  std::deque<std::string> issue_order;  // oldest first; may name tokens already evicted
  std::optional<core::duration> early_expiry;
  token_authority_stats stats;
};

token_authority::token_authority(token_authority_config config, const core::clock& clock)
    : config_(std::move(config)), clock_(clock), state_(std::make_unique<state>(config_.seed)) {}

token_authority::~token_authority() = default;

namespace {

// Everything about a token request that needs no shared state: pure, so it runs without the lock.
std::variant<grant, refusal> evaluate(const token_authority_config& config, const token_authority::request& req) {
  using enum oauth_error;
  for (const auto& field : req) {
    if (has_control(field.value())) return refusal{invalid_request, "A header holds a control character"};
  }
  if (req.method() != http::verb::post) return refusal{invalid_request, "The token endpoint takes POST"};
  if (req.count(http::field::content_type) != 1) {
    return refusal{invalid_request, "Content-Type must be application/x-www-form-urlencoded"};
  }
  {
    std::string_view media = req[http::field::content_type];
    media = media.substr(0, media.find(';'));
    const auto first = media.find_first_not_of(" \t");
    const auto last = media.find_last_not_of(" \t");
    media = first == std::string_view::npos ? std::string_view{} : media.substr(first, last - first + 1);
    if (!beast::iequals(media, form_media_type)) {
      return refusal{invalid_request, "Content-Type must be application/x-www-form-urlencoded"};
    }
  }
  if (req.body().size() > config.body_limit) return refusal{invalid_request, "The request body is too large"};
  const auto params = parse_form(req.body());
  if (!params) return refusal{invalid_request, "The body is not valid form encoding"};
  if (has_duplicate(*params)) return refusal{invalid_request, "A parameter is repeated"};
  const auto grant_type = param(*params, "grant_type");
  if (!grant_type) return refusal{invalid_request, "grant_type is missing"};

  // Client authentication (RFC 6749 section 2.3): HTTP Basic or the body, never both.
  const auto body_id = param(*params, "client_id");
  const auto body_secret = param(*params, "client_secret");
  std::string client_id, client_secret;
  const auto authorizations = req.count(http::field::authorization);
  if (authorizations > 1) return refusal{invalid_request, "More than one Authorization header"};
  if (authorizations == 1) {
    const std::string_view value = req[http::field::authorization];
    if (body_secret) return refusal{invalid_request, "More than one client authentication method"};
    if (value.size() > max_authorization) return refusal{invalid_client, "Malformed Basic credentials"};
    const auto [scheme, credentials] = split_credentials(value);
    if (!beast::iequals(scheme, "Basic")) return refusal{invalid_client, "Client authentication must use Basic"};
    const auto decoded = core::base64_decode(credentials);
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return refusal{invalid_client, "Malformed Basic credentials"};
    // RFC 6749 section 2.3.1: both halves are form-encoded before Basic encoding.
    auto id = core::form_decode(std::string_view(*decoded).substr(0, colon));
    auto secret = core::form_decode(std::string_view(*decoded).substr(colon + 1));
    if (!id || !secret) return refusal{invalid_client, "Malformed Basic credentials"};
    if (body_id && *body_id != *id) return refusal{invalid_request, "client_id differs from the Basic credentials"};
    client_id = std::move(*id);
    client_secret = std::move(*secret);
  } else {
    if (!body_id || !body_secret) return refusal{invalid_client, "Client authentication is required"};
    client_id = *body_id;
    client_secret = *body_secret;
  }
  // Both compared in full whatever the first gives, so timing tells nothing about which was wrong.
  const bool id_ok = core::constant_time_equal(client_id, config.client_id);
  const bool secret_ok = core::constant_time_equal(client_secret, config.client_secret);
  if (!(id_ok & secret_ok)) return refusal{invalid_client, "Client authentication failed"};

  if (*grant_type != "client_credentials") {
    return refusal{unsupported_grant_type, "Only the client_credentials grant is supported"};
  }

  grant g;
  if (const auto scope = param(*params, "scope")) {
    auto requested = parse_scope(*scope);
    if (!requested) return refusal{invalid_scope, "The scope is malformed"};
    for (const auto& s : *requested) {
      if (std::find(config.scopes.begin(), config.scopes.end(), s) == config.scopes.end()) {
        return refusal{invalid_scope, "A requested scope cannot be granted"};
      }
    }
    g.scopes = std::move(*requested);
  } else {
    g.scopes = config.scopes;
  }
  if (!config.audience.empty()) {
    if (const auto audience = param(*params, "audience"); audience && *audience != config.audience) {
      return refusal{invalid_target, "The audience is not served here"};
    }
    g.audience = config.audience;
  }
  return g;
}

token_authority::response make_response(const token_authority::request& req, http::status status,
                                        std::string body) {
  token_authority::response res{status, req.version()};
  res.set(http::field::server, "planproof-mock");
  res.set(http::field::content_type, "application/json");
  // RFC 6749 section 5.1: responses carrying tokens must not be cached; errors gain nothing from it.
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::pragma, "no-cache");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace

token_authority::response token_authority::handle_token_request(const request& req) {
  auto outcome = evaluate(config_, req);
  if (const auto* r = std::get_if<refusal>(&outcome)) {
    {
      std::lock_guard lock(state_->mutex);
      ++state_->stats.refused[static_cast<std::size_t>(r->error)];
    }
    boost::json::object body;
    body["error"] = to_string(r->error);
    body["error_description"] = r->description;
    // invalid_client is always 401 with a Basic challenge: RFC 6749 requires it when Basic was
    // tried, and RFC 9110 requires a challenge on every 401, whichever method the client used.
    const bool unauthorized = r->error == oauth_error::invalid_client;
    auto res = make_response(req, unauthorized ? http::status::unauthorized : http::status::bad_request,
                             boost::json::serialize(body));
    if (unauthorized) res.set(http::field::www_authenticate, "Basic realm=" + quoted(config_.realm));
    return res;
  }

  auto& g = std::get<grant>(outcome);
  const std::int64_t expires_in = whole_seconds(config_.expires_in);
  std::string token;
  {
    std::lock_guard lock(state_->mutex);
    auto& s = *state_;
    do {  // a repeat of 256 random bits will not happen, but "distinct" is a promise, so check it
      std::array<unsigned char, token_bytes> bytes{};
      for (std::size_t i = 0; i < token_bytes; i += 8) {
        const std::uint64_t draw = s.generator();
        for (std::size_t k = 0; k < 8; ++k) bytes[i + k] = static_cast<unsigned char>(draw >> (8 * k));
      }
      token = core::base64url_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    } while (s.tokens.contains(token));

    core::duration lifetime = std::chrono::seconds(expires_in);
    if (s.early_expiry) lifetime = std::min(lifetime, std::max(core::duration::zero(), *s.early_expiry));
    s.evict_if_full(config_.max_tokens, clock_.now());
    s.tokens.emplace(token, state::token_record{g.scopes, g.audience, clock_.now() + lifetime, false});
    s.issue_order.push_back(token);
    ++s.stats.issued;
  }

  boost::json::object body;
  body["access_token"] = token;
  body["token_type"] = "Bearer";
  body["expires_in"] = expires_in;
  body["scope"] = join(g.scopes);
  return make_response(req, http::status::ok, boost::json::serialize(body));
}

void token_authority::state::evict_if_full(std::size_t max_tokens, core::time_point now) {
  const std::size_t cap = std::max<std::size_t>(1, max_tokens);
  if (tokens.size() < cap) return;
  // Make room for a tenth at once, so a full store costs one sweep per many issues, not per issue.
  const std::size_t target = cap - std::max<std::size_t>(1, cap / 10);
  std::erase_if(tokens, [&](const auto& entry) { return entry.second.revoked || entry.second.expires_at <= now; });
  while (tokens.size() > target && !issue_order.empty()) {
    tokens.erase(issue_order.front());
    issue_order.pop_front();
  }
  std::erase_if(issue_order, [&](const std::string& t) { return !tokens.contains(t); });
}

token_check token_authority::check(std::string_view bearer_token) const {
  token_check out;
  std::lock_guard lock(state_->mutex);
  const auto it = state_->tokens.find(bearer_token);
  if (it == state_->tokens.end()) return out;
  const auto& rec = it->second;
  out.scopes = rec.scopes;
  out.audience = rec.audience;
  out.expires_at = rec.expires_at;
  if (rec.revoked) {
    out.status = token_status::revoked;
  } else if (clock_.now() >= rec.expires_at) {
    out.status = token_status::expired;
  } else {
    out.status = token_status::valid;
  }
  return out;
}

access_decision token_authority::authorize(const request& req, std::span<const std::string> required_scopes) const {
  // Two values are enough to know there were several.
  std::array<std::string_view, 2> values;
  std::size_t n = 0;
  for (auto [it, end] = req.equal_range(http::field::authorization); it != end && n < values.size(); ++it) {
    values[n++] = it->value();
  }
  return authorize(std::span<const std::string_view>(values.data(), n), required_scopes);
}

access_decision token_authority::authorize(std::span<const std::string_view> authorization_values,
                                           std::span<const std::string> required_scopes) const {
  access_decision d;
  d.required_scopes.assign(required_scopes.begin(), required_scopes.end());
  if (authorization_values.empty()) {
    d.verdict = access_verdict::no_credential;
    return d;
  }
  if (authorization_values.size() > 1 || has_control(authorization_values.front())) {
    d.verdict = access_verdict::invalid_request;
    return d;
  }
  const auto [scheme, credentials] = split_credentials(authorization_values.front());
  if (!beast::iequals(scheme, "Bearer")) {
    // Another scheme is not a bearer credential: challenge as if none had been sent (RFC 6750 3.1).
    d.verdict = access_verdict::no_credential;
    return d;
  }
  if (!is_b64token(credentials)) {
    d.verdict = access_verdict::invalid_request;
    return d;
  }
  const token_check c = check(credentials);
  d.token = c.status;
  if (c.status != token_status::valid) {
    d.verdict = access_verdict::invalid_token;
    return d;
  }
  const bool all = std::all_of(required_scopes.begin(), required_scopes.end(), [&](const std::string& s) {
    return std::find(c.scopes.begin(), c.scopes.end(), s) != c.scopes.end();
  });
  d.verdict = all ? access_verdict::granted : access_verdict::insufficient_scope;
  return d;
}

bool token_authority::revoke(std::string_view bearer_token) {
  std::lock_guard lock(state_->mutex);
  const auto it = state_->tokens.find(bearer_token);
  if (it == state_->tokens.end()) return false;
  it->second.revoked = true;
  return true;
}

std::size_t token_authority::revoke_all() {
  std::lock_guard lock(state_->mutex);
  const auto now = clock_.now();
  std::size_t n = 0;
  for (auto& [token, rec] : state_->tokens) {
    if (!rec.revoked && now < rec.expires_at) ++n;
    rec.revoked = true;
  }
  return n;
}

void token_authority::set_early_expiry(std::optional<core::duration> lifetime) {
  std::lock_guard lock(state_->mutex);
  state_->early_expiry = lifetime;
}

std::vector<std::string> token_authority::issued_tokens() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> out;
  for (const auto& token : state_->issue_order) {
    if (state_->tokens.contains(token)) out.push_back(token);
  }
  return out;
}

token_authority_stats token_authority::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->stats;
}

std::optional<token_authority_config> token_authority_config_from_plan(const plan::auth_config& auth,
                                                                       std::string client_id,
                                                                       std::string client_secret,
                                                                       std::uint64_t seed) {
  if (auth.method != plan::auth_method::oauth2_client_credentials || !auth.oauth2) return std::nullopt;
  token_authority_config c;
  c.client_id = std::move(client_id);
  c.client_secret = std::move(client_secret);
  c.scopes = auth.oauth2->scopes;
  // A resource that requires a scope the authority cannot grant could never be reached.
  for (const auto& s : auth.required_scopes) {
    if (std::find(c.scopes.begin(), c.scopes.end(), s) == c.scopes.end()) c.scopes.push_back(s);
  }
  c.expires_in = auth.oauth2->token_lifetime;
  c.audience = auth.oauth2->audience;
  c.seed = seed;
  return c;
}

std::optional<core::signature_scheme> signature_scheme_from_plan(const plan::auth_config& auth) {
  if (auth.method != plan::auth_method::hmac || !auth.hmac) return std::nullopt;
  const auto& h = *auth.hmac;
  core::signature_scheme s;
  s.digest = h.algorithm == plan::hmac_algorithm::sha512 ? core::hmac_digest::sha512 : core::hmac_digest::sha256;
  s.components.clear();
  for (const auto c : h.signed_components) {
    switch (c) {
      case plan::signed_component::method: s.components.push_back(core::signed_part::method); break;
      case plan::signed_component::path: s.components.push_back(core::signed_part::path); break;
      case plan::signed_component::query: s.components.push_back(core::signed_part::query); break;
      case plan::signed_component::timestamp: s.components.push_back(core::signed_part::timestamp); break;
      case plan::signed_component::body: s.components.push_back(core::signed_part::body); break;
      case plan::signed_component::host: s.components.push_back(core::signed_part::host); break;
    }
  }
  if (!auth.header.empty()) s.signature_header = auth.header;
  s.timestamp_header = h.timestamp_header;
  s.tolerance = h.tolerance;
  return s;
}

core::signature_check verify_signed_request(const core::signature_scheme& scheme,
                                            const token_authority::request& req, std::string_view key,
                                            std::chrono::sys_seconds now) {
  // nullopt when absent; an empty optional-of-optional marks "sent more than once".
  auto single = [&](auto name) -> std::optional<std::optional<std::string_view>> {
    auto [it, end] = req.equal_range(name);
    if (it == end) return std::optional<std::string_view>{};
    const std::string_view value = it->value();
    if (++it != end) return std::nullopt;
    return std::optional<std::string_view>{value};
  };
  const auto signature = single(std::string_view(scheme.signature_header));
  const auto timestamp = single(std::string_view(scheme.timestamp_header));
  const auto host = single(http::field::host);
  if (!signature || !timestamp || !host) {
    return {core::signature_verdict::malformed, "a signature, timestamp or Host header is sent more than once"};
  }
  const core::request_parts parts{req.method_string(), req.target(), *host, req.body()};
  return core::verify_request(scheme, parts, {*signature, *timestamp}, key, now);
}

}  // namespace planproof::mocks
