#include "plan/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include "plan/catalog.hpp"

namespace planproof::plan {
namespace {

using core::diagnostic;
using core::diagnostic_error;
using core::severity;

// ---------------------------------------------------------------------------------------------------
// A plain copy of the YAML tree.
//
// yaml-cpp nodes share their data on assignment, `node["x"]` hides duplicate keys, and a node built in
// code has no mark. Decoding, `--set` and the phase merge work on this copy instead, where every node
// says plainly where it came from and copies are real copies.

struct ynode;

struct yentry;

struct ynode {
  enum class kind { null, scalar, sequence, map };
  kind type = kind::null;
  std::string text;             // scalar only, as written
  bool quoted = false;          // quoted or explicitly tagged: always a string, never a number or bool
  bool from_set = false;        // came from a --set value: it has no place in the file
  int line = 0;                 // 1-based
  int column = 0;               // 1-based
  std::vector<ynode> items;     // sequence
  std::vector<yentry> entries;  // map, in document order, duplicate keys kept so they can be reported

  bool is_map() const noexcept { return type == kind::map; }
  bool is_sequence() const noexcept { return type == kind::sequence; }
  bool is_scalar() const noexcept { return type == kind::scalar; }
  bool is_null() const noexcept { return type == kind::null; }
};

struct yentry {
  ynode key;
  ynode value;
};

ynode fresh_node(ynode::kind type) {
  ynode n;
  n.type = type;
  n.from_set = true;
  return n;
}

// Hostile YAML can be small and still huge once aliases are expanded (`&a [*a, *a]` nested), or even
// refer to itself; a real plan is far inside these limits.
constexpr int max_depth = 100;
constexpr std::size_t max_nodes = 200'000;

struct tree_too_large {
  std::string message;
  YAML::Mark mark;
};

class tree_converter {
 public:
  explicit tree_converter(bool from_set) : from_set_(from_set) {}

  ynode convert(const YAML::Node& in, int depth = 0) {
    if (depth > max_depth) {
      throw tree_too_large{"the plan is nested more than " + std::to_string(max_depth) + " levels deep",
                           in.Mark()};
    }
    if (++count_ > max_nodes) {
      throw tree_too_large{
          "the plan has more than " + std::to_string(max_nodes) + " nodes (aliases expanded)", in.Mark()};
    }
    ynode out;
    out.from_set = from_set_;
    if (!from_set_ && !in.Mark().is_null()) {
      out.line = in.Mark().line + 1;
      out.column = in.Mark().column + 1;
    }
    switch (in.Type()) {
      case YAML::NodeType::Scalar:
        out.type = ynode::kind::scalar;
        out.text = in.Scalar();
        out.quoted = in.Tag() != "?";
        break;
      case YAML::NodeType::Sequence:
        out.type = ynode::kind::sequence;
        for (const auto& item : in) out.items.push_back(convert(item, depth + 1));
        break;
      case YAML::NodeType::Map:
        out.type = ynode::kind::map;
        for (const auto& kv : in)
          out.entries.push_back({convert(kv.first, depth + 1), convert(kv.second, depth + 1)});
        break;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined: break;
    }
    return out;
  }

 private:
  bool from_set_;
  std::size_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// Small text helpers.

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Decimal integer with an optional sign, nothing else.
std::optional<long long> parse_integer(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || (s.front() == '-' && s.size() == 1)) return std::nullopt;
  long long value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

template <class Names>
std::optional<std::string_view> closest(std::string_view word, const Names& names) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;  // suggest only within an edit distance of 2
  for (std::string_view name : names) {
    const auto d = edit_distance(word, name);
    if (d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  return best;
}

template <class Names>
std::string join(const Names& names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::vector<std::string_view> catalog_names(std::span<const catalog_entry> entries) {
  std::vector<std::string_view> names;
  for (const auto& e : entries) names.push_back(e.name);
  return names;
}

// "did you mean" when something is close, then the full list: catalog names are worth reading.
std::string unknown_name(std::string_view what, std::string_view word,
                         const std::vector<std::string_view>& known) {
  std::string message = "unknown " + std::string(what) + " '" + std::string(word) + "'";
  if (auto guess = closest(word, known)) message += "; did you mean '" + std::string(*guess) + "'?";
  return message + " (known: " + join(known) + ")";
}

// How a wrong value is quoted back: short, one line.
std::string describe(const ynode& n) {
  switch (n.type) {
    case ynode::kind::null: return "nothing";
    case ynode::kind::sequence: return "a list";
    case ynode::kind::map: return "a map";
    case ynode::kind::scalar: break;
  }
  std::string text;
  for (char c : n.text) {
    if (c == '\n')
      text += "\\n";
    else
      text += c;
  }
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return "'" + text + "'";
}

std::string quote_yaml(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + '"';
}

// Flow-style YAML for values kept as text (expectations this build cannot evaluate yet).
std::string emit(const ynode& n) {
  switch (n.type) {
    case ynode::kind::null: return "null";
    case ynode::kind::scalar: return n.quoted ? quote_yaml(n.text) : n.text;
    case ynode::kind::sequence: {
      std::string out = "[";
      for (std::size_t i = 0; i < n.items.size(); ++i) out += (i == 0 ? "" : ", ") + emit(n.items[i]);
      return out + "]";
    }
    case ynode::kind::map: {
      std::string out = "{";
      for (std::size_t i = 0; i < n.entries.size(); ++i) {
        out += (i == 0 ? "" : ", ") + emit(n.entries[i].key) + ": " + emit(n.entries[i].value);
      }
      return out + "}";
    }
  }
  return "null";
}

bool is_plain_float(std::string_view s) {
  // YAML 1.2 core schema: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A plain scalar read the way JSON would: YAML core schema booleans and numbers, else a string.
boost::json::value scalar_to_json(const ynode& n) {
  if (n.quoted) return boost::json::string(n.text);
  const std::string_view s = n.text;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (auto i = parse_integer(s); i && s.find_first_of(" \t") == std::string_view::npos) {
    return static_cast<std::int64_t>(*i);
  }
  if (is_plain_float(s)) {
    const std::string copy(s);
    const double d = std::strtod(copy.c_str(), nullptr);
    if (std::abs(d) <= std::numeric_limits<double>::max()) return d;
  }
  return boost::json::string(s);
}

// ---------------------------------------------------------------------------------------------------
// Decoding context: where we are (a dotted key path), what went wrong so far, and typed readers that
// report a wrong value and return nullopt so the caller skips whatever depended on it.

class context {
 public:
  explicit context(std::string file) : file_(std::move(file)) {}

  core::source_location where(const ynode& n) const {
    if (n.from_set) return {"--set", 0, 0};
    return {file_, n.line, n.column};
  }

  std::string line_of(const ynode& n) const {
    return n.from_set ? std::string("--set") : "line " + std::to_string(n.line);
  }

  std::string path() const {
    std::string out;
    for (const auto& segment : path_) out += segment;
    if (!out.empty() && out.front() == '.') out.erase(0, 1);
    return out;
  }

  void error(const ynode& at, const std::string& message) { error(where(at), message); }

  void error(core::source_location where, const std::string& message) {
    const auto p = path();
    diagnostics_.push_back({std::move(where), severity::error, p.empty() ? message : p + ": " + message, {}});
  }

  std::size_t error_count() const noexcept { return diagnostics_.size(); }
  std::vector<diagnostic>& diagnostics() noexcept { return diagnostics_; }

  // Pushes one path segment for as long as it lives.
  class [[nodiscard]] scope {
   public:
    scope(context& c, std::string segment) : c_(c) { c_.path_.push_back(std::move(segment)); }
    ~scope() { c_.path_.pop_back(); }
    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

   private:
    context& c_;
  };

  scope enter(std::string_view key) { return scope(*this, "." + std::string(key)); }
  scope enter(std::size_t index) { return scope(*this, "[" + std::to_string(index) + "]"); }

  // --- shape -------------------------------------------------------------------------------------

  bool expect_map(const ynode& n) {
    if (n.is_map()) return true;
    error(n, "expected a map, got " + describe(n));
    return false;
  }

  bool expect_list(const ynode& n, std::string_view of = "") {
    if (n.is_sequence()) return true;
    error(n, "expected a list" + (of.empty() ? std::string() : " of " + std::string(of)) + ", got " +
                 describe(n));
    return false;
  }

  // The first occurrence of each string key; reports duplicates and keys that are not strings.
  std::vector<const yentry*> unique_entries(const ynode& map) {
    std::vector<const yentry*> out;
    std::unordered_map<std::string_view, const yentry*> first;
    for (const auto& e : map.entries) {
      if (!e.key.is_scalar()) {
        error(e.key, "a key must be a string, got " + describe(e.key));
        continue;
      }
      auto [it, inserted] = first.emplace(e.key.text, &e);
      if (!inserted) {
        error(e.key, "duplicate key '" + e.key.text + "' (first at " + line_of(it->second->key) + ")");
        continue;
      }
      out.push_back(&e);
    }
    return out;
  }

  void check_keys(const ynode& map, std::initializer_list<std::string_view> allowed) {
    check_keys(map, std::vector<std::string_view>(allowed));
  }

  void check_keys(const ynode& map, const std::vector<std::string_view>& allowed) {
    for (const yentry* e : unique_entries(map)) {
      if (std::find(allowed.begin(), allowed.end(), e->key.text) == allowed.end())
        unknown_key(map, e->key, allowed);
    }
  }

  void unknown_key(const ynode& map, const ynode& key, const std::vector<std::string_view>& allowed) {
    std::string message = "unknown key '" + key.text + "'";
    if (auto guess = closest(key.text, allowed)) {
      message += "; did you mean '" + std::string(*guess) + "'?";
      suggested_.emplace_back(&map, *guess);
    } else {
      message += " (known: " + join(allowed) + ")";
    }
    error(key, message);
  }

  // A subtree nothing reads yet (examples, settings of features a later version implements): its
  // maps must still be well-formed.
  void check_opaque(const ynode& n) {
    if (n.is_sequence()) {
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        auto s = enter(i);
        check_opaque(n.items[i]);
      }
    } else if (n.is_map()) {
      for (const yentry* e : unique_entries(n)) {
        auto s = enter(e->key.text);
        check_opaque(e->value);
      }
    }
  }

  static const ynode* find(const ynode& map, std::string_view key) {
    for (const auto& e : map.entries) {
      if (e.key.is_scalar() && e.key.text == key) return &e.value;
    }
    return nullptr;
  }

  // Runs `read(value)` inside the key's scope when the key is present.
  template <class F>
  void with(const ynode& map, std::string_view key, F&& read) {
    if (const ynode* value = find(map, key)) {
      auto s = enter(key);
      read(*value);
    }
  }

  template <class F>
  bool with_required(const ynode& map, std::string_view key, F&& read) {
    const ynode* value = find(map, key);
    if (value == nullptr) {
      // `retyr:` already drew "did you mean 'retry'?"; saying retry is missing too adds nothing.
      const bool suggested =
          std::find(suggested_.begin(), suggested_.end(), std::pair{&map, key}) != suggested_.end();
      if (!suggested) error(map, "missing required key '" + std::string(key) + "'");
      return false;
    }
    auto s = enter(key);
    read(*value);
    return true;
  }

  // --- scalars -----------------------------------------------------------------------------------

  std::optional<std::string> get_string(const ynode& n) {
    if (n.is_scalar()) return n.text;
    error(n, "expected a string, got " + describe(n));
    return std::nullopt;
  }

  std::optional<std::string> get_nonempty_string(const ynode& n) {
    auto s = get_string(n);
    if (s && trim(*s).empty()) {
      error(n, "expected a non-empty string");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::vector<std::string>> get_string_list(const ynode& n) {
    if (!expect_list(n, "strings")) return std::nullopt;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = enter(i);
      if (auto text = get_string(n.items[i])) out.push_back(std::move(*text));
    }
    return out;
  }

  std::optional<int> get_int(const ynode& n, long long min, long long max, std::string_view expected) {
    if (n.is_scalar()) {
      if (auto v = parse_integer(n.text); v && *v >= min && *v <= max) return static_cast<int>(*v);
    }
    error(n, "expected " + std::string(expected) + ", got " + describe(n));
    return std::nullopt;
  }

  std::optional<int> get_status(const ynode& n) { return get_int(n, 100, 599, "an HTTP status 100..599"); }

  std::optional<bool> get_bool(const ynode& n) {
    if (n.is_scalar()) {
      const auto& s = n.text;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    error(n, "expected true or false, got " + describe(n));
    return std::nullopt;
  }

  std::optional<duration> get_duration(const ynode& n, bool positive = false) {
    if (n.is_scalar()) {
      if (auto d = core::parse_duration(n.text)) {
        if (!positive || *d > duration::zero()) return d;
        error(n, "expected a duration > 0, got " + describe(n));
        return std::nullopt;
      }
    }
    error(n, "expected " + std::string(core::duration_syntax) + ", got " + describe(n));
    return std::nullopt;
  }

  std::optional<double> get_rate(const ynode& n) {
    if (n.is_scalar()) {
      if (auto r = core::parse_rate(n.text)) return r;
    }
    error(n, "expected " + std::string(core::rate_syntax) + ", got " + describe(n));
    return std::nullopt;
  }

  std::optional<double> get_ratio(const ynode& n) {
    if (n.is_scalar()) {
      if (auto r = core::parse_ratio(n.text)) return r;
    }
    error(n, "expected " + std::string(core::ratio_syntax) + ", got " + describe(n));
    return std::nullopt;
  }

  std::optional<std::string> get_choice(const ynode& n, std::initializer_list<std::string_view> choices,
                                        std::string_view what) {
    auto s = get_string(n);
    if (!s) return std::nullopt;
    if (std::find(choices.begin(), choices.end(), *s) != choices.end()) return s;
    error(n, unknown_name(what, *s, std::vector<std::string_view>(choices)));
    return std::nullopt;
  }

  std::optional<std::string> get_id(const ynode& n) {
    auto s = get_nonempty_string(n);
    if (!s) return std::nullopt;
    const bool ok = std::all_of(s->begin(), s->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '-';
    });
    if (ok) return s;
    error(n, "expected an id made of letters, digits, '_' and '-', got " + describe(n));
    return std::nullopt;
  }

  // Example bodies: maps become objects, sequences arrays, plain scalars typed as JSON would read them.
  boost::json::value to_json(const ynode& n) {
    switch (n.type) {
      case ynode::kind::null: return nullptr;
      case ynode::kind::scalar: return scalar_to_json(n);
      case ynode::kind::sequence: {
        boost::json::array out;
        for (std::size_t i = 0; i < n.items.size(); ++i) {
          auto s = enter(i);
          out.push_back(to_json(n.items[i]));
        }
        return out;
      }
      case ynode::kind::map: {
        boost::json::object out;
        for (const yentry* e : unique_entries(n)) {
          auto s = enter(e->key.text);
          out[e->key.text] = to_json(e->value);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  std::string file_;
  std::vector<std::string> path_;
  std::vector<diagnostic> diagnostics_;
  std::vector<std::pair<const ynode*, std::string_view>> suggested_;  // (map, key) offered as a correction
};

// Ids declared by a list (endpoints, failure modes) for references to check against. `complete` is
// false when some element's id could not be read: a reference to it would be a cascading error.
class id_set {
 public:
  // Records `id` declared at `at`; when it was declared before, returns where, and keeps the first.
  const ynode* add(const std::string& id, const ynode& at) {
    auto [it, inserted] = first_.emplace(id, &at);
    if (!inserted) return it->second;
    ids_.push_back(id);
    return nullptr;
  }
  bool contains(const std::string& id) const { return first_.contains(id); }
  const std::vector<std::string>& ids() const noexcept { return ids_; }

  bool complete = false;

 private:
  std::vector<std::string> ids_;  // declaration order, for messages
  std::unordered_map<std::string, const ynode*> first_;
};

// The phase's effective retry: maps merged key by key, anything else replaced by the overlay. Merged
// nodes keep their own marks, so errors in a phase's settings point at the settings.
ynode merge(const ynode& base, const ynode& overlay) {
  if (!base.is_map() || !overlay.is_map()) return overlay;
  ynode out = overlay;
  out.entries = base.entries;
  std::vector<bool> replaced(out.entries.size(), false);
  for (const auto& e : overlay.entries) {
    bool merged = false;
    for (std::size_t i = 0; i < base.entries.size() && e.key.is_scalar(); ++i) {
      if (replaced[i] || !out.entries[i].key.is_scalar() || out.entries[i].key.text != e.key.text) continue;
      out.entries[i] = {e.key, merge(out.entries[i].value, e.value)};
      replaced[i] = true;
      merged = true;
      break;
    }
    // A second occurrence of an overlay key stays a duplicate, to be reported as one.
    if (!merged) out.entries.push_back(e);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The schema.

struct fault_kind_keys {
  std::string_view kind;
  std::vector<std::string_view> keys;
};

const std::vector<fault_kind_keys>& fault_specific_keys() {
  static const std::vector<fault_kind_keys> keys{
      {"status", {"status", "retry_after"}},
      {"latency", {"latency"}},
      {"hang", {}},
      {"malformed", {"malformed"}},
  };
  return keys;
}

const std::vector<std::string_view> fault_common_keys{"fault", "probability", "during", "endpoint"};

class plan_reader {
 public:
  plan_reader(context& c, integration_plan& plan) : c_(c), plan_(plan) {}

  void read(const ynode& root) {
    bool version_ok = true;
    c_.with_required(root, "planproof", [&](const ynode& v) {
      auto version = c_.get_int(v, INT_MIN, INT_MAX, "an integer");
      if (version && *version != 1) {
        c_.error(v,
                 "unsupported plan format version " + std::to_string(*version) + " (this planproof reads 1)");
      }
      version_ok = version && *version == 1;
    });
    // Another version may mean another schema: anything more would be noise.
    if (!version_ok) return;

    c_.check_keys(root, {"planproof", "integration", "auth", "endpoints", "retry", "traffic", "failure_modes",
                         "phases"});
    c_.with_required(root, "integration", [&](const ynode& v) { read_integration(v); });
    c_.with_required(root, "auth", [&](const ynode& v) { read_auth(v); });
    c_.with_required(root, "endpoints", [&](const ynode& v) { read_endpoints(v); });
    c_.with_required(root, "retry", [&](const ynode& v) {
      const auto before = c_.error_count();
      plan_.retry = read_retry(v);
      if (c_.error_count() == before) retry_node_ = &v;
    });
    c_.with_required(root, "traffic", [&](const ynode& v) { read_traffic(v); });
    c_.with_required(root, "failure_modes", [&](const ynode& v) { read_failure_modes(v); });
    c_.with(root, "phases", [&](const ynode& v) { read_phases(v); });
  }

 private:
  void read_integration(const ynode& n) {
    auto& info = plan_.integration;
    info.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    c_.check_keys(n, {"name", "system", "base_url", "description", "assumptions"});
    c_.with_required(n, "name", [&](const ynode& v) { assign(info.name, c_.get_nonempty_string(v)); });
    c_.with(n, "system", [&](const ynode& v) { assign(info.system, c_.get_string(v)); });
    c_.with(n, "base_url", [&](const ynode& v) { assign(info.base_url, c_.get_string(v)); });
    c_.with(n, "description", [&](const ynode& v) { c_.get_string(v); });
    c_.with(n, "assumptions", [&](const ynode& v) { assign(info.assumptions, c_.get_string_list(v)); });
  }

  void read_auth(const ynode& n) {
    auto& auth = plan_.auth;
    auth.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    std::optional<auth_method> method;
    c_.with_required(n, "method", [&](const ynode& v) {
      auto name = c_.get_string(v);
      if (!name) return;
      method = parse_auth_method(*name);
      if (!method) {
        std::vector<std::string_view> known;
        for (auto m : {auth_method::none, auth_method::api_key, auth_method::bearer,
                       auth_method::oauth2_client_credentials, auth_method::hmac, auth_method::mtls,
                       auth_method::jwt}) {
          known.push_back(to_string(m));
        }
        c_.error(v, unknown_name("auth method", *name, known));
      }
    });
    if (!method) {
      c_.check_opaque(n);
      return;
    }
    auth.method = *method;
    switch (*method) {
      case auth_method::none: c_.check_keys(n, {"method"}); break;
      case auth_method::api_key:
        c_.check_keys(n, {"method", "header", "key"});
        auth.header = "X-API-Key";
        c_.with(n, "header", [&](const ynode& v) { assign(auth.header, c_.get_nonempty_string(v)); });
        c_.with_required(n, "key", [&](const ynode& v) { auth.secret = get_secret(v); });
        break;
      case auth_method::bearer:
        c_.check_keys(n, {"method", "token"});
        c_.with_required(n, "token", [&](const ynode& v) { auth.secret = get_secret(v); });
        break;
      default:
        // A later version implements these and validates their keys; the runner reports them skipped.
        c_.check_opaque(n);
        break;
    }
  }

  // Never quotes the value back: if it is not a reference, it may well be the secret itself.
  std::optional<core::secret_ref> get_secret(const ynode& n) {
    if (n.is_scalar()) {
      if (auto ref = core::parse_secret_ref(n.text)) return ref;
    }
    c_.error(n, "must be a secret reference (env:NAME or file:PATH); never write the secret in the plan");
    return std::nullopt;
  }

  void read_endpoints(const ynode& n) {
    if (!c_.expect_list(n, "endpoints")) return;
    if (n.items.empty()) {
      c_.error(n, "expected at least one endpoint");
      return;
    }
    bool complete = true;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = n.items[i];
      endpoint e;
      e.where = c_.where(item);
      if (!c_.expect_map(item)) {
        complete = false;
        continue;
      }
      c_.check_keys(
          item, {"id", "method", "path", "description", "request", "response", "statuses", "idempotency"});
      bool has_id = false;
      c_.with_required(item, "id", [&](const ynode& v) {
        auto id = c_.get_id(v);
        if (!id) return;
        has_id = true;
        e.id = *id;
        if (const ynode* first = endpoint_ids_.add(*id, v)) {
          c_.error(v, "duplicate endpoint id '" + *id + "' (first at " + c_.line_of(*first) + ")");
        }
      });
      complete = complete && has_id;
      c_.with(item, "method", [&](const ynode& v) {
        auto method = c_.get_string(v);
        if (!method) return;
        std::transform(method->begin(), method->end(), method->begin(), [](char ch) {
          return ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
        });
        static const std::vector<std::string_view> methods{"GET",    "POST", "PUT",    "PATCH",
                                                           "DELETE", "HEAD", "OPTIONS"};
        if (std::find(methods.begin(), methods.end(), *method) == methods.end()) {
          c_.error(v, "unknown HTTP method " + describe(v) + " (known: " + join(methods) + ")");
          return;
        }
        e.method = *method;
      });
      c_.with_required(item, "path", [&](const ynode& v) {
        auto path = c_.get_string(v);
        if (!path) return;
        if (!path->starts_with('/')) {
          c_.error(v, "expected a path starting with '/', got " + describe(v));
          return;
        }
        e.path = *path;
      });
      c_.with(item, "description", [&](const ynode& v) { c_.get_string(v); });
      c_.with(item, "request", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"example"});
        c_.with(v, "example", [&](const ynode& x) { e.request_example = c_.to_json(x); });
      });
      c_.with(item, "response", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"status", "example"});
        c_.with(v, "status", [&](const ynode& x) { assign(e.response_status, c_.get_status(x)); });
        c_.with(v, "example", [&](const ynode& x) { e.response_example = c_.to_json(x); });
      });
      c_.with(item, "statuses", [&](const ynode& v) { read_statuses(v, e.statuses); });
      if (e.statuses.success.empty()) e.statuses.success = {200, 201, 202, 204};
      c_.with(item, "idempotency", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"header"});
        c_.with_required(v, "header", [&](const ynode& x) {
          if (auto header = c_.get_nonempty_string(x)) e.idempotency_header = *header;
        });
      });
      plan_.endpoints.push_back(std::move(e));
    }
    endpoint_ids_.complete = complete;
  }

  void read_statuses(const ynode& n, status_classes& out) {
    if (!c_.expect_map(n)) return;
    c_.check_keys(n, {"success", "retryable", "fatal"});
    std::vector<std::pair<int, std::string>> seen;  // status and the list it was first in
    // In document order, so "also in" names the list written first.
    for (const auto& entry : n.entries) {
      // Skips keys that are not strings and second occurrences: both already reported.
      if (!entry.key.is_scalar() || &entry.value != c_.find(n, entry.key.text)) continue;
      std::vector<int>* list = entry.key.text == "success"     ? &out.success
                               : entry.key.text == "retryable" ? &out.retryable
                               : entry.key.text == "fatal"     ? &out.fatal
                                                               : nullptr;
      if (list == nullptr) continue;
      auto s = c_.enter(entry.key.text);
      if (!c_.expect_list(entry.value, "HTTP statuses")) continue;
      for (std::size_t i = 0; i < entry.value.items.size(); ++i) {
        auto si = c_.enter(i);
        const ynode& item = entry.value.items[i];
        auto status = c_.get_status(item);
        if (!status) continue;
        auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == *status; });
        if (it != seen.end() && it->second != entry.key.text) {
          c_.error(item, "status " + std::to_string(*status) + " is also in " + it->second);
          continue;
        }
        if (it == seen.end()) seen.emplace_back(*status, entry.key.text);
        list->push_back(*status);
      }
    }
  }

  retry_config read_retry(const ynode& n) {
    retry_config r;
    r.where = c_.where(n);
    r.retry_on = {429, 502, 503, 504, core::error_class::timeout, core::error_class::connection_error};
    if (!c_.expect_map(n)) return r;
    c_.check_keys(n, {"max_attempts", "backoff", "retry_on", "retry_after", "timeouts", "dead_letter"});
    c_.with_required(n, "max_attempts", [&](const ynode& v) {
      assign(r.max_attempts, c_.get_int(v, 1, INT_MAX, "an integer >= 1"));
    });
    c_.with(n, "backoff", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"strategy", "base", "max", "jitter"});
      c_.with(v, "strategy", [&](const ynode& x) {
        if (auto s = c_.get_choice(x, {"exponential", "constant"}, "backoff strategy")) {
          r.backoff.strategy = *s == "constant" ? backoff_strategy::constant : backoff_strategy::exponential;
        }
      });
      c_.with(v, "base", [&](const ynode& x) { assign(r.backoff.base, c_.get_duration(x)); });
      c_.with(v, "max", [&](const ynode& x) { assign(r.backoff.max, c_.get_duration(x)); });
      c_.with(v, "jitter", [&](const ynode& x) {
        if (auto s = c_.get_choice(x, {"none", "full"}, "jitter")) {
          r.backoff.jitter = *s == "none" ? jitter_kind::none : jitter_kind::full;
        }
      });
    });
    c_.with(n, "retry_on", [&](const ynode& v) {
      if (!c_.expect_list(v, "HTTP statuses and error classes")) return;
      r.retry_on.clear();
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        const ynode& item = v.items[i];
        if (item.is_scalar()) {
          if (auto status = parse_integer(item.text); status && *status >= 100 && *status <= 599) {
            r.retry_on.emplace_back(static_cast<int>(*status));
            continue;
          }
          if (auto e = core::parse_error_class(item.text)) {
            r.retry_on.emplace_back(*e);
            continue;
          }
        }
        c_.error(item,
                 "expected an HTTP status 100..599 or an error class (timeout, connection_error, "
                 "schema_error, protocol_error), got " +
                     describe(item));
      }
    });
    c_.with(n, "retry_after", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"honor", "cap"});
      c_.with(v, "honor", [&](const ynode& x) { assign(r.retry_after.honor, c_.get_bool(x)); });
      c_.with(v, "cap", [&](const ynode& x) { assign(r.retry_after.cap, c_.get_duration(x)); });
    });
    c_.with(n, "timeouts", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"connect", "read", "total"});
      c_.with(v, "connect", [&](const ynode& x) { assign(r.timeouts.connect, c_.get_duration(x, true)); });
      c_.with(v, "read", [&](const ynode& x) { assign(r.timeouts.read, c_.get_duration(x, true)); });
      c_.with(v, "total", [&](const ynode& x) { assign(r.timeouts.total, c_.get_duration(x, true)); });
    });
    c_.with(n, "dead_letter", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"path"});
      c_.with(v, "path", [&](const ynode& x) { assign(r.dead_letter_path, c_.get_nonempty_string(x)); });
    });
    return r;
  }

  void read_traffic(const ynode& n) {
    auto& t = plan_.traffic;
    t.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    c_.check_keys(n, {"endpoint", "rate", "concurrency", "duration"});
    c_.with_required(n, "endpoint", [&](const ynode& v) {
      if (auto id = c_.get_string(v); id && check_ref(v, *id, endpoint_ids_, "endpoint")) t.endpoint = *id;
    });
    c_.with_required(n, "rate", [&](const ynode& v) { assign(t.rate, c_.get_rate(v)); });
    c_.with(n, "concurrency",
            [&](const ynode& v) { assign(t.concurrency, c_.get_int(v, 1, INT_MAX, "an integer >= 1")); });
    c_.with_required(n, "duration", [&](const ynode& v) { assign(t.duration, c_.get_duration(v, true)); });
  }

  bool check_ref(const ynode& at, const std::string& id, const id_set& ids, std::string_view what) {
    if (!ids.complete || ids.contains(id)) return true;
    std::vector<std::string_view> known(ids.ids().begin(), ids.ids().end());
    c_.error(at, unknown_name(what, id, known));
    return false;
  }

  void read_failure_modes(const ynode& n) {
    if (!c_.expect_list(n, "failure modes")) return;
    if (n.items.empty()) {
      c_.error(n, "expected at least one failure mode");
      return;
    }
    bool complete = true;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = n.items[i];
      failure_mode f;
      f.where = c_.where(item);
      if (!c_.expect_map(item)) {
        complete = false;
        continue;
      }
      c_.check_keys(item, {"id", "description", "detection", "response", "recovery", "alerting",
                           "user_impact", "inject", "expect"});
      bool has_id = false;
      c_.with_required(item, "id", [&](const ynode& v) {
        auto id = c_.get_id(v);
        if (!id) return;
        has_id = true;
        f.id = *id;
        if (const ynode* first = failure_mode_ids_.add(*id, v)) {
          c_.error(v, "duplicate failure mode id '" + *id + "' (first at " + c_.line_of(*first) + ")");
        }
      });
      complete = complete && has_id;
      for (auto [key, field] :
           {std::pair{"description", &f.description}, std::pair{"detection", &f.detection},
            std::pair{"response", &f.response}, std::pair{"recovery", &f.recovery},
            std::pair{"alerting", &f.alerting}, std::pair{"user_impact", &f.user_impact}}) {
        c_.with(item, key, [&](const ynode& v) { assign(*field, c_.get_string(v)); });
      }
      c_.with_required(item, "inject", [&](const ynode& v) {
        if (v.is_map()) {
          f.inject.push_back(read_fault(v));
        } else if (v.is_sequence() && !v.items.empty()) {
          for (std::size_t j = 0; j < v.items.size(); ++j) {
            auto sj = c_.enter(j);
            if (c_.expect_map(v.items[j])) f.inject.push_back(read_fault(v.items[j]));
          }
        } else {
          c_.error(v, "expected a fault (a map) or a non-empty list of faults, got " +
                          (v.is_sequence() ? std::string("an empty list") : describe(v)));
        }
      });
      c_.with(item, "expect", [&](const ynode& v) { read_expectations(v, f.expect); });
      const bool has_lost = std::any_of(f.expect.begin(), f.expect.end(),
                                        [](const expectation& x) { return x.name == "lost"; });
      if (!has_lost) f.expect.push_back({"lost", comparison::eq, 0, false, "0", true, f.where});
      plan_.failure_modes.push_back(std::move(f));
    }
    failure_mode_ids_.complete = complete;
  }

  fault read_fault(const ynode& n) {
    fault f;
    f.where = c_.where(n);
    const catalog_entry* entry = nullptr;
    c_.with_required(n, "fault", [&](const ynode& v) {
      auto name = c_.get_string(v);
      if (!name) return;
      entry = find_fault(*name);
      if (entry == nullptr) {
        c_.error(v, unknown_name("fault", *name, catalog_names(fault_catalog())));
        return;
      }
      f.kind = *name;
    });

    // Which keys this fault takes. A fault known but not runnable yet takes anything (a later version
    // validates it); when the fault is unknown, accept any kind's keys rather than pile on errors.
    const std::vector<std::string_view>* specific = nullptr;
    for (const auto& k : fault_specific_keys()) {
      if (entry != nullptr && k.kind == entry->name) specific = &k.keys;
    }
    const bool open = entry != nullptr && (!entry->supported || specific == nullptr);
    std::vector<std::string_view> allowed = fault_common_keys;
    for (const auto& k : fault_specific_keys()) {
      if (entry == nullptr || &k.keys == specific)
        allowed.insert(allowed.end(), k.keys.begin(), k.keys.end());
    }
    for (const yentry* e : c_.unique_entries(n)) {
      const auto& key = e->key.text;
      if (open) {
        if (std::find(fault_common_keys.begin(), fault_common_keys.end(), key) == fault_common_keys.end()) {
          auto s = c_.enter(key);
          c_.check_opaque(e->value);
        }
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const bool other_kind = std::any_of(
          fault_specific_keys().begin(), fault_specific_keys().end(),
          [&](const auto& k) { return std::find(k.keys.begin(), k.keys.end(), key) != k.keys.end(); });
      if (other_kind)
        c_.error(e->key, key + " does not apply to fault '" + f.kind + "'");
      else
        c_.unknown_key(n, e->key, allowed);
    }

    c_.with(n, "probability", [&](const ynode& v) { assign(f.probability, c_.get_ratio(v)); });
    c_.with(n, "during", [&](const ynode& v) {
      if (!v.is_sequence() || v.items.size() != 2) {
        c_.error(v, "expected [FROM, TO], two durations such as [10s, 40s], got " + describe(v));
        return;
      }
      std::optional<duration> from, to;
      {
        auto s = c_.enter(std::size_t{0});
        from = c_.get_duration(v.items[0]);
      }
      {
        auto s = c_.enter(std::size_t{1});
        to = c_.get_duration(v.items[1]);
      }
      if (!from || !to) return;
      if (*from >= *to) {
        c_.error(
            v, "the window must end after it starts, got [" + v.items[0].text + ", " + v.items[1].text + "]");
        return;
      }
      f.from = *from;
      f.to = *to;
    });
    c_.with(n, "endpoint", [&](const ynode& v) {
      if (auto id = c_.get_string(v); id && check_ref(v, *id, endpoint_ids_, "endpoint")) f.endpoint = *id;
    });

    if (entry == nullptr || !entry->supported) return f;
    if (f.kind == "status") {
      c_.with_required(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
      c_.with(n, "retry_after", [&](const ynode& v) {
        if (auto d = c_.get_duration(v)) f.retry_after = *d;
      });
    } else if (f.kind == "latency") {
      c_.with_required(n, "latency", [&](const ynode& v) { assign(f.latency, c_.get_duration(v)); });
    } else if (f.kind == "malformed") {
      c_.with(n, "malformed",
              [&](const ynode& v) { assign(f.malformed, c_.get_choice(v, {"truncated"}, "malformation")); });
    }
    return f;
  }

  void read_expectations(const ynode& n, std::vector<expectation>& out) {
    if (!c_.expect_map(n)) return;
    const auto known = catalog_names(expectation_catalog());
    for (const yentry* e : c_.unique_entries(n)) {
      const catalog_entry* entry = find_expectation(e->key.text);
      if (entry == nullptr) {
        c_.error(e->key, unknown_name("expectation", e->key.text, known));
        continue;
      }
      auto s = c_.enter(e->key.text);
      expectation x;
      x.name = e->key.text;
      x.where = c_.where(e->key);
      const ynode& v = e->value;
      if (!entry->supported) {
        // Kept as written for the report, which lists it as skipped.
        x.text = v.is_scalar() ? v.text : emit(v);
        c_.check_opaque(v);
        out.push_back(std::move(x));
        continue;
      }
      if (read_expectation(v, x)) out.push_back(std::move(x));
    }
  }

  bool read_expectation(const ynode& v, expectation& x) {
    if (x.name == "honors_retry_after") {
      auto b = c_.get_bool(v);
      if (!b) return false;
      x.op = comparison::eq;
      x.boolean = *b;
      x.value = *b ? 1 : 0;
      x.text = v.text;
      return true;
    }
    const bool is_ratio = x.name == "success_rate";
    const char* expected = is_ratio ? "a ratio or a comparison such as '>= 0.99' or '>= 99%'"
                                    : "a count or a comparison such as '<= 4'";
    auto fail = [&] {
      c_.error(v, "expected " + std::string(expected) + ", got " + describe(v));
      return false;
    };
    if (!v.is_scalar()) return fail();
    std::string_view rest = trim(v.text);
    std::optional<comparison> op;
    for (auto [symbol, c] :
         {std::pair{">=", comparison::ge}, std::pair{"<=", comparison::le}, std::pair{"==", comparison::eq},
          std::pair{"!=", comparison::ne}, std::pair{">", comparison::gt}, std::pair{"<", comparison::lt}}) {
      if (rest.starts_with(symbol)) {
        op = c;
        rest = trim(rest.substr(std::string_view(symbol).size()));
        break;
      }
    }
    if (is_ratio) {
      auto ratio = core::parse_ratio(rest);
      if (!ratio) return fail();
      x.value = *ratio;
    } else {
      auto count = parse_integer(rest);
      if (!count || *count < 0) return fail();
      x.value = static_cast<double>(*count);
    }
    // A bare value reads as the natural bound: at least this success rate, at most this many attempts.
    x.op = op.value_or(is_ratio                   ? comparison::ge
                       : x.name == "max_attempts" ? comparison::le
                                                  : comparison::eq);
    x.text = v.text;
    return true;
  }

  void read_phases(const ynode& n) {
    if (!c_.expect_list(n, "phases")) return;
    id_set names;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = n.items[i];
      phase p;
      p.where = c_.where(item);
      if (!c_.expect_map(item)) continue;
      c_.check_keys(item, {"name", "description", "deliverables", "dependencies", "risks", "success_criteria",
                           "triggers", "complexity", "failure_modes", "settings"});
      c_.with_required(item, "name", [&](const ynode& v) {
        auto name = c_.get_nonempty_string(v);
        if (!name) return;
        p.name = *name;
        if (const ynode* first = names.add(*name, v)) {
          c_.error(v, "duplicate phase name '" + *name + "' (first at " + c_.line_of(*first) + ")");
        }
      });
      c_.with(item, "description", [&](const ynode& v) { c_.get_string(v); });
      for (auto [key, field] :
           {std::pair{"deliverables", &p.deliverables}, std::pair{"dependencies", &p.dependencies},
            std::pair{"risks", &p.risks}, std::pair{"success_criteria", &p.success_criteria},
            std::pair{"triggers", &p.triggers}}) {
        c_.with(item, key, [&](const ynode& v) { assign(*field, c_.get_string_list(v)); });
      }
      c_.with(item, "complexity", [&](const ynode& v) {
        assign(p.complexity, c_.get_choice(v, {"low", "medium", "high"}, "complexity"));
      });
      c_.with(item, "failure_modes", [&](const ynode& v) {
        if (!c_.expect_list(v, "failure mode ids")) return;
        for (std::size_t j = 0; j < v.items.size(); ++j) {
          auto sj = c_.enter(j);
          auto id = c_.get_string(v.items[j]);
          if (id && check_ref(v.items[j], *id, failure_mode_ids_, "failure mode"))
            p.failure_modes.push_back(*id);
        }
      });
      c_.with(item, "settings", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"retry"});
        c_.with(v, "retry", [&](const ynode& overlay) {
          if (!c_.expect_map(overlay)) return;
          // With the plan's own retry broken, a merge would only repeat its errors.
          if (retry_node_ == nullptr) return;
          p.retry_settings = read_retry(merged_.emplace_back(merge(*retry_node_, overlay)));
        });
      });
      plan_.phases.push_back(std::move(p));
    }
  }

  template <class T, class U>
  static void assign(T& out, std::optional<U>&& value) {
    if (value) out = std::move(*value);
  }

  context& c_;
  integration_plan& plan_;
  id_set endpoint_ids_;
  id_set failure_mode_ids_;
  const ynode* retry_node_ = nullptr;  // the plan's retry, when it decoded cleanly
  std::deque<ynode> merged_;           // phase retries: the context keeps pointers to their maps
};

// ---------------------------------------------------------------------------------------------------
// --set

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    out.emplace_back(
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

ynode parse_override_value(const std::string& text) {
  try {
    auto docs = YAML::LoadAll(text);
    if (docs.empty()) return fresh_node(ynode::kind::null);
    if (docs.size() == 1) return tree_converter(true).convert(docs.front());
  } catch (const YAML::Exception&) {
  } catch (const tree_too_large&) {
  }
  // Not one YAML value: `>= 0.5` reads as a broken block scalar, yet it is exactly what the user meant.
  ynode n = fresh_node(ynode::kind::scalar);
  n.text = text;
  n.quoted = true;
  return n;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Returns why the override cannot be applied; empty when it was.
std::string apply_override(ynode& root, const override_value& o) {
  const auto segments = split_path(o.key_path);
  if (std::any_of(segments.begin(), segments.end(), [](const auto& s) { return s.empty(); })) {
    return "the key path has an empty segment";
  }
  ynode* current = &root;
  std::string walked;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& segment = segments[i];
    const bool last = i + 1 == segments.size();
    // A key written with no value (`settings:`) is a place to put keys in.
    if (current->is_null()) *current = fresh_node(ynode::kind::map);
    ynode* next = nullptr;
    if (current->is_map()) {
      for (auto& e : current->entries) {
        if (e.key.is_scalar() && e.key.text == segment) {
          next = &e.value;
          break;
        }
      }
      if (next == nullptr) {
        ynode key = fresh_node(ynode::kind::scalar);
        key.text = segment;
        current->entries.push_back({std::move(key), fresh_node(last ? ynode::kind::null : ynode::kind::map)});
        next = &current->entries.back().value;
      }
    } else if (current->is_sequence()) {
      if (all_digits(segment)) {
        const auto index = std::strtoull(segment.c_str(), nullptr, 10);
        if (segment.size() > 9 || index >= current->items.size()) {
          return walked + " has no element " + segment + " (it has " + std::to_string(current->items.size()) +
                 ")";
        }
        next = &current->items[index];
      } else {
        for (auto& item : current->items) {
          if (!item.is_map()) continue;
          const ynode* id = context::find(item, "id");
          const ynode* name = context::find(item, "name");
          if ((id != nullptr && id->is_scalar() && id->text == segment) ||
              (name != nullptr && name->is_scalar() && name->text == segment)) {
            next = &item;
            break;
          }
        }
        if (next == nullptr) return walked + " has no element with id or name '" + segment + "'";
      }
    } else {
      return walked + " is a single value, not a map or a list";
    }
    walked += (walked.empty() ? "" : ".") + segment;
    if (last) *next = parse_override_value(o.value);
    current = next;
  }
  return {};
}

// ---------------------------------------------------------------------------------------------------

std::vector<diagnostic> sorted_unique(std::vector<diagnostic> ds) {
  // File order, as a compiler prints; values from --set have no place in the file and go last.
  std::stable_sort(ds.begin(), ds.end(), [](const diagnostic& a, const diagnostic& b) {
    const bool a_set = a.where.file == "--set" && a.where.line == 0;
    const bool b_set = b.where.file == "--set" && b.where.line == 0;
    return std::tie(a_set, a.where.line, a.where.column) < std::tie(b_set, b.where.line, b.where.column);
  });
  std::vector<diagnostic> out;
  std::set<std::tuple<std::string, int, int, std::string>> seen;
  for (auto& d : ds) {
    if (seen.emplace(d.where.file, d.where.line, d.where.column, d.message).second)
      out.push_back(std::move(d));
  }
  return out;
}

diagnostic at_mark(const std::string& file, const YAML::Mark& mark, std::string message) {
  diagnostic d{{file, 0, 0}, severity::error, std::move(message), {}};
  if (!mark.is_null()) {
    d.where.line = mark.line + 1;
    d.where.column = mark.column + 1;
  }
  return d;
}

integration_plan load(std::string_view text, std::string file, const load_options& options) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    throw diagnostic_error(at_mark(file, e.mark, "invalid YAML: " + e.msg));
  }
  if (docs.empty() || (docs.size() == 1 && docs.front().IsNull())) {
    throw diagnostic_error(diagnostic{{file, 0, 0}, severity::error, "the plan is empty", {}});
  }
  if (docs.size() > 1) {
    throw diagnostic_error(at_mark(
        file, docs[1].Mark(), "a plan is one YAML document; this file has " + std::to_string(docs.size())));
  }
  ynode root;
  try {
    root = tree_converter(false).convert(docs.front());
  } catch (const tree_too_large& e) {
    throw diagnostic_error(at_mark(file, e.mark, e.message));
  }

  context c(file);
  if (!root.is_map()) {
    c.error(root,
            "a plan is a map with keys such as planproof, integration and endpoints, got " + describe(root));
    throw diagnostic_error(c.diagnostics());
  }
  for (const auto& o : options.overrides) {
    if (auto why = apply_override(root, o); !why.empty()) {
      c.error(core::source_location{"--set", 0, 0}, "cannot apply '" + o.key_path + "': " + why);
    }
  }

  integration_plan plan;
  plan.file = file;
  plan_reader(c, plan).read(root);
  if (c.error_count() > 0) throw diagnostic_error(sorted_unique(std::move(c.diagnostics())));
  return plan;
}

}  // namespace

std::optional<override_value> parse_override(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  const auto key = trim(text.substr(0, eq));
  if (key.empty()) return std::nullopt;
  return override_value{std::string(key), std::string(text.substr(eq + 1))};
}

integration_plan load_string(std::string_view text, std::string file_name, const load_options& options) {
  try {
    return load(text, file_name, options);
  } catch (const diagnostic_error&) {
    throw;
  } catch (const std::exception& e) {
    // A bug of ours, not a problem with the plan; still an answer rather than a crash.
    throw diagnostic_error(diagnostic{
        {file_name, 0, 0}, severity::error, std::string("internal error while loading: ") + e.what(), {}});
  }
}

integration_plan load_file(const std::filesystem::path& path, const load_options& options) {
  const std::string file = path.string();
  auto cannot_read = [&](const std::string& why) {
    return diagnostic_error(diagnostic{{file, 0, 0}, severity::error, "cannot read the plan: " + why, {}});
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw cannot_read("it is a directory");
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw cannot_read(errno != 0 ? std::strerror(errno) : "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw cannot_read("read failed");
  return load_string(text.str(), file, options);
}

}  // namespace planproof::plan
