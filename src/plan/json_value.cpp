#include "plan/json_value.hpp"

#include <charconv>

namespace planproof::plan {

namespace json = boost::json;

std::string_view json_type_name(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "boolean";
    case json::kind::int64:
    case json::kind::uint64: return "integer";
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "null";
}

std::optional<double> json_number(const json::value& v) noexcept {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

bool json_same(const json::value& a, const json::value& b) {
  auto x = json_number(a);
  auto y = json_number(b);
  if (x || y) return x && y && *x == *y;
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto& p = a.get_array();
    const auto& q = b.get_array();
    if (p.size() != q.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      if (!json_same(p[i], q[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto& p = a.get_object();
    const auto& q = b.get_object();
    if (p.size() != q.size()) return false;
    for (const auto& [key, value] : p) {
      const auto* other = q.if_contains(key);
      if (other == nullptr || !json_same(value, *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::string format_number(double d) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc{} ? std::string(buf, ptr) : std::to_string(d);
}

}  // namespace planproof::plan
