#include "plan/openapi_import.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <utility>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "plan/loader.hpp"
#include "plan/model.hpp"
#include "plan/skeleton.hpp"

namespace planproof::plan {
namespace {

namespace json = boost::json;

// yaml-cpp shares the node behind every alias, so a few lines can stand for billions of nodes when
// walked; every walk counts against this and the import stops rather than hang.
constexpr std::size_t max_visited_nodes = 1'000'000;
// One schema or example inlined into the plan: past this it is cut to `{}` (recursive $refs in big
// specs grow exponentially when inlined).
constexpr std::size_t max_nodes_per_value = 20'000;
// Schema levels inlined; each level is up to two YAML levels in the plan, and the loader refuses
// plans nested more than 100 levels deep.
constexpr int max_schema_depth = 36;
constexpr int max_value_depth = 64;
constexpr int max_ref_hops = 16;
constexpr std::size_t max_regex_length = 1000;  // what the loader accepts

const std::vector<std::string_view> http_methods{"get", "put", "post", "delete", "patch", "head", "options"};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// "Acme Payments API" -> "acme-payments-api".
std::string slugify(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_alnum(c)) {
      out += lower(std::string_view(&c, 1));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// "createPayment" -> "create_payment", "get /v1/items/{id}" -> "get_v1_items_id".
std::string snake_case(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!is_alnum(c)) {
      if (!out.empty() && out.back() != '_') out += '_';
      continue;
    }
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0 && !out.empty() && out.back() != '_') {
      const char prev = s[i - 1];
      const bool prev_lower_or_digit = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      const bool prev_upper = prev >= 'A' && prev <= 'Z';
      const bool next_lower = i + 1 < s.size() && s[i + 1] >= 'a' && s[i + 1] <= 'z';
      if (prev_lower_or_digit || (prev_upper && next_lower)) out += '_';
    }
    out += upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::string first_line(std::string_view s, std::size_t max_chars = 300) {
  const auto start = s.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return {};
  s.remove_prefix(start);
  s = s.substr(0, s.find_first_of("\r\n"));
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s.substr(0, max_chars));
  if (s.size() > max_chars) out += "...";
  return out;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// A plain YAML scalar read the way the plan loader reads it: core schema null, booleans, numbers.
json::value scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return json::string(s);  // quoted in the source: always a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  // Numbers are short; the length check keeps the regexes away from long strings.
  if (s.size() <= 400 && std::regex_match(s, integer)) {
    std::int64_t i = 0;
    const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
    if (auto [p, ec] = std::from_chars(begin, s.data() + s.size(), i); ec == std::errc{} && p == s.data() + s.size()) {
      return i;
    }
  }
  if (s.size() <= 400 && std::regex_match(s, floating)) {
    const double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return d;
  }
  return json::string(s);  // huge numbers stay text rather than become infinities
}

std::optional<std::string> scalar(const YAML::Node& n) {
  if (!n.IsDefined() || !n.IsScalar()) return std::nullopt;
  return n.Scalar();
}

// The value of `key` in a map; an undefined node for anything else.
YAML::Node child(const YAML::Node& map, std::string_view key) {
  if (!map.IsDefined() || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

bool has(const YAML::Node& map, std::string_view key) {
  const YAML::Node v = child(map, key);
  return v.IsDefined() && !v.IsNull();
}

// --- emitting -------------------------------------------------------------------------------------

// Plain only when no YAML reader could take it for anything but this string; quoted otherwise.
bool plain_safe(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '/')) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/') continue;
    if (c == ':' && i + 1 < s.size() && s[i + 1] != ' ') continue;
    if (c == ' ' && i + 1 < s.size() && s[i + 1] != ' ' && s[i + 1] != '#') continue;
    return false;
  }
  static const std::set<std::string> reserved{"true", "false", "yes", "no", "on", "off", "null", "y", "n"};
  return !reserved.contains(lower(s));
}

void emit_string(YAML::Emitter& out, std::string_view s) {
  if (plain_safe(s)) {
    out << std::string(s);
  } else {
    out << YAML::DoubleQuoted << std::string(s);
  }
}

void emit_json(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out << YAML::Null; break;
    case json::kind::bool_: out << v.get_bool(); break;
    case json::kind::int64: out << v.get_int64(); break;
    case json::kind::uint64: out << v.get_uint64(); break;
    case json::kind::double_: {
      // Shortest text that reads back as the same double (yaml-cpp's default prints 17 digits).
      char buf[64];
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      std::string text = ec == std::errc{} ? std::string(buf, p) : std::string("0");
      out << text;
      break;
    }
    case json::kind::string: emit_string(out, v.get_string()); break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.get_array()) emit_json(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : v.get_object()) {
        out << YAML::Key;
        emit_string(out, key);
        out << YAML::Value;
        emit_json(out, value);
      }
      out << YAML::EndMap;
      break;
  }
}

void emit_ints(YAML::Emitter& out, const std::vector<int>& values) {
  out << YAML::Flow << YAML::BeginSeq;
  for (int v : values) out << v;
  out << YAML::EndSeq;
}

// --- the importer -----------------------------------------------------------------------------------

struct parameter_draft {
  std::string name;
  std::string in;
  std::string type = "string";
  std::string type_note;  // why the type is string when the spec said something else
  bool required = false;
  std::optional<json::value> example;
  std::string description;
};

struct endpoint_draft {
  std::string id;
  std::string method;
  std::string path;
  std::string description;
  bool inbound = false;
  std::vector<parameter_draft> path_params;
  std::vector<parameter_draft> query;
  std::optional<json::value> request_schema;
  std::optional<json::value> request_example;
  std::optional<json::value> response_schema;
  std::optional<json::value> response_example;
  int response_status = 0;
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::vector<int> success;
  std::vector<int> retryable;
  std::vector<int> fatal;
  std::optional<std::string> idempotency_header;
  bool retry_after = false;
  std::vector<std::string> notes;  // written as comments above the endpoint
};

struct auth_draft {
  std::string method = "none";
  std::string scheme_name;
  std::string in = "header";
  std::string header;
  std::string param;
  std::string token_url;
  std::vector<std::string> scopes;
  std::vector<std::string> ignored;  // other schemes the spec offers
};

class importer {
 public:
  explicit importer(std::string file) : file_(std::move(file)) {}

  openapi_import_result run(std::string_view text) {
    parse(text);
    check_version();
    read_info();
    read_auth();
    read_paths();
    read_webhooks();
    if (endpoints_.empty()) {
      const YAML::Node paths = child(root_, "paths");
      fail(paths.IsDefined() ? paths : root_,
           "the document describes no operations (no paths with get/put/post/delete/patch/head/options and no "
           "webhooks)");
    }
    openapi_import_result result;
    result.plan_yaml = write_plan();
    result.warnings = std::move(warnings_);
    return result;
  }

 private:
  // --- diagnostics ---

  core::source_location where(const YAML::Node& n) const {
    core::source_location at{file_, 0, 0};
    if (n.IsDefined()) {
      const YAML::Mark m = n.Mark();
      if (!m.is_null()) {
        at.line = m.line + 1;
        at.column = m.column + 1;
      }
    }
    return at;
  }

  [[noreturn]] void fail(const YAML::Node& n, std::string message) const {
    throw core::diagnostic_error(core::diagnostic{where(n), core::severity::error, std::move(message), {}});
  }

  void warn(const YAML::Node& n, std::string message) {
    warnings_.push_back(core::diagnostic{where(n), core::severity::warning, std::move(message), {}});
  }

  void visit(const YAML::Node& n) {
    if (++visited_ > max_visited_nodes) {
      fail(n, "the document expands to more than " + std::to_string(max_visited_nodes) +
                  " nodes when walked (YAML aliases?); not imported");
    }
  }

  // False once the value being converted has used its share of nodes.
  bool spend() {
    if (value_budget_ == 0) return false;
    --value_budget_;
    return true;
  }

  // --- document ---

  void parse(std::string_view text) {
    try {
      root_.reset(YAML::Load(std::string(text)));
    } catch (const YAML::ParserException& e) {
      core::source_location at{file_, 0, 0};
      if (!e.mark.is_null()) {
        at.line = e.mark.line + 1;
        at.column = e.mark.column + 1;
      }
      throw core::diagnostic_error(
          core::diagnostic{at, core::severity::error, "not valid YAML or JSON: " + e.msg, {}});
    } catch (const YAML::Exception& e) {
      throw core::diagnostic_error(
          core::diagnostic{{file_, 0, 0}, core::severity::error, std::string("not valid YAML or JSON: ") + e.what(), {}});
    }
  }

  void check_version() {
    const std::string only = "only OpenAPI 3.0 and 3.1 documents are read";
    if (!root_.IsDefined() || !root_.IsMap()) {
      fail(root_, "not an OpenAPI document: expected a map at the top (" + only + ")");
    }
    if (has(root_, "swagger")) {
      fail(child(root_, "swagger"), "this is a Swagger 2.0 document; " + only +
                                        " (convert it first, e.g. with swagger2openapi)");
    }
    const YAML::Node version = child(root_, "openapi");
    const auto v = scalar(version);
    if (!v) fail(root_, "not an OpenAPI document: no 'openapi' version (" + only + ")");
    if (!v->starts_with("3.0") && !v->starts_with("3.1")) {
      fail(version, "OpenAPI version '" + *v + "' is not supported; " + only);
    }
    version_ = *v;
  }

  void read_info() {
    const YAML::Node info = child(root_, "info");
    title_ = first_line(scalar(child(info, "title")).value_or(""), 200);
    if (title_.empty()) warn(info.IsDefined() ? info : root_, "no info.title: the integration is named 'imported-api'");
    name_ = slugify(title_);
    if (name_.empty()) name_ = "imported-api";
    if (name_.size() > 60) name_.resize(60);
    while (!name_.empty() && name_.back() == '-') name_.pop_back();
    prefix_ = env_prefix(name_);
    description_ = first_line(scalar(child(info, "description")).value_or(""), 500);
    api_version_ = first_line(scalar(child(info, "version")).value_or(""), 50);

    const YAML::Node servers = child(root_, "servers");
    if (servers.IsDefined() && servers.IsSequence() && servers.size() > 0) {
      const YAML::Node server = servers[0];
      std::string url = scalar(child(server, "url")).value_or("");
      // `{var}` in the URL takes the variable's default.
      const YAML::Node vars = child(server, "variables");
      for (int guard = 0; guard < 32; ++guard) {
        const auto open = url.find('{');
        const auto close = url.find('}', open == std::string::npos ? 0 : open);
        if (open == std::string::npos || close == std::string::npos) break;
        const std::string var = url.substr(open + 1, close - open - 1);
        auto value = scalar(child(child(vars, var), "default"));
        if (!value) {
          warn(server, "server variable '" + var + "' has no default: left as TODO");
          value = "TODO";
        }
        url.replace(open, close - open + 1, *value);
      }
      if (url.starts_with("http://") || url.starts_with("https://")) {
        while (url.size() > 8 && url.back() == '/') url.pop_back();
        base_url_ = url;
      } else if (!url.empty()) {
        base_url_note_ = "the spec's server URL is '" + url + "' (relative): TODO the full URL";
      }
    }
  }

  // A local reference (`#`, `#/components/schemas/Payment`) resolved in the document. Nodes are moved
// with reset(): yaml-cpp's operator= writes through to the node assigned to, corrupting the document.
  YAML::Node resolve_pointer(const std::string& ref) {
    YAML::Node at = root_;
    if (ref == "#") return at;
    if (!ref.starts_with("#/")) return YAML::Node(YAML::NodeType::Undefined);
    std::size_t start = 2;
    while (true) {
      const auto slash = ref.find('/', start);
      std::string token = ref.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      std::string decoded;
      for (std::size_t i = 0; i < token.size(); ++i) {
        if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
          decoded += token[i + 1] == '0' ? '~' : '/';
          ++i;
        } else if (token[i] == '%' && i + 2 < token.size() && std::isxdigit(static_cast<unsigned char>(token[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(token[i + 2]))) {
          decoded += static_cast<char>(std::stoi(token.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          decoded += token[i];
        }
      }
      visit(at);
      if (at.IsMap()) {
        at.reset(child(at, decoded));
      } else if (at.IsSequence()) {
        std::size_t index = 0;
        auto [p, ec] = std::from_chars(decoded.data(), decoded.data() + decoded.size(), index);
        if (ec != std::errc{} || p != decoded.data() + decoded.size() || index >= at.size()) {
          return YAML::Node(YAML::NodeType::Undefined);
        }
        at.reset(at[index]);
      } else {
        return YAML::Node(YAML::NodeType::Undefined);
      }
      if (!at.IsDefined()) return at;
      if (slash == std::string::npos) return at;
      start = slash + 1;
    }
  }

  // An object that may be a `$ref` (parameters, responses, request bodies, headers, path items...),
  // followed to what it names; undefined (with a warning) when it cannot be.
  YAML::Node deref(const YAML::Node& n) {
    YAML::Node at = n;
    for (int hop = 0; hop < max_ref_hops; ++hop) {
      visit(at);
      if (!at.IsDefined() || !at.IsMap()) return at;
      const auto ref = scalar(child(at, "$ref"));
      if (!ref) return at;
      if (!ref->starts_with("#")) {
        warn_once("external-ref:" + *ref, at, "external $ref '" + *ref + "' is not followed (only '#/...' is)");
        return YAML::Node(YAML::NodeType::Undefined);
      }
      YAML::Node target = resolve_pointer(*ref);
      if (!target.IsDefined()) {
        warn(child(at, "$ref"), "$ref '" + *ref + "' does not resolve in this document");
        return target;
      }
      at.reset(target);
    }
    warn(n, "$ref chain longer than " + std::to_string(max_ref_hops) + " hops (a cycle?): ignored");
    return YAML::Node(YAML::NodeType::Undefined);
  }

  void warn_once(const std::string& kind, const YAML::Node& n, std::string message) {
    if (warned_.insert(kind).second) warn(n, std::move(message));
  }

  // --- values and schemas ---

  // An example or default as JSON; cut (null) past the depth or node budget.
  json::value to_json(const YAML::Node& n, int depth = 0) {
    visit(n);
    if (depth > max_value_depth || !spend()) {
      warn_once("value-too-large", n, "a value nested too deep or too large was cut to null");
      return nullptr;
    }
    if (!n.IsDefined() || n.IsNull()) return nullptr;
    if (n.IsScalar()) return scalar_to_json(n);
    if (n.IsSequence()) {
      json::array out;
      for (auto it = n.begin(); it != n.end(); ++it) out.push_back(to_json(*it, depth + 1));
      return out;
    }
    json::object out;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) continue;
      out[it->first.Scalar()] = to_json(it->second, depth + 1);
    }
    return out;
  }

  json::value top_value(const YAML::Node& n) {
    value_budget_ = max_nodes_per_value;
    return to_json(n);
  }

  json::value top_schema(const YAML::Node& n) {
    value_budget_ = max_nodes_per_value;
    std::vector<std::string> refs;
    return schema(n, 0, refs);
  }

  // `n` as a schema of the plan's JSON Schema subset: local $refs inlined (a cycle is cut to `{}`),
  // keywords outside the subset dropped, values the loader would refuse left out.
  json::value schema(const YAML::Node& n, int depth, std::vector<std::string>& refs) {
    visit(n);
    if (!spend()) {
      warn_once("schema-too-large", n, "a schema too large to inline was cut to {} (any value)");
      return json::object{};
    }
    if (depth > max_schema_depth) {
      warn_once("schema-too-deep", n,
                "a schema nested more than " + std::to_string(max_schema_depth) + " levels was cut to {} (any value)");
      return json::object{};
    }
    if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) {
      if (n.Scalar() == "false") warn_once("false-schema", n, "schema `false` (nothing matches) imported as {}");
      return json::object{};
    }
    if (!n.IsDefined() || !n.IsMap()) {
      warn(n, "expected a schema (a map): imported as {}");
      return json::object{};
    }
    if (const auto ref = scalar(child(n, "$ref"))) {
      json::value resolved = json::object{};
      if (!ref->starts_with("#")) {
        warn(child(n, "$ref"), "external $ref '" + *ref + "' is not followed: {} (any value) stands in for it");
      } else if (std::find(refs.begin(), refs.end(), *ref) != refs.end()) {
        warn_once("cycle:" + *ref, child(n, "$ref"),
                  "recursive $ref '" + *ref + "': inlined once, then {} (any value) stands in for the repeat");
      } else if (YAML::Node target = resolve_pointer(*ref); !target.IsDefined()) {
        warn(child(n, "$ref"), "$ref '" + *ref + "' does not resolve in this document: imported as {}");
      } else {
        refs.push_back(*ref);
        resolved = schema(target, depth + 1, refs);
        refs.pop_back();
      }
      // 3.1 allows keywords beside $ref (a description, mostly): they refine the target.
      json::object own = keywords(n, depth, refs);
      if (resolved.is_object()) {
        for (auto& [key, value] : own) {
          if (!resolved.get_object().contains(key)) resolved.get_object()[key] = std::move(value);
        }
        if (resolved.get_object().contains("required") && !resolved.get_object().contains("properties")) {
          resolved.get_object().erase("required");
        }
      }
      return resolved;
    }
    return keywords(n, depth, refs);
  }

  void drop(const YAML::Node& at, const std::string& keyword, const std::string& why = "") {
    warn_once("keyword:" + keyword, at,
              "dropped schema keyword '" + keyword + "'" +
                  (why.empty() ? " (not in the plan's JSON Schema subset; further ones dropped silently)" : ": " + why));
  }

  std::optional<json::value> number(const YAML::Node& v) {
    if (!v.IsScalar()) return std::nullopt;
    json::value j = scalar_to_json(v);
    if (j.is_int64() || j.is_uint64() || j.is_double()) return j;
    return std::nullopt;
  }

  json::object keywords(const YAML::Node& n, int depth, std::vector<std::string>& refs) {
    static const std::set<std::string> types{"string", "integer", "number", "boolean", "object", "array", "null"};
    json::object out;
    std::optional<bool> exclusive_min_flag;  // OpenAPI 3.0 wrote these as booleans beside minimum/maximum
    std::optional<bool> exclusive_max_flag;
    std::vector<std::string> required;
    for (auto it = n.begin(); it != n.end(); ++it) {
      visit(it->first);
      if (!it->first.IsScalar()) continue;
      const std::string key = it->first.Scalar();
      const YAML::Node v = it->second;
      if (key == "$ref") continue;
      if (key == "type") {
        if (v.IsScalar() && types.contains(v.Scalar())) {
          out["type"] = v.Scalar();
        } else if (v.IsSequence()) {
          json::array list;
          for (auto t = v.begin(); t != v.end(); ++t) {
            if (t->IsScalar() && types.contains(t->Scalar()) &&
                std::find(list.begin(), list.end(), json::value(t->Scalar())) == list.end()) {
              list.push_back(json::string(t->Scalar()));
            }
          }
          if (!list.empty()) out["type"] = std::move(list);
        } else {
          drop(v, "type", "not a JSON Schema type");
        }
      } else if (key == "properties") {
        if (!v.IsMap()) continue;
        json::object props;
        for (auto p = v.begin(); p != v.end(); ++p) {
          if (p->first.IsScalar()) props[p->first.Scalar()] = schema(p->second, depth + 1, refs);
        }
        out["properties"] = std::move(props);
      } else if (key == "required") {
        if (!v.IsSequence()) continue;
        for (auto r = v.begin(); r != v.end(); ++r) {
          if (r->IsScalar()) required.push_back(r->Scalar());
        }
      } else if (key == "items") {
        if (v.IsMap() || v.IsScalar()) {
          out["items"] = schema(v, depth + 1, refs);
        } else {
          drop(v, "items", "a list of item schemas (tuple form) is not in the subset");
        }
      } else if (key == "enum") {
        if (v.IsSequence() && v.size() > 0) out["enum"] = to_json(v, depth);
      } else if (key == "const" || key == "default") {
        out[key] = to_json(v, depth);
      } else if (key == "format" || key == "description") {
        if (v.IsScalar()) out[key] = key == "description" ? first_line(v.Scalar()) : v.Scalar();
      } else if (key == "pattern") {
        if (!v.IsScalar()) continue;
        bool ok = v.Scalar().size() <= max_regex_length;
        if (ok) {
          try {
            std::regex compiled(v.Scalar(), std::regex::ECMAScript);
          } catch (const std::regex_error&) {
            ok = false;
          }
        }
        if (ok) {
          out["pattern"] = v.Scalar();
        } else {
          warn(v, "pattern is not an ECMAScript regular expression of at most 1000 characters: dropped");
        }
      } else if (key == "minimum" || key == "maximum") {
        if (auto num = number(v)) out[key] = *num;
      } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        if (auto num = number(v)) {
          out[key] = *num;
        } else if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
          (key == "exclusiveMinimum" ? exclusive_min_flag : exclusive_max_flag) = v.Scalar() == "true";
        }
      } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems") {
        if (auto num = number(v); num && num->is_int64() && num->get_int64() >= 0 && num->get_int64() <= INT_MAX) {
          out[key] = *num;
        }
      } else if (key == "additionalProperties") {
        if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) {
          out[key] = v.Scalar() == "true";
        } else if (v.IsMap()) {
          out[key] = schema(v, depth + 1, refs);
        }
      } else if (key == "nullable") {
        if (v.IsScalar() && (v.Scalar() == "true" || v.Scalar() == "false")) out[key] = v.Scalar() == "true";
      } else if (key == "oneOf" || key == "anyOf" || key == "allOf") {
        if (!v.IsSequence() || v.size() == 0) continue;
        json::array list;
        for (auto s = v.begin(); s != v.end(); ++s) list.push_back(schema(*s, depth + 1, refs));
        out[key] = std::move(list);
      } else {
        drop(it->first, key);
      }
    }
    // 3.0's boolean exclusiveMinimum turns its minimum exclusive; 3.1 (and the plan) give the bound itself.
    for (auto [flag, bound, exclusive] : {std::tuple{exclusive_min_flag, "minimum", "exclusiveMinimum"},
                                          std::tuple{exclusive_max_flag, "maximum", "exclusiveMaximum"}}) {
      if (flag && *flag && out.contains(bound)) {
        out[exclusive] = out[bound];
        out.erase(bound);
      }
    }
    // The loader requires every `required` name among `properties`; names only allOf parts declare are
    // left to those parts.
    if (const auto* props = out.if_contains("properties"); props != nullptr && !required.empty()) {
      json::array kept;
      for (const auto& name : required) {
        json::value v(name);
        if (props->get_object().contains(name) && std::find(kept.begin(), kept.end(), v) == kept.end()) {
          kept.push_back(v);
        }
      }
      if (!kept.empty()) out["required"] = std::move(kept);
    }
    for (auto [low, high] : {std::pair{"minimum", "maximum"}, std::pair{"minLength", "maxLength"},
                             std::pair{"minItems", "maxItems"}}) {
      if (out.contains(low) && out.contains(high) && out[low].to_number<double>() > out[high].to_number<double>()) {
        warn(n, std::string(high) + " is below " + low + ": both dropped");
        out.erase(low);
        out.erase(high);
      }
    }
    return out;
  }

  // The example a schema carries itself (following its $ref chain): `example`, or 3.1's `examples[0]`.
  std::optional<json::value> schema_example(YAML::Node n) {
    for (int hop = 0; hop < max_ref_hops && n.IsDefined() && n.IsMap(); ++hop) {
      if (has(n, "example")) return top_value(child(n, "example"));
      const YAML::Node examples = child(n, "examples");
      if (examples.IsSequence() && examples.size() > 0) return top_value(examples[0]);
      const auto ref = scalar(child(n, "$ref"));
      if (!ref || !ref->starts_with("#")) break;
      n.reset(resolve_pointer(*ref));
    }
    return std::nullopt;
  }

  // `example`, else the first of `examples` (a map of Example objects), else the schema's own.
  std::optional<json::value> media_example(const YAML::Node& media, const YAML::Node& schema_node) {
    if (has(media, "example")) return top_value(child(media, "example"));
    const YAML::Node examples = child(media, "examples");
    if (examples.IsMap() && examples.size() > 0) {
      const YAML::Node first = deref(examples.begin()->second);
      if (has(first, "value")) return top_value(child(first, "value"));
    }
    return schema_example(schema_node);
  }

  // Keeps an example only when it satisfies the schema: the loader refuses a plan whose example does not.
  std::optional<json::value> checked_example(std::optional<json::value> example, const std::optional<json::value>& schema,
                                             const YAML::Node& at, const std::string& what) {
    if (!example || !schema) return example;
    const auto mismatches = check_against_schema(*schema, *example);
    if (mismatches.empty()) return example;
    warn(at, what + " example does not match its schema (" + mismatches.front().str() + "): left out");
    return std::nullopt;
  }

  // The JSON media type of a `content` map: application/json, else any `...json...` type.
  YAML::Node json_media(const YAML::Node& content, std::string& other) {
    if (!content.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    YAML::Node found(YAML::NodeType::Undefined);
    for (auto it = content.begin(); it != content.end(); ++it) {
      visit(it->first);
      if (!it->first.IsScalar()) continue;
      const std::string type = lower(it->first.Scalar());
      if (type.starts_with("application/json")) return it->second;
      if (!found.IsDefined() && type.find("json") != std::string::npos) found.reset(it->second);
      if (other.empty()) other = it->first.Scalar();
    }
    return found;
  }

  // --- auth ---

  void read_auth() {
    const YAML::Node schemes = child(child(root_, "components"), "securitySchemes");
    // Which schemes the spec uses, in order of appearance: top-level security, then operations'.
    std::vector<std::pair<std::string, std::vector<std::string>>> used;
    auto add_requirements = [&](const YAML::Node& security) {
      if (!security.IsSequence()) return;
      for (auto r = security.begin(); r != security.end(); ++r) {
        visit(*r);
        if (!r->IsMap()) continue;
        for (auto s = r->begin(); s != r->end(); ++s) {
          if (!s->first.IsScalar()) continue;
          const std::string name = s->first.Scalar();
          if (std::any_of(used.begin(), used.end(), [&](const auto& u) { return u.first == name; })) continue;
          std::vector<std::string> scopes;
          if (s->second.IsSequence()) {
            for (auto sc = s->second.begin(); sc != s->second.end(); ++sc) {
              if (sc->IsScalar()) scopes.push_back(sc->Scalar());
            }
          }
          used.emplace_back(name, std::move(scopes));
        }
      }
    };
    add_requirements(child(root_, "security"));
    if (const YAML::Node paths = child(root_, "paths"); paths.IsMap()) {
      for (auto p = paths.begin(); p != paths.end(); ++p) {
        visit(p->second);
        const YAML::Node item = deref(p->second);
        for (auto method : http_methods) add_requirements(child(child(item, method), "security"));
      }
    }
    // A spec that defines schemes but never says which applies: take them in definition order.
    if (schemes.IsMap()) {
      for (auto s = schemes.begin(); s != schemes.end(); ++s) {
        if (!s->first.IsScalar()) continue;
        const std::string name = s->first.Scalar();
        if (std::none_of(used.begin(), used.end(), [&](const auto& u) { return u.first == name; })) {
          used.emplace_back(name, std::vector<std::string>{});
        }
      }
    }
    for (const auto& [name, scopes] : used) {
      const YAML::Node scheme = deref(child(schemes, name));
      if (!scheme.IsDefined() || !scheme.IsMap()) {
        warn(child(root_, "security"), "security scheme '" + name + "' is not defined in components.securitySchemes");
        continue;
      }
      if (auth_.method != "none") {
        auth_.ignored.push_back(name);
        continue;
      }
      if (!take_scheme(name, scheme, scopes)) auth_.ignored.push_back(name);
    }
    if (!auth_.ignored.empty()) {
      warn(schemes.IsDefined() ? schemes : root_,
           "security schemes not imported (the plan has one auth method): " + join(auth_.ignored, ", "));
    }
  }

  bool take_scheme(const std::string& name, const YAML::Node& scheme, const std::vector<std::string>& scopes) {
    const std::string type = scalar(child(scheme, "type")).value_or("");
    auth_draft a;
    a.scheme_name = name;
    if (type == "apiKey") {
      const std::string in = scalar(child(scheme, "in")).value_or("header");
      const std::string param = scalar(child(scheme, "name")).value_or("");
      if (in == "header" && is_token(param)) {
        a.method = "api_key";
        a.header = param;
      } else if (in == "query" && !param.empty()) {
        a.method = "api_key";
        a.in = "query";
        a.param = param;
      } else {
        warn(scheme, "security scheme '" + name + "': apiKey in " + in + " is not supported by the plan");
        return false;
      }
    } else if (type == "http") {
      const std::string http = lower(scalar(child(scheme, "scheme")).value_or(""));
      if (http != "bearer") {
        warn(scheme, "security scheme '" + name + "': HTTP '" + http + "' auth is not supported by the plan");
        return false;
      }
      a.method = "bearer";
    } else if (type == "oauth2") {
      const YAML::Node flow = child(child(scheme, "flows"), "clientCredentials");
      const auto token_url = scalar(child(flow, "tokenUrl"));
      if (!token_url || token_url->empty()) {
        warn(scheme, "security scheme '" + name + "': only the OAuth2 clientCredentials flow is supported");
        return false;
      }
      a.method = "oauth2_client_credentials";
      a.token_url = *token_url;
      a.scopes = scopes;
      if (a.scopes.empty()) {
        const YAML::Node all = child(flow, "scopes");
        if (all.IsMap()) {
          for (auto s = all.begin(); s != all.end(); ++s) {
            if (s->first.IsScalar()) a.scopes.push_back(s->first.Scalar());
          }
        }
      }
    } else if (type == "mutualTLS") {
      a.method = "mtls";
    } else {
      warn(scheme, "security scheme '" + name + "' of type '" + type + "' is not supported by the plan");
      return false;
    }
    a.ignored = std::move(auth_.ignored);
    auth_ = std::move(a);
    return true;
  }

  // --- operations ---

  std::string unique_id(std::string id) {
    if (id.empty()) id = "endpoint";
    std::string candidate = id;
    for (int n = 2; ids_.contains(candidate); ++n) candidate = id + "_" + std::to_string(n);
    ids_.insert(candidate);
    return candidate;
  }

  std::optional<parameter_draft> read_parameter(const YAML::Node& raw) {
    const YAML::Node p = deref(raw);
    if (!p.IsMap()) return std::nullopt;
    parameter_draft d;
    d.name = scalar(child(p, "name")).value_or("");
    d.in = scalar(child(p, "in")).value_or("");
    if (d.name.empty() || d.in.empty()) {
      warn(p, "parameter without name or in: skipped");
      return std::nullopt;
    }
    d.required = scalar(child(p, "required")).value_or("false") == "true";
    d.description = first_line(scalar(child(p, "description")).value_or(""));
    const YAML::Node schema_node = deref(child(p, "schema"));
    std::string type;
    if (const YAML::Node t = child(schema_node, "type"); t.IsScalar()) {
      type = t.Scalar();
    } else if (t.IsSequence()) {
      for (auto it = t.begin(); it != t.end(); ++it) {
        if (it->IsScalar() && it->Scalar() != "null") {
          type = it->Scalar();
          break;
        }
      }
    }
    if (type == "integer" || type == "number" || type == "boolean" || type == "string") {
      d.type = type;
    } else if (!type.empty()) {
      d.type_note = d.name + ": the spec's type is " + type + "; the plan has string";
    }
    std::optional<json::value> example;
    if (has(p, "example")) {
      example = top_value(child(p, "example"));
    } else if (const YAML::Node examples = child(p, "examples"); examples.IsMap() && examples.size() > 0) {
      if (const YAML::Node first = deref(examples.begin()->second); has(first, "value")) {
        example = top_value(child(first, "value"));
      }
    } else {
      example = schema_example(schema_node);
    }
    if (example) {
      json::object type_schema;
      type_schema["type"] = d.type;
      if (check_against_schema(type_schema, *example).empty()) d.example = std::move(example);
    }
    return d;
  }

  // Operation parameters over path-item ones (same name and `in`).
  std::vector<parameter_draft> parameters(const YAML::Node& item, const YAML::Node& op) {
    std::vector<parameter_draft> out;
    for (const YAML::Node& list : {child(item, "parameters"), child(op, "parameters")}) {
      if (!list.IsSequence()) continue;
      for (auto it = list.begin(); it != list.end(); ++it) {
        auto d = read_parameter(*it);
        if (!d) continue;
        auto same = std::find_if(out.begin(), out.end(), [&](const auto& o) { return o.name == d->name && o.in == d->in; });
        if (same != out.end()) {
          *same = std::move(*d);
        } else {
          out.push_back(std::move(*d));
        }
      }
    }
    return out;
  }

  void read_request_body(const YAML::Node& op, endpoint_draft& e) {
    const YAML::Node body = deref(child(op, "requestBody"));
    if (!body.IsMap()) return;
    std::string other;
    const YAML::Node media = json_media(child(body, "content"), other);
    if (!media.IsDefined()) {
      if (!other.empty()) e.notes.push_back("the request body is " + other + ", not JSON: not imported");
      return;
    }
    const YAML::Node schema_node = child(media, "schema");
    if (schema_node.IsDefined()) e.request_schema = top_schema(schema_node);
    e.request_example = checked_example(media_example(media, schema_node), e.request_schema, media, e.id + " request");
  }

  void read_responses(const YAML::Node& op, endpoint_draft& e) {
    const YAML::Node responses = child(op, "responses");
    if (!responses.IsMap()) return;
    std::vector<std::string> unclassified;
    std::set<std::string> header_names;  // lower-cased: the plan folds header case
    for (auto it = responses.begin(); it != responses.end(); ++it) {
      visit(it->first);
      if (!it->first.IsScalar()) continue;
      const std::string code_text = it->first.Scalar();
      int code = 0;
      auto [p, ec] = std::from_chars(code_text.data(), code_text.data() + code_text.size(), code);
      const bool numeric = ec == std::errc{} && p == code_text.data() + code_text.size() && code >= 100 && code <= 599;
      const YAML::Node response = deref(it->second);
      if (!numeric) {
        unclassified.push_back(code_text);
      } else if (code >= 200 && code < 300) {
        if (std::find(e.success.begin(), e.success.end(), code) == e.success.end()) e.success.push_back(code);
        if (e.response_status == 0) {
          e.response_status = code;
          std::string other;
          const YAML::Node media = json_media(child(response, "content"), other);
          if (media.IsDefined()) {
            const YAML::Node schema_node = child(media, "schema");
            if (schema_node.IsDefined()) e.response_schema = top_schema(schema_node);
            e.response_example = checked_example(media_example(media, schema_node), e.response_schema, media,
                                                 e.id + " response");
          } else if (!other.empty()) {
            e.notes.push_back("the " + code_text + " response is " + other + ", not JSON: not imported");
          }
        }
      } else if (code == 429 || code == 408 || code == 500 || code == 502 || code == 503 || code == 504) {
        if (std::find(e.retryable.begin(), e.retryable.end(), code) == e.retryable.end()) e.retryable.push_back(code);
      } else if (code >= 400 && code < 500) {
        if (std::find(e.fatal.begin(), e.fatal.end(), code) == e.fatal.end()) e.fatal.push_back(code);
      } else {
        unclassified.push_back(code_text);
      }
      const YAML::Node headers = child(response, "headers");
      if (!headers.IsMap()) continue;
      for (auto h = headers.begin(); h != headers.end(); ++h) {
        if (!h->first.IsScalar()) continue;
        const std::string name = h->first.Scalar();
        const std::string folded = lower(name);
        const bool rate = folded == "retry-after" || folded.starts_with("ratelimit") || folded.starts_with("x-ratelimit");
        if (!rate || !is_token(name) || !header_names.insert(folded).second) continue;
        const YAML::Node header = deref(h->second);
        std::string description = first_line(scalar(child(header, "description")).value_or(""));
        if (description.empty()) description = "documented in " + code_text + " responses";
        e.response_headers.emplace_back(name, description);
        if (folded == "retry-after") e.retry_after = true;
      }
    }
    if (!unclassified.empty()) {
      e.notes.push_back("documented responses not classified (not 2xx, 4xx or a retryable 5xx): " +
                        join(unclassified, ", "));
    }
  }

  // OpenAPI path parameters may hold '-' or '.'; the plan's are letters, digits and '_'.
  std::optional<std::string> plan_path(const std::string& path, std::vector<std::pair<std::string, std::string>>& renamed) {
    std::string out;
    std::set<std::string> seen;
    std::size_t i = 0;
    while (i < path.size()) {
      if (path[i] == '}') return std::nullopt;
      if (path[i] != '{') {
        out += path[i++];
        continue;
      }
      const auto close = path.find('}', i);
      if (close == std::string::npos || path.find('{', i + 1) < close) return std::nullopt;
      const std::string name = path.substr(i + 1, close - i - 1);
      std::string fixed;
      for (char c : name) fixed += is_alnum(c) || c == '_' ? c : '_';
      if (fixed.empty() || !seen.insert(fixed).second) return std::nullopt;
      renamed.emplace_back(name, fixed);
      out += "{" + fixed + "}";
      i = close + 1;
    }
    return out;
  }

  void read_paths() {
    const YAML::Node paths = child(root_, "paths");
    if (!paths.IsDefined() || paths.IsNull()) return;
    if (!paths.IsMap()) fail(paths, "paths: expected a map of paths to operations");
    for (auto p = paths.begin(); p != paths.end(); ++p) {
      visit(p->first);
      if (!p->first.IsScalar()) continue;
      const std::string path = p->first.Scalar();
      const YAML::Node item = deref(p->second);
      if (!item.IsMap()) continue;
      if (!path.starts_with("/")) {
        warn(p->first, "path '" + path + "' does not start with '/': skipped");
        continue;
      }
      std::vector<std::pair<std::string, std::string>> renamed;
      const auto fixed_path = plan_path(path, renamed);
      if (!fixed_path) {
        warn(p->first, "path '" + path + "' has malformed or repeated {parameters}: skipped");
        continue;
      }
      for (auto method : http_methods) {
        const YAML::Node op = child(item, method);
        if (!op.IsDefined() || !op.IsMap()) continue;
        read_operation(std::string(method), path, *fixed_path, renamed, item, op);
      }
    }
  }

  void read_operation(const std::string& method, const std::string& path, const std::string& fixed_path,
                      const std::vector<std::pair<std::string, std::string>>& renamed, const YAML::Node& item,
                      const YAML::Node& op) {
    endpoint_draft e;
    e.method = method;
    std::transform(e.method.begin(), e.method.end(), e.method.begin(), [](char c) { return static_cast<char>(c - 'a' + 'A'); });
    e.path = fixed_path;
    std::string id = snake_case(scalar(child(op, "operationId")).value_or(""));
    if (id.empty()) id = snake_case(method + " " + path);
    e.id = unique_id(id);
    e.description = first_line(scalar(child(op, "summary")).value_or(""));
    if (e.description.empty()) e.description = first_line(scalar(child(op, "description")).value_or(""));
    if (scalar(child(op, "deprecated")).value_or("") == "true") e.notes.push_back("deprecated in the spec");
    for (auto& param : parameters(item, op)) {
      if (param.in == "path") {
        auto r = std::find_if(renamed.begin(), renamed.end(), [&](const auto& x) { return x.first == param.name; });
        if (r == renamed.end()) {
          e.notes.push_back("path parameter '" + param.name + "' is not in the path: not imported");
          continue;
        }
        if (r->second != param.name) e.notes.push_back("path parameter '" + param.name + "' renamed " + r->second);
        param.name = r->second;
        e.path_params.push_back(std::move(param));
      } else if (param.in == "query") {
        e.query.push_back(std::move(param));
      } else if (param.in == "header" && lower(param.name) == "idempotency-key") {
        if ((method == "post" || method == "patch") && is_token(param.name)) {
          e.idempotency_header = param.name;
        } else {
          e.notes.push_back("an " + param.name + " header is documented on " + e.method + ": not imported");
        }
      }
    }
    // The plan wants every `{name}` of the path described once path_params is given.
    for (const auto& [original, fixed] : renamed) {
      if (std::none_of(e.path_params.begin(), e.path_params.end(), [&, fixed = fixed](const auto& x) { return x.name == fixed; })) {
        parameter_draft d;
        d.name = fixed;
        d.in = "path";
        e.path_params.push_back(std::move(d));
      }
    }
    std::sort(e.path_params.begin(), e.path_params.end(), [&](const auto& a, const auto& b) {
      auto pos = [&](const std::string& n) {
        return std::find_if(renamed.begin(), renamed.end(), [&](const auto& x) { return x.second == n; }) - renamed.begin();
      };
      return pos(a.name) < pos(b.name);
    });
    read_request_body(op, e);
    read_responses(op, e);
    endpoints_.push_back(std::move(e));
  }

  void read_webhooks() {
    const YAML::Node hooks = child(root_, "webhooks");
    if (!hooks.IsDefined() || hooks.IsNull()) return;
    if (!hooks.IsMap()) {
      warn(hooks, "webhooks: expected a map: ignored");
      return;
    }
    std::set<std::string> paths;
    for (auto h = hooks.begin(); h != hooks.end(); ++h) {
      visit(h->first);
      if (!h->first.IsScalar()) continue;
      const std::string name = h->first.Scalar();
      const YAML::Node item = deref(h->second);
      YAML::Node op = child(item, "post");
      for (auto method : http_methods) {
        if (op.IsDefined()) break;
        op.reset(child(item, method));
      }
      if (!op.IsMap()) {
        warn(h->first, "webhook '" + name + "' has no operation: skipped");
        continue;
      }
      endpoint_draft e;
      e.inbound = true;
      e.method = "POST";
      std::string id = snake_case(scalar(child(op, "operationId")).value_or(""));
      if (id.empty()) id = snake_case(name);
      e.id = unique_id(id.empty() ? "webhook" : id);
      // paymentSucceeded -> payment-succeeded, as the path of a URL usually spells it.
      std::string slug = snake_case(name);
      std::replace(slug.begin(), slug.end(), '_', '-');
      if (slug.empty()) slug = "event";
      std::string path = "/webhooks/" + slug;
      for (int n = 2; !paths.insert(path).second; ++n) path = "/webhooks/" + slug + "-" + std::to_string(n);
      e.path = path;
      e.description = first_line(scalar(child(op, "summary")).value_or(""));
      if (e.description.empty()) e.description = first_line(scalar(child(op, "description")).value_or(""));
      read_request_body(op, e);
      endpoints_.push_back(std::move(e));
    }
  }

  // --- writing ---

  std::string write_plan() {
    std::string out;
    out += "# Draft integration plan imported from " + file_ + " (OpenAPI " + version_ + ") by `planproof import-openapi`.\n";
    out += "# Endpoints and auth come from the spec; every TODO is yours to fill in. `planproof lint` lists what is\n";
    out += "# left, `planproof render` turns the plan into a document, `planproof run` checks it.\n";
    out += "planproof: 1\n\n";
    {
      YAML::Emitter e;
      e << YAML::BeginMap << YAML::Key << "integration" << YAML::Value << YAML::BeginMap;
      e << YAML::Key << "name" << YAML::Value;
      emit_string(e, name_);
      e << YAML::Key << "system" << YAML::Value;
      emit_string(e, title_.empty() ? "TODO: the external system" : title_);
      e << YAML::Key << "base_url" << YAML::Value;
      if (base_url_.empty()) {
        e << "https://api.example.com" << YAML::Comment(base_url_note_.empty() ? "TODO: the spec gives no server URL" : base_url_note_);
      } else {
        emit_string(e, base_url_);
      }
      e << YAML::Key << "description" << YAML::Value;
      emit_string(e, description_.empty() ? "TODO: what the integration does and why" : description_);
      e << YAML::EndMap << YAML::EndMap;
      out += std::string(e.c_str()) + "\n\n";
    }
    out += "# State what you assume when the external API's documentation does not say.\n";
    {
      YAML::Emitter e;
      e << YAML::BeginMap << YAML::Key << "assumptions" << YAML::Value << YAML::BeginSeq;
      emit_string(e, "The API behaves as " + file_ + (api_version_.empty() ? "" : " (version " + api_version_ + ")") +
                         " describes it");
      emit_string(e, "TODO: e.g. the API applies a POST once per Idempotency-Key for 24 hours");
      e << YAML::EndSeq << YAML::EndMap;
      out += std::string(e.c_str()) + "\n\n";
    }
    out += write_auth();
    out += write_endpoints();
    const endpoint_draft* traffic = nullptr;
    for (const auto& e : endpoints_) {
      if (!e.inbound) {
        traffic = &e;
        break;
      }
    }
    if (traffic == nullptr) {
      traffic = &endpoints_.front();
      warnings_.push_back(core::diagnostic{{file_, 0, 0}, core::severity::warning,
                                          "the spec has only webhooks: mapping and traffic name an inbound endpoint; "
                                          "TODO adjust them by hand", {}});
    }
    out += skeleton_tail(name_, traffic->id, "record");
    return out;
  }

  std::string write_auth() {
    std::string out = "# 1. Auth method, from the spec's security schemes. Secrets are references only (env:NAME or\n";
    out += "# file:PATH), never the secret itself.\n";
    if (!auth_.scheme_name.empty()) out += "# From security scheme '" + auth_.scheme_name + "'.\n";
    if (!auth_.ignored.empty()) {
      out += "# The spec also offers (not imported; the plan has one auth method): " + join(auth_.ignored, ", ") + "\n";
    }
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << "auth" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "method" << YAML::Value << auth_.method;
    const auto todo_env = [&](const std::string& key, const std::string& var) {
      e << YAML::Key << key << YAML::Value << ("env:" + prefix_ + "_" + var)
        << YAML::Comment("TODO: set " + prefix_ + "_" + var + " where the integration runs");
    };
    if (auth_.method == "api_key") {
      if (auth_.in == "query") {
        e << YAML::Key << "in" << YAML::Value << "query" << YAML::Key << "param" << YAML::Value;
        emit_string(e, auth_.param);
      } else {
        e << YAML::Key << "header" << YAML::Value;
        emit_string(e, auth_.header);
      }
      todo_env("key", "API_KEY");
    } else if (auth_.method == "bearer") {
      todo_env("token", "TOKEN");
    } else if (auth_.method == "oauth2_client_credentials") {
      e << YAML::Key << "token_url" << YAML::Value;
      emit_string(e, auth_.token_url);
      if (!auth_.scopes.empty()) {
        e << YAML::Key << "scopes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& s : auth_.scopes) emit_string(e, s);
        e << YAML::EndSeq;
      }
      todo_env("client_id", "CLIENT_ID");
      todo_env("client_secret", "CLIENT_SECRET");
    } else if (auth_.method == "mtls") {
      e << YAML::Key << "client_cert" << YAML::Value << "file:client.pem"
        << YAML::Comment("TODO: the client certificate (PEM)");
      e << YAML::Key << "client_key" << YAML::Value << "file:client.key" << YAML::Comment("TODO: its private key (PEM)");
    }
    e << YAML::EndMap << YAML::EndMap;
    return out + e.c_str() + "\n\n";
  }

  void emit_parameter(YAML::Emitter& e, const parameter_draft& p, bool query) {
    e << YAML::Key;
    emit_string(e, p.name);
    e << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "type" << YAML::Value << p.type;
    if (!p.type_note.empty()) e << YAML::Comment(p.type_note);
    if (query) e << YAML::Key << "required" << YAML::Value << p.required;
    if (p.example) {
      e << YAML::Key << "example" << YAML::Value;
      emit_json(e, *p.example);
    }
    if (!p.description.empty()) {
      e << YAML::Key << "description" << YAML::Value;
      emit_string(e, p.description);
    }
    e << YAML::EndMap;
  }

  void emit_body(YAML::Emitter& e, const std::optional<json::value>& schema, const std::optional<json::value>& example) {
    if (schema) {
      e << YAML::Key << "schema" << YAML::Value;
      emit_json(e, *schema);
    }
    if (example) {
      e << YAML::Key << "example" << YAML::Value;
      emit_json(e, *example);
    }
  }

  std::string write_endpoints() {
    std::string out = "# 2. Endpoint specs, one per operation of the spec (direction: inbound for its webhooks).\n";
    YAML::Emitter e;
    e << YAML::BeginMap << YAML::Key << "endpoints" << YAML::Value << YAML::BeginSeq;
    for (const auto& ep : endpoints_) {
      e << YAML::BeginMap;
      e << YAML::Key << "id" << YAML::Value << ep.id;
      if (!ep.notes.empty()) e << YAML::Comment(join(ep.notes, "; "));
      if (!ep.description.empty()) {
        e << YAML::Key << "description" << YAML::Value;
        emit_string(e, ep.description);
      }
      if (ep.inbound) e << YAML::Key << "direction" << YAML::Value << "inbound";
      e << YAML::Key << "method" << YAML::Value << ep.method;
      e << YAML::Key << "path" << YAML::Value;
      emit_string(e, ep.path);
      if (!ep.path_params.empty()) {
        e << YAML::Key << "path_params" << YAML::Value << YAML::BeginMap;
        for (const auto& p : ep.path_params) emit_parameter(e, p, false);
        e << YAML::EndMap;
      }
      if (!ep.query.empty()) {
        e << YAML::Key << "query" << YAML::Value << YAML::BeginMap;
        for (const auto& p : ep.query) emit_parameter(e, p, true);
        e << YAML::EndMap;
      }
      if (ep.request_schema || ep.request_example) {
        e << YAML::Key << "request" << YAML::Value << YAML::BeginMap;
        emit_body(e, ep.request_schema, ep.request_example);
        e << YAML::EndMap;
      }
      if (!ep.inbound && (ep.response_status != 0 || ep.response_schema || ep.response_example ||
                          !ep.response_headers.empty())) {
        e << YAML::Key << "response" << YAML::Value << YAML::BeginMap;
        if (ep.response_status != 0) e << YAML::Key << "status" << YAML::Value << ep.response_status;
        emit_body(e, ep.response_schema, ep.response_example);
        if (!ep.response_headers.empty()) {
          e << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
          for (const auto& [name, text] : ep.response_headers) {
            e << YAML::Key;
            emit_string(e, name);
            e << YAML::Value;
            emit_string(e, text);
          }
          e << YAML::EndMap;
          if (ep.retry_after) e << YAML::Comment("Retry-After documented: keep retry.retry_after.honor on");
        }
        e << YAML::EndMap;
      }
      if (!ep.success.empty() || !ep.retryable.empty() || !ep.fatal.empty()) {
        e << YAML::Key << "statuses" << YAML::Value << YAML::Flow << YAML::BeginMap;
        for (auto [key, list] : {std::pair{"success", &ep.success}, std::pair{"retryable", &ep.retryable},
                                 std::pair{"fatal", &ep.fatal}}) {
          if (list->empty()) continue;
          e << YAML::Key << key << YAML::Value;
          emit_ints(e, *list);
        }
        e << YAML::EndMap;
      }
      if (ep.idempotency_header) {
        e << YAML::Key << "idempotency" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "header"
          << YAML::Value << *ep.idempotency_header << YAML::EndMap;
      }
      if (ep.inbound) {
        e << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
        e << YAML::Key << "scheme" << YAML::Value << "hmac-sha256" << YAML::Comment("TODO: the scheme the provider signs with");
        e << YAML::Key << "header" << YAML::Value << "TODO-Signature"
          << YAML::Comment("TODO: the header carrying the signature");
        e << YAML::Key << "secret" << YAML::Value << ("env:" + prefix_ + "_WEBHOOK_SECRET")
          << YAML::Comment("TODO: set " + prefix_ + "_WEBHOOK_SECRET where the integration runs");
        e << YAML::EndMap;
      }
      e << YAML::EndMap;
    }
    e << YAML::EndSeq << YAML::EndMap;
    if (!e.good()) {
      throw core::diagnostic_error(core::diagnostic{{file_, 0, 0}, core::severity::error,
                                                    "could not write the plan: " + e.GetLastError(), {}});
    }
    return out + e.c_str() + "\n\n";
  }

  std::string file_;
  YAML::Node root_;
  std::vector<core::diagnostic> warnings_;
  std::set<std::string> warned_;
  std::size_t visited_ = 0;
  std::size_t value_budget_ = 0;
  std::string version_;
  std::string title_;
  std::string name_;
  std::string prefix_;
  std::string description_;
  std::string api_version_;
  std::string base_url_;
  std::string base_url_note_;
  auth_draft auth_;
  std::set<std::string> ids_;
  std::vector<endpoint_draft> endpoints_;
};

}  // namespace

openapi_import_result import_openapi(std::string_view text, std::string file_name) {
  importer imp(file_name);
  openapi_import_result result = imp.run(text);
  // The draft should load as it is; if it does not, say so now rather than at the user's first `render`.
  try {
    (void)load_string(result.plan_yaml, file_name + " (draft plan)");
  } catch (const core::diagnostic_error& e) {
    for (const auto& d : e.diagnostics()) {
      result.warnings.push_back(core::diagnostic{{file_name, 0, 0}, core::severity::warning,
                                                 "the draft plan does not load yet: " + d.str(), {}});
    }
  }
  return result;
}

}  // namespace planproof::plan
