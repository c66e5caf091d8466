#include "client/response_mapping.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <regex>
#include <utility>
#include <variant>

#include "core/encoding.hpp"
#include "core/rfc3339.hpp"
#include "plan/json_text.hpp"
#include "plan/json_value.hpp"
#include "plan/schema_patterns.hpp"

namespace planproof::client {
namespace {

namespace json = boost::json;
using plan::field_type;
using plan::transform_kind;

// libstdc++'s std::regex recurses per character of the subject: a long one can overflow the stack.
// The schema checker skips such strings; a mapping validation refuses them instead, since a value
// it could not check must not pass as checked.
constexpr std::size_t max_regex_subject = 1000;

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  if (path.empty()) return out;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

std::string join_path(std::string_view base, std::string_view rest) {
  if (base.empty()) return std::string(rest);
  if (rest.empty()) return std::string(base);
  std::string out;
  out.reserve(base.size() + 1 + rest.size());
  out.append(base).append(".").append(rest);
  return out;
}

// --- values in messages ------------------------------------------------------------------------------

// A scalar as a short JSON text; cut at a character boundary so the message stays valid UTF-8.
std::string show(const json::value& v) {
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  if (v.is_string() && v.get_string().size() > 40) {
    std::string_view s = v.get_string();
    std::size_t cut = 36;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    std::string text = json::serialize(json::string(s.substr(0, cut)));
    text.pop_back();  // the closing quote
    return text + "...\"";
  }
  return plan::json_text(v);
}

// "string \"abc\"", "integer 5", "an object": what a value is, for "expected X, got ...".
std::string describe(const json::value& v) {
  if (v.is_array() || v.is_object()) return show(v);
  return std::string(plan::json_type_name(v)) + " " + show(v);
}

// --- text transforms (ASCII: the result must not depend on the process locale) ----------------------

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// --- the compiled plan --------------------------------------------------------------------------------

struct source_ref {
  std::string text;                   // as the plan wrote it
  std::string relative_text;          // relative to its base (the record, or the body)
  std::vector<std::string> segments;  // of relative_text
  bool in_record = true;              // read from the record; false: from the body (a list's envelope)
};

struct compiled_step {
  transform_kind kind = transform_kind::rename;
  std::vector<std::pair<std::string, std::string>> enum_map;  // sorted by key
  double factor = 1.0;
  std::vector<source_ref> sources;  // concat
  std::string separator;
};

struct compiled_validation {
  std::optional<double> min;
  bool min_exclusive = false;
  std::optional<double> max;
  bool max_exclusive = false;
  std::optional<std::string> regex_text;
  std::optional<std::regex> regex;  // none with regex_text set: the pattern did not compile
  std::vector<json::value> allowed;
  std::optional<int> min_length;
  std::optional<int> max_length;
};

struct compiled_field {
  std::string target_text;
  std::vector<std::string> target;
  std::optional<source_ref> source;
  field_type type = field_type::string;
  bool required = false;
  std::optional<json::value> default_value;
  std::vector<compiled_step> steps;
  std::optional<compiled_validation> validate;
  std::string suffix;  // " (target user.email)", appended to the field's messages
};

bool has_prefix(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

}  // namespace

namespace detail {

struct compiled_mapping {
  std::optional<json::value> schema;
  plan::schema_patterns patterns;  // of `schema`, compiled once rather than on every check
  bool has_mapping = false;
  std::vector<std::string> items;  // the records' array on a paginated endpoint; empty = not paginated
  std::string items_text;
  plan::unmapped_policy unmapped = plan::unmapped_policy::ignore;
  std::vector<std::string> preserve_to;
  std::string preserve_to_text;
  std::vector<compiled_field> fields;
  std::vector<std::string> mapped_keys;  // sorted: the record's top-level names some source reads
  bool whole_record_mapped = false;      // a source names the record itself
  // Whether a bare array body is a list of records: the schema says the body is an array, or there
  // is no schema to say otherwise. A single-record endpoint answering an array has drifted.
  bool array_body_is_list = true;
};

}  // namespace detail

namespace {

using compiled = detail::compiled_mapping;

// Issues up to the cap; beyond it only counted, and the callers skip building their text.
class issue_sink {
 public:
  explicit issue_sink(mapping_result& r) : r_(r) {}
  void unmapped_seen() noexcept { r_.unmapped_fields = true; }
  bool full() const noexcept { return r_.issues.size() >= response_mapper::max_issues; }
  template <class Path, class Message>
  void add(std::optional<std::size_t> record, Path&& path, Message&& message) {
    if (full()) {
      ++r_.more_issues;
      return;
    }
    r_.issues.push_back({std::string(path()), std::string(message()), record});
  }

 private:
  mapping_result& r_;
};

struct found {
  const json::value* value = nullptr;       // null when absent (or JSON null)
  std::size_t blocked = std::string::npos;  // segments before a value that is not an object
  const json::value* blocker = nullptr;
  bool null = false;  // absent because the body says null (on the way or at the end)
};

found lookup(const json::value& base, const std::vector<std::string>& segments) {
  const json::value* at = &base;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (at->is_null()) return {.null = true};
    if (!at->is_object()) return {nullptr, i, at};
    at = at->get_object().if_contains(segments[i]);
    if (at == nullptr) return {};
  }
  if (at->is_null()) return {.null = true};
  return {at};
}

// Maps one record (the whole body of a single-record endpoint) into `out`; false when it has issues.
class record_mapper {
 public:
  record_mapper(const compiled& c, issue_sink& sink, const json::value& body, const json::value& record,
                std::optional<std::size_t> index, std::string record_path)
      : c_(c), sink_(sink), body_(body), record_(record), index_(index), record_path_(std::move(record_path)) {}

  bool run(json::object& out) {
    if (!record_.is_object()) {
      issue([&] { return record_path_; }, [&] { return "expected an object, got " + describe(record_); });
      return false;
    }
    for (const auto& f : c_.fields) map_field(f, out);
    unmapped(out);
    return ok_;
  }

 private:
  template <class Path, class Message>
  void issue(Path&& path, Message&& message) {
    ok_ = false;
    sink_.add(index_, std::forward<Path>(path), std::forward<Message>(message));
  }

  std::string path_of(const source_ref& s) const {
    return s.in_record ? (record_path_.empty()      ? s.relative_text
                          : s.relative_text.empty() ? record_path_
                                                    : record_path_ + "." + s.relative_text)
                       : s.text;
  }

  // The field's place in the body for its issues: its source, or the record when it has none.
  std::string field_path(const compiled_field& f) const { return f.source ? path_of(*f.source) : record_path_; }

  // The value at `s` (null when absent), or an issue when something on the way is not an object.
  bool read(const source_ref& s, const compiled_field& f, const json::value*& value) {
    const auto r = lookup(s.in_record ? record_ : body_, s.segments);
    if (r.blocked != std::string::npos) {
      issue([&] { return path_of(s); },
            [&] {
              std::string on_the_way;
              for (std::size_t i = 0; i < r.blocked; ++i) on_the_way += (i == 0 ? "" : ".") + s.segments[i];
              return (on_the_way.empty() ? std::string("the record") : on_the_way) + " is " + describe(*r.blocker) +
                     ", not an object" + f.suffix;
            });
      return false;
    }
    value = r.value;
    null_ = r.null;
    return true;
  }

  void map_field(const compiled_field& f, json::object& out) {
    std::optional<json::value> value;
    null_ = false;
    auto step = f.steps.begin();
    if (step != f.steps.end() && step->kind == transform_kind::concat) {
      if (!concat(*step, f, value)) return;
      null_ = false;  // no part of it: "missing" whatever each part was
      ++step;
    } else if (f.source) {
      const json::value* v = nullptr;
      if (!read(*f.source, f, v)) return;
      if (v != nullptr) value.emplace(*v);
    }
    if (!value) {
      if (f.default_value) {
        value.emplace(*f.default_value);
        step = f.steps.end();  // a default is the target value as written
      } else {
        if (f.required) {
          issue([&] { return field_path(f); },
                [&] { return (null_ ? "required field is null" : "required field is missing") + f.suffix; });
        }
        return;
      }
    }
    for (; step != f.steps.end(); ++step) {
      if (!apply(*step, f, *value)) return;
    }
    if (!convert(f, *value)) return;
    if (f.validate && !validate(*f.validate, f, *value)) return;
    write(f.target, f.target_text, std::move(*value), out);
  }

  bool concat(const compiled_step& step, const compiled_field& f, std::optional<json::value>& value) {
    std::string text;
    bool any = false;
    for (const auto& s : step.sources) {
      const json::value* v = nullptr;
      if (!read(s, f, v)) return false;
      if (v == nullptr) continue;  // a missing part leaves no doubled separator behind
      if (v->is_array() || v->is_object()) {
        issue([&] { return path_of(s); },
              [&] { return "concat joins text, numbers and booleans, got " + describe(*v) + f.suffix; });
        return false;
      }
      if (any) text += step.separator;
      if (v->is_string()) {
        text += v->get_string();
      } else {
        text += plan::json_text(*v);
      }
      any = true;
    }
    if (any) value.emplace(json::string(text));
    return true;
  }

  bool fail(const compiled_field& f, std::string message) {
    issue([&] { return field_path(f); }, [&] { return std::move(message) + f.suffix; });
    return false;
  }

  bool apply(const compiled_step& step, const compiled_field& f, json::value& v) {
    const auto name = plan::to_string(step.kind);
    auto needs = [&](std::string_view what) {
      return fail(f, std::string(name) + " applies to " + std::string(what) + ", got " + describe(v));
    };
    switch (step.kind) {
      case transform_kind::rename:
      case transform_kind::concat:  // only first, handled before
        return true;
      case transform_kind::lowercase:
      case transform_kind::uppercase:
      case transform_kind::currency_upper: {
        if (!v.is_string()) return needs("text");
        auto& s = v.get_string();
        const bool lower = step.kind == transform_kind::lowercase;
        for (char& c : s) c = lower ? ascii_lower(c) : ascii_upper(c);
        return true;
      }
      case transform_kind::trim: {
        if (!v.is_string()) return needs("text");
        const auto t = trimmed(v.get_string());
        if (t.size() != v.get_string().size()) v = json::string(t);
        return true;
      }
      case transform_kind::unix_to_rfc3339: {
        std::optional<std::string> text;
        if (v.is_int64()) {
          text = core::format_timestamp(v.get_int64(), "");
        } else if (v.is_uint64()) {
          text = std::nullopt;  // beyond int64: far beyond year 9999
        } else if (v.is_double()) {
          const double d = v.get_double();
          if (std::isfinite(d) && std::fabs(d) < 1e15) {
            auto whole = static_cast<std::int64_t>(std::floor(d));
            auto millis = std::llround((d - std::floor(d)) * 1000);
            if (millis == 1000) {
              ++whole;
              millis = 0;
            }
            std::string fraction;
            if (millis != 0) {
              char buf[8];
              std::snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(millis));
              fraction = buf;
              while (fraction.back() == '0') fraction.pop_back();
            }
            text = core::format_timestamp(whole, fraction);
          }
        } else {
          return needs("unix seconds (a number)");
        }
        if (!text)
          return fail(f, "unix_to_rfc3339: " + show(v) + " is outside years 0000-9999 as unix seconds (milliseconds?)");
        v = json::string(*text);
        return true;
      }
      case transform_kind::rfc3339_to_unix: {
        if (!v.is_string()) return needs("RFC 3339 text");
        const auto t = core::parse_timestamp(v.get_string(), true);
        if (!t) return fail(f, "rfc3339_to_unix: " + show(v) + " is not an RFC 3339 timestamp");
        v = t->seconds;
        return true;
      }
      case transform_kind::enum_map: {
        if (v.is_array() || v.is_object()) return needs("text, numbers and booleans");
        const std::string key = v.is_string() ? std::string(v.get_string()) : plan::json_text(v);
        const auto it = std::lower_bound(step.enum_map.begin(), step.enum_map.end(), key,
                                         [](const auto& entry, const std::string& k) { return entry.first < k; });
        if (it == step.enum_map.end() || it->first != key) {
          return fail(f, [&] {
            std::string known;
            for (std::size_t i = 0; i < step.enum_map.size() && i < 8; ++i)
              known += (i == 0 ? "" : ", ") + step.enum_map[i].first;
            if (step.enum_map.size() > 8) known += ", ...";
            return "enum_map has no entry for " + show(v) + " (it maps " + known + ")";
          }());
        }
        v = json::string(it->second);
        return true;
      }
      case transform_kind::scale: {
        const auto n = plan::json_number(v);
        if (!n) return needs("numbers");
        double product = *n * step.factor;
        // 19.99 * 100 is 1998.9999999999998 in binary: neither the value nor the factor meant that
        // fraction, and an integer target would refuse it. Snap results within a few ULPs of a whole.
        const double whole = std::nearbyint(product);
        if (std::fabs(product - whole) <= 4 * std::numeric_limits<double>::epsilon() * std::fabs(product))
          product = whole;
        if (!std::isfinite(product)) return fail(f, "scale: " + show(v) + " times the factor overflows");
        v = product;
        return true;
      }
    }
    return true;
  }

  bool convert(const compiled_field& f, json::value& v) {
    auto expected = [&](std::string_view what) {
      return fail(f, "expected " + std::string(what) + ", got " + describe(v));
    };
    switch (f.type) {
      case field_type::string:
        return v.is_string() || expected("string");
      case field_type::number:
        return v.is_number() || expected("number");
      case field_type::boolean:
        return v.is_bool() || expected("boolean");
      case field_type::object:
        return v.is_object() || expected("object");
      case field_type::array:
        return v.is_array() || expected("array");
      case field_type::enum_:
        return (v.is_string() || v.is_number() || v.is_bool()) || expected("enum (a string, number or boolean)");
      case field_type::integer: {
        if (v.is_int64()) return true;
        if (v.is_uint64()) {
          if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return fail(f, "expected integer, got " + show(v) + " (outside the 64-bit signed range)");
          v = static_cast<std::int64_t>(v.get_uint64());
          return true;
        }
        if (v.is_double()) {
          const double d = v.get_double();
          if (std::floor(d) != d) return fail(f, "expected integer, got " + describe(v) + " (it has a fraction)");
          // 2^63 is exact in a double; anything from it on does not fit.
          if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return fail(f, "expected integer, got " + show(v) + " (outside the 64-bit signed range)");
          v = static_cast<std::int64_t>(d);
          return true;
        }
        return expected("integer");
      }
      case field_type::timestamp: {
        if (!v.is_string()) {
          if (v.is_number()) return expected("timestamp (RFC 3339 text; unix seconds need unix_to_rfc3339)");
          return expected("timestamp (RFC 3339 text)");
        }
        const auto t = core::parse_timestamp(v.get_string(), true);
        std::optional<std::string> normal = t ? core::format_timestamp(t->seconds, t->fraction) : std::nullopt;
        if (!normal) return expected("timestamp (RFC 3339 text)");
        if (*normal != v.get_string()) v = json::string(*normal);
        return true;
      }
      case field_type::date:
        if (v.is_string() && core::parse_date(v.get_string())) return true;
        return expected("date (YYYY-MM-DD, a day that exists)");
      case field_type::currency: {
        if (v.is_string()) {
          const std::string_view s = v.get_string();
          if (s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
            return true;
        }
        return expected("currency (an ISO 4217 code: three capital letters)");
      }
    }
    return true;
  }

  bool validate(const compiled_validation& check, const compiled_field& f, const json::value& v) {
    bool passed = true;
    auto refuse = [&](std::string message) { passed = fail(f, std::move(message)); };
    if (const auto n = plan::json_number(v)) {
      const std::string got = ", got " + show(v);
      if (check.min && (check.min_exclusive ? *n <= *check.min : *n < *check.min))
        refuse("expected a value " + std::string(check.min_exclusive ? ">" : ">=") + " " + plan::format_number(*check.min) +
               got);
      if (check.max && (check.max_exclusive ? *n >= *check.max : *n > *check.max))
        refuse("expected a value " + std::string(check.max_exclusive ? "<" : "<=") + " " + plan::format_number(*check.max) +
               got);
    }
    if (v.is_string()) {
      const std::string_view s = v.get_string();
      const auto length = core::utf8_length(s);
      if (check.min_length && length < static_cast<std::size_t>(*check.min_length))
        refuse("expected at least " + std::to_string(*check.min_length) + " characters, got " + std::to_string(length));
      if (check.max_length && length > static_cast<std::size_t>(*check.max_length))
        refuse("expected at most " + std::to_string(*check.max_length) + " characters, got " + std::to_string(length));
      if (check.regex_text) {
        if (!check.regex) {
          refuse("cannot check against the regex '" + *check.regex_text + "'");
        } else if (s.size() > max_regex_subject) {
          refuse("too long (" + std::to_string(s.size()) + " bytes) to check against the regex '" + *check.regex_text +
                 "'");
        } else {
          try {
            if (!std::regex_search(s.begin(), s.end(), *check.regex))
              refuse(show(v) + " does not match the regex '" + *check.regex_text + "'");
          } catch (const std::regex_error&) {
            refuse("cannot check " + show(v) + " against the regex '" + *check.regex_text + "'");
          }
        }
      }
    }
    if (!check.allowed.empty() && std::none_of(check.allowed.begin(), check.allowed.end(),
                                               [&](const json::value& a) { return plan::json_same(a, v); })) {
      std::string list;
      for (const auto& a : check.allowed) list += (list.empty() ? "" : ", ") + show(a);
      refuse("expected one of " + list + ", got " + show(v));
    }
    return passed;
  }

  // Puts `value` at the dotted `target` of `out`, making the objects on the way.
  void write(const std::vector<std::string>& target, const std::string& target_text, json::value value,
             json::object& out) {
    json::object* at = &out;
    for (std::size_t i = 0; i + 1 < target.size(); ++i) {
      auto& next = (*at)[target[i]];
      if (next.is_null()) next.emplace_object();
      if (!next.is_object()) {
        issue([&] { return record_path_; },
              [&] { return "target " + target_text + " runs through another target's value"; });
        return;
      }
      at = &next.get_object();
    }
    if (target.empty() || at->contains(target.back())) {
      issue([&] { return record_path_; }, [&] { return "target " + target_text + " is written twice"; });
      return;
    }
    at->emplace(target.back(), std::move(value));
  }

  void unmapped(json::object& out) {
    if (c_.unmapped == plan::unmapped_policy::ignore || c_.whole_record_mapped) return;
    const bool preserve = c_.unmapped == plan::unmapped_policy::preserve;
    json::object kept;
    for (const auto& [key, member] : record_.get_object()) {
      if (std::binary_search(c_.mapped_keys.begin(), c_.mapped_keys.end(), std::string_view(key), std::less<>{}))
        continue;
      if (preserve) {
        kept.emplace(key, member);
      } else {
        sink_.unmapped_seen();
        issue([&, key = key] { return join_path(record_path_, key); },
              [&] { return std::string("unmapped field (the mapping rejects fields it does not name)"); });
      }
    }
    if (preserve) write(c_.preserve_to, c_.preserve_to_text, std::move(kept), out);
  }

  const compiled& c_;
  issue_sink& sink_;
  const json::value& body_;
  const json::value& record_;
  std::optional<std::size_t> index_;
  std::string record_path_;
  bool ok_ = true;
  bool null_ = false;  // the field's source read null (a sharper message than "missing")
};

// The record a schema mismatch falls in: its path runs through the records' array and an index.
std::optional<std::size_t> record_of(const std::vector<std::variant<std::string, std::size_t>>& at,
                                     const std::vector<std::string>& items) {
  if (at.size() <= items.size()) return std::nullopt;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto* key = std::get_if<std::string>(&at[i]);
    if (key == nullptr || *key != items[i]) return std::nullopt;
  }
  if (const auto* index = std::get_if<std::size_t>(&at[items.size()])) return *index;
  return std::nullopt;
}

source_ref make_source(const std::string& text, const std::vector<std::string>& items) {
  source_ref s;
  s.text = text;
  auto segments = split_path(text);
  s.in_record = items.empty() || has_prefix(segments, items);
  if (s.in_record && !items.empty()) {
    segments.erase(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(items.size()));
    for (std::size_t i = 0; i < segments.size(); ++i) s.relative_text += (i == 0 ? "" : ".") + segments[i];
  } else {
    s.relative_text = text;
  }
  s.segments = std::move(segments);
  return s;
}

}  // namespace

std::string mapping_issue::str() const { return path.empty() ? message : path + ": " + message; }

std::string summarize(const std::vector<mapping_issue>& issues, std::size_t more) {
  std::string out;
  for (const auto& i : issues) {
    if (!out.empty()) out += "; ";
    out += i.str();
  }
  if (more > 0) out += (out.empty() ? "" : "; ") + std::string("and ") + std::to_string(more) + " more";
  return out;
}

const plan::data_mapping* received_mapping(const plan::integration_plan& plan, const plan::endpoint& e) noexcept {
  const auto direction = e.direction == plan::endpoint_direction::inbound ? plan::mapping_direction::request
                                                                          : plan::mapping_direction::response;
  for (const auto& m : plan.mapping) {
    if (m.endpoint == e.id && m.direction == direction) return &m;
  }
  return nullptr;
}

response_mapper::response_mapper(const plan::endpoint& endpoint, const plan::data_mapping* mapping) {
  auto c = std::make_unique<compiled>();
  const bool request = mapping != nullptr && mapping->direction == plan::mapping_direction::request;
  c->schema = request ? endpoint.request_schema : endpoint.response_schema;
  c->has_mapping = mapping != nullptr;
  if (c->schema) c->patterns = plan::schema_patterns(*c->schema);
  if (c->schema && c->schema->is_object()) {
    if (const auto* type = c->schema->get_object().if_contains("type")) {
      auto names_array = [](const json::value& t) { return t.is_string() && t.get_string() == "array"; };
      c->array_body_is_list = type->is_array()
                                  ? std::any_of(type->get_array().begin(), type->get_array().end(), names_array)
                                  : names_array(*type);
    }
  }

  // A paginated endpoint's records are its `items`; a mapping that reads nothing under them maps
  // the page as one record instead (its envelope, say).
  if (!request && endpoint.pagination && !endpoint.pagination->items.empty()) {
    auto items = split_path(endpoint.pagination->items);
    bool reads_records = mapping == nullptr;
    if (mapping != nullptr) {
      for (const auto& f : mapping->fields) {
        std::vector<std::string> sources;
        if (!f.source.empty()) sources.push_back(f.source);
        for (const auto& step : f.transform) sources.insert(sources.end(), step.sources.begin(), step.sources.end());
        for (const auto& s : sources) reads_records = reads_records || has_prefix(split_path(s), items);
      }
    }
    if (reads_records) {
      c->items = std::move(items);
      c->items_text = endpoint.pagination->items;
    }
  }

  if (mapping != nullptr) {
    c->unmapped = mapping->unmapped;
    c->preserve_to_text = mapping->preserve_to;
    c->preserve_to = split_path(mapping->preserve_to);
    auto note_mapped = [&](const source_ref& s) {
      if (!s.in_record) return;
      if (s.segments.empty()) {
        c->whole_record_mapped = true;
      } else {
        c->mapped_keys.push_back(s.segments.front());
      }
    };
    for (const auto& f : mapping->fields) {
      compiled_field cf;
      cf.target_text = f.target;
      cf.target = split_path(f.target);
      cf.type = f.type;
      cf.required = f.required;
      cf.default_value = f.default_value;
      cf.suffix = " (target " + f.target + ")";
      if (!f.source.empty()) {
        cf.source = make_source(f.source, c->items);
        note_mapped(*cf.source);
      }
      for (const auto& step : f.transform) {
        compiled_step cs;
        cs.kind = step.kind;
        cs.enum_map = step.enum_map;
        std::stable_sort(cs.enum_map.begin(), cs.enum_map.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        cs.factor = step.factor;
        cs.separator = step.separator;
        for (const auto& s : step.sources) {
          cs.sources.push_back(make_source(s, c->items));
          note_mapped(cs.sources.back());
        }
        cf.steps.push_back(std::move(cs));
      }
      if (f.validate) {
        const auto& v = *f.validate;
        compiled_validation cv;
        cv.min = v.min;
        cv.min_exclusive = v.min_exclusive;
        cv.max = v.max;
        cv.max_exclusive = v.max_exclusive;
        cv.regex_text = v.regex;
        if (v.regex) {
          try {
            cv.regex.emplace(*v.regex, std::regex::ECMAScript);
          } catch (const std::regex_error&) {
            // The loader refuses such a plan; a model built otherwise gets an issue per value instead.
          }
        }
        cv.allowed = v.allowed;
        cv.min_length = v.min_length;
        cv.max_length = v.max_length;
        cf.validate = std::move(cv);
      }
      c->fields.push_back(std::move(cf));
    }
    std::sort(c->mapped_keys.begin(), c->mapped_keys.end());
    c->mapped_keys.erase(std::unique(c->mapped_keys.begin(), c->mapped_keys.end()), c->mapped_keys.end());
  }
  impl_ = std::move(c);
}

response_mapper::~response_mapper() = default;
response_mapper::response_mapper(response_mapper&&) noexcept = default;
response_mapper& response_mapper::operator=(response_mapper&&) noexcept = default;

bool response_mapper::active() const noexcept { return impl_->schema.has_value() || impl_->has_mapping; }
bool response_mapper::paginated_records() const noexcept { return !impl_->items.empty(); }

mapping_result response_mapper::map(std::string_view body) const {
  if (!active()) return {};
  // Parsed into a per-call arena: the result copies what it keeps into its own storage.
  unsigned char buffer[4096];
  json::monotonic_resource arena(buffer, sizeof buffer);
  json::parse_options options;
  options.max_depth = max_depth;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec, &arena, options);
  if (ec) {
    mapping_result r;
    r.body_rejected = true;
    const std::string why = trimmed(body).empty() ? std::string("it is empty")
                            : ec == json::error::too_deep
                                ? "nested deeper than " + std::to_string(max_depth) + " levels"
                                : ec.message();
    r.issues.push_back({"", "body is not JSON: " + why, std::nullopt});
    return r;
  }
  return map_value(parsed);
}

mapping_result response_mapper::map_value(const json::value& body) const {
  mapping_result r;
  if (!active()) return r;
  const compiled& c = *impl_;
  issue_sink sink(r);

  // Where the records are: the paginated items, a bare array, or the body itself.
  const json::array* records = nullptr;
  std::vector<std::string> items_at = c.items;  // the path schema mismatches of a record start with
  if (!c.items.empty()) {
    r.list = true;
    const auto found_items = lookup(body, c.items);
    if (found_items.value != nullptr && found_items.value->is_array()) {
      records = &found_items.value->get_array();
    } else {
      r.body_rejected = true;
      sink.add(
          std::nullopt, [&] { return c.items_text; },
          [&] {
            return "expected the array of records (pagination items), got " +
                   (found_items.value != nullptr ? describe(*found_items.value) : std::string("nothing"));
          });
    }
  } else if (body.is_array() && c.array_body_is_list) {
    r.list = true;
    records = &body.get_array();
  }
  r.records = r.list ? (records != nullptr ? records->size() : 0) : 1;
  std::vector<bool> rejected(r.list ? r.records : 1, false);

  if (c.schema) {
    for (auto& m : plan::check_against_schema(*c.schema, body, c.patterns)) {
      const auto record = r.list ? record_of(m.at, items_at) : std::nullopt;
      if (record && *record < rejected.size()) {
        rejected[*record] = true;
      } else {
        r.body_rejected = true;
      }
      sink.add(
          record, [&] { return m.path(); }, [&] { return std::move(m.message); });
    }
  }

  if (!r.list) {
    if (c.has_mapping) {
      json::object out;
      if (!record_mapper(c, sink, body, body, std::nullopt, "").run(out)) rejected[0] = true;
      r.mapped = std::move(out);
    } else {
      r.mapped = body;
    }
    r.rejected = (rejected[0] || r.body_rejected) ? 1 : 0;
    r.body_rejected = r.body_rejected || rejected[0];
  } else if (records != nullptr) {
    json::array out;
    out.reserve(records->size());
    for (std::size_t i = 0; i < records->size(); ++i) {
      const auto& record = (*records)[i];
      if (c.has_mapping) {
        json::object mapped;
        std::string path = c.items_text + "[" + std::to_string(i) + "]";
        if (!record_mapper(c, sink, body, record, i, std::move(path)).run(mapped)) rejected[i] = true;
        out.emplace_back(rejected[i] ? json::value() : json::value(std::move(mapped)));
      } else {
        out.emplace_back(rejected[i] ? json::value() : record);
      }
    }
    r.rejected = static_cast<std::size_t>(std::count(rejected.begin(), rejected.end(), true));
    r.mapped = std::move(out);
  }
  if (r.body_rejected) r.mapped = nullptr;
  return r;
}

bool is_json_content_type(std::string_view content_type) noexcept {
  return content_type.empty() || content_type.find("json") != std::string_view::npos;
}

body_check check_success_body(const plan::endpoint& endpoint, const response_mapper* mapper,
                              std::string_view content_type, std::string_view body) {
  body_check c;
  const auto not_json = [&] { return "Content-Type " + std::string(content_type.substr(0, 100)) + " is not JSON"; };
  if (mapper != nullptr) {
    if (!is_json_content_type(content_type)) {
      c.error = core::error_class::schema_error;
      c.detail = not_json();
      return c;
    }
    const auto mapped = mapper->map(body);
    c.records = mapped.records;
    if (mapped.body_rejected || mapped.unmapped_fields) {
      // Nothing in the body can be used (a broken envelope, a single record that does not map), or
      // the upstream's shape changed under a mapping that rejects unknown fields: the attempt
      // failed, as the plan's retry_on judges it. Bad values in some records of a list are not a
      // failed answer: those records are set aside and the rest is used.
      c.error = core::error_class::schema_error;
      c.detail = mapped.summary();
    } else if (!mapped.ok()) {
      c.rejected = mapped.rejected;
      c.detail = mapped.summary();
    }
  } else if (endpoint.response_example) {
    // The endpoint promises a JSON body: a truncated or non-JSON one is a schema error even on 2xx.
    boost::system::error_code jec;
    boost::json::parse(body, jec);
    if (jec || !is_json_content_type(content_type)) {
      c.error = core::error_class::schema_error;
      c.detail = jec ? "body is not JSON: " + jec.message() : not_json();
    }
  }
  return c;
}

}  // namespace planproof::client
