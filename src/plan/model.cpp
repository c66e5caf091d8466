#include "plan/model.hpp"
#include "plan/schema_patterns.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <unordered_map>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/encoding.hpp"
#include "core/rfc3339.hpp"
#include "plan/catalog.hpp"
#include "plan/json_value.hpp"

namespace planproof::plan {

std::string_view to_string(auth_method m) noexcept {
  switch (m) {
    case auth_method::none: return "none";
    case auth_method::api_key: return "api_key";
    case auth_method::bearer: return "bearer";
    case auth_method::oauth2_client_credentials: return "oauth2_client_credentials";
    case auth_method::hmac: return "hmac";
    case auth_method::mtls: return "mtls";
    case auth_method::jwt: return "jwt";
  }
  return "none";
}

std::optional<auth_method> parse_auth_method(std::string_view s) noexcept {
  for (auto m : {auth_method::none, auth_method::api_key, auth_method::bearer,
                 auth_method::oauth2_client_credentials, auth_method::hmac, auth_method::mtls,
                 auth_method::jwt}) {
    if (to_string(m) == s) return m;
  }
  return std::nullopt;
}

bool is_supported(auth_method m) noexcept {
  return m == auth_method::none || m == auth_method::api_key || m == auth_method::bearer || m == auth_method::hmac ||
         m == auth_method::oauth2_client_credentials || m == auth_method::jwt || m == auth_method::mtls;
}

std::string_view to_string(backoff_strategy s) noexcept {
  switch (s) {
    case backoff_strategy::constant: return "constant";
    case backoff_strategy::linear: return "linear";
    case backoff_strategy::exponential: return "exponential";
  }
  return "exponential";
}

std::string_view to_string(traffic_profile p) noexcept {
  switch (p) {
    case traffic_profile::constant: return "constant";
    case traffic_profile::ramp: return "ramp";
    case traffic_profile::burst: return "burst";
    case traffic_profile::closed_loop: return "closed_loop";
  }
  return "constant";
}

std::string_view to_string(jitter_kind j) noexcept {
  switch (j) {
    case jitter_kind::none: return "none";
    case jitter_kind::full: return "full";
    case jitter_kind::equal: return "equal";
    case jitter_kind::decorrelated: return "decorrelated";
  }
  return "full";
}

std::string_view to_string(api_key_location l) noexcept {
  return l == api_key_location::query ? "query" : "header";
}

std::string_view to_string(hmac_algorithm a) noexcept {
  return a == hmac_algorithm::sha512 ? "sha512" : "sha256";
}

std::string_view to_string(signed_component c) noexcept {
  switch (c) {
    case signed_component::method: return "method";
    case signed_component::path: return "path";
    case signed_component::query: return "query";
    case signed_component::timestamp: return "timestamp";
    case signed_component::body: return "body";
    case signed_component::host: return "host";
  }
  return "method";
}

std::string_view to_string(jwt_algorithm a) noexcept {
  switch (a) {
    case jwt_algorithm::HS256: return "HS256";
    case jwt_algorithm::RS256: return "RS256";
    case jwt_algorithm::ES256: return "ES256";
  }
  return "RS256";
}

std::string_view to_string(endpoint_direction d) noexcept {
  return d == endpoint_direction::inbound ? "inbound" : "outbound";
}

std::string_view to_string(param_type t) noexcept {
  switch (t) {
    case param_type::string: return "string";
    case param_type::integer: return "integer";
    case param_type::number: return "number";
    case param_type::boolean: return "boolean";
  }
  return "string";
}

std::string_view to_string(versioning_style s) noexcept {
  switch (s) {
    case versioning_style::header: return "header";
    case versioning_style::path: return "path";
    case versioning_style::query: return "query";
  }
  return "header";
}

std::string_view to_string(pagination_style s) noexcept {
  switch (s) {
    case pagination_style::cursor: return "cursor";
    case pagination_style::page: return "page";
    case pagination_style::offset: return "offset";
    case pagination_style::link_header: return "link_header";
  }
  return "cursor";
}

std::string_view to_string(signature_scheme s) noexcept {
  return s == signature_scheme::hmac_sha512 ? "hmac-sha512" : "hmac-sha256";
}

std::string_view to_string(mapping_direction d) noexcept {
  return d == mapping_direction::request ? "request" : "response";
}

std::string_view to_string(unmapped_policy p) noexcept {
  switch (p) {
    case unmapped_policy::ignore: return "ignore";
    case unmapped_policy::reject: return "reject";
    case unmapped_policy::preserve: return "preserve";
  }
  return "ignore";
}

std::string_view to_string(field_type t) noexcept {
  switch (t) {
    case field_type::string: return "string";
    case field_type::integer: return "integer";
    case field_type::number: return "number";
    case field_type::boolean: return "boolean";
    case field_type::timestamp: return "timestamp";
    case field_type::date: return "date";
    case field_type::currency: return "currency";
    case field_type::enum_: return "enum";
    case field_type::object: return "object";
    case field_type::array: return "array";
  }
  return "string";
}

std::string_view to_string(transform_kind k) noexcept {
  switch (k) {
    case transform_kind::rename: return "rename";
    case transform_kind::lowercase: return "lowercase";
    case transform_kind::uppercase: return "uppercase";
    case transform_kind::trim: return "trim";
    case transform_kind::unix_to_rfc3339: return "unix_to_rfc3339";
    case transform_kind::rfc3339_to_unix: return "rfc3339_to_unix";
    case transform_kind::currency_upper: return "currency_upper";
    case transform_kind::enum_map: return "enum_map";
    case transform_kind::scale: return "scale";
    case transform_kind::concat: return "concat";
  }
  return "rename";
}

std::string_view to_string(breaker_window w) noexcept { return w == breaker_window::time ? "time" : "count"; }

std::string_view to_string(breaker_mode m) noexcept {
  switch (m) {
    case breaker_mode::failure_rate: return "failure_rate";
    case breaker_mode::consecutive_failures: return "consecutive_failures";
    case breaker_mode::failures_per_interval: return "failures_per_interval";
  }
  return "failure_rate";
}

std::string_view to_string(idempotency_approach a) noexcept {
  switch (a) {
    case idempotency_approach::header: return "header";
    case idempotency_approach::natural_key: return "natural_key";
    case idempotency_approach::none: return "none";
  }
  return "header";
}

std::string_view to_string(comparison c) noexcept {
  switch (c) {
    case comparison::eq: return "==";
    case comparison::ne: return "!=";
    case comparison::lt: return "<";
    case comparison::le: return "<=";
    case comparison::gt: return ">";
    case comparison::ge: return ">=";
  }
  return "==";
}

const endpoint* integration_plan::find_endpoint(std::string_view id) const noexcept {
  auto it = std::find_if(endpoints.begin(), endpoints.end(), [&](const auto& e) { return e.id == id; });
  return it == endpoints.end() ? nullptr : &*it;
}

std::string_view to_string(latency_distribution d) noexcept {
  switch (d) {
    case latency_distribution::fixed: return "fixed";
    case latency_distribution::uniform: return "uniform";
    case latency_distribution::lognormal: return "lognormal";
  }
  return "fixed";
}

std::string_view to_string(retry_after_format f) noexcept {
  return f == retry_after_format::http_date ? "http_date" : "seconds";
}

std::string_view to_string(malformation m) noexcept {
  switch (m) {
    case malformation::truncated: return "truncated";
    case malformation::invalid_utf8: return "invalid_utf8";
    case malformation::wrong_content_type: return "wrong_content_type";
    case malformation::wrong_content_length: return "wrong_content_length";
  }
  return "truncated";
}

std::string_view to_string(page_breakage b) noexcept {
  switch (b) {
    case page_breakage::invalid_cursor: return "invalid_cursor";
    case page_breakage::short_page: return "short_page";
    case page_breakage::repeated_page: return "repeated_page";
    case page_breakage::shifted_page: return "shifted_page";
  }
  return "invalid_cursor";
}

std::string_view to_string(outage_mode m) noexcept { return m == outage_mode::reset ? "reset" : "status"; }

std::string_view to_string(handshake_fault h) noexcept {
  switch (h) {
    case handshake_fault::expired_certificate: return "expired_certificate";
    case handshake_fault::wrong_host_certificate: return "wrong_host_certificate";
    case handshake_fault::untrusted_certificate: return "untrusted_certificate";
    case handshake_fault::no_client_certificate_required: return "no_client_certificate_required";
    case handshake_fault::reject_client_certificate: return "reject_client_certificate";
  }
  return "expired_certificate";
}

duration latency_spec::upper_bound() const noexcept {
  duration longest = value;
  if (distribution == latency_distribution::uniform) longest = max;
  if (distribution == latency_distribution::lognormal) longest = cap.value_or(duration::max());
  return cap ? std::min(longest, *cap) : longest;
}

duration fault::starts_at() const noexcept {
  if (during.empty()) return duration::zero();
  duration first = during.front().from;
  for (const auto& w : during) first = std::min(first, w.from);
  return first;
}

bool integration_plan::has(std::string_view path) const { return written.find(path) != written.end(); }

source_location integration_plan::locate(std::string_view path) const {
  while (!path.empty()) {
    if (auto it = written.find(path); it != written.end()) return it->second.where;
    // The parent: `a.b[2]` -> `a.b` -> `a`.
    const auto cut = path.back() == ']' ? path.rfind('[') : path.rfind('.');
    path = path.substr(0, cut == std::string_view::npos ? 0 : cut);
  }
  return {file, 0, 0};
}

const failure_mode* integration_plan::find_failure_mode(std::string_view id) const noexcept {
  auto it = std::find_if(failure_modes.begin(), failure_modes.end(), [&](const auto& f) { return f.id == id; });
  return it == failure_modes.end() ? nullptr : &*it;
}

const phase* integration_plan::find_phase(std::string_view name) const noexcept {
  auto it = std::find_if(phases.begin(), phases.end(), [&](const auto& p) { return p.name == name; });
  return it == phases.end() ? nullptr : &*it;
}

// ---------------------------------------------------------------------------------------------------
// JSON Schema subset

std::string schema_mismatch::path() const {
  std::string path;
  for (const auto& segment : at) {
    if (const auto* key = std::get_if<std::string>(&segment)) {
      if (!path.empty()) path += '.';
      path += *key;
    } else {
      path += '[' + std::to_string(std::get<std::size_t>(segment)) + ']';
    }
  }
  return path;
}

std::string schema_mismatch::str() const {
  const auto where = path();
  return where.empty() ? message : where + ": " + message;
}

namespace {

namespace json = boost::json;

bool is_integral(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (!v.is_double()) return false;
  const double d = v.get_double();
  return std::isfinite(d) && std::floor(d) == d;
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "integer") return is_integral(v);
  if (type == "number") return v.is_number();
  return json_type_name(v) == type;
}

// Short, one-line rendering of a value for messages.
std::string show(const json::value& v) {
  if (auto n = json_number(v)) {
    if (v.is_int64()) return std::to_string(v.get_int64());
    if (v.is_uint64()) return std::to_string(v.get_uint64());
    return format_number(*n);
  }
  if (v.is_string() || v.is_bool() || v.is_null()) {
    std::string text = json::serialize(v);
    if (text.size() > 40) text = text.substr(0, 36) + "...\"";
    return text;
  }
  return std::string(v.is_array() ? "an array" : "an object");
}

bool is_email(std::string_view s) {
  const auto at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size() || s.find('@', at + 1) != s.npos)
    return false;
  if (std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n'; }))
    return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && domain.back() != '.';
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

}  // namespace

const json::value* resolve_local_ref(const json::value& root, std::string_view ref) {
  if (ref == "#") return &root;
  if (!ref.starts_with("#/")) return nullptr;
  const json::value* at = &root;
  std::size_t start = 2;
  while (true) {
    const auto slash = ref.find('/', start);
    std::string token;
    const auto raw =
        ref.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    if (at->is_object()) {
      at = at->get_object().if_contains(token);
    } else if (at->is_array()) {
      std::size_t index = 0;
      auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (token.empty() || ec != std::errc{} || ptr != token.data() + token.size() ||
          index >= at->get_array().size())
        return nullptr;
      at = &at->get_array()[index];
    } else {
      return nullptr;
    }
    if (at == nullptr) return nullptr;
    if (slash == std::string_view::npos) return at;
    start = slash + 1;
  }
}

namespace {

// Hostile schemas can make checking exponential ($ref under anyOf); a real example is far below this.
constexpr std::size_t max_check_steps = 1'000'000;
// libstdc++'s std::regex recurses per character; longer strings are not matched against a pattern.
constexpr std::size_t max_pattern_subject = 1000;

}  // namespace

struct schema_patterns::table {
  std::unordered_map<std::string, std::regex> compiled;
};

namespace {

// Every string under a `pattern` key, wherever it sits in the schema.
void collect_patterns(const json::value& v, std::unordered_map<std::string, std::regex>& out, int depth = 0) {
  if (depth > 256) return;
  if (v.is_array()) {
    for (const auto& item : v.get_array()) collect_patterns(item, out, depth + 1);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [key, member] : v.get_object()) {
    if (key == "pattern" && member.is_string() && !out.contains(std::string(member.get_string()))) {
      const std::string pattern(member.get_string());
      try {
        out.emplace(pattern, std::regex(pattern, std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        // left to the checker, which reports it where the pattern is used
      }
    }
    collect_patterns(member, out, depth + 1);
  }
}

class schema_checker {
 public:
  explicit schema_checker(const json::value& root, const schema_patterns::table* shared = nullptr)
      : root_(root), shared_(shared) {}

  std::vector<schema_mismatch> run(const json::value& value) {
    check(root_, value);
    if (steps_ > max_check_steps) {
      out_.clear();
      out_.push_back({{},
                      "too complex to check against the schema (more than " +
                          std::to_string(max_check_steps) + " steps)"});
    }
    return std::move(out_);
  }

 private:
  void fail(std::string message) { out_.push_back({path_, std::move(message)}); }

  // Whether `value` conforms, without reporting: for oneOf and anyOf.
  bool conforms(const json::value& schema, const json::value& value) {
    const auto mark = out_.size();
    check(schema, value);
    const bool ok = out_.size() == mark;
    out_.resize(mark);
    return ok;
  }

  void check(const json::value& schema_value, const json::value& value) {
    if (++steps_ > max_check_steps || !schema_value.is_object()) return;
    const json::object& schema = schema_value.get_object();

    if (const auto* ref = schema.if_contains("$ref"); ref != nullptr && ref->is_string()) {
      const json::value* target = resolve_local_ref(root_, ref->get_string());
      if (target == nullptr) {
        fail("$ref '" + std::string(ref->get_string()) + "' does not resolve");
      } else if (std::find(active_refs_.begin(), active_refs_.end(), std::pair{target, &value}) !=
                 active_refs_.end()) {
        fail("$ref '" + std::string(ref->get_string()) + "' loops back to itself");
      } else {
        active_refs_.emplace_back(target, &value);
        check(*target, value);
        active_refs_.pop_back();
      }
    }

    if (!check_type(schema, value)) return;  // the other keywords would only repeat it

    if (const auto* e = schema.if_contains("enum"); e != nullptr && e->is_array()) {
      const auto& options = e->get_array();
      if (std::none_of(options.begin(), options.end(),
                       [&](const json::value& o) { return json_same(o, value); })) {
        std::string list;
        for (const auto& o : options) list += (list.empty() ? "" : ", ") + show(o);
        fail("expected one of " + list + ", got " + show(value));
      }
    }
    if (const auto* c = schema.if_contains("const"); c != nullptr && !json_same(*c, value)) {
      fail("expected " + show(*c) + ", got " + show(value));
    }
    if (auto n = json_number(value)) check_number(schema, *n);
    if (value.is_string()) check_string(schema, value.get_string());
    if (value.is_array()) check_array(schema, value.get_array());
    if (value.is_object()) check_object(schema, value.get_object());
    check_combinations(schema, value);
  }

  bool check_type(const json::object& schema, const json::value& value) {
    const auto* type = schema.if_contains("type");
    if (type == nullptr) return true;
    std::vector<std::string_view> allowed;
    if (type->is_string()) allowed.push_back(type->get_string());
    if (type->is_array()) {
      for (const auto& t : type->get_array()) {
        if (t.is_string()) allowed.push_back(t.get_string());
      }
    }
    if (allowed.empty()) return true;
    const auto* nullable = schema.if_contains("nullable");
    if (value.is_null() && nullable != nullptr && nullable->is_bool() && nullable->get_bool()) return true;
    if (std::any_of(allowed.begin(), allowed.end(), [&](std::string_view t) { return has_type(value, t); }))
      return true;
    std::string expected;
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      expected += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + std::string(allowed[i]);
    }
    fail("expected " + expected + ", got " + std::string(json_type_name(value)));
    return false;
  }

  void check_number(const json::object& schema, double n) {
    auto bound = [&](const char* key) {
      return schema.contains(key) ? json_number(schema.at(key)) : std::nullopt;
    };
    const std::string got = ", got " + format_number(n);
    if (auto b = bound("minimum"); b && n < *b) fail("expected a value >= " + format_number(*b) + got);
    if (auto b = bound("maximum"); b && n > *b) fail("expected a value <= " + format_number(*b) + got);
    if (auto b = bound("exclusiveMinimum"); b && n <= *b)
      fail("expected a value > " + format_number(*b) + got);
    if (auto b = bound("exclusiveMaximum"); b && n >= *b)
      fail("expected a value < " + format_number(*b) + got);
  }

  static std::optional<std::size_t> count_of(const json::object& schema, const char* key) {
    const auto* v = schema.if_contains(key);
    if (v == nullptr || !is_integral(*v)) return std::nullopt;
    const double d = *json_number(*v);
    return d < 0 ? std::nullopt : std::optional<std::size_t>(static_cast<std::size_t>(d));
  }

  void check_string(const json::object& schema, const json::string& s) {
    const std::string_view text(s.data(), s.size());
    const auto length = core::utf8_length(text);
    if (auto min = count_of(schema, "minLength"); min && length < *min) {
      fail("expected at least " + std::to_string(*min) + " characters, got " + std::to_string(length));
    }
    if (auto max = count_of(schema, "maxLength"); max && length > *max) {
      fail("expected at most " + std::to_string(*max) + " characters, got " + std::to_string(length));
    }
    if (const auto* p = schema.if_contains("pattern"); p != nullptr && p->is_string()) {
      const std::string pattern(p->get_string());
      if (text.size() <= max_pattern_subject) {
        try {
          const std::regex* compiled = nullptr;
          if (shared_ != nullptr) {
            if (auto at = shared_->compiled.find(pattern); at != shared_->compiled.end()) compiled = &at->second;
          }
          if (compiled == nullptr) {
            auto it = patterns_.find(pattern);
            if (it == patterns_.end())
              it = patterns_.emplace(pattern, std::regex(pattern, std::regex::ECMAScript)).first;
            compiled = &it->second;
          }
          if (!std::regex_search(text.begin(), text.end(), *compiled)) {
            fail(show(json::value(s)) + " does not match the pattern '" + pattern + "'");
          }
        } catch (const std::regex_error&) {
          fail("cannot check against the pattern '" + pattern + "'");
        }
      }
    }
    if (const auto* f = schema.if_contains("format"); f != nullptr && f->is_string()) {
      const std::string_view format = f->get_string();
      const bool ok = format == "date-time" ? core::parse_timestamp(text).has_value()
                      : format == "date"    ? core::parse_date(text).has_value()
                      : format == "email"   ? is_email(text)
                      : format == "uuid"    ? is_uuid(text)
                                            : true;
      if (!ok) fail(show(json::value(s)) + " is not a valid " + std::string(format));
    }
  }

  void check_array(const json::object& schema, const json::array& items) {
    if (auto min = count_of(schema, "minItems"); min && items.size() < *min) {
      fail("expected at least " + std::to_string(*min) + " items, got " + std::to_string(items.size()));
    }
    if (auto max = count_of(schema, "maxItems"); max && items.size() > *max) {
      fail("expected at most " + std::to_string(*max) + " items, got " + std::to_string(items.size()));
    }
    if (const auto* item_schema = schema.if_contains("items")) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        path_.emplace_back(i);
        check(*item_schema, items[i]);
        path_.pop_back();
      }
    }
  }

  void check_object(const json::object& schema, const json::object& object) {
    const auto* properties_value = schema.if_contains("properties");
    const json::object* properties = properties_value != nullptr && properties_value->is_object()
                                         ? &properties_value->get_object()
                                         : nullptr;
    if (const auto* required = schema.if_contains("required"); required != nullptr && required->is_array()) {
      for (const auto& name : required->get_array()) {
        if (name.is_string() && !object.contains(name.get_string())) {
          fail("missing required property '" + std::string(name.get_string()) + "'");
        }
      }
    }
    const auto* additional = schema.if_contains("additionalProperties");
    for (const auto& [key, member] : object) {
      path_.emplace_back(std::string(key));
      if (const auto* property = properties != nullptr ? properties->if_contains(key) : nullptr) {
        check(*property, member);
      } else if (additional != nullptr && additional->is_bool() && !additional->get_bool()) {
        fail("unexpected property (additionalProperties is false)");
      } else if (additional != nullptr && additional->is_object()) {
        check(*additional, member);
      }
      path_.pop_back();
    }
  }

  void check_combinations(const json::object& schema, const json::value& value) {
    if (const auto* all = schema.if_contains("allOf"); all != nullptr && all->is_array()) {
      for (const auto& sub : all->get_array()) check(sub, value);
    }
    if (const auto* any = schema.if_contains("anyOf"); any != nullptr && any->is_array()) {
      const auto& options = any->get_array();
      if (std::none_of(options.begin(), options.end(),
                       [&](const json::value& sub) { return conforms(sub, value); }))
        fail("matches none of the anyOf schemas");
    }
    if (const auto* one = schema.if_contains("oneOf"); one != nullptr && one->is_array()) {
      std::size_t matches = 0;
      for (const auto& sub : one->get_array()) matches += conforms(sub, value) ? 1 : 0;
      if (matches == 0) fail("matches none of the oneOf schemas");
      if (matches > 1)
        fail("matches " + std::to_string(matches) + " of the oneOf schemas, expected exactly one");
    }
  }

  const json::value& root_;
  std::vector<schema_mismatch> out_;
  std::vector<std::variant<std::string, std::size_t>> path_;
  std::vector<std::pair<const json::value*, const json::value*>> active_refs_;  // (schema, value)
  const schema_patterns::table* shared_;            // compiled beforehand; may be null
  std::unordered_map<std::string, std::regex> patterns_;  // compiled during this check
  std::size_t steps_ = 0;
};

}  // namespace

std::vector<schema_mismatch> check_against_schema(const json::value& schema, const json::value& value) {
  return schema_checker(schema).run(value);
}

schema_patterns::schema_patterns(const json::value& schema) {
  auto t = std::make_shared<table>();
  collect_patterns(schema, t->compiled);
  table_ = std::move(t);
}

std::vector<schema_mismatch> check_against_schema(const json::value& schema, const json::value& value,
                                                  const schema_patterns& patterns) {
  return schema_checker(schema, patterns.get()).run(value);
}

// ---------------------------------------------------------------------------------------------------

std::vector<std::string> unsupported_features(const integration_plan& plan, const failure_mode& mode) {
  return unsupported_features(plan, mode, plan.retry);
}

std::vector<std::string> unsupported_features(const integration_plan& plan, const failure_mode& mode,
                                              const retry_config& /*retry*/) {
  std::vector<std::string> out;
  auto add = [&](std::string reason) {
    if (std::find(out.begin(), out.end(), reason) == out.end()) out.push_back(std::move(reason));
  };
  const auto& auth = plan.auth;
  if (!is_supported(auth.method)) add("auth method " + std::string(to_string(auth.method)));
  const auto* traffic_endpoint = plan.find_endpoint(plan.traffic_for(mode).endpoint);
  if (const auto* e = traffic_endpoint) {
    if (e->direction == endpoint_direction::inbound) add("traffic to an inbound endpoint");
    if (e->timeout) add("per-endpoint timeout on " + e->id);
  }
  for (const auto& f : mode.inject) {
    const auto* entry = find_fault(f.kind);
    if (entry == nullptr || !entry->supported) add("fault '" + f.kind + "'");
    if (entry != nullptr && entry->provider) continue;  // delivered to the plan's receiver
    if (const auto* e = f.endpoint ? plan.find_endpoint(*f.endpoint) : nullptr;
        e != nullptr && e->direction == endpoint_direction::inbound) {
      add("fault on inbound endpoint " + e->id);
    }
  }
  for (const auto& x : mode.expect) {
    const auto* entry = find_expectation(x.name);
    if (entry == nullptr || !entry->supported) add("expectation '" + x.name + "'");
    // Judged on the inbound webhook events the failure mode delivers, else record by record on a
    // paginated pull; with neither there is nothing it could mean.
    const bool pull = traffic_endpoint != nullptr && traffic_endpoint->pagination &&
                      traffic_endpoint->direction == endpoint_direction::outbound;
    const bool webhooks = !plan.traffic_for(mode).webhooks.empty() ||
                          std::any_of(mode.inject.begin(), mode.inject.end(), [](const fault& f) {
                            const auto* entry = find_fault(f.kind);
                            return entry != nullptr && entry->provider;
                          });
    if (x.name == "processed_exactly_once" && !pull && !webhooks) add("expectation '" + x.name + "'");
  }
  return out;
}

}  // namespace planproof::plan
