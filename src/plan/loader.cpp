#include "plan/loader.hpp"

#include <algorithm>
#include <array>
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
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "core/limits.hpp"
#include "plan/catalog.hpp"
#include "plan/traffic_profile.hpp"

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
// refer to itself; a real plan is far inside core::limits' plan_depth and plan_nodes. A plan
// describes an integration: a file larger than plan_size is refused before it is parsed. Workers of
// one traffic (each client's requests in flight) are capped by `concurrency`: beyond it, memory,
// ports and descriptors run out before the upstream is tested.
constexpr int max_collection = 1'000'000;  // records a paginated endpoint's mock collection may hold

struct tree_too_large {
  std::string message;
  YAML::Mark mark;
};

class tree_converter {
 public:
  tree_converter(bool from_set, const core::limits& limits) : from_set_(from_set), limits_(limits) {}

  ynode convert(const YAML::Node& in, std::uint64_t depth = 0) {
    if (depth > limits_.plan_depth) {
      throw tree_too_large{"the plan is nested more than " + std::to_string(limits_.plan_depth) +
                               " levels deep (" + core::limit_hint("plan_depth") + ")",
                           in.Mark()};
    }
    if (++count_ > limits_.plan_nodes) {
      throw tree_too_large{"the plan has more than " + std::to_string(limits_.plan_nodes) +
                               " nodes, aliases expanded (" + core::limit_hint("plan_nodes") + ")",
                           in.Mark()};
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
  const core::limits& limits_;
  std::uint64_t count_ = 0;
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

// An HTTP header name: an RFC 9110 token.
bool is_token(std::string_view s) {
  static constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

// `data.items`, `event.id`: names separated by '.', none empty, no blanks.
bool is_field_path(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos)
    return false;
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

// Patterns and regexes are compiled when the plan loads; these bounds keep a hostile one cheap.
constexpr std::size_t max_regex_length = 1000;

bool compiles_as_regex(const std::string& pattern) {
  if (pattern.size() > max_regex_length) return false;
  try {
    std::regex compiled(pattern, std::regex::ECMAScript);
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
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
  context(std::string file, const core::limits& limits) : limits(limits), file_(std::move(file)) {}

  const core::limits& limits;  // `--limit`: the caps a plan's values are held to

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
  // With `report` false the caller has already reported duplicate and odd keys; the first one wins.
  boost::json::value to_json(const ynode& n, bool report = true) {
    switch (n.type) {
      case ynode::kind::null: return nullptr;
      case ynode::kind::scalar: return scalar_to_json(n);
      case ynode::kind::sequence: {
        boost::json::array out;
        for (std::size_t i = 0; i < n.items.size(); ++i) {
          auto s = enter(i);
          out.push_back(to_json(n.items[i], report));
        }
        return out;
      }
      case ynode::kind::map: {
        boost::json::object out;
        if (!report) {
          for (const auto& e : n.entries) {
            if (e.key.is_scalar() && !out.contains(e.key.text)) out[e.key.text] = to_json(e.value, false);
          }
          return out;
        }
        for (const yentry* e : unique_entries(n)) {
          auto s = enter(e->key.text);
          out[e->key.text] = to_json(e->value);
        }
        return out;
      }
    }
    return nullptr;
  }

  // A key's own node, for errors about the key rather than its value.
  static const ynode* find_key(const ynode& map, std::string_view key) {
    for (const auto& e : map.entries) {
      if (e.key.is_scalar() && e.key.text == key) return &e.key;
    }
    return nullptr;
  }

  // Reports `message` at `key` of `map` when the key is there; returns whether it was.
  bool error_at_key(const ynode& map, std::string_view key, const std::string& message) {
    const ynode* k = find_key(map, key);
    if (k != nullptr) error(*k, message);
    return k != nullptr;
  }

  std::optional<double> get_number(const ynode& n) {
    if (n.is_scalar()) {
      if (auto d = core::parse_number(n.text)) return d;
    }
    error(n, "expected a number, got " + describe(n));
    return std::nullopt;
  }

  // One of an enum's values, by the name to_string gives it.
  template <class E, std::size_t N>
  std::optional<E> get_enum(const ynode& n, const std::array<E, N>& values, std::string_view what) {
    auto s = get_string(n);
    if (!s) return std::nullopt;
    std::vector<std::string_view> names;
    for (E v : values) {
      if (to_string(v) == *s) return v;
      names.push_back(to_string(v));
    }
    error(n, unknown_name(what, *s, names));
    return std::nullopt;
  }

  std::optional<std::string> get_header_name(const ynode& n) {
    auto s = get_nonempty_string(n);
    if (!s) return std::nullopt;
    if (is_token(*s)) return s;
    error(n, "expected a header name (letters, digits and !#$%&'*+-.^_`|~), got " + describe(n));
    return std::nullopt;
  }

  std::optional<std::string> get_field_path(const ynode& n) {
    auto s = get_string(n);
    if (!s) return std::nullopt;
    if (is_field_path(*s)) return s;
    error(n, "expected a field path such as data.items (names separated by '.'), got " + describe(n));
    return std::nullopt;
  }

  std::optional<std::string> get_regex(const ynode& n) {
    auto s = get_string(n);
    if (!s) return std::nullopt;
    if (s->size() > max_regex_length) {
      error(n,
            "expected a regular expression of at most " + std::to_string(max_regex_length) + " characters");
      return std::nullopt;
    }
    if (compiles_as_regex(*s)) return s;
    error(n, describe(n) + " is not a valid ECMAScript regular expression");
    return std::nullopt;
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

// Which way of opening a circuit breaker a key of `circuit_breaker` belongs to; none for the keys
// every mode shares (open_for, half_open_calls, half_open_max_wait).
std::optional<breaker_mode> breaker_mode_of(std::string_view key) {
  for (std::string_view k : {"window", "size", "failure_rate", "slow_call", "min_calls"}) {
    if (key == k) return breaker_mode::failure_rate;
  }
  if (key == "consecutive_failures") return breaker_mode::consecutive_failures;
  if (key == "failures_per_interval") return breaker_mode::failures_per_interval;
  return std::nullopt;
}

// A phase whose circuit_breaker names one way of opening the breaker (`consecutive_failures: 3`)
// switches to it: the plan's keys of the other ways are left out of the merge, where they would
// only make a breaker that opens two ways at once.
ynode with_phase_breaker_mode(const ynode& base, const ynode& overlay) {
  auto breaker = [](const ynode& retry) -> const ynode* {
    if (!retry.is_map()) return nullptr;
    for (const auto& e : retry.entries) {
      if (e.key.is_scalar() && e.key.text == "circuit_breaker" && e.value.is_map()) return &e.value;
    }
    return nullptr;
  };
  const ynode* phase = breaker(overlay);
  if (phase == nullptr || breaker(base) == nullptr) return base;
  // The ways the phase names (two at once is an error the merged map reports, about the phase's keys).
  unsigned named = 0;
  auto bit = [](breaker_mode m) { return 1u << static_cast<unsigned>(m); };
  for (const auto& e : phase->entries) {
    if (const auto mode = e.key.is_scalar() ? breaker_mode_of(e.key.text) : std::nullopt) named |= bit(*mode);
  }
  if (named == 0) return base;
  ynode out = base;
  for (auto& e : out.entries) {
    if (!e.key.is_scalar() || e.key.text != "circuit_breaker" || !e.value.is_map()) continue;
    auto& entries = e.value.entries;
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const yentry& x) {
                                   const auto mode = x.key.is_scalar() ? breaker_mode_of(x.key.text) : std::nullopt;
                                   return mode && (named & bit(*mode)) == 0;
                                 }),
                  entries.end());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The schema.

struct fault_kind_keys {
  std::string_view kind;
  std::vector<std::string_view> keys;
};

// The keys each fault kind the plan format types takes, beyond the common ones. A catalog kind not
// listed here keeps whatever the plan writes in fault::params (a later version types it).
const std::vector<fault_kind_keys>& fault_specific_keys() {
  static const std::vector<fault_kind_keys> keys{
      {"status", {"status", "retry_after", "retry_after_format"}},
      {"latency", {"latency"}},
      {"hang", {}},
      {"reset", {}},
      {"empty_reply", {}},
      {"close", {"after_bytes"}},
      {"slow_body", {"chunks", "over"}},
      {"malformed", {"malformed"}},
      {"schema_drift", {"drop", "rename", "retype", "add"}},
      {"rate_limit", {"limit", "burst", "key", "status"}},
      {"outage", {"mode", "status", "retry_after", "retry_after_format", "up", "down"}},
      {"auth_expiry", {"expire_after"}},
      {"token_endpoint_down", {"status", "retry_after", "delay"}},
      {"pagination", {"breakage", "status", "error_code"}},
      {"tls", {"tls"}},
  };
  return keys;
}

constexpr std::array all_traffic_profiles{traffic_profile::constant, traffic_profile::ramp,
                                          traffic_profile::burst, traffic_profile::closed_loop};

// The traffic keys only one profile takes.
constexpr std::array<std::pair<std::string_view, traffic_profile>, 3> traffic_profile_keys{{
    {"from", traffic_profile::ramp},
    {"burst", traffic_profile::burst},
    {"think_time", traffic_profile::closed_loop},
}};

// A failure mode's traffic that names a profile (`profile: burst`) leaves the plan's keys of other
// profiles out of the merge, where they would only be errors about the plan-wide section; a
// closed loop also drops the plan's rate, which it would ignore.
ynode with_mode_traffic_profile(const ynode& base, const ynode& overlay) {
  const ynode* named = overlay.is_map() ? context::find(overlay, "profile") : nullptr;
  if (named == nullptr || !named->is_scalar() || !base.is_map()) return base;
  const std::string_view profile = named->text;
  ynode out = base;
  std::erase_if(out.entries, [&](const yentry& e) {
    if (!e.key.is_scalar()) return false;
    if (e.key.text == "rate") return profile == to_string(traffic_profile::closed_loop);
    return std::any_of(traffic_profile_keys.begin(), traffic_profile_keys.end(),
                       [&](const auto& k) { return k.first == e.key.text && to_string(k.second) != profile; });
  });
  return out;
}

const std::vector<std::string_view> fault_common_keys{"fault", "probability", "during", "first",
                                                      "every", "after", "endpoint"};

constexpr std::array all_auth_methods{
    auth_method::none, auth_method::api_key, auth_method::bearer, auth_method::oauth2_client_credentials,
    auth_method::hmac, auth_method::mtls,    auth_method::jwt};

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

    c_.check_keys(root, {"planproof", "integration", "assumptions", "verification", "auth", "endpoints",
                         "mapping", "retry", "traffic", "failure_modes", "phases", "sim"});
    c_.with_required(root, "integration", [&](const ynode& v) { read_integration(v); });
    c_.with(root, "assumptions", [&](const ynode& v) { assign(plan_.assumptions, c_.get_string_list(v)); });
    c_.with(root, "verification", [&](const ynode& v) { assign(plan_.verification, c_.get_string_list(v)); });
    c_.with_required(root, "auth", [&](const ynode& v) { read_auth(v); });
    c_.with_required(root, "endpoints", [&](const ynode& v) { read_endpoints(v); });
    c_.with(root, "mapping", [&](const ynode& v) { read_mappings(v); });
    c_.with_required(root, "retry", [&](const ynode& v) {
      const auto before = c_.error_count();
      plan_.retry = read_retry(v);
      if (c_.error_count() == before) retry_node_ = &v;
    });
    c_.with_required(root, "traffic", [&](const ynode& v) {
      const auto before = c_.error_count();
      read_traffic(v, plan_.traffic);
      if (c_.error_count() == before) traffic_node_ = &v;
    });
    c_.with_required(root, "failure_modes", [&](const ynode& v) { read_failure_modes(v); });
    c_.with(root, "phases", [&](const ynode& v) { read_phases(v); });
    c_.with(root, "sim", [&](const ynode& v) { read_sim(v); });
  }

 private:
  void read_sim(const ynode& n) {
    if (!c_.expect_map(n)) return;
    auto& sim = plan_.sim;
    c_.check_keys(n, {"network_delay", "capacity", "contention"});
    c_.with(n, "network_delay", [&](const ynode& v) { assign(sim.network_delay, c_.get_duration(v)); });
    c_.with(n, "capacity", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"workers", "queue", "service_time", "shed_status"});
      sim_capacity cap;
      c_.with(v, "workers", [&](const ynode& x) { assign(cap.workers, c_.get_int(x, 1, 1'000'000, "a whole number >= 1")); });
      c_.with(v, "queue", [&](const ynode& x) { assign(cap.queue, c_.get_int(x, 0, 100'000'000, "a whole number >= 0")); });
      c_.with(v, "service_time", [&](const ynode& x) { assign(cap.service_time, c_.get_duration(x, true)); });
      c_.with(v, "shed_status", [&](const ynode& x) { assign(cap.shed_status, c_.get_status(x)); });
      sim.capacity = cap;
    });
    c_.with(n, "contention", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"status"});
      sim_contention con;
      c_.with(v, "status", [&](const ynode& x) { assign(con.status, c_.get_status(x)); });
      sim.contention = con;
    });
  }

  void read_integration(const ynode& n) {
    auto& info = plan_.integration;
    info.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    c_.check_keys(n, {"name", "system", "base_url", "description", "assumptions"});
    c_.with_required(n, "name", [&](const ynode& v) { assign(info.name, c_.get_nonempty_string(v)); });
    c_.with(n, "system", [&](const ynode& v) { assign(info.system, c_.get_string(v)); });
    c_.with(n, "base_url", [&](const ynode& v) { assign(info.base_url, c_.get_string(v)); });
    c_.with(n, "description", [&](const ynode& v) { assign(info.description, c_.get_string(v)); });
    c_.error_at_key(n, "assumptions", "assumptions moved to the top level");
  }

  void read_auth(const ynode& n) {
    auto& auth = plan_.auth;
    auth.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    std::optional<auth_method> method;
    c_.with_required(n, "method",
                     [&](const ynode& v) { method = c_.get_enum(v, all_auth_methods, "auth method"); });
    if (!method) {
      c_.check_opaque(n);
      return;
    }
    auth.method = *method;
    std::vector<std::string_view> keys{"method"};
    switch (*method) {
      // No credential, but a reviewer still wants to read why none is needed.
      case auth_method::none: keys.push_back("security_notes"); break;
      case auth_method::api_key: keys.insert(keys.end(), {"in", "header", "param", "key"}); break;
      case auth_method::bearer: keys.insert(keys.end(), {"token"}); break;
      case auth_method::oauth2_client_credentials:
        keys.insert(keys.end(), {"token_url", "client_id", "client_secret", "scopes", "audience",
                                 "refresh_before_expiry", "token_lifetime"});
        break;
      case auth_method::hmac:
        keys.insert(keys.end(),
                    {"algorithm", "secret", "header", "signed_components", "timestamp_header", "tolerance"});
        break;
      case auth_method::mtls: keys.insert(keys.end(), {"client_cert", "client_key", "ca"}); break;
      case auth_method::jwt:
        keys.insert(keys.end(), {"signing_key", "algorithm", "claims", "lifetime", "header"});
        break;
    }
    if (*method != auth_method::none)
      keys.insert(keys.end(), {"rotation", "required_scopes", "security_notes"});
    c_.check_keys(n, keys);
    c_.with(n, "rotation", [&](const ynode& v) {
      if (auto d = c_.get_duration(v, true)) auth.rotation = *d;
    });
    c_.with(n, "required_scopes",
            [&](const ynode& v) { assign(auth.required_scopes, c_.get_string_list(v)); });
    c_.with(n, "security_notes", [&](const ynode& v) { assign(auth.security_notes, c_.get_string_list(v)); });
    switch (*method) {
      // No credential, but a reviewer still wants to read why none is needed.
      case auth_method::none: keys.push_back("security_notes"); break;
      case auth_method::api_key: read_api_key(n); break;
      case auth_method::bearer:
        c_.with_required(n, "token", [&](const ynode& v) { auth.secret = get_secret(v); });
        break;
      case auth_method::oauth2_client_credentials: read_oauth2(n); break;
      case auth_method::hmac: read_hmac(n); break;
      case auth_method::mtls: read_mtls(n); break;
      case auth_method::jwt: read_jwt(n); break;
    }
  }

  void read_api_key(const ynode& n) {
    auto& auth = plan_.auth;
    bool in_known = true;
    c_.with(n, "in", [&](const ynode& v) {
      auto in =
          c_.get_enum(v, std::array{api_key_location::header, api_key_location::query}, "api key location");
      in_known = in.has_value();
      if (in) auth.key_in = *in;
    });
    if (auth.key_in == api_key_location::header) {
      auth.header = "X-API-Key";
      c_.with(n, "header", [&](const ynode& v) { assign(auth.header, c_.get_header_name(v)); });
      if (in_known) c_.error_at_key(n, "param", "param applies only with in: query");
    } else {
      c_.error_at_key(n, "header", "header applies only with in: header");
      if (!c_.find(n, "param")) c_.error(n, "missing required key 'param' (required with in: query)");
      c_.with(n, "param", [&](const ynode& v) { assign(auth.query_param, c_.get_nonempty_string(v)); });
    }
    c_.with_required(n, "key", [&](const ynode& v) { auth.secret = get_secret(v); });
  }

  void read_oauth2(const ynode& n) {
    auto& auth = plan_.auth;
    auto& o = auth.oauth2.emplace();
    o.where = auth.where;
    c_.with_required(n, "token_url", [&](const ynode& v) {
      auto url = c_.get_nonempty_string(v);
      if (!url) return;
      if (!url->starts_with('/') && !url->starts_with("https://") && !url->starts_with("http://")) {
        c_.error(v, "expected a path starting with '/' or an http(s) URL, got " + describe(v));
        return;
      }
      o.token_url = *url;
    });
    c_.with(n, "client_id", [&](const ynode& v) { assign(o.client_id, get_text_or_secret(v)); });
    c_.with_required(n, "client_secret", [&](const ynode& v) { auth.secret = get_secret(v); });
    c_.with(n, "scopes", [&](const ynode& v) { assign(o.scopes, c_.get_string_list(v)); });
    c_.with(n, "audience", [&](const ynode& v) { assign(o.audience, c_.get_nonempty_string(v)); });
    bool refresh_ok = true;
    bool lifetime_ok = true;
    c_.with(n, "refresh_before_expiry", [&](const ynode& v) {
      auto d = c_.get_duration(v);
      refresh_ok = d.has_value();
      assign(o.refresh_before_expiry, std::move(d));
    });
    c_.with(n, "token_lifetime", [&](const ynode& v) {
      auto d = c_.get_duration(v, true);
      lifetime_ok = d.has_value();
      assign(o.token_lifetime, std::move(d));
    });
    if (refresh_ok && lifetime_ok && o.refresh_before_expiry >= o.token_lifetime) {
      const ynode* at = c_.find(n, "refresh_before_expiry");
      if (at == nullptr) at = c_.find(n, "token_lifetime");
      if (at == nullptr) at = &n;
      c_.error(*at, "refresh_before_expiry (" + core::format_duration(o.refresh_before_expiry) +
                        ") must be shorter than token_lifetime (" + core::format_duration(o.token_lifetime) +
                        ")");
    }
  }

  void read_hmac(const ynode& n) {
    auto& auth = plan_.auth;
    auto& h = auth.hmac.emplace();
    h.where = auth.where;
    c_.with(n, "algorithm", [&](const ynode& v) {
      assign(h.algorithm,
             c_.get_enum(v, std::array{hmac_algorithm::sha256, hmac_algorithm::sha512}, "algorithm"));
    });
    c_.with_required(n, "secret", [&](const ynode& v) { auth.secret = get_secret(v); });
    auth.header = "Signature";
    c_.with(n, "header", [&](const ynode& v) { assign(auth.header, c_.get_header_name(v)); });
    c_.with(n, "signed_components", [&](const ynode& v) {
      if (!c_.expect_list(v, "signed components")) return;
      if (v.items.empty()) {
        c_.error(v, "expected at least one signed component");
        return;
      }
      std::vector<signed_component> components;
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        auto c = c_.get_enum(
            v.items[i],
            std::array{signed_component::method, signed_component::path, signed_component::query,
                       signed_component::timestamp, signed_component::body, signed_component::host},
            "signed component");
        if (!c) continue;
        if (std::find(components.begin(), components.end(), *c) != components.end()) {
          c_.error(v.items[i], "'" + std::string(to_string(*c)) + "' is listed twice");
          continue;
        }
        components.push_back(*c);
      }
      if (!components.empty()) h.signed_components = std::move(components);
    });
    c_.with(n, "timestamp_header",
            [&](const ynode& v) { assign(h.timestamp_header, c_.get_header_name(v)); });
    c_.with(n, "tolerance", [&](const ynode& v) { assign(h.tolerance, c_.get_duration(v, true)); });
  }

  void read_mtls(const ynode& n) {
    auto& m = plan_.auth.mtls.emplace();
    m.where = plan_.auth.where;
    c_.with_required(n, "client_cert", [&](const ynode& v) { assign(m.client_cert, get_secret(v)); });
    c_.with_required(n, "client_key", [&](const ynode& v) { assign(m.client_key, get_secret(v)); });
    c_.with(n, "ca", [&](const ynode& v) {
      if (auto ref = get_secret(v)) m.ca = *ref;
    });
  }

  void read_jwt(const ynode& n) {
    auto& auth = plan_.auth;
    auto& j = auth.jwt.emplace();
    j.where = auth.where;
    c_.with_required(n, "signing_key", [&](const ynode& v) { auth.secret = get_secret(v); });
    c_.with(n, "algorithm", [&](const ynode& v) {
      assign(j.algorithm,
             c_.get_enum(v, std::array{jwt_algorithm::HS256, jwt_algorithm::RS256, jwt_algorithm::ES256},
                         "algorithm"));
    });
    c_.with(n, "claims", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      for (const yentry* e : c_.unique_entries(v)) {
        auto s = c_.enter(e->key.text);
        if (auto value = c_.get_string(e->value)) j.claims[e->key.text] = *value;
      }
    });
    c_.with(n, "lifetime", [&](const ynode& v) { assign(j.lifetime, c_.get_duration(v, true)); });
    auth.header = "Authorization";
    c_.with(n, "header", [&](const ynode& v) { assign(auth.header, c_.get_header_name(v)); });
  }

  // Never quotes the value back: if it is not a reference, it may well be the secret itself.
  std::optional<core::secret_ref> get_secret(const ynode& n) {
    if (n.is_scalar()) {
      if (auto ref = core::parse_secret_ref(n.text)) return ref;
    }
    c_.error(n, "must be a secret reference (env:NAME or file:PATH); never write the secret in the plan");
    return std::nullopt;
  }

  // A header value or a client id: plain text, or a secret when it reads as a reference.
  std::optional<text_or_secret> get_text_or_secret(const ynode& n) {
    auto text = c_.get_string(n);
    if (!text) return std::nullopt;
    text_or_secret out;
    out.where = c_.where(n);
    if (auto ref = core::parse_secret_ref(*text))
      out.secret = *ref;
    else
      out.text = *text;
    return out;
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
      c_.check_keys(item, {"id", "description", "direction", "method", "path", "path_params", "headers",
                           "query", "request", "response", "statuses", "idempotency", "rate_limit",
                           "pagination", "timeout", "versioning", "signature", "dedup_key"});
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
      c_.with(item, "description", [&](const ynode& v) { assign(e.description, c_.get_string(v)); });
      bool direction_known = true;
      c_.with(item, "direction", [&](const ynode& v) {
        auto d = c_.get_enum(v, std::array{endpoint_direction::outbound, endpoint_direction::inbound},
                             "direction");
        direction_known = d.has_value();
        assign(e.direction, std::move(d));
      });
      const bool inbound = e.direction == endpoint_direction::inbound;
      if (inbound) e.method = "POST";
      // Keys of the other direction are reported and left unread, so they add no errors of their own.
      auto applies = [&](std::string_view key, bool to_inbound) {
        if (!c_.find(item, key)) return false;
        if (!direction_known) return false;
        if (to_inbound == inbound) return true;
        c_.error_at_key(
            item, key,
            std::string(key) + (to_inbound ? " applies only to inbound endpoints (direction: inbound)"
                                           : " applies only to outbound endpoints"));
        return false;
      };
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
      bool path_ok = false;
      c_.with_required(item, "path", [&](const ynode& v) {
        auto path = c_.get_string(v);
        if (!path) return;
        if (!path->starts_with('/')) {
          c_.error(v, "expected a path starting with '/', got " + describe(v));
          return;
        }
        auto params = path_parameters(*path);
        if (!params.error.empty()) {
          c_.error(v, params.error);
          return;
        }
        e.path = *path;
        e.path_params = std::move(params.names);
        path_ok = true;
      });
      c_.with(item, "path_params", [&](const ynode& v) { read_path_params(v, e, path_ok); });
      c_.with(item, "headers", [&](const ynode& v) { read_headers(v, e.headers); });
      c_.with(item, "query", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        for (const yentry* q : c_.unique_entries(v)) {
          auto sq = c_.enter(q->key.text);
          if (auto spec = read_parameter(q->value, q->key.text, true)) e.query.push_back(std::move(*spec));
        }
      });
      c_.with(item, "request", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"schema", "example"});
        read_body(v, e.request_schema, e.request_example);
      });
      c_.with(item, "response", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        c_.check_keys(v, {"status", "schema", "example", "headers"});
        c_.with(v, "status", [&](const ynode& x) { assign(e.response_status, c_.get_status(x)); });
        read_body(v, e.response_schema, e.response_example);
        c_.with(v, "headers", [&](const ynode& x) {
          if (!c_.expect_map(x)) return;
          std::map<std::string, const ynode*> folded;
          for (const yentry* h : c_.unique_entries(x)) {
            auto sh = c_.enter(h->key.text);
            if (!check_header_key(h->key, folded)) continue;
            if (auto text = c_.get_string(h->value)) e.response_headers[h->key.text] = *text;
          }
        });
      });
      c_.with(item, "statuses", [&](const ynode& v) { read_statuses(v, e.statuses); });
      if (e.statuses.success.empty()) e.statuses.success = {200, 201, 202, 204};
      if (applies("idempotency", false)) {
        c_.with(item, "idempotency", [&](const ynode& v) {
          if (!c_.expect_map(v)) return;
          c_.check_keys(v, {"header"});
          c_.with_required(v, "header", [&](const ynode& x) {
            if (auto header = c_.get_header_name(x)) e.idempotency_header = *header;
          });
        });
      }
      if (applies("rate_limit", false)) {
        c_.with(item, "rate_limit", [&](const ynode& v) {
          if (auto r = c_.get_rate(v)) e.rate_limit = *r;
        });
      }
      if (applies("pagination", false))
        c_.with(item, "pagination", [&](const ynode& v) { read_pagination(v, e); });
      if (applies("timeout", false)) {
        c_.with(item, "timeout", [&](const ynode& v) {
          if (auto d = c_.get_duration(v, true)) e.timeout = *d;
        });
      }
      c_.with(item, "versioning", [&](const ynode& v) { read_versioning(v, e, path_ok); });
      if (applies("signature", true))
        c_.with(item, "signature", [&](const ynode& v) { read_signature(v, e); });
      if (applies("dedup_key", true)) {
        c_.with(item, "dedup_key", [&](const ynode& v) {
          // null says it out loud: the endpoint keeps no key, and every delivery is a new event.
          if (!v.is_null()) assign(e.dedup_key, c_.get_field_path(v));
        });
      }
      plan_.endpoints.push_back(std::move(e));
    }
    endpoint_ids_.complete = complete;
  }

  struct path_parse {
    std::vector<std::string> names;
    std::string error;  // empty when the path is well-formed
  };

  // The `{name}` parameters of a path, in order.
  static path_parse path_parameters(std::string_view path) {
    path_parse out;
    std::size_t i = 0;
    while (i < path.size()) {
      if (path[i] == '}') {
        out.error = "'}' without a matching '{' in the path";
        return out;
      }
      if (path[i] != '{') {
        ++i;
        continue;
      }
      const auto close = path.find('}', i);
      const auto next_open = path.find('{', i + 1);
      if (close == std::string_view::npos || (next_open != std::string_view::npos && next_open < close)) {
        out.error = "'{' without a matching '}' in the path";
        return out;
      }
      const std::string name(path.substr(i + 1, close - i - 1));
      const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!ok) {
        out.error = "expected a parameter name of letters, digits and '_' inside {}, got '{" + name + "}'";
        return out;
      }
      if (std::find(out.names.begin(), out.names.end(), name) != out.names.end()) {
        out.error = "path parameter '" + name + "' appears twice";
        return out;
      }
      out.names.push_back(name);
      i = close + 1;
    }
    return out;
  }

  void read_path_params(const ynode& n, endpoint& e, bool path_ok) {
    if (!c_.expect_map(n)) return;
    std::vector<std::string_view> known(e.path_params.begin(), e.path_params.end());
    std::vector<std::pair<std::string, parameter_spec>> specs;
    for (const yentry* p : c_.unique_entries(n)) {
      auto s = c_.enter(p->key.text);
      const bool in_path = std::find(known.begin(), known.end(), p->key.text) != known.end();
      if (path_ok && !in_path) {
        std::string message = "'" + p->key.text + "' is not a parameter of the path '" + e.path + "'";
        if (auto guess = closest(p->key.text, known))
          message += "; did you mean '" + std::string(*guess) + "'?";
        c_.error(p->key, message);
        c_.check_opaque(p->value);
        continue;
      }
      if (auto spec = read_parameter(p->value, p->key.text, false))
        specs.emplace_back(p->key.text, std::move(*spec));
    }
    if (!path_ok) return;
    for (const auto& name : e.path_params) {
      auto it = std::find_if(specs.begin(), specs.end(), [&](const auto& p) { return p.first == name; });
      if (it != specs.end()) {
        e.path_param_specs.push_back(std::move(it->second));
      } else if (!c_.find(n, name)) {
        c_.error(n, "missing path parameter '" + name + "' (the path has {" + name + "})");
      }
    }
  }

  std::optional<parameter_spec> read_parameter(const ynode& n, const std::string& name, bool query) {
    parameter_spec p;
    p.name = name;
    p.where = c_.where(n);
    if (!c_.expect_map(n)) return std::nullopt;
    if (query)
      c_.check_keys(n, {"type", "required", "example", "description"});
    else
      c_.check_keys(n, {"type", "example", "description"});
    bool type_ok = true;
    c_.with(n, "type", [&](const ynode& v) {
      auto t = c_.get_enum(
          v, std::array{param_type::string, param_type::integer, param_type::number, param_type::boolean},
          "type");
      type_ok = t.has_value();
      assign(p.type, std::move(t));
    });
    if (query) c_.with(n, "required", [&](const ynode& v) { assign(p.required, c_.get_bool(v)); });
    c_.with(n, "description", [&](const ynode& v) { assign(p.description, c_.get_string(v)); });
    c_.with(n, "example", [&](const ynode& v) {
      p.example = c_.to_json(v);
      if (!type_ok) return;
      boost::json::object schema;
      schema["type"] = std::string(to_string(p.type));
      check_example(v, schema, *p.example);
    });
    return p;
  }

  // Header names ignore case: `folded` maps each lower-cased name to where it first appeared.
  bool check_header_key(const ynode& key, std::map<std::string, const ynode*>& folded) {
    if (!is_token(key.text)) {
      c_.error(key, "expected a header name (letters, digits and !#$%&'*+-.^_`|~), got " + describe(key));
      return false;
    }
    std::string lower = key.text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch; });
    auto [it, inserted] = folded.emplace(lower, &key);
    if (!inserted) {
      c_.error(key, "header '" + key.text + "' is also given as '" + it->second->text + "' (" +
                        c_.line_of(*it->second) + "); header names ignore case");
      return false;
    }
    return true;
  }

  void read_headers(const ynode& n, std::map<std::string, text_or_secret>& out) {
    if (!c_.expect_map(n)) return;
    std::map<std::string, const ynode*> folded;
    for (const yentry* h : c_.unique_entries(n)) {
      auto s = c_.enter(h->key.text);
      if (!check_header_key(h->key, folded)) continue;
      if (auto value = get_text_or_secret(h->value)) out[h->key.text] = std::move(*value);
    }
  }

  // `schema` and `example` of a request or response; the example must satisfy the schema.
  void read_body(const ynode& n, std::optional<boost::json::value>& schema,
                 std::optional<boost::json::value>& example) {
    bool schema_ok = false;
    c_.with(n, "schema", [&](const ynode& v) {
      const auto before = c_.error_count();
      auto json = c_.to_json(v, false);
      check_schema(v, json);
      schema = std::move(json);
      schema_ok = c_.error_count() == before;
    });
    c_.with(n, "example", [&](const ynode& v) {
      const auto before = c_.error_count();
      example = c_.to_json(v);
      if (schema_ok && c_.error_count() == before) check_example(v, *schema, *example);
    });
  }

  // Reports each way `value` (read from `n`) fails `schema`, at the offending node.
  void check_example(const ynode& n, const boost::json::value& schema, const boost::json::value& value) {
    for (const auto& m : check_against_schema(schema, value)) {
      const ynode* at = &n;
      for (const auto& segment : m.at) {
        const ynode* next = nullptr;
        if (const auto* key = std::get_if<std::string>(&segment)) {
          if (at->is_map()) next = c_.find(*at, *key);
        } else if (at->is_sequence() && std::get<std::size_t>(segment) < at->items.size()) {
          next = &at->items[std::get<std::size_t>(segment)];
        }
        if (next == nullptr) break;
        at = next;
      }
      c_.error(*at, m.str());
    }
  }

  // A JSON Schema of the subset model.hpp lists; `root` is the whole schema as JSON, for $ref.
  void check_schema(const ynode& n, const boost::json::value& root) {
    if (!c_.expect_map(n)) return;
    static const std::vector<std::string_view> keywords{"type",
                                                        "properties",
                                                        "required",
                                                        "items",
                                                        "enum",
                                                        "const",
                                                        "format",
                                                        "minimum",
                                                        "maximum",
                                                        "exclusiveMinimum",
                                                        "exclusiveMaximum",
                                                        "minLength",
                                                        "maxLength",
                                                        "pattern",
                                                        "minItems",
                                                        "maxItems",
                                                        "additionalProperties",
                                                        "description",
                                                        "default",
                                                        "nullable",
                                                        "oneOf",
                                                        "anyOf",
                                                        "allOf",
                                                        "$ref"};
    for (const yentry* e : c_.unique_entries(n)) {
      if (std::find(keywords.begin(), keywords.end(), e->key.text) == keywords.end()) {
        std::string message = "unknown JSON Schema keyword '" + e->key.text + "'";
        if (auto guess = closest(e->key.text, keywords))
          message += "; did you mean '" + std::string(*guess) + "'?";
        else
          message += " (this subset knows: " + join(keywords) + ")";
        c_.error(e->key, message);
      }
    }
    c_.with(n, "type", [&](const ynode& v) {
      static const std::vector<std::string_view> types{"string", "integer", "number", "boolean",
                                                       "object", "array",   "null"};
      auto one = [&](const ynode& t) {
        auto name = c_.get_string(t);
        if (name && std::find(types.begin(), types.end(), *name) == types.end()) {
          c_.error(t, unknown_name("type", *name, types));
        }
        return name;
      };
      if (!v.is_sequence()) {
        one(v);
        return;
      }
      if (v.items.empty()) c_.error(v, "expected at least one type");
      std::vector<std::string> seen;
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        auto name = one(v.items[i]);
        if (!name) continue;
        if (std::find(seen.begin(), seen.end(), *name) != seen.end())
          c_.error(v.items[i], "'" + *name + "' is listed twice");
        seen.push_back(*name);
      }
    });
    const ynode* properties = c_.find(n, "properties");
    c_.with(n, "properties", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      for (const yentry* e : c_.unique_entries(v)) {
        auto s = c_.enter(e->key.text);
        check_schema(e->value, root);
      }
    });
    c_.with(n, "required", [&](const ynode& v) {
      if (!c_.expect_list(v, "property names")) return;
      std::vector<std::string> seen;
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        auto name = c_.get_string(v.items[i]);
        if (!name) continue;
        if (std::find(seen.begin(), seen.end(), *name) != seen.end()) {
          c_.error(v.items[i], "'" + *name + "' is listed twice");
          continue;
        }
        seen.push_back(*name);
        if (properties == nullptr || !properties->is_map()) {
          c_.error(v.items[i], "'" + *name + "' is not in properties");
        } else if (!c_.find(*properties, *name)) {
          std::vector<std::string_view> known;
          for (const auto& e : properties->entries) {
            if (e.key.is_scalar()) known.push_back(e.key.text);
          }
          std::string message = "'" + *name + "' is not in properties";
          if (auto guess = closest(*name, known)) message += "; did you mean '" + std::string(*guess) + "'?";
          c_.error(v.items[i], message);
        }
      }
    });
    c_.with(n, "items", [&](const ynode& v) { check_schema(v, root); });
    c_.with(n, "enum", [&](const ynode& v) {
      if (!c_.expect_list(v, "values")) return;
      if (v.items.empty()) c_.error(v, "expected at least one value");
      c_.check_opaque(v);
    });
    c_.with(n, "const", [&](const ynode& v) { c_.check_opaque(v); });
    c_.with(n, "default", [&](const ynode& v) { c_.check_opaque(v); });
    c_.with(n, "format", [&](const ynode& v) { c_.get_string(v); });
    c_.with(n, "description", [&](const ynode& v) { c_.get_string(v); });
    c_.with(n, "nullable", [&](const ynode& v) { c_.get_bool(v); });
    std::map<std::string_view, double> bounds;
    for (const char* key : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      c_.with(n, key, [&](const ynode& v) {
        if (auto d = c_.get_number(v)) bounds[key] = *d;
      });
    }
    for (const char* key : {"minLength", "maxLength", "minItems", "maxItems"}) {
      c_.with(n, key, [&](const ynode& v) {
        if (auto count = c_.get_int(v, 0, INT_MAX, "an integer >= 0")) bounds[key] = *count;
      });
    }
    for (auto [low, high] : {std::pair{"minimum", "maximum"}, std::pair{"minLength", "maxLength"},
                             std::pair{"minItems", "maxItems"}}) {
      if (bounds.contains(low) && bounds.contains(high) && bounds[low] > bounds[high]) {
        c_.error(*c_.find(n, high), std::string(high) + " is below " + low);
      }
    }
    c_.with(n, "pattern", [&](const ynode& v) { c_.get_regex(v); });
    c_.with(n, "additionalProperties", [&](const ynode& v) {
      if (v.is_map()) {
        check_schema(v, root);
      } else if (!v.is_scalar() || (v.text != "true" && v.text != "false")) {
        c_.error(v, "expected true, false or a schema, got " + describe(v));
      }
    });
    for (const char* key : {"oneOf", "anyOf", "allOf"}) {
      c_.with(n, key, [&](const ynode& v) {
        if (!c_.expect_list(v, "schemas")) return;
        if (v.items.empty()) c_.error(v, "expected at least one schema");
        for (std::size_t i = 0; i < v.items.size(); ++i) {
          auto s = c_.enter(i);
          check_schema(v.items[i], root);
        }
      });
    }
    c_.with(n, "$ref", [&](const ynode& v) {
      auto ref = c_.get_string(v);
      if (!ref) return;
      if (*ref != "#" && !ref->starts_with("#/")) {
        c_.error(v, "only local references ('#' or '#/...') are supported, got " + describe(v));
        return;
      }
      // Follow the chain of references: it must end at a schema, not at nothing or back at itself.
      std::vector<const boost::json::value*> seen;
      std::string current = *ref;
      for (int hop = 0;; ++hop) {
        const boost::json::value* target = resolve_local_ref(root, current);
        if (target == nullptr) {
          c_.error(v, "$ref '" + current + "' does not resolve in this schema");
          return;
        }
        if (!target->is_object()) {
          c_.error(v, "$ref '" + current + "' does not point at a schema");
          return;
        }
        if (std::find(seen.begin(), seen.end(), target) != seen.end() || hop > 100) {
          c_.error(v, "$ref '" + *ref + "' refers back to itself");
          return;
        }
        seen.push_back(target);
        const auto* next = target->get_object().if_contains("$ref");
        if (next == nullptr || !next->is_string()) return;
        current = std::string(next->get_string());
      }
    });
  }

  void read_pagination(const ynode& n, endpoint& e) {
    if (!c_.expect_map(n)) return;
    auto& p = e.pagination.emplace();
    p.where = c_.where(n);
    c_.check_keys(n, {"style", "param", "limit_param", "max_page_size", "has_more", "next_cursor", "items",
                      "collection", "on_invalid_cursor", "on_page_shift"});
    bool style_ok = false;
    c_.with_required(n, "style", [&](const ynode& v) {
      auto style = c_.get_enum(v,
                               std::array{pagination_style::cursor, pagination_style::page,
                                          pagination_style::offset, pagination_style::link_header},
                               "pagination style");
      style_ok = style.has_value();
      assign(p.style, std::move(style));
    });
    if (style_ok && p.style == pagination_style::link_header) {
      c_.error_at_key(n, "param",
                      "param does not apply to link_header pagination (the Link header names the next page)");
    } else {
      c_.with(n, "param", [&](const ynode& v) { assign(p.param, c_.get_nonempty_string(v)); });
      if (style_ok && !c_.find(n, "param")) {
        c_.error(n, "missing required key 'param' (required for " + std::string(to_string(p.style)) +
                        " pagination)");
      }
    }
    if (style_ok && p.style != pagination_style::cursor) {
      c_.error_at_key(n, "next_cursor", "next_cursor applies only to cursor pagination");
    } else {
      c_.with(n, "next_cursor", [&](const ynode& v) { assign(p.next_cursor, c_.get_field_path(v)); });
    }
    c_.with(n, "limit_param", [&](const ynode& v) { assign(p.limit_param, c_.get_nonempty_string(v)); });
    c_.with(n, "max_page_size", [&](const ynode& v) {
      if (auto size = c_.get_int(v, 1, INT_MAX, "an integer >= 1")) p.max_page_size = *size;
    });
    c_.with(n, "has_more", [&](const ynode& v) { assign(p.has_more, c_.get_field_path(v)); });
    c_.with(n, "items", [&](const ynode& v) { assign(p.items, c_.get_field_path(v)); });
    c_.with(n, "collection", [&](const ynode& v) {
      if (auto size = c_.get_int(v, 0, max_collection, "a record count 0..1000000")) p.collection = *size;
    });
    if (style_ok && (p.style == pagination_style::page || p.style == pagination_style::offset)) {
      c_.error_at_key(n, "on_invalid_cursor", "on_invalid_cursor applies only to cursor and link_header pagination");
    } else {
      c_.with(n, "on_invalid_cursor", [&](const ynode& v) {
        if (!v.is_scalar() || (v.text != "restart" && v.text != "fail")) {
          c_.error(v, "expected restart or fail, got " + describe(v));
        } else {
          p.restart_on_invalid_cursor = v.text == "restart";
        }
      });
    }
    c_.with(n, "on_page_shift", [&](const ynode& v) {
      if (!v.is_scalar() || (v.text != "refetch" && v.text != "ignore")) {
        c_.error(v, "expected refetch or ignore, got " + describe(v));
      } else {
        p.refetch_on_page_shift = v.text == "refetch";
      }
    });
  }

  void read_versioning(const ynode& n, endpoint& e, bool path_ok) {
    if (!c_.expect_map(n)) return;
    auto& v = e.versioning.emplace();
    v.where = c_.where(n);
    c_.check_keys(n, {"style", "header", "param", "value"});
    std::optional<versioning_style> style;
    c_.with_required(n, "style", [&](const ynode& x) {
      style = c_.get_enum(
          x, std::array{versioning_style::header, versioning_style::path, versioning_style::query},
          "versioning style");
    });
    bool value_ok = false;
    c_.with_required(n, "value", [&](const ynode& x) {
      auto value = c_.get_nonempty_string(x);
      value_ok = value.has_value();
      assign(v.value, std::move(value));
    });
    if (!style) return;
    v.style = *style;
    const char* name_key = v.style == versioning_style::header ? "header" : "param";
    const char* other_key = v.style == versioning_style::header ? "param" : "header";
    if (v.style == versioning_style::path) {
      c_.error_at_key(n, "header", "header does not apply to versioning style path");
      c_.error_at_key(n, "param", "param does not apply to versioning style path");
      const std::string segment = "/" + v.value;
      const bool in_path = e.path.find(segment + "/") != std::string::npos || e.path.ends_with(segment);
      if (path_ok && value_ok && !in_path) {
        c_.error(*c_.find(n, "value"), "'" + v.value + "' is not a segment of the path '" + e.path + "'");
      }
      return;
    }
    c_.error_at_key(
        n, other_key,
        std::string(other_key) + " does not apply to versioning style " + std::string(to_string(v.style)));
    if (!c_.find(n, name_key)) {
      c_.error(n, "missing required key '" + std::string(name_key) +
                      "' (required with style: " + std::string(to_string(v.style)) + ")");
    }
    c_.with(n, name_key, [&](const ynode& x) {
      assign(v.name, v.style == versioning_style::header ? c_.get_header_name(x) : c_.get_nonempty_string(x));
    });
  }

  void read_signature(const ynode& n, endpoint& e) {
    if (!c_.expect_map(n)) return;
    auto& sig = e.signature.emplace();
    sig.where = c_.where(n);
    c_.check_keys(n, {"scheme", "header", "secret", "tolerance", "timestamp_header"});
    c_.with(n, "scheme", [&](const ynode& v) {
      assign(sig.scheme,
             c_.get_enum(v, std::array{signature_scheme::hmac_sha256, signature_scheme::hmac_sha512},
                         "signature scheme"));
    });
    c_.with_required(n, "header", [&](const ynode& v) { assign(sig.header, c_.get_header_name(v)); });
    c_.with_required(n, "secret", [&](const ynode& v) { assign(sig.secret, get_secret(v)); });
    c_.with(n, "tolerance", [&](const ynode& v) { assign(sig.tolerance, c_.get_duration(v, true)); });
    c_.with(n, "timestamp_header",
            [&](const ynode& v) { assign(sig.timestamp_header, c_.get_header_name(v)); });
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

  void read_mappings(const ynode& n) {
    if (!c_.expect_list(n, "mappings")) return;
    std::vector<std::pair<std::string, const ynode*>> seen;  // "endpoint direction" and where
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = n.items[i];
      data_mapping m;
      m.where = c_.where(item);
      if (!c_.expect_map(item)) continue;
      c_.check_keys(item, {"endpoint", "direction", "unmapped", "preserve_to", "fields"});
      const endpoint* target = nullptr;
      const ynode* endpoint_node = nullptr;
      c_.with_required(item, "endpoint", [&](const ynode& v) {
        auto id = c_.get_string(v);
        if (!id || !check_ref(v, *id, endpoint_ids_, "endpoint")) return;
        m.endpoint = *id;
        endpoint_node = &v;
        target = plan_.find_endpoint(*id);
      });
      if (target != nullptr && target->direction == endpoint_direction::inbound)
        m.direction = mapping_direction::request;
      c_.with(item, "direction", [&](const ynode& v) {
        assign(m.direction,
               c_.get_enum(v, std::array{mapping_direction::response, mapping_direction::request},
                           "mapping direction"));
      });
      if (endpoint_node != nullptr) {
        const std::string key = m.endpoint + " " + std::string(to_string(m.direction));
        auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == key; });
        if (it != seen.end()) {
          auto se = c_.enter("endpoint");
          c_.error(*endpoint_node, "a second " + std::string(to_string(m.direction)) +
                                       " mapping for endpoint '" + m.endpoint + "' (first at " +
                                       c_.line_of(*it->second) + ")");
        } else {
          seen.emplace_back(key, endpoint_node);
        }
      }
      bool unmapped_ok = false;
      c_.with_required(item, "unmapped", [&](const ynode& v) {
        auto policy = c_.get_enum(
            v, std::array{unmapped_policy::ignore, unmapped_policy::reject, unmapped_policy::preserve},
            "unmapped policy");
        unmapped_ok = policy.has_value();
        assign(m.unmapped, std::move(policy));
      });
      if (unmapped_ok && m.unmapped == unmapped_policy::preserve) {
        c_.with(item, "preserve_to", [&](const ynode& v) { assign(m.preserve_to, c_.get_field_path(v)); });
        if (!c_.find(item, "preserve_to"))
          c_.error(item, "missing required key 'preserve_to' (required with unmapped: preserve)");
      } else if (unmapped_ok) {
        c_.error_at_key(item, "preserve_to", "preserve_to applies only with unmapped: preserve");
      }
      c_.with_required(item, "fields", [&](const ynode& v) {
        if (!c_.expect_list(v, "fields")) return;
        if (v.items.empty()) {
          c_.error(v, "expected at least one field");
          return;
        }
        std::unordered_map<std::string, const ynode*> targets;
        for (std::size_t j = 0; j < v.items.size(); ++j) {
          auto sj = c_.enter(j);
          if (!c_.expect_map(v.items[j])) continue;
          auto field = read_field(v.items[j]);
          if (field.target.empty()) continue;
          const ynode* at = c_.find(v.items[j], "target");
          auto [it, inserted] = targets.emplace(field.target, at);
          if (!inserted) {
            auto st = c_.enter("target");
            c_.error(*at,
                     "duplicate target '" + field.target + "' (first at " + c_.line_of(*it->second) + ")");
            continue;
          }
          m.fields.push_back(std::move(field));
        }
      });
      plan_.mapping.push_back(std::move(m));
    }
  }

  field_mapping read_field(const ynode& n) {
    field_mapping f;
    f.where = c_.where(n);
    c_.check_keys(n, {"source", "target", "type", "required", "default", "transform", "validate"});
    c_.with(n, "source", [&](const ynode& v) { assign(f.source, c_.get_field_path(v)); });
    c_.with_required(n, "target", [&](const ynode& v) { assign(f.target, c_.get_field_path(v)); });
    bool type_ok = true;
    c_.with(n, "type", [&](const ynode& v) {
      auto t = c_.get_enum(
          v,
          std::array{field_type::string, field_type::integer, field_type::number, field_type::boolean,
                     field_type::timestamp, field_type::date, field_type::currency, field_type::enum_,
                     field_type::object, field_type::array},
          "field type");
      type_ok = t.has_value();
      assign(f.type, std::move(t));
    });
    c_.with(n, "required", [&](const ynode& v) { assign(f.required, c_.get_bool(v)); });
    c_.with(n, "default", [&](const ynode& v) {
      if (!v.is_scalar()) {
        c_.error(v, "expected a scalar (a string, number or boolean), got " + describe(v));
        return;
      }
      auto value = scalar_to_json(v);
      const bool fits = !type_ok || (f.type == field_type::integer   ? is_integer_json(value)
                                     : f.type == field_type::number  ? value.is_number()
                                     : f.type == field_type::boolean ? value.is_bool()
                                                                     : true);
      if (!fits) {
        c_.error(v, "expected a default of type " + std::string(to_string(f.type)) + ", got " + describe(v));
        return;
      }
      f.default_value = std::move(value);
    });
    c_.with(n, "transform", [&](const ynode& v) { read_transform(v, f.transform); });
    c_.with(n, "validate", [&](const ynode& v) {
      if (auto checks = read_validation(v, type_ok ? std::optional(f.type) : std::nullopt))
        f.validate = std::move(*checks);
    });
    // Judged on what is written, so a concat with a broken argument does not also draw "missing source".
    bool concat = false;
    if (const ynode* t = c_.find(n, "transform")) {
      const ynode* first = t->is_sequence() && !t->items.empty() ? &t->items.front() : t;
      concat = first->is_map() && !first->entries.empty() && first->entries.front().key.is_scalar() &&
               first->entries.front().key.text == "concat";
    }
    if (concat) {
      c_.error_at_key(n, "source",
                      "source does not apply with a concat transform (concat.sources names the fields)");
    } else if (!c_.find(n, "source") && !c_.find(n, "default")) {
      c_.error(n,
               "missing required key 'source' (only a field with a default or a concat transform may leave "
               "it out)");
    }
    return f;
  }

  static bool is_integer_json(const boost::json::value& v) {
    return v.is_int64() || v.is_uint64() || (v.is_double() && std::floor(v.get_double()) == v.get_double());
  }

  void read_transform(const ynode& n, std::vector<transform_step>& out) {
    if (n.is_sequence()) {
      if (n.items.empty()) c_.error(n, "expected at least one transform step");
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        auto s = c_.enter(i);
        auto step = read_transform_step(n.items[i]);
        if (!step) continue;
        if (step->kind == transform_kind::concat && i > 0) {
          c_.error(n.items[i], "concat must be the first step (it produces the value the others work on)");
          continue;
        }
        out.push_back(std::move(*step));
      }
      return;
    }
    if (auto step = read_transform_step(n)) out.push_back(std::move(*step));
  }

  std::optional<transform_step> read_transform_step(const ynode& n) {
    static constexpr std::array plain{transform_kind::rename,          transform_kind::lowercase,
                                      transform_kind::uppercase,       transform_kind::trim,
                                      transform_kind::unix_to_rfc3339, transform_kind::rfc3339_to_unix,
                                      transform_kind::currency_upper};
    static constexpr std::array with_arguments{transform_kind::enum_map, transform_kind::scale,
                                               transform_kind::concat};
    std::vector<std::string_view> known;
    for (auto k : plain) known.push_back(to_string(k));
    for (auto k : with_arguments) known.push_back(to_string(k));
    auto find_kind = [&](std::string_view name) -> std::optional<transform_kind> {
      for (auto k : plain) {
        if (to_string(k) == name) return k;
      }
      for (auto k : with_arguments) {
        if (to_string(k) == name) return k;
      }
      return std::nullopt;
    };
    auto takes_arguments = [&](transform_kind k) {
      return std::find(with_arguments.begin(), with_arguments.end(), k) != with_arguments.end();
    };
    transform_step step;
    step.where = c_.where(n);
    if (n.is_scalar()) {
      auto kind = find_kind(n.text);
      if (!kind) {
        c_.error(n, unknown_name("transform", n.text, known));
        return std::nullopt;
      }
      if (takes_arguments(*kind)) {
        c_.error(n, n.text + " takes arguments: write it as a map such as " +
                        (*kind == transform_kind::scale      ? std::string("{scale: 0.01}")
                         : *kind == transform_kind::enum_map ? std::string("{enum_map: {A: a}}")
                                                             : std::string("{concat: {sources: [a, b]}}")));
        return std::nullopt;
      }
      step.kind = *kind;
      return step;
    }
    if (!n.is_map() || n.entries.size() != 1 || !n.entries.front().key.is_scalar()) {
      c_.error(n, "expected a transform name or a one-key map such as {scale: 0.01}, got " + describe(n));
      return std::nullopt;
    }
    const auto& [key, value] = n.entries.front();
    auto kind = find_kind(key.text);
    if (!kind) {
      c_.error(key, unknown_name("transform", key.text, known));
      return std::nullopt;
    }
    if (!takes_arguments(*kind)) {
      c_.error(key, key.text + " takes no arguments: write it as a plain name");
      return std::nullopt;
    }
    step.kind = *kind;
    auto s = c_.enter(key.text);
    const auto before = c_.error_count();
    switch (*kind) {
      case transform_kind::enum_map:
        if (!c_.expect_map(value)) return std::nullopt;
        if (value.entries.empty()) c_.error(value, "expected at least one value to map");
        for (const yentry* e : c_.unique_entries(value)) {
          auto se = c_.enter(e->key.text);
          if (auto to = c_.get_string(e->value)) step.enum_map.emplace_back(e->key.text, *to);
        }
        break;
      case transform_kind::scale: {
        auto factor = c_.get_number(value);
        if (factor && *factor == 0) c_.error(value, "expected a non-zero factor such as 0.01");
        if (factor) step.factor = *factor;
        break;
      }
      case transform_kind::concat:
        if (!c_.expect_map(value)) return std::nullopt;
        c_.check_keys(value, {"sources", "separator"});
        c_.with_required(value, "sources", [&](const ynode& v) {
          if (!c_.expect_list(v, "field paths")) return;
          if (v.items.size() < 2) {
            c_.error(v, "expected at least two field paths to concatenate");
            return;
          }
          for (std::size_t i = 0; i < v.items.size(); ++i) {
            auto si = c_.enter(i);
            if (auto path = c_.get_field_path(v.items[i])) step.sources.push_back(*path);
          }
        });
        c_.with(value, "separator", [&](const ynode& v) { assign(step.separator, c_.get_string(v)); });
        break;
      default: break;
    }
    if (c_.error_count() != before) return std::nullopt;
    return step;
  }

  std::optional<field_validation> read_validation(const ynode& n, std::optional<field_type> type) {
    field_validation out;
    out.where = c_.where(n);
    const bool numeric = !type || *type == field_type::integer || *type == field_type::number;
    const bool textual =
        !type || (*type != field_type::integer && *type != field_type::number &&
                  *type != field_type::boolean && *type != field_type::object && *type != field_type::array);
    const std::string type_name = type ? std::string(to_string(*type)) : std::string();
    if (n.is_scalar()) {
      // The DESIGN.md shorthand: ">= 0", "< 100".
      std::string_view rest = trim(n.text);
      std::optional<std::pair<bool, bool>> op;  // (is a lower bound, exclusive)
      for (auto [symbol, lower, exclusive] : {std::tuple{">=", true, false}, std::tuple{"<=", false, false},
                                              std::tuple{">", true, true}, std::tuple{"<", false, true}}) {
        if (rest.starts_with(symbol)) {
          op = std::pair{lower, exclusive};
          rest = trim(rest.substr(std::string_view(symbol).size()));
          break;
        }
      }
      auto bound = op ? core::parse_number(rest) : std::nullopt;
      if (!bound) {
        c_.error(n,
                 "expected a comparison such as '>= 0' or '< 100', or a map of min, max, regex, enum, "
                 "min_length and max_length, got " +
                     describe(n));
        return std::nullopt;
      }
      if (!numeric) {
        c_.error(n, "a numeric bound applies to integer and number fields, not " + type_name);
        return std::nullopt;
      }
      (op->first ? out.min : out.max) = *bound;
      (op->first ? out.min_exclusive : out.max_exclusive) = op->second;
      return out;
    }
    if (!c_.expect_map(n)) return std::nullopt;
    c_.check_keys(n, {"min", "max", "regex", "enum", "min_length", "max_length"});
    const auto before = c_.error_count();
    auto applies = [&](std::string_view key, bool ok, std::string_view to) {
      if (ok || !c_.find(n, key)) return true;
      c_.error_at_key(n, key,
                      std::string(key) + " applies to " + std::string(to) + " fields, not " + type_name);
      return false;
    };
    if (applies("min", numeric, "integer and number")) {
      c_.with(n, "min", [&](const ynode& v) { assign(out.min, c_.get_number(v)); });
    }
    if (applies("max", numeric, "integer and number")) {
      c_.with(n, "max", [&](const ynode& v) { assign(out.max, c_.get_number(v)); });
    }
    if (applies("regex", textual, "text"))
      c_.with(n, "regex", [&](const ynode& v) { out.regex = c_.get_regex(v); });
    for (auto [key, field] :
         {std::pair{"min_length", &out.min_length}, std::pair{"max_length", &out.max_length}}) {
      if (applies(key, textual, "text")) {
        c_.with(n, key, [&, field = field](const ynode& v) { *field = c_.get_int(v, 0, INT_MAX, "an integer >= 0"); });
      }
    }
    c_.with(n, "enum", [&](const ynode& v) {
      if (!c_.expect_list(v, "values")) return;
      if (v.items.empty()) c_.error(v, "expected at least one value");
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        if (!v.items[i].is_scalar()) {
          c_.error(v.items[i],
                   "expected a scalar (a string, number or boolean), got " + describe(v.items[i]));
          continue;
        }
        out.allowed.push_back(scalar_to_json(v.items[i]));
      }
    });
    if (out.min && out.max && *out.min > *out.max) c_.error(*c_.find(n, "max"), "max is below min");
    if (out.min_length && out.max_length && *out.min_length > *out.max_length) {
      c_.error(*c_.find(n, "max_length"), "max_length is below min_length");
    }
    if (c_.error_count() != before) return std::nullopt;
    return out;
  }

  retry_config read_retry(const ynode& n) {
    retry_config r;
    r.where = c_.where(n);
    r.retry_on = {429, 502, 503, 504, core::error_class::timeout, core::error_class::connection_error};
    if (!c_.expect_map(n)) return r;
    c_.check_keys(n, {"max_attempts", "backoff", "retry_on", "fatal_on", "retry_after", "timeouts",
                      "dead_letter", "retry_budget", "circuit_breaker", "idempotency"});
    c_.with_required(n, "max_attempts", [&](const ynode& v) {
      assign(r.max_attempts, c_.get_int(v, 1, INT_MAX, "an integer >= 1"));
    });
    c_.with(n, "backoff", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      c_.check_keys(v, {"strategy", "base", "max", "jitter", "multiplier"});
      bool strategy_ok = true;
      c_.with(v, "strategy", [&](const ynode& x) {
        auto s = c_.get_enum(
            x, std::array{backoff_strategy::exponential, backoff_strategy::linear, backoff_strategy::constant},
            "backoff strategy");
        strategy_ok = s.has_value();
        assign(r.backoff.strategy, std::move(s));
      });
      c_.with(v, "base", [&](const ynode& x) { assign(r.backoff.base, c_.get_duration(x)); });
      c_.with(v, "max", [&](const ynode& x) { assign(r.backoff.max, c_.get_duration(x)); });
      c_.with(v, "jitter", [&](const ynode& x) {
        assign(r.backoff.jitter, c_.get_enum(x,
                                             std::array{jitter_kind::none, jitter_kind::full,
                                                        jitter_kind::equal, jitter_kind::decorrelated},
                                             "jitter"));
      });
      if (strategy_ok && r.backoff.strategy != backoff_strategy::exponential) {
        c_.error_at_key(v, "multiplier", "multiplier applies only to exponential backoff");
      } else {
        c_.with(v, "multiplier", [&](const ynode& x) {
          auto m = c_.get_number(x);
          if (m && *m <= 1) {
            c_.error(x, "expected a number > 1, got " + describe(x));
            return;
          }
          assign(r.backoff.multiplier, std::move(m));
        });
      }
    });
    bool retry_on_given = false;
    c_.with(n, "retry_on", [&](const ynode& v) {
      retry_on_given = true;
      if (auto conditions = read_conditions(v)) r.retry_on = std::move(*conditions);
    });
    c_.with(n, "fatal_on", [&](const ynode& v) {
      auto conditions = read_conditions(v);
      if (!conditions) return;
      auto text = [](const retry_condition& c) {
        return std::holds_alternative<int>(c) ? std::to_string(std::get<int>(c))
                                              : std::string(core::to_string(std::get<core::error_class>(c)));
      };
      const std::string by_default = retry_on_given ? "" : " (by default)";
      for (std::size_t i = 0; i < conditions->size(); ++i) {
        const auto& c = (*conditions)[i];
        auto s = c_.enter(i);
        if (std::find(r.retry_on.begin(), r.retry_on.end(), c) != r.retry_on.end()) {
          c_.error(v.items[i], text(c) + " is also in retry_on" + by_default);
          continue;
        }
        // A finer class in fatal_on carves an exception out of an umbrella in retry_on (fatal_on
        // wins); an umbrella in fatal_on over a finer retry_on entry would leave that entry dead.
        const auto* fatal = std::get_if<core::error_class>(&c);
        const auto dead = std::find_if(r.retry_on.begin(), r.retry_on.end(), [&](const retry_condition& x) {
          const auto* retried = std::get_if<core::error_class>(&x);
          return fatal != nullptr && retried != nullptr && core::covers(*fatal, *retried);
        });
        if (dead != r.retry_on.end()) {
          c_.error(v.items[i], text(c) + " covers " + text(*dead) + ", which retry_on" + by_default +
                                   " lists: it would never be retried");
          continue;
        }
        r.fatal_on.push_back(c);
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
    c_.with(n, "retry_budget", [&](const ynode& v) {
      if (is_off(v)) return;
      if (!v.is_map()) {
        c_.error(v, "expected off or a map with ratio, min_per_second and ttl, got " + describe(v));
        return;
      }
      auto& b = r.retry_budget.emplace();
      b.where = c_.where(v);
      c_.check_keys(v, {"ratio", "min_per_second", "ttl"});
      c_.with(v, "ratio", [&](const ynode& x) { assign(b.ratio, c_.get_ratio(x)); });
      c_.with(v, "min_per_second", [&](const ynode& x) {
        auto m = c_.get_number(x);
        if (m && *m < 0) {
          c_.error(x, "expected a number >= 0, got " + describe(x));
          return;
        }
        assign(b.min_per_second, std::move(m));
      });
      c_.with(v, "ttl", [&](const ynode& x) { assign(b.ttl, c_.get_duration(x, true)); });
    });
    c_.with(n, "circuit_breaker", [&](const ynode& v) {
      if (is_off(v)) return;
      if (!v.is_map()) {
        c_.error(v, "expected off or a map such as {failure_rate: 50%, open_for: 30s}, got " + describe(v));
        return;
      }
      r.circuit_breaker = read_circuit_breaker(v);
    });
    c_.with(n, "idempotency", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      auto& i = r.idempotency.emplace();
      i.where = c_.where(v);
      c_.check_keys(v, {"approach", "notes"});
      c_.with_required(v, "approach", [&](const ynode& x) {
        assign(i.approach,
               c_.get_enum(x,
                           std::array{idempotency_approach::header, idempotency_approach::natural_key,
                                      idempotency_approach::none},
                           "idempotency approach"));
      });
      c_.with(v, "notes", [&](const ynode& x) { assign(i.notes, c_.get_string(x)); });
    });
    return r;
  }

  // `off` (or false) switches a feature off; in a phase it removes what the plan's retry set.
  static bool is_off(const ynode& n) {
    return n.is_scalar() && !n.quoted && (n.text == "off" || n.text == "false");
  }

  std::optional<std::vector<retry_condition>> read_conditions(const ynode& v) {
    if (!c_.expect_list(v, "HTTP statuses and error classes")) return std::nullopt;
    std::vector<retry_condition> out;
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = v.items[i];
      if (item.is_scalar()) {
        if (auto status = parse_integer(item.text); status && *status >= 100 && *status <= 599) {
          out.emplace_back(static_cast<int>(*status));
          continue;
        }
        if (auto e = core::parse_error_class(item.text)) {
          out.emplace_back(*e);
          continue;
        }
      }
      std::string classes;
      for (auto e : core::named_error_classes) classes += (classes.empty() ? "" : ", ") + std::string(core::to_string(e));
      c_.error(item, "expected an HTTP status 100..599 or an error class (" + classes + "), got " + describe(item));
    }
    return out;
  }

  circuit_breaker_config read_circuit_breaker(const ynode& n) {
    circuit_breaker_config b;
    b.where = c_.where(n);
    c_.check_keys(n, {"window", "size", "failure_rate", "slow_call", "min_calls", "consecutive_failures",
                      "failures_per_interval", "open_for", "half_open_calls", "half_open_max_wait"});
    // The mode is chosen by the keys written; keys of two modes are a plan that says two things.
    std::string first_mode_key;
    bool modes_ok = true;
    for (const auto& e : n.entries) {
      const auto mode = e.key.is_scalar() ? breaker_mode_of(e.key.text) : std::nullopt;
      if (!mode) continue;
      if (first_mode_key.empty()) {
        first_mode_key = e.key.text;
        b.mode = *mode;
      } else if (b.mode != *mode) {
        modes_ok = false;
        c_.error(e.key, e.key.text + " and " + first_mode_key +
                            " belong to different ways of opening the breaker (failure_rate over a window, "
                            "consecutive_failures, failures_per_interval): give one");
      }
    }

    bool window_ok = true;
    c_.with(n, "window", [&](const ynode& v) {
      auto w = c_.get_enum(v, std::array{breaker_window::count, breaker_window::time}, "window");
      window_ok = w.has_value();
      assign(b.window, std::move(w));
    });
    bool size_ok = true;
    if (window_ok) {
      c_.with(n, "size", [&](const ynode& v) {
        if (b.window == breaker_window::count) {
          auto size = c_.get_int(v, 1, INT_MAX, "an integer >= 1 (calls in the window)");
          size_ok = size.has_value();
          assign(b.size, std::move(size));
        } else {
          auto size = c_.get_duration(v, true);
          size_ok = size.has_value();
          assign(b.time_size, std::move(size));
        }
      });
    }
    // Rates are shares of a window: 0 would open on every call, above 1 never.
    auto nonzero_ratio = [&](const ynode& v) -> std::optional<double> {
      auto rate = c_.get_ratio(v);
      if (rate && *rate == 0) {
        c_.error(v, "expected a ratio > 0, got " + describe(v));
        return std::nullopt;
      }
      return rate;
    };
    c_.with(n, "failure_rate", [&](const ynode& v) { assign(b.failure_rate, nonzero_ratio(v)); });
    c_.with(n, "slow_call", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      auto& slow = b.slow_call.emplace();
      slow.where = c_.where(v);
      c_.check_keys(v, {"threshold", "rate"});
      c_.with_required(v, "threshold",
                       [&](const ynode& x) { assign(slow.threshold, c_.get_duration(x, true)); });
      c_.with(v, "rate", [&](const ynode& x) { assign(slow.rate, nonzero_ratio(x)); });
    });
    bool min_calls_ok = true;
    c_.with(n, "min_calls", [&](const ynode& v) {
      auto m = c_.get_int(v, 1, INT_MAX, "an integer >= 1");
      min_calls_ok = m.has_value();
      assign(b.min_calls, std::move(m));
    });
    c_.with(n, "consecutive_failures", [&](const ynode& v) {
      assign(b.consecutive_failures, c_.get_int(v, 1, INT_MAX, "an integer >= 1 (failures in a row)"));
    });
    c_.with(n, "failures_per_interval", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      auto& f = b.failures_per_interval;
      f.where = c_.where(v);
      c_.check_keys(v, {"count", "interval"});
      c_.with(v, "count", [&](const ynode& x) { assign(f.count, c_.get_int(x, 1, INT_MAX, "an integer >= 1")); });
      c_.with(v, "interval", [&](const ynode& x) { assign(f.interval, c_.get_duration(x, true)); });
    });
    c_.with(n, "open_for", [&](const ynode& v) { assign(b.open_for, c_.get_duration(v, true)); });
    c_.with(n, "half_open_calls",
            [&](const ynode& v) { assign(b.half_open_calls, c_.get_int(v, 1, INT_MAX, "an integer >= 1")); });
    c_.with(n, "half_open_max_wait",
            [&](const ynode& v) { assign(b.half_open_max_wait, c_.get_duration(v, true)); });
    if (modes_ok && window_ok && size_ok && min_calls_ok && b.window == breaker_window::count &&
        b.min_calls > b.size) {
      const ynode* at = c_.find(n, "min_calls");
      c_.error(at != nullptr ? *at : n, "min_calls (" + std::to_string(b.min_calls) +
                                            ") exceeds the window size (" + std::to_string(b.size) +
                                            "): the breaker could never open");
    }
    return b;
  }

  // The plan's traffic, and (merged over it) a failure mode's own.
  void read_traffic(const ynode& n, traffic_config& t) {
    t.where = c_.where(n);
    if (!c_.expect_map(n)) return;
    const auto before = c_.error_count();
    c_.check_keys(n, {"endpoint", "profile", "rate", "from", "burst", "think_time", "concurrency", "duration", "webhooks"});
    c_.with_required(n, "endpoint", [&](const ynode& v) {
      if (auto id = c_.get_string(v); id && check_ref(v, *id, endpoint_ids_, "endpoint")) t.endpoint = *id;
    });
    c_.with(n, "concurrency",
            [&](const ynode& v) {
              const auto most = static_cast<long long>(c_.limits.concurrency);
              assign(t.concurrency,
                     c_.get_int(v, 1, most,
                                "an integer from 1 to " + std::to_string(most) +
                                    " (the cap --limit concurrency=N sets)"));
            });
    c_.with_required(n, "duration", [&](const ynode& v) { assign(t.duration, c_.get_duration(v, true)); });
    read_traffic_profile(n, t, before);
    if (c_.error_count() == before) check_planned_requests(n, t);
    c_.with(n, "webhooks", [&](const ynode& v) { read_webhook_streams(v, t.webhooks); });
  }

  // `profile` and the keys that go with it. A key of another profile is an error naming this one:
  // `from` under a constant profile is a ramp that forgot to say so.
  // Rules across keys are checked only while `errors_before` says the rest of the section decoded.
  void read_traffic_profile(const ynode& n, traffic_config& t, std::size_t errors_before) {
    bool known = true;
    c_.with(n, "profile", [&](const ynode& v) {
      const auto p = c_.get_enum(v, all_traffic_profiles, "traffic profile");
      if (p) t.profile = *p;
      known = p.has_value();
    });
    if (!known) return;
    const bool written = c_.find(n, "profile") != nullptr;
    const std::string name(to_string(t.profile));
    for (const auto& [key, owner] : traffic_profile_keys) {
      if (owner == t.profile) continue;
      c_.error_at_key(n, key, "key '" + std::string(key) + "' does not belong to profile " + name +
                                  (written ? "" : " (the default)") + "; only " + std::string(to_string(owner)) +
                                  " takes it");
    }
    // closed_loop reads a rate it ignores (lint says so), so that `--set traffic.profile=closed_loop`
    // works on a plan that writes one.
    if (t.profile == traffic_profile::closed_loop) {
      c_.with(n, "rate", [&](const ynode& v) { assign(t.rate, c_.get_rate(v)); });
    } else {
      c_.with_required(n, "rate", [&](const ynode& v) { assign(t.rate, c_.get_rate(v)); });
    }
    switch (t.profile) {
      case traffic_profile::constant: break;
      case traffic_profile::ramp:
        c_.with_required(n, "from", [&](const ynode& v) { assign(t.from, c_.get_rate(v)); });
        break;
      case traffic_profile::burst: {
        const bool rest_ok = c_.error_count() == errors_before;
        c_.with_required(n, "burst", [&](const ynode& v) { read_burst(v, t, rest_ok); });
        break;
      }
      case traffic_profile::closed_loop:
        c_.with(n, "think_time", [&](const ynode& v) { assign(t.think_time, c_.get_duration(v)); });
        break;
    }
  }

  // `rest_ok`: the section's rate and duration decoded, so the burst can be checked against them.
  void read_burst(const ynode& n, traffic_config& t, bool rest_ok) {
    if (!c_.expect_map(n)) return;
    auto& b = t.burst;
    c_.check_keys(n, {"rate", "every", "length", "at"});
    const bool rate_ok = c_.with_required(n, "rate", [&](const ynode& v) { assign(b.rate, c_.get_rate(v)); });
    const bool every_ok =
        c_.with_required(n, "every", [&](const ynode& v) { assign(b.every, c_.get_duration(v, true)); });
    const bool length_ok =
        c_.with_required(n, "length", [&](const ynode& v) { assign(b.length, c_.get_duration(v, true)); });
    c_.with(n, "at", [&](const ynode& v) { assign(b.at, c_.get_duration(v)); });
    auto scoped_error = [&](std::string_view key, const std::string& message) {
      auto s = c_.enter(key);
      c_.error(*c_.find(n, key), message);
    };
    if (rest_ok && rate_ok && b.rate > 0 && b.rate <= t.rate) {
      scoped_error("rate", "a burst of " + core::format_number(b.rate) + "/s is not above the base rate of " +
                               core::format_number(t.rate) + "/s (traffic.rate): it would be no burst");
    }
    if (every_ok && length_ok && b.every > duration::zero() && b.length > duration::zero() && b.length >= b.every) {
      scoped_error("length", "a burst of " + core::format_duration(b.length) + " every " +
                                 core::format_duration(b.every) + " never ends: length must be shorter than every");
    }
    if (rest_ok && c_.find(n, "at") != nullptr && b.at >= t.duration) {
      scoped_error("at", "the first burst at " + core::format_duration(b.at) + " starts after the traffic ends (" +
                             core::format_duration(t.duration) + "): there would be no burst");
    }
  }

  // A run keeps every request it plans; a traffic section that plans millions more is a typo.
  void check_planned_requests(const ynode& n, const traffic_config& t) {
    const double due = requests_due(t, t.duration);
    if (due <= static_cast<double>(max_planned_requests)) return;
    c_.error(n, "plans " + core::format_number(std::ceil(due)) + " requests over " +
                    core::format_duration(t.duration) + ", more than the " +
                    std::to_string(max_planned_requests) +
                    " a run may send: lower the rate or shorten the duration");
  }

  // A failure mode's `traffic`: its keys merged over the plan's traffic, read like it. When it
  // names another profile, the plan's keys of the plan's profile are left out of the merge.
  void read_mode_traffic(const ynode& overlay, failure_mode& f) {
    if (!c_.expect_map(overlay)) return;
    // With the plan's own traffic broken, a merge would only repeat its errors.
    if (traffic_node_ == nullptr) return;
    read_traffic(merged_.emplace_back(merge(with_mode_traffic_profile(*traffic_node_, overlay), overlay)),
                 f.traffic.emplace());
  }

  void read_webhook_streams(const ynode& n, std::vector<webhook_stream>& out) {
    if (!c_.expect_list(n, "webhook streams")) return;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      auto s = c_.enter(i);
      const ynode& item = n.items[i];
      webhook_stream w;
      w.where = c_.where(item);
      if (!c_.expect_map(item)) continue;
      c_.check_keys(item, {"endpoint", "rate", "duration", "in_flight"});
      c_.with_required(item, "endpoint", [&](const ynode& v) {
        auto id = c_.get_string(v);
        if (!id || !check_ref(v, *id, endpoint_ids_, "endpoint")) return;
        if (const auto* e = plan_.find_endpoint(*id); e != nullptr && e->direction != endpoint_direction::inbound) {
          c_.error(v, "'" + *id + "' is not an inbound endpoint: webhook streams deliver to the endpoints the provider calls");
          return;
        }
        for (const auto& other : out) {
          if (other.endpoint == *id) c_.error(v, "a second webhook stream for '" + *id + "'");
        }
        w.endpoint = *id;
      });
      c_.with_required(item, "rate", [&](const ynode& v) { assign(w.rate, c_.get_rate(v)); });
      c_.with(item, "duration", [&](const ynode& v) {
        if (auto d = c_.get_duration(v, true)) w.duration = *d;
      });
      c_.with(item, "in_flight", [&](const ynode& v) { assign(w.in_flight, c_.get_int(v, 1, 1000, "an integer from 1 to 1000")); });
      out.push_back(std::move(w));
    }
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
      c_.check_keys(item,
                    {"id", "description", "detection", "response", "recovery", "alerting", "user_impact",
                     "degradation", "observability", "consistency", "compensation", "inject", "expect",
                     "traffic"});
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
            std::pair{"alerting", &f.alerting}, std::pair{"user_impact", &f.user_impact},
            std::pair{"degradation", &f.degradation}, std::pair{"consistency", &f.consistency},
            std::pair{"compensation", &f.compensation}}) {
        c_.with(item, key, [&, field = field](const ynode& v) { assign(*field, c_.get_string(v)); });
      }
      c_.with(item, "observability", [&](const ynode& v) {
        if (!c_.expect_map(v)) return;
        auto& o = f.observability.emplace();
        o.where = c_.where(v);
        c_.check_keys(v, {"logs", "correlation_id", "metrics"});
        c_.with(v, "logs", [&](const ynode& x) { assign(o.logs, c_.get_string_list(x)); });
        c_.with(v, "correlation_id",
                [&](const ynode& x) { assign(o.correlation_id, c_.get_nonempty_string(x)); });
        c_.with(v, "metrics", [&](const ynode& x) { assign(o.metrics, c_.get_string_list(x)); });
      });
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
      c_.with(item, "traffic", [&](const ynode& v) { read_mode_traffic(v, f); });
      const bool has_lost = std::any_of(f.expect.begin(), f.expect.end(),
                                        [](const expectation& x) { return x.name == "lost"; });
      if (!has_lost) f.expect.push_back({"lost", comparison::eq, 0, false, {}, "0", true, f.where});
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

    // Which keys this fault takes. A kind the format does not type yet takes anything (a later
    // version validates it); when the fault is unknown, accept any kind's keys rather than pile on errors.
    const std::vector<std::string_view>* specific = nullptr;
    for (const auto& k : fault_specific_keys()) {
      if (entry != nullptr && k.kind == entry->name) specific = &k.keys;
    }
    const bool open = entry != nullptr && specific == nullptr;
    std::vector<std::string_view> allowed = fault_common_keys;
    for (const auto& k : fault_specific_keys()) {
      if (entry == nullptr || &k.keys == specific) {
        for (auto key : k.keys) {
          if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) allowed.push_back(key);
        }
      }
    }
    for (const yentry* e : c_.unique_entries(n)) {
      const auto& key = e->key.text;
      if (open) {
        if (std::find(fault_common_keys.begin(), fault_common_keys.end(), key) == fault_common_keys.end()) {
          auto s = c_.enter(key);
          c_.check_opaque(e->value);
          f.params[key] = c_.to_json(e->value, false);
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
    c_.with(n, "during", [&](const ynode& v) { read_windows(v, f.during); });
    for (auto [key, field] : {std::pair{"first", &f.first}, std::pair{"every", &f.every}, std::pair{"after", &f.after}}) {
      c_.with(n, key, [&, field = field](const ynode& v) {
        if (auto count = c_.get_int(v, 1, INT_MAX, "a count >= 1")) *field = static_cast<std::uint64_t>(*count);
      });
    }
    c_.with(n, "endpoint", [&](const ynode& v) {
      if (auto id = c_.get_string(v); id && check_ref(v, *id, endpoint_ids_, "endpoint")) f.endpoint = *id;
    });

    if (entry == nullptr || open) return f;
    auto read_retry_after = [&] {
      c_.with(n, "retry_after", [&](const ynode& v) {
        if (auto d = c_.get_duration(v)) f.retry_after = *d;
      });
      c_.with(n, "retry_after_format", [&](const ynode& v) {
        assign(f.retry_after_as,
               c_.get_enum(v, std::array{retry_after_format::seconds, retry_after_format::http_date},
                           "Retry-After format"));
      });
      if (!f.retry_after) c_.error_at_key(n, "retry_after_format", "retry_after_format applies only with retry_after");
    };
    if (f.kind == "status") {
      c_.with_required(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
      read_retry_after();
    } else if (f.kind == "latency") {
      c_.with_required(n, "latency", [&](const ynode& v) { read_latency(v, f.latency); });
    } else if (f.kind == "close") {
      c_.with(n, "after_bytes", [&](const ynode& v) {
        if (auto b = c_.get_int(v, 0, INT_MAX, "a byte count >= 0")) f.after_bytes = static_cast<std::size_t>(*b);
      });
    } else if (f.kind == "slow_body") {
      c_.with(n, "chunks", [&](const ynode& v) { assign(f.chunks, c_.get_int(v, 1, 10'000, "a count 1..10000")); });
      c_.with(n, "over", [&](const ynode& v) { assign(f.over, c_.get_duration(v, true)); });
    } else if (f.kind == "malformed") {
      c_.with(n, "malformed", [&](const ynode& v) {
        assign(f.malformed, c_.get_enum(v,
                                        std::array{malformation::truncated, malformation::invalid_utf8,
                                                   malformation::wrong_content_type,
                                                   malformation::wrong_content_length},
                                        "malformation"));
      });
    } else if (f.kind == "schema_drift") {
      read_drift(n, f);
    } else if (f.kind == "rate_limit") {
      f.status = 429;
      c_.with_required(n, "limit", [&](const ynode& v) { assign(f.limit, c_.get_rate(v)); });
      c_.with(n, "burst", [&](const ynode& v) { assign(f.burst, c_.get_int(v, 1, 1'000'000, "a bucket size >= 1")); });
      c_.with(n, "key", [&](const ynode& v) {
        auto key = c_.get_string(v);
        if (!key) return;
        const bool header = key->starts_with("header:") && is_token(std::string_view(*key).substr(7));
        if (*key == "credential" || *key == "global" || header) {
          f.limit_key = *key;
        } else {
          c_.error(v, "expected credential, global or header:NAME, got " + describe(v));
        }
      });
      c_.with(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
    } else if (f.kind == "outage") {
      c_.with(n, "mode", [&](const ynode& v) {
        assign(f.outage, c_.get_enum(v, std::array{outage_mode::status, outage_mode::reset}, "outage mode"));
      });
      c_.with(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
      read_retry_after();
      if (f.outage == outage_mode::reset) {
        for (const char* key : {"status", "retry_after"})
          c_.error_at_key(n, key, std::string(key) + " does not apply to an outage in mode reset (connections are reset)");
      }
      c_.with(n, "up", [&](const ynode& v) {
        if (auto d = c_.get_duration(v, true)) f.up = *d;
      });
      c_.with(n, "down", [&](const ynode& v) {
        if (auto d = c_.get_duration(v, true)) f.down = *d;
      });
      if (f.up.has_value() != f.down.has_value()) {
        c_.error(n, "flapping needs both up and down (e.g. up: 5s, down: 2s)");
      }
    } else if (f.kind == "auth_expiry") {
      f.status = 401;
      c_.with(n, "expire_after", [&](const ynode& v) {
        if (auto d = c_.get_duration(v, true)) f.expire_after = *d;
      });
    } else if (f.kind == "token_endpoint_down") {
      c_.with(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
      read_retry_after();
      c_.with(n, "delay", [&](const ynode& v) {
        if (auto d = c_.get_duration(v, true)) f.delay = *d;
      });
      // Only a delay: the token endpoint is slow but answers; otherwise it fails (503 unless said).
      if (f.delay && !c_.find(n, "status")) f.status = 0;
    } else if (f.kind == "pagination") {
      read_page_breakage(n, f);
    } else if (f.kind == "tls") {
      f.status = 0;
      c_.with_required(n, "tls", [&](const ynode& v) {
        assign(f.tls, c_.get_enum(v,
                                  std::array{handshake_fault::expired_certificate, handshake_fault::wrong_host_certificate,
                                             handshake_fault::untrusted_certificate,
                                             handshake_fault::no_client_certificate_required,
                                             handshake_fault::reject_client_certificate},
                                  "TLS fault"));
      });
      c_.error_at_key(n, "endpoint",
                      "endpoint does not apply to a tls fault: the handshake happens before a request names its "
                      "endpoint (the fault picks connections)");
    }
    return f;
  }

  // `{fault: pagination, breakage: invalid_cursor, status: 400, error_code: INVALID_QUERY_LOCATOR}`:
  // only paginated endpoints serve pages, so the fault must be able to reach one.
  void read_page_breakage(const ynode& n, fault& f) {
    f.status = 400;
    bool known = false;
    c_.with_required(n, "breakage", [&](const ynode& v) {
      auto b = c_.get_enum(v,
                           std::array{page_breakage::invalid_cursor, page_breakage::short_page,
                                      page_breakage::repeated_page, page_breakage::shifted_page},
                           "page breakage");
      known = b.has_value();
      assign(f.breakage, std::move(b));
    });
    if (known && f.breakage != page_breakage::invalid_cursor) {
      for (const char* key : {"status", "error_code"}) {
        c_.error_at_key(n, key,
                        std::string(key) + " applies only to breakage invalid_cursor (" +
                            std::string(to_string(f.breakage)) + " answers the page with its success status)");
      }
    } else {
      c_.with(n, "status", [&](const ynode& v) { assign(f.status, c_.get_status(v)); });
      c_.with(n, "error_code", [&](const ynode& v) { assign(f.error_code, c_.get_nonempty_string(v)); });
    }
    if (f.endpoint) {
      const auto* e = plan_.find_endpoint(*f.endpoint);
      if (e != nullptr && !e->pagination) {
        c_.with(n, "endpoint", [&](const ynode& v) {
          c_.error(v, "a pagination fault needs a paginated endpoint, and endpoint '" + *f.endpoint +
                          "' has no `pagination`");
        });
      }
    } else if (endpoint_ids_.complete &&
               std::none_of(plan_.endpoints.begin(), plan_.endpoints.end(),
                            [](const endpoint& e) { return e.pagination.has_value(); })) {
      c_.error(n, "a pagination fault needs a paginated endpoint, and no endpoint of the plan has `pagination`");
    }
  }

  // `during: [10s, 40s]`, or several windows: `during: [[10s, 20s], [30s, 40s]]`.
  void read_windows(const ynode& v, std::vector<time_window>& out) {
    const char* shape = "expected [FROM, TO] (two durations such as [10s, 40s]) or a list of them, got ";
    if (!v.is_sequence() || v.items.empty()) {
      c_.error(v, shape + describe(v));
      return;
    }
    auto read_one = [&](const ynode& w) {
      if (!w.is_sequence() || w.items.size() != 2) {
        c_.error(w, shape + describe(w));
        return;
      }
      std::optional<duration> from, to;
      {
        auto s = c_.enter(std::size_t{0});
        from = c_.get_duration(w.items[0]);
      }
      {
        auto s = c_.enter(std::size_t{1});
        to = c_.get_duration(w.items[1]);
      }
      if (!from || !to) return;
      if (*from >= *to) {
        c_.error(w, "the window must end after it starts, got [" + w.items[0].text + ", " + w.items[1].text + "]");
        return;
      }
      out.push_back({*from, *to});
    };
    if (v.items.front().is_sequence()) {
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        read_one(v.items[i]);
      }
    } else {
      read_one(v);
    }
  }

  // `latency: 100ms`, or `{distribution: uniform, min: 50ms, max: 300ms}`,
  // `{distribution: lognormal, median: 200ms, sigma: 0.8, cap: 5s}`, `{distribution: fixed, value: 1s}`.
  void read_latency(const ynode& v, latency_spec& out) {
    if (v.is_scalar()) {
      assign(out.value, c_.get_duration(v));
      return;
    }
    if (!c_.expect_map(v)) return;
    bool known = false;
    c_.with_required(v, "distribution", [&](const ynode& x) {
      auto d = c_.get_enum(x, std::array{latency_distribution::fixed, latency_distribution::uniform,
                                         latency_distribution::lognormal},
                           "latency distribution");
      known = d.has_value();
      assign(out.distribution, std::move(d));
    });
    if (!known) {
      c_.check_opaque(v);
      return;
    }
    switch (out.distribution) {
      case latency_distribution::fixed:
        c_.check_keys(v, {"distribution", "value", "cap"});
        c_.with_required(v, "value", [&](const ynode& x) { assign(out.value, c_.get_duration(x)); });
        break;
      case latency_distribution::uniform: {
        c_.check_keys(v, {"distribution", "min", "max", "cap"});
        c_.with_required(v, "min", [&](const ynode& x) { assign(out.min, c_.get_duration(x)); });
        bool max_ok = c_.with_required(v, "max", [&](const ynode& x) { assign(out.max, c_.get_duration(x)); });
        if (max_ok && out.max < out.min) c_.error(*c_.find(v, "max"), "max is below min");
        break;
      }
      case latency_distribution::lognormal:
        c_.check_keys(v, {"distribution", "median", "sigma", "cap"});
        c_.with_required(v, "median", [&](const ynode& x) { assign(out.median, c_.get_duration(x, true)); });
        c_.with(v, "sigma", [&](const ynode& x) {
          auto sigma = c_.get_number(x);
          if (sigma && (*sigma <= 0 || *sigma > 5)) {
            c_.error(x, "expected a sigma in (0, 5], got " + describe(x));
            return;
          }
          assign(out.sigma, std::move(sigma));
        });
        // A lognormal tail is unbounded; the cap keeps one draw from holding a connection for hours.
        c_.with_required(v, "cap", [&](const ynode& x) {
          if (auto d = c_.get_duration(x, true)) out.cap = *d;
        });
        return;
    }
    c_.with(v, "cap", [&](const ynode& x) {
      if (auto d = c_.get_duration(x, true)) out.cap = *d;
    });
  }

  // Schema drift edits fields of the response example: `drop: [a.b]`, `rename: {a: b}`,
  // `retype: {a: string}`, `add: [a.c]`.
  void read_drift(const ynode& n, fault& f) {
    const auto before = c_.error_count();
    c_.with(n, "drop", [&](const ynode& v) {
      if (!c_.expect_list(v, "field paths")) return;
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        if (auto path = c_.get_field_path(v.items[i])) f.drop.push_back(*path);
      }
    });
    c_.with(n, "add", [&](const ynode& v) {
      if (!c_.expect_list(v, "field paths")) return;
      for (std::size_t i = 0; i < v.items.size(); ++i) {
        auto s = c_.enter(i);
        if (auto path = c_.get_field_path(v.items[i])) f.add.push_back(*path);
      }
    });
    c_.with(n, "rename", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      for (const yentry* e : c_.unique_entries(v)) {
        auto s = c_.enter(e->key.text);
        auto from = c_.get_field_path(e->key);
        auto to = c_.get_field_path(e->value);
        if (from && to) f.rename.push_back({*from, *to});
      }
    });
    c_.with(n, "retype", [&](const ynode& v) {
      if (!c_.expect_map(v)) return;
      for (const yentry* e : c_.unique_entries(v)) {
        auto s = c_.enter(e->key.text);
        auto field = c_.get_field_path(e->key);
        auto type = c_.get_choice(e->value, {"string", "number", "integer", "boolean", "null", "object", "array"},
                                  "JSON type");
        if (field && type) f.retype.push_back({*field, *type});
      }
    });
    if (f.drop.empty() && f.rename.empty() && f.retype.empty() && f.add.empty() && c_.error_count() == before)
      c_.error(n, "schema_drift needs at least one of drop, rename, retype or add");
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
    const auto* entry = find_expectation(x.name);
    if (entry != nullptr && entry->value == expectation_value::boolean) {
      auto b = c_.get_bool(v);
      if (!b) return false;
      x.op = comparison::eq;
      x.boolean = *b;
      x.value = *b ? 1 : 0;
      x.text = v.text;
      return true;
    }
    if (entry != nullptr && entry->value == expectation_value::text) {
      // detected_as: an error class (`timeout`, `schema_error`...) or an HTTP status.
      const auto word = v.is_scalar() ? std::string(trim(v.text)) : std::string();
      const auto status = parse_integer(word);
      if (!core::parse_error_class(word) && !(status && *status >= 100 && *status <= 599)) {
        std::string known;
        for (const auto c : core::named_error_classes) known += (known.empty() ? "" : ", ") + std::string(core::to_string(c));
        c_.error(v, "expected an error class (" + known + ") or an HTTP status, got " + describe(v));
        return false;
      }
      x.op = comparison::eq;
      x.word = word;
      x.text = v.text;
      return true;
    }
    const bool is_ratio = entry != nullptr && entry->value == expectation_value::ratio;
    const bool is_duration = entry != nullptr && entry->value == expectation_value::duration;
    const bool is_factor = entry != nullptr && entry->value == expectation_value::factor;
    const bool is_rate = entry != nullptr && entry->value == expectation_value::rate;
    const char* expected = is_ratio      ? "a ratio or a comparison such as '>= 0.99' or '>= 99%'"
                           : is_duration ? "a duration or a comparison such as '<= 45s'"
                           : is_factor   ? "a number or a comparison such as '<= 1.5'"
                           : is_rate     ? "a rate or a comparison such as '<= 40/s'"
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
    } else if (is_duration) {
      // Kept in milliseconds of plan time, as the report shows durations.
      auto d = core::parse_duration(rest);
      if (!d) return fail();
      x.value = core::to_millis(*d);
    } else if (is_factor) {
      auto n = core::parse_number(rest);
      if (!n || *n < 0) return fail();
      x.value = *n;
    } else if (is_rate) {
      auto r = core::parse_rate(rest);
      if (!r) return fail();
      x.value = *r;
    } else {
      auto count = parse_integer(rest);
      if (!count || *count < 0) return fail();
      x.value = static_cast<double>(*count);
    }
    // A bare value reads as the natural bound: at least this success rate, at most this many attempts.
    x.op = op.value_or(is_ratio                                                         ? comparison::ge
                       : x.name == "max_attempts" || is_duration || is_factor || is_rate ? comparison::le
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
        c_.with(item, key, [&, field = field](const ynode& v) { assign(*field, c_.get_string_list(v)); });
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
          p.retry_settings =
              read_retry(merged_.emplace_back(merge(with_phase_breaker_mode(*retry_node_, overlay), overlay)));
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
  const ynode* traffic_node_ = nullptr;  // the plan's traffic, when it decoded cleanly
  std::deque<ynode> merged_;           // phase retries, failure mode traffic: the context keeps pointers to their maps
};

// ---------------------------------------------------------------------------------------------------
// Counting documents.
//
// yaml-cpp 0.7's LoadAll can hand back the same empty document forever on input it cannot read, such
// as a stray ',' (jbeder/yaml-cpp#1040; fixed upstream by #1319), allocating until the process is
// killed. Documents are counted with a parser that must move forward, and only the first is loaded.

class document_counter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    seen_node_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

  YAML::Mark start;  // the document's root node, or where the document starts when it has none

 private:
  void node(const YAML::Mark& mark) {
    if (!seen_node_) start = mark;
    seen_node_ = true;
  }

  bool seen_node_ = false;
};

struct document_scan {
  std::size_t count = 0;
  YAML::Mark second;  // where the second document starts
};

// Throws YAML::Exception for what the parser rejects, and for a parser that stops making progress.
document_scan scan_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  document_counter counter;
  document_scan out;
  std::optional<int> previous;
  while (parser.HandleNextDocument(counter)) {
    const YAML::Mark start = counter.start;
    if (previous && *previous == start.pos) {
      const auto at = static_cast<std::size_t>(start.pos);
      const std::string what = at < text.size() ? "'" + text.substr(at, 1) + "'" : "the end of the input";
      throw YAML::ParserException(start, "unexpected " + what);
    }
    previous = start.pos;
    if (++out.count == 2) out.second = start;
  }
  return out;
}

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

ynode parse_override_value(const std::string& text, const core::limits& limits) {
  try {
    const auto scan = scan_documents(text);
    if (scan.count == 0) return fresh_node(ynode::kind::null);
    if (scan.count == 1) return tree_converter(true, limits).convert(YAML::Load(text));
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
std::string apply_override(ynode& root, const override_value& o, const core::limits& limits) {
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
    if (last) *next = parse_override_value(o.value, limits);
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

// Every written element by path, for lint and anything else that reports against the plan after loading.
void record_written(const ynode& n, const std::string& path, const context& c,
                    std::map<std::string, integration_plan::written_node, std::less<>>& out) {
  if (n.is_sequence()) {
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const auto item = path + "[" + std::to_string(i) + "]";
      const ynode& v = n.items[i];
      out.emplace(item, integration_plan::written_node{c.where(v), v.is_scalar() ? std::optional(v.text) : std::nullopt});
      record_written(v, item, c, out);
    }
  } else if (n.is_map()) {
    for (const auto& e : n.entries) {
      if (!e.key.is_scalar()) continue;
      const auto child = path.empty() ? e.key.text : path + "." + e.key.text;
      // The first of duplicate keys, as decoding reads it.
      const ynode& v = e.value;
      out.emplace(child, integration_plan::written_node{c.where(v.is_scalar() ? v : e.key),
                                                        v.is_scalar() ? std::optional(v.text) : std::nullopt});
      record_written(v, child, c, out);
    }
  }
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
  document_scan scan;
  YAML::Node doc;
  try {
    const std::string copy(text);
    scan = scan_documents(copy);
    if (scan.count == 1) doc = YAML::Load(copy);
  } catch (const YAML::Exception& e) {
    throw diagnostic_error(at_mark(file, e.mark, "invalid YAML: " + e.msg));
  }
  if (scan.count == 0 || (scan.count == 1 && doc.IsNull())) {
    throw diagnostic_error(diagnostic{{file, 0, 0}, severity::error, "the plan is empty", {}});
  }
  if (scan.count > 1) {
    throw diagnostic_error(at_mark(
        file, scan.second, "a plan is one YAML document; this file has " + std::to_string(scan.count)));
  }
  ynode root;
  try {
    root = tree_converter(false, options.limits).convert(doc);
  } catch (const tree_too_large& e) {
    throw diagnostic_error(at_mark(file, e.mark, e.message));
  }

  context c(file, options.limits);
  if (!root.is_map()) {
    c.error(root,
            "a plan is a map with keys such as planproof, integration and endpoints, got " + describe(root));
    throw diagnostic_error(c.diagnostics());
  }
  for (const auto& o : options.overrides) {
    if (auto why = apply_override(root, o, options.limits); !why.empty()) {
      c.error(core::source_location{"--set", 0, 0}, "cannot apply '" + o.key_path + "': " + why);
    }
  }

  integration_plan plan;
  plan.file = file;
  plan_reader(c, plan).read(root);
  if (c.error_count() > 0) throw diagnostic_error(sorted_unique(std::move(c.diagnostics())));
  record_written(root, "", c, plan.written);
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
  if (text.size() > options.limits.plan_size) {
    throw diagnostic_error(diagnostic{{file_name, 0, 0}, severity::error,
                                      "the plan is larger than " + core::format_size(options.limits.plan_size) +
                                          "; a plan describes an integration, its data belongs elsewhere (" +
                                          core::limit_hint("plan_size") + ")",
                                      {}});
  }
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
  // Read up to one byte past the limit, never the whole of a file that is too large (nor a buffer
  // of the limit's size for a small one).
  const std::uint64_t most = options.limits.plan_size + 1;
  std::string text;
  char chunk[64 * 1024];
  while (text.size() < most && in) {
    in.read(chunk, static_cast<std::streamsize>(std::min<std::uint64_t>(sizeof chunk, most - text.size())));
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw cannot_read("read failed");
  return load_string(text, file, options);
}

}  // namespace planproof::plan
