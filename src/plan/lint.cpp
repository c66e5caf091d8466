#include "plan/lint.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include <boost/json/value.hpp>

#include "core/units.hpp"
#include "plan/traffic_profile.hpp"

namespace planproof::plan {
namespace {

using core::diagnostic;
using core::severity;

constexpr auto E = severity::error;
constexpr auto W = severity::warning;

constexpr std::array rules{
    // The six artifacts, and the document around them.
    lint_rule{"section-missing", E, "one of the six artifacts (data mapping, phases) is missing"},
    lint_rule{"section-empty", E, "an artifact is present but lists nothing"},
    lint_rule{"assumptions-missing", W, "no assumptions stated where the external API's documentation is silent"},
    lint_rule{"verification-missing", W, "no verification steps beyond planproof run"},
    lint_rule{"placeholder", W, "a TODO, TBD or FIXME left to fill in"},
    // Auth and secrets.
    lint_rule{"literal-credential", E, "a credential written in the plan instead of an env:/file: reference"},
    lint_rule{"auth-none-unexplained", W, "auth: none without security_notes saying why no credential is needed"},
    lint_rule{"auth-rotation-missing", W, "a credential without a rotation cadence"},
    lint_rule{"credentials-over-http", E, "credentials sent to a plain-http URL that is not loopback"},
    lint_rule{"base-url-not-https", W, "base_url is plain http and not loopback"},
    // Endpoints.
    lint_rule{"pagination-missing", W, "a GET endpoint returning a list declares no pagination"},
    lint_rule{"rate-limit-429-not-retried", W, "an endpoint documents a rate limit but 429 is neither retried nor fatal"},
    lint_rule{"webhook-unsigned", E, "an inbound endpoint does not verify a signature"},
    lint_rule{"webhook-no-dedup", W, "an inbound endpoint names no dedup_key, so redeliveries cannot be dropped"},
    lint_rule{"webhook-tolerance-wide", W, "an inbound signature accepts timestamps older than 15 minutes (replays)"},
    // Data mapping.
    lint_rule{"mapping-source-unknown", W, "a mapping source is in neither the endpoint's schema nor its example"},
    // Retry logic (the plan's, and each phase's effective retry).
    lint_rule{"backoff-base-above-max", E, "backoff base is above backoff max"},
    lint_rule{"timeout-order", E, "a connect, read or endpoint timeout is longer than timeouts.total"},
    lint_rule{"retry-client-error", E, "retry_on retries a 4xx that a retry cannot fix (400, 403, 404, 422...)"},
    lint_rule{"retry-401-without-refresh", E, "retry_on retries 401 with a credential that cannot be refreshed"},
    lint_rule{"retry-conflicts-with-endpoint", E, "retry_on retries a status an endpoint lists as success or fatal"},
    lint_rule{"retry-unsafe-method", E, "POST/PATCH retried without an idempotency key or natural key"},
    lint_rule{"retry-exceeds-deadline", W, "the worst case of max_attempts timed-out attempts and backoffs exceeds timeouts.total"},
    lint_rule{"retry-after-cap-exceeds-deadline", W, "a Retry-After up to the cap is accepted, then the total deadline ends the request"},
    lint_rule{"retry-disabled", W, "max_attempts is 1 while retry_on lists conditions to retry"},
    lint_rule{"jitter-none", W, "retries without jitter from concurrent clients arrive in synchronized waves"},
    lint_rule{"retry-storm", W, "the final phase has neither a retry budget nor a circuit breaker"},
    lint_rule{"dead-letter-missing", E, "retries can be exhausted but no dead-letter target is named"},
    lint_rule{"retry-untested", W, "a retry_on status or error class no failure mode exercises"},
    lint_rule{"fault-unclassified", E, "an injected fault's status or error class is neither retryable nor fatal"},
    lint_rule{"retry-after-ignored", W, "a failure mode sends Retry-After but the retry policy does not honor it"},
    // Traffic.
    lint_rule{"traffic-exceeds-rate-limit", E, "the planned traffic is above the endpoint's documented rate limit"},
    lint_rule{"retry-amplification-exceeds-rate-limit", W, "traffic times max_attempts is above the rate limit and nothing budgets retries"},
    lint_rule{"traffic-rate-ignored", W, "a closed_loop traffic writes a rate, which it ignores"},
    // Failure modes.
    lint_rule{"failure-mode-prose-missing", W, "a failure mode lacks description, detection, response, recovery, alerting or user impact"},
    lint_rule{"failure-mode-no-expect", W, "a failure mode states no expectation of its own"},
    lint_rule{"failure-mode-unphased", W, "a failure mode no phase accepts"},
    lint_rule{"fault-inert", E, "an injected fault can never fire during the planned traffic"},
    // Phases.
    lint_rule{"phases-too-few", W, "fewer than two phases (phase 1 vs phase 2)"},
    lint_rule{"phase-no-success-criteria", E, "a phase without success criteria"},
    lint_rule{"phase-incomplete", W, "a phase without deliverables, complexity or risks"},
    lint_rule{"phase1-more-complex", W, "phase 1 is rated more complex than phase 2"},
    lint_rule{"phase2-drops-acceptance", W, "phase 2 no longer accepts a failure mode phase 1 accepts"},
    lint_rule{"phase2-no-triggers", W, "a later phase without triggers saying when it becomes necessary"},
};

// --- small helpers ---------------------------------------------------------------------------------

std::string str(std::string_view s) { return std::string(s); }
std::string dur(core::duration d) { return core::format_duration(d); }
std::string num(double v) { return core::format_number(v); }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view last_sep = " and ") {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? std::string(last_sep) : std::string(", ");
    out += items[i];
  }
  return out;
}

std::string condition_text(const retry_condition& c) {
  if (const int* status = std::get_if<int>(&c)) return std::to_string(*status);
  return str(core::to_string(std::get<core::error_class>(c)));
}

bool contains(const std::vector<retry_condition>& list, const retry_condition& c) {
  return std::find(list.begin(), list.end(), c) != list.end();
}

// Whether a plan condition matches what a fault makes the client see: the same status, or an error
// class the condition covers (`timeout` covers read_timeout).
bool covers(const retry_condition& condition, const retry_condition& effect) {
  const auto* c = std::get_if<core::error_class>(&condition);
  const auto* e = std::get_if<core::error_class>(&effect);
  if (c != nullptr && e != nullptr) return core::covers(*c, *e);
  return condition == effect;
}

bool any_covers(const std::vector<retry_condition>& conditions, const retry_condition& effect) {
  return std::any_of(conditions.begin(), conditions.end(), [&](const auto& c) { return covers(c, effect); });
}

bool contains(const std::vector<int>& list, int v) { return std::find(list.begin(), list.end(), v) != list.end(); }

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

bool is_loopback_url(std::string_view url) {
  auto rest = url.substr(url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3);
  return rest.starts_with("localhost") || rest.starts_with("127.") || rest.starts_with("[::1]");
}

bool is_plain_http(std::string_view url) { return lower(url.substr(0, 7)) == "http://"; }

// 4xx answers a retry can fix: timeouts, conflicts of concurrent writes, locks, too-early, throttling.
// 401 is its own rule: it is fixed by a fresh credential, not by the same request again.
bool retryable_client_error(int status) {
  return status == 401 || status == 408 || status == 409 || status == 423 || status == 425 || status == 429;
}

bool refreshable(auth_method m) { return m == auth_method::oauth2_client_credentials || m == auth_method::jwt; }

int complexity_rank(std::string_view c) {
  if (c == "low") return 1;
  if (c == "medium") return 2;
  if (c == "high") return 3;
  return 0;
}

// The waits before retries 1..max_attempts-1 at their ceiling: what jitter can draw at most.
std::vector<core::duration> backoff_ceilings(const retry_config& r) {
  std::vector<core::duration> out;
  const auto& b = r.backoff;
  double ceiling = core::to_seconds(b.base);
  const double cap = core::to_seconds(b.max);
  for (int retry = 1; retry < r.max_attempts && retry < 1000; ++retry) {
    double wait = 0;
    if (b.jitter == jitter_kind::decorrelated) {
      // min(cap, uniform(base, 3 * previous)), previous starting at base.
      ceiling = std::min(cap, ceiling * 3);
      wait = ceiling;
    } else if (b.strategy == backoff_strategy::constant) {
      wait = std::min(cap, ceiling);
    } else if (b.strategy == backoff_strategy::linear) {
      wait = std::min(cap, core::to_seconds(b.base) * retry);
    } else {
      wait = std::min(cap, ceiling);
      ceiling *= b.multiplier;
    }
    out.push_back(std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(wait)));
  }
  return out;
}

// Credential-shaped text: provider key prefixes, JWTs, PEM private keys, basic/bearer values.
bool looks_like_credential(const std::string& text) {
  static const std::regex patterns(
      R"((^|[^A-Za-z0-9])(sk|rk|pk)_live_[A-Za-z0-9]{8,})"
      R"(|AKIA[0-9A-Z]{16})"
      R"(|gh[pousr]_[A-Za-z0-9]{30,})"
      R"(|xox[abprs]-[A-Za-z0-9-]{10,})"
      R"(|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.)"
      R"(|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
      R"(|^(Bearer|Basic) +[A-Za-z0-9+/=._~-]{16,}$)",
      std::regex::ECMAScript | std::regex::optimize);
  if (text.size() > 4096) return false;  // prose and payloads of that size are not keys; keeps regex cheap
  // std::regex is slow; almost no value holds one of the patterns' fixed parts, so look for those first.
  static constexpr std::array<std::string_view, 12> anchors{
      "_live_", "AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "eyJ", "-----BEGIN", "Bearer", "Basic"};
  const bool candidate = std::any_of(anchors.begin(), anchors.end(),
                                     [&](std::string_view a) { return text.find(a) != std::string::npos; });
  return candidate && std::regex_search(text, patterns);
}

bool credential_header(std::string_view name) {
  const auto n = lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie") return true;
  for (std::string_view part : {"api-key", "api_key", "apikey", "token", "secret", "password", "passwd"}) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

bool placeholder(std::string_view text) {
  for (std::string_view word : {"TODO", "TBD", "FIXME"}) {
    for (auto at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
      const bool start = at == 0 || std::isalnum(static_cast<unsigned char>(text[at - 1])) == 0;
      const auto end = at + word.size();
      const bool finish = end == text.size() || std::isalnum(static_cast<unsigned char>(text[end])) == 0;
      if (start && finish) return true;
    }
  }
  return false;
}

// --- JSON lookups for mapping sources -------------------------------------------------------------

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// Whether the example has the field, looking through arrays (a list's records hold the fields).
bool example_has(const boost::json::value& v, const std::vector<std::string>& path, std::size_t i = 0) {
  if (i == path.size()) return true;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (example_has(item, path, i)) return true;
    }
    return false;
  }
  if (!v.is_object()) return false;
  const auto* child = v.get_object().if_contains(path[i]);
  return child != nullptr && example_has(*child, path, i + 1);
}

bool schema_has(const boost::json::value& root, const boost::json::value& node,
                const std::vector<std::string>& path, std::size_t i, int depth = 0) {
  if (i == path.size()) return true;
  if (depth > 64 || !node.is_object()) return false;
  const auto& o = node.get_object();
  if (const auto* ref = o.if_contains("$ref"); ref != nullptr && ref->is_string()) {
    const auto* target = resolve_local_ref(root, ref->get_string());
    return target != nullptr && schema_has(root, *target, path, i, depth + 1);
  }
  if (const auto* props = o.if_contains("properties"); props != nullptr && props->is_object()) {
    if (const auto* child = props->get_object().if_contains(path[i]))
      if (schema_has(root, *child, path, i + 1, depth + 1)) return true;
  }
  if (const auto* items = o.if_contains("items")) {
    if (schema_has(root, *items, path, i, depth + 1)) return true;
  }
  for (const char* combinator : {"allOf", "anyOf", "oneOf"}) {
    if (const auto* list = o.if_contains(combinator); list != nullptr && list->is_array()) {
      for (const auto& sub : list->get_array()) {
        if (schema_has(root, sub, path, i, depth + 1)) return true;
      }
    }
  }
  return false;
}

// A response that is a list of records: an array, or an object with an array of objects under a name
// lists use, or with the fields that say another page follows.
bool looks_like_list(const boost::json::value& example) {
  if (example.is_array()) return true;
  if (!example.is_object()) return false;
  for (const auto& [key, value] : example.get_object()) {
    const auto k = lower(key);
    if (k == "has_more" || k == "hasmore" || k == "next" || k == "next_cursor" || k == "nextrecordsurl" ||
        k == "next_page" || k == "nextpagetoken" || k == "next_page_token")
      return true;
    static const std::array list_names{"items", "data", "records", "results", "entries", "elements", "values"};
    if (value.is_array() && std::find(list_names.begin(), list_names.end(), k) != list_names.end()) return true;
  }
  return false;
}

bool schema_is_list(const boost::json::value& schema) {
  if (!schema.is_object()) return false;
  const auto& o = schema.get_object();
  if (const auto* t = o.if_contains("type"); t != nullptr && t->is_string() && t->get_string() == "array")
    return true;
  if (const auto* props = o.if_contains("properties"); props != nullptr && props->is_object()) {
    boost::json::object shape;
    for (const auto& [key, sub] : props->get_object()) {
      const bool array = sub.is_object() && sub.get_object().contains("type") &&
                         sub.get_object().at("type").is_string() && sub.get_object().at("type").get_string() == "array";
      shape[key] = array ? boost::json::value(boost::json::array{}) : boost::json::value(nullptr);
    }
    return looks_like_list(shape);
  }
  return false;
}

// --- the linter --------------------------------------------------------------------------------------

// One retry policy under review: the plan's own, or a phase's with its settings applied.
struct retry_scope {
  const retry_config& retry;
  std::string prefix;                // where its keys were written: `retry`, `phases[1].settings.retry`
  std::string label;                 // "" for the plan, "phase phase2: " for a phase
  const phase* owner = nullptr;      // the phase, if any
};

class linter {
 public:
  explicit linter(const integration_plan& p) : p_(p) {}

  std::vector<diagnostic> run() {
    sections();
    placeholders();
    credentials();
    auth();
    endpoints();
    mappings();
    const auto scopes = retry_scopes();
    for (const auto& s : scopes) retry_settings(s);
    retry_coverage(scopes);
    traffic(scopes);
    failure_modes();
    phases();
    std::stable_sort(out_.begin(), out_.end(), [](const diagnostic& a, const diagnostic& b) {
      const bool a_nowhere = a.where.line == 0;
      const bool b_nowhere = b.where.line == 0;
      return std::tie(a_nowhere, a.where.line, a.where.column) < std::tie(b_nowhere, b.where.line, b.where.column);
    });
    return std::move(out_);
  }

 private:
  // --- reporting ----------------------------------------------------------------------------------

  void report(std::string_view rule, std::string_view path, const std::string& message) {
    report_at(rule, p_.locate(path), message, message);
  }

  // A finding about a retry policy: reported once, under the plan when the plan's own retry has it.
  void report_scoped(const retry_scope& s, std::string_view rule, std::string_view key, const std::string& message) {
    report_at(rule, p_.locate(scoped_path(s, key)), s.label + message, message);
  }

  void report_at(std::string_view rule, core::source_location where, const std::string& message,
                 const std::string& identity) {
    if (!seen_.emplace(str(rule), identity).second) return;
    const lint_rule* r = find_lint_rule(rule);
    out_.push_back({std::move(where), r != nullptr ? r->level : E, message, str(rule)});
  }

  // The phase's own setting when it wrote one, else the plan's.
  std::string scoped_path(const retry_scope& s, std::string_view key) const {
    std::string own = key.empty() ? s.prefix : s.prefix + "." + str(key);
    if (s.owner == nullptr || p_.has(own)) return own;
    return key.empty() ? std::string("retry") : "retry." + str(key);
  }

  std::vector<retry_scope> retry_scopes() const {
    std::vector<retry_scope> out;
    out.push_back({p_.retry, "retry", "", nullptr});
    for (std::size_t i = 0; i < p_.phases.size(); ++i) {
      const auto& ph = p_.phases[i];
      if (ph.retry_settings)
        out.push_back({*ph.retry_settings, "phases[" + std::to_string(i) + "].settings.retry",
                       "phase " + ph.name + ": ", &ph});
    }
    return out;
  }

  // The retry the last phase runs with: what the plan ends up promising in production.
  const retry_config& final_retry() const {
    if (!p_.phases.empty() && p_.phases.back().retry_settings) return *p_.phases.back().retry_settings;
    return p_.retry;
  }

  bool runs_in(const retry_scope& s, const failure_mode& f) const {
    return s.owner == nullptr || s.owner->failure_modes.empty() || contains(s.owner->failure_modes, f.id);
  }

  std::string endpoint_path(const endpoint& e) const { return "endpoints[" + std::to_string(index_of(e)) + "]"; }
  std::size_t index_of(const endpoint& e) const { return static_cast<std::size_t>(&e - p_.endpoints.data()); }

  // The read timeout an attempt on `e` gets.
  core::duration read_timeout(const retry_config& r, const endpoint* e) const {
    return e != nullptr && e->timeout ? *e->timeout : r.timeouts.read;
  }

  // What the client sees when `f` of `mode` fires: statuses and error classes.
  std::vector<retry_condition> effects(const fault& f, const failure_mode& mode, const retry_config& r) const {
    const endpoint* e = p_.find_endpoint(f.endpoint.value_or(p_.traffic_for(mode).endpoint));
    if (const auto* status = f.params.if_contains("status"); status != nullptr && status->is_int64())
      return {static_cast<int>(status->get_int64())};
    using core::error_class;
    using conditions = std::vector<retry_condition>;
    if (f.kind == "status" || f.kind == "rate_limit") return {f.status};
    // The fine classes the client reports; the plan's umbrellas (timeout, connection_error) cover them.
    if (f.kind == "latency")
      return f.latency.upper_bound() >= read_timeout(r, e) ? conditions{error_class::read_timeout} : conditions{};
    if (f.kind == "slow_body") return f.over >= read_timeout(r, e) ? conditions{error_class::read_timeout} : conditions{};
    if (f.kind == "hang") return {error_class::read_timeout};
    // A Content-Length longer than the body ends as a connection closed mid-body.
    if (f.kind == "malformed")
      return {f.malformed == malformation::wrong_content_length ? error_class::reset : error_class::schema_error};
    if (f.kind == "schema_drift") return {error_class::schema_error};
    if (f.kind == "reset" || f.kind == "close" || f.kind == "empty_reply") return {error_class::reset};
    if (f.kind == "outage") return f.outage == outage_mode::reset ? conditions{error_class::reset} : conditions{f.status};
    if (f.kind == "auth_expiry") return {401};
    if (f.kind == "pagination") return f.breakage == page_breakage::invalid_cursor ? conditions{f.status} : conditions{};
    // A failed handshake is a connection that never carried a request; no_client_certificate_required
    // fails nothing the client sees.
    if (f.kind == "tls")
      return f.tls == handshake_fault::no_client_certificate_required ? conditions{} : conditions{error_class::tls_error};
    return {};  // token endpoint faults, broken pages and webhook faults show up elsewhere than a status
  }

  // --- the six artifacts ---------------------------------------------------------------------------

  void sections() {
    const std::array<std::tuple<const char*, bool, const char*>, 4> lists{{
        {"endpoints", p_.endpoints.empty(), "the calls the integration makes or receives"},
        {"mapping", p_.mapping.empty(), "how the system's fields become yours (and yours become its)"},
        {"failure_modes", p_.failure_modes.empty(), "what can go wrong and what must hold when it does"},
        {"phases", p_.phases.empty(), "what phase 1 delivers and what phase 2 adds"},
    }};
    for (const auto& [key, empty, what] : lists) {
      if (!p_.has(key)) {
        report("section-missing", "", "the plan has no '" + str(key) + "' section: " + what);
      } else if (empty) {
        report("section-empty", key, "'" + str(key) + "' lists nothing: " + what);
      }
    }
    if (p_.assumptions.empty())
      report("assumptions-missing", "",
             "no top-level 'assumptions': state what you assume where the API's documentation is silent");
    if (p_.verification.empty())
      report("verification-missing", "",
             "no 'verification': say how the integration is verified beyond planproof run (sandbox, canary...)");
  }

  void placeholders() {
    for (const auto& [path, node] : p_.written) {
      if (node.scalar && placeholder(*node.scalar)) report("placeholder", path, path + " is still a placeholder: fill it in");
    }
  }

  void credentials() {
    std::set<std::string> flagged;
    for (const auto& e : p_.endpoints) {
      for (const auto& [name, value] : e.headers) {
        if (!credential_header(name) || value.secret || value.text.empty()) continue;
        if (value.text.find('{') != std::string::npos) continue;  // a template such as "Bearer {token}"
        const auto path = endpoint_path(e) + ".headers." + name;
        flagged.insert(path);
        report("literal-credential", path,
               "header " + name + " of " + e.id +
                   " carries a literal value; credentials go in a reference (env:NAME or file:PATH)");
      }
    }
    // Never quoted back: the finding names where the value is, not the value.
    for (const auto& [path, node] : p_.written) {
      if (node.scalar && !flagged.contains(path) && looks_like_credential(*node.scalar))
        report("literal-credential", path,
               path + " looks like a credential; write a reference (env:NAME or file:PATH) instead");
    }
  }

  void auth() {
    const auto& a = p_.auth;
    const bool outbound = std::any_of(p_.endpoints.begin(), p_.endpoints.end(),
                                      [](const endpoint& e) { return e.direction == endpoint_direction::outbound; });
    if (a.method == auth_method::none) {
      if (outbound && a.security_notes.empty())
        report("auth-none-unexplained", "auth.method",
               "auth method none: add security_notes saying why the API needs no credential (and what protects it)");
    } else if (!a.rotation) {
      report("auth-rotation-missing", "auth.method",
             "the " + str(to_string(a.method)) + " credential has no rotation cadence (e.g. rotation: 90d)");
    }
    const auto& url = p_.integration.base_url;
    if (outbound && is_plain_http(url) && !is_loopback_url(url)) {
      if (a.method == auth_method::none)
        report("base-url-not-https", "integration.base_url",
               "base_url " + url + " is plain http: requests and answers travel unencrypted");
      else
        report("credentials-over-http", "integration.base_url",
               "base_url " + url + " is plain http: the " + str(to_string(a.method)) +
                   " credential would travel unencrypted");
    }
    if (a.oauth2 && is_plain_http(a.oauth2->token_url) && !is_loopback_url(a.oauth2->token_url))
      report("credentials-over-http", "auth.token_url",
             "token_url " + a.oauth2->token_url + " is plain http: the client secret would travel unencrypted");
  }

  void endpoints() {
    for (const auto& e : p_.endpoints) {
      const auto at = endpoint_path(e);
      if (e.direction == endpoint_direction::inbound) {
        if (!e.signature) {
          report("webhook-unsigned", at + ".id",
                 "inbound endpoint " + e.id +
                     " verifies no signature: anyone who finds the URL can post events (add signature)");
        } else if (e.signature->tolerance > std::chrono::minutes(15)) {
          report("webhook-tolerance-wide", at + ".signature.tolerance",
                 "inbound endpoint " + e.id + " accepts signatures " + dur(e.signature->tolerance) +
                     " old: a captured event can be replayed that long (15m or less is usual)");
        }
        if (e.dedup_key.empty())
          report("webhook-no-dedup", at + ".id",
                 "inbound endpoint " + e.id +
                     " names no dedup_key: redelivered events cannot be recognized and dropped");
        continue;
      }
      if (e.method == "GET" && !e.pagination && !e.path.ends_with("}")) {
        const bool list = (e.response_example && looks_like_list(*e.response_example)) ||
                          (e.response_schema && schema_is_list(*e.response_schema));
        if (list)
          report("pagination-missing", at + ".path",
                 "GET " + e.path + " (" + e.id +
                     ") returns a list but declares no pagination: say how the next page is fetched");
      }
      if (e.rate_limit && !contains(p_.retry.retry_on, retry_condition{429}) &&
          !contains(p_.retry.fatal_on, retry_condition{429})) {
        report("rate-limit-429-not-retried", at + ".rate_limit",
               e.id + " is limited to " + num(*e.rate_limit) +
                   "/s, but retry_on does not retry 429 (nor does fatal_on say it is final)");
      }
    }
  }

  void mappings() {
    for (std::size_t i = 0; i < p_.mapping.size(); ++i) {
      const auto& m = p_.mapping[i];
      const auto at = "mapping[" + std::to_string(i) + "]";
      const endpoint* e = p_.find_endpoint(m.endpoint);
      const bool request = m.direction == mapping_direction::request;
      const auto* schema = e == nullptr ? nullptr : request ? &e->request_schema : &e->response_schema;
      const auto* example = e == nullptr ? nullptr : request ? &e->request_example : &e->response_example;
      const bool documented = e != nullptr && (schema->has_value() || example->has_value());
      for (std::size_t j = 0; j < m.fields.size(); ++j) {
        const auto& f = m.fields[j];
        const auto field_at = at + ".fields[" + std::to_string(j) + "]";
        // (A required target without source, default or concat is a load error already.)
        const bool concat = !f.transform.empty() && f.transform.front().kind == transform_kind::concat;
        if (!documented) continue;
        std::vector<std::string> sources;
        if (!f.source.empty()) sources.push_back(f.source);
        if (concat) sources.insert(sources.end(), f.transform.front().sources.begin(), f.transform.front().sources.end());
        for (const auto& source : sources) {
          const auto path = split_path(source);
          const bool found = (schema->has_value() && schema_has(**schema, **schema, path, 0)) ||
                             (example->has_value() && example_has(**example, path));
          if (!found)
            report("mapping-source-unknown", field_at,
                   "source " + source + " of " + f.target + " is in neither the " +
                       (request ? "request" : "response") + " schema nor the example of " + m.endpoint);
        }
      }
    }
  }

  // --- retry logic ----------------------------------------------------------------------------------

  void retry_settings(const retry_scope& s) {
    const auto& r = s.retry;
    if (r.backoff.base > r.backoff.max)
      report_scoped(s, "backoff-base-above-max", "backoff.base",
                    "backoff base " + dur(r.backoff.base) + " is above backoff max " + dur(r.backoff.max));
    for (auto [key, value] : {std::pair{"timeouts.connect", r.timeouts.connect}, std::pair{"timeouts.read", r.timeouts.read}}) {
      if (value > r.timeouts.total)
        report_scoped(s, "timeout-order", key,
                      str(key) + " " + dur(value) + " is longer than timeouts.total " + dur(r.timeouts.total));
    }
    for (const auto& e : p_.endpoints) {
      if (e.timeout && *e.timeout > r.timeouts.total)
        report_at("timeout-order", p_.locate(endpoint_path(e) + ".timeout"),
                  s.label + "the timeout of " + e.id + " (" + dur(*e.timeout) + ") is longer than timeouts.total " +
                      dur(r.timeouts.total),
                  "the timeout of " + e.id + " (" + dur(*e.timeout) + ") is longer than timeouts.total " +
                      dur(r.timeouts.total));
    }

    const bool retries = r.max_attempts > 1;
    for (std::size_t k = 0; k < r.retry_on.size(); ++k) {
      const int* status = std::get_if<int>(&r.retry_on[k]);
      if (status == nullptr) continue;
      const auto key = "retry_on[" + std::to_string(k) + "]";
      if (*status >= 400 && *status < 500 && !retryable_client_error(*status)) {
        report_scoped(s, "retry-client-error", key,
                      "retry_on retries " + std::to_string(*status) +
                          ": the same request gets the same client error again; make it fatal");
      }
      if (*status == 401 && !refreshable(p_.auth.method)) {
        report_scoped(s, "retry-401-without-refresh", key,
                      "retry_on retries 401, but a " + str(to_string(p_.auth.method)) +
                          " credential cannot be refreshed: the retry fails the same way");
      }
      for (const auto& e : p_.endpoints) {
        if (e.direction != endpoint_direction::outbound) continue;
        const char* listed = contains(e.statuses.fatal, *status)     ? "fatal"
                             : contains(e.statuses.success, *status) ? "success"
                                                                     : nullptr;
        if (listed != nullptr)
          report_scoped(s, "retry-conflicts-with-endpoint", key,
                        "retry_on retries " + std::to_string(*status) + ", which " + e.id + " lists as " + listed);
      }
    }

    if (retries) {
      const bool natural_key = r.idempotency && r.idempotency->approach == idempotency_approach::natural_key;
      for (const auto& e : p_.endpoints) {
        if (e.direction != endpoint_direction::outbound || (e.method != "POST" && e.method != "PATCH")) continue;
        if (e.idempotency_header || natural_key) continue;
        report_at("retry-unsafe-method", p_.locate(endpoint_path(e) + ".method"),
                  s.label + e.method + " " + e.path + " (" + e.id + ") is retried up to " +
                      std::to_string(r.max_attempts) +
                      " times with no idempotency key: a retry after a lost answer can apply it twice "
                      "(add idempotency.header, or retry.idempotency.approach: natural_key)",
                  e.method + " " + e.path + " retried without idempotency");
      }
    }

    // Worst case: every attempt times out, every wait is drawn at its ceiling.
    if (retries) {
      const endpoint* e = p_.find_endpoint(p_.traffic.endpoint);
      const auto per_attempt = r.timeouts.connect + read_timeout(r, e);
      core::duration waits{0};
      for (auto w : backoff_ceilings(r)) waits += w;
      const auto worst = per_attempt * r.max_attempts + waits;
      if (worst > r.timeouts.total) {
        report_scoped(s, "retry-exceeds-deadline", "timeouts.total",
                      "timeouts.total " + dur(r.timeouts.total) + " is shorter than the worst case of " +
                          std::to_string(r.max_attempts) + " attempts: " + std::to_string(r.max_attempts) + " x (" +
                          dur(r.timeouts.connect) + " connect + " + dur(read_timeout(r, e)) + " read) + " +
                          dur(waits) + " of backoff = " + dur(worst) + "; the last attempts would never run");
      }
    }
    if (retries && r.retry_after.honor && r.retry_after.cap >= r.timeouts.total) {
      report_scoped(s, "retry-after-cap-exceeds-deadline", "retry_after.cap",
                    "retry_after.cap " + dur(r.retry_after.cap) + " is not below timeouts.total " +
                        dur(r.timeouts.total) +
                        ": a Retry-After in between is accepted, then the deadline ends the request anyway");
    }
    if (!retries && !r.retry_on.empty() && p_.has(scoped_path(s, "retry_on"))) {
      report_scoped(s, "retry-disabled", "max_attempts",
                    "max_attempts 1 never retries, yet retry_on lists " + std::to_string(r.retry_on.size()) +
                        " conditions to retry");
    }
    if (retries && r.backoff.jitter == jitter_kind::none && p_.traffic.concurrency > 1) {
      report_scoped(s, "jitter-none", "backoff.jitter",
                    "jitter none with " + std::to_string(p_.traffic.concurrency) +
                        " requests in flight: requests that fail together retry together, in waves");
    }
    if (!r.retry_after.honor) {
      for (std::size_t i = 0; i < p_.failure_modes.size(); ++i) {
        const auto& f = p_.failure_modes[i];
        if (!runs_in(s, f)) continue;
        for (const auto& x : f.inject) {
          if (((x.kind == "status" || x.kind == "outage") && x.retry_after) || x.kind == "rate_limit") {
            report_scoped(s, "retry-after-ignored", "retry_after.honor",
                          "failure mode " + f.id +
                              " answers with Retry-After, but retry_after.honor is false: retries arrive early");
            break;
          }
        }
      }
    }
  }

  void retry_coverage(const std::vector<retry_scope>& scopes) {
    // What the failure modes make the client see, under the plan's retry.
    std::vector<retry_condition> exercised;
    for (const auto& f : p_.failure_modes) {
      for (const auto& x : f.inject) {
        for (const auto& c : effects(x, f, p_.retry)) exercised.push_back(c);
      }
    }
    // Each condition once, where it is first written (the plan's retry, then the phases').
    std::vector<retry_condition> reported;
    for (const auto& s : scopes) {
      for (std::size_t k = 0; k < s.retry.retry_on.size(); ++k) {
        const auto& c = s.retry.retry_on[k];
        const bool tested =
            std::any_of(exercised.begin(), exercised.end(), [&](const auto& effect) { return covers(c, effect); });
        if (tested || contains(reported, c)) continue;
        reported.push_back(c);
        report_scoped(s, "retry-untested", "retry_on[" + std::to_string(k) + "]",
                      "retry_on lists " + condition_text(c) +
                          (p_.has(scoped_path(s, "retry_on")) ? "" : " (by default)") +
                          ", but no failure mode injects a fault that produces it: the plan never shows that "
                          "retry works");
      }
    }

    // Every fault's outcome is classified: retried, fatal, or documented by the endpoint it hits.
    const auto& r = p_.retry;
    for (std::size_t i = 0; i < p_.failure_modes.size(); ++i) {
      const auto& f = p_.failure_modes[i];
      for (std::size_t j = 0; j < f.inject.size(); ++j) {
        const auto& x = f.inject[j];
        const endpoint* e = p_.find_endpoint(x.endpoint.value_or(p_.traffic_for(f).endpoint));
        for (const auto& c : effects(x, f, r)) {
          if (any_covers(r.retry_on, c) || any_covers(r.fatal_on, c)) continue;
          if (const int* status = std::get_if<int>(&c); status != nullptr && e != nullptr &&
                                                         (contains(e->statuses.success, *status) ||
                                                          contains(e->statuses.retryable, *status) ||
                                                          contains(e->statuses.fatal, *status))) {
            continue;
          }
          report("fault-unclassified", fault_path(i, j, f),
                 "failure mode " + f.id + " injects " + condition_text(c) +
                     ", which neither retry_on nor fatal_on" + (std::holds_alternative<int>(c) ? " nor the endpoint's statuses" : std::string()) +
                     " classify: say whether it is retried");
        }
      }
    }

    // Writing dead letters somewhere is a decision the plan must show.
    bool named = p_.has("retry.dead_letter");
    for (std::size_t i = 0; i < p_.phases.size(); ++i)
      named = named || p_.has("phases[" + std::to_string(i) + "].settings.retry.dead_letter");
    if (!named)
      report("dead-letter-missing", "retry",
             "retries can be exhausted but the plan names no dead-letter target (retry.dead_letter.path); "
             "requests that fail for good must go somewhere durable");

    const auto& last = final_retry();
    if (last.max_attempts > 1 && !last.retry_budget && !last.circuit_breaker) {
      const bool phased = !p_.phases.empty() && p_.phases.back().retry_settings;
      report("retry-storm",
             phased ? "phases[" + std::to_string(p_.phases.size() - 1) + "].settings.retry" : "retry",
             "the final retry policy has neither a retry_budget nor a circuit_breaker: during an outage every "
             "request becomes " + std::to_string(last.max_attempts) + " upstream calls");
    }
  }

  std::string fault_path(std::size_t mode, std::size_t j, const failure_mode& f) const {
    const auto base = "failure_modes[" + std::to_string(mode) + "].inject";
    return f.inject.size() == 1 && !p_.has(base + "[0]") ? base : base + "[" + std::to_string(j) + "]";
  }

  // The plan's traffic, then each failure mode's own where it sends faster or elsewhere.
  void traffic(const std::vector<retry_scope>& scopes) {
    closed_loop_rate(p_.traffic, "traffic", "");
    traffic_section(p_.traffic, "traffic", "", scopes);
    const auto plan_peak = peak_rate(p_.traffic);
    for (std::size_t i = 0; i < p_.failure_modes.size(); ++i) {
      const auto& f = p_.failure_modes[i];
      if (!f.traffic) continue;
      const auto at = "failure_modes[" + std::to_string(i) + "].traffic";
      closed_loop_rate(*f.traffic, at, "failure mode " + f.id + ": ");
      if (f.traffic->endpoint == p_.traffic.endpoint && peak_rate(*f.traffic) == plan_peak) continue;
      traffic_section(*f.traffic, at, "failure mode " + f.id + ": ", scopes);
    }
  }

  // `at`: where the section is written; `label` says whose it is in the message.
  void traffic_section(const traffic_config& t, const std::string& at, const std::string& label,
                       const std::vector<retry_scope>& scopes) {
    const endpoint* e = p_.find_endpoint(t.endpoint);
    const auto peak = peak_rate(t);
    if (e == nullptr || !e->rate_limit || !peak) return;
    // The key the peak comes from, and how the message names it.
    std::string key = at + ".rate", what = num(*peak) + "/s";
    if (t.profile == traffic_profile::ramp && t.from > t.rate) key = at + ".from";
    if (t.profile == traffic_profile::burst && *peak > t.rate) key = at + ".burst.rate";
    if (t.profile != traffic_profile::constant) what += " at its peak (" + str(to_string(t.profile)) + ")";
    if (*peak > *e->rate_limit) {
      report("traffic-exceeds-rate-limit", key,
             label + "traffic sends " + what + " to " + e->id + ", above its documented limit of " +
                 num(*e->rate_limit) + "/s");
      return;
    }
    if (final_retry().retry_budget) return;
    for (const auto& s : scopes) {
      const double worst = *peak * s.retry.max_attempts;
      if (worst > *e->rate_limit)
        report_scoped(s, "retry-amplification-exceeds-rate-limit", "max_attempts",
                      label + what + " with up to " + std::to_string(s.retry.max_attempts) + " attempts each is " +
                          num(worst) + "/s to " + e->id + " during an outage, above its limit of " +
                          num(*e->rate_limit) + "/s; a retry_budget keeps retries inside it");
    }
  }

  // closed_loop reads a written rate without using it, so that switching a plan to it with --set works.
  void closed_loop_rate(const traffic_config& t, const std::string& at, const std::string& label) {
    if (t.profile != traffic_profile::closed_loop || !p_.has(at + ".rate")) return;
    report("traffic-rate-ignored", at + ".rate",
           label + "the closed_loop profile ignores rate: each of its " + std::to_string(t.concurrency) +
               " workers sends its next request when its last has ended, as fast as the upstream answers");
  }

  // --- failure modes and phases ----------------------------------------------------------------------

  void failure_modes() {
    const bool all_phased =
        p_.phases.empty() || std::any_of(p_.phases.begin(), p_.phases.end(),
                                         [](const phase& ph) { return ph.failure_modes.empty(); });
    for (std::size_t i = 0; i < p_.failure_modes.size(); ++i) {
      const auto& f = p_.failure_modes[i];
      const auto at = "failure_modes[" + std::to_string(i) + "]";
      std::vector<std::string> missing;
      for (auto [name, text] : {std::pair{"description", &f.description}, std::pair{"detection", &f.detection},
                                std::pair{"response", &f.response}, std::pair{"recovery", &f.recovery},
                                std::pair{"alerting", &f.alerting}, std::pair{"user_impact", &f.user_impact}}) {
        if (text->empty()) missing.emplace_back(name);
      }
      if (!missing.empty())
        report("failure-mode-prose-missing", at + ".id", "failure mode " + f.id + " has no " + join(missing, " or "));
      if (std::all_of(f.expect.begin(), f.expect.end(), [](const expectation& x) { return x.implicit; }))
        report("failure-mode-no-expect", at + ".id",
               "failure mode " + f.id + " states no expectation: only 'nothing lost' is checked");
      if (!all_phased && std::none_of(p_.phases.begin(), p_.phases.end(),
                                      [&](const phase& ph) { return contains(ph.failure_modes, f.id); }))
        report("failure-mode-unphased", at + ".id",
               "failure mode " + f.id + " is in no phase's failure_modes: no phase is accepted on it");
      for (std::size_t j = 0; j < f.inject.size(); ++j) inert_fault(f, i, j);
    }
  }

  void inert_fault(const failure_mode& f, std::size_t mode, std::size_t j) {
    const auto& x = f.inject[j];
    const auto at = fault_path(mode, j, f);
    const auto& t = p_.traffic_for(f);
    if (x.probability <= 0) {
      report("fault-inert", at, "the " + x.kind + " fault of " + f.id + " has probability 0: it never fires");
    } else if (x.starts_at() >= t.duration) {
      report("fault-inert", at,
             "the " + x.kind + " fault of " + f.id + " starts at " + dur(x.starts_at()) + ", after the traffic ends (" +
                 dur(t.duration) + "): it never fires and the failure mode would hold untested");
    } else if (x.endpoint && *x.endpoint != t.endpoint) {
      const endpoint* e = p_.find_endpoint(*x.endpoint);
      if (e != nullptr && e->direction == endpoint_direction::outbound)
        report("fault-inert", at,
               "the " + x.kind + " fault of " + f.id + " targets " + *x.endpoint + ", but the planned traffic calls " +
                   t.endpoint + ": it never fires and the failure mode would hold untested");
    }
  }

  void phases() {
    if (p_.phases.empty()) return;
    if (p_.phases.size() < 2)
      report("phases-too-few", "phases",
             "only one phase: say what phase 1 delivers and what phase 2 adds, and what triggers phase 2");
    for (std::size_t i = 0; i < p_.phases.size(); ++i) {
      const auto& ph = p_.phases[i];
      const auto at = "phases[" + std::to_string(i) + "]";
      if (ph.success_criteria.empty())
        report("phase-no-success-criteria", at + ".name",
               "phase " + ph.name + " has no success_criteria: nobody can say when it is done");
      std::vector<std::string> missing;
      if (ph.deliverables.empty()) missing.emplace_back("deliverables");
      if (ph.complexity.empty()) missing.emplace_back("complexity");
      if (ph.risks.empty()) missing.emplace_back("risks");
      if (!missing.empty()) report("phase-incomplete", at + ".name", "phase " + ph.name + " has no " + join(missing, " or "));
      if (i > 0 && ph.triggers.empty())
        report("phase2-no-triggers", at + ".name",
               "phase " + ph.name + " has no triggers: say what makes it necessary (load, incidents, dates)");
    }
    if (p_.phases.size() < 2) return;
    const auto& one = p_.phases[0];
    const auto& two = p_.phases[1];
    if (complexity_rank(one.complexity) > complexity_rank(two.complexity) && complexity_rank(two.complexity) > 0)
      report("phase1-more-complex", "phases[0].complexity",
             "phase " + one.name + " (" + one.complexity + ") is rated more complex than phase " + two.name + " (" +
                 two.complexity + "): phase 1 should be the smaller step");
    if (!two.failure_modes.empty()) {
      const auto& accepted = one.failure_modes.empty() ? all_failure_mode_ids() : one.failure_modes;
      for (const auto& id : accepted) {
        if (!contains(two.failure_modes, id))
          report("phase2-drops-acceptance", "phases[1].failure_modes",
                 "phase " + two.name + " no longer lists " + id + ", which phase " + one.name +
                     " is accepted on: what held in phase 1 must keep holding");
      }
    }
  }

  std::vector<std::string> all_failure_mode_ids() const {
    std::vector<std::string> out;
    for (const auto& f : p_.failure_modes) out.push_back(f.id);
    return out;
  }

  const integration_plan& p_;
  std::vector<diagnostic> out_;
  std::set<std::pair<std::string, std::string>> seen_;  // (rule, message without its phase label)
};

}  // namespace

std::span<const lint_rule> lint_rules() noexcept { return rules; }

const lint_rule* find_lint_rule(std::string_view id) noexcept {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const lint_rule& r) { return r.id == id; });
  return it == rules.end() ? nullptr : &*it;
}

std::vector<diagnostic> lint(const integration_plan& plan) { return linter(plan).run(); }

}  // namespace planproof::plan
