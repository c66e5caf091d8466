#include "mocks/schema_drift.hpp"
#include "plan/json_text.hpp"

#include <functional>
#include <string_view>
#include <vector>

#include <boost/json/serialize.hpp>

namespace planproof::mocks {
namespace {

std::vector<std::string> split(std::string_view path) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// Calls `edit(object, last_key)` for every object that holds the path's last segment's parent.
void for_each_parent(boost::json::value& v, const std::vector<std::string>& path, std::size_t i,
                     const std::function<void(boost::json::object&, const std::string&)>& edit) {
  if (v.is_array()) {
    for (auto& item : v.get_array()) for_each_parent(item, path, i, edit);
    return;
  }
  if (!v.is_object()) return;
  auto& o = v.get_object();
  if (i + 1 == path.size()) {
    edit(o, path[i]);
    return;
  }
  if (auto* child = o.if_contains(path[i])) for_each_parent(*child, path, i + 1, edit);
}

// A value of `type` that is not the one it replaces, keeping what it can of the original.
boost::json::value retyped(const boost::json::value& old, std::string_view type) {
  if (type == "string") return boost::json::value(old.is_string() ? std::string(old.get_string()) + "!" : boost::json::serialize(old));
  if (type == "number") return 1.5;
  if (type == "integer") return 1;
  if (type == "boolean") return true;
  if (type == "object") return boost::json::object{};
  if (type == "array") return boost::json::array{};
  return nullptr;
}

}  // namespace

std::string drifted_body(const boost::json::value& example, const plan::fault& f) {
  boost::json::value body = example;
  for (const auto& field : f.drop) {
    for_each_parent(body, split(field), 0, [](boost::json::object& o, const std::string& key) { o.erase(key); });
  }
  for (const auto& r : f.rename) {
    const auto to = split(r.to).back();
    for_each_parent(body, split(r.from), 0, [&](boost::json::object& o, const std::string& key) {
      if (auto* v = o.if_contains(key)) {
        auto moved = std::move(*v);
        o.erase(key);
        o[to] = std::move(moved);
      }
    });
  }
  for (const auto& r : f.retype) {
    for_each_parent(body, split(r.field), 0, [&](boost::json::object& o, const std::string& key) {
      if (auto* v = o.if_contains(key)) *v = retyped(*v, r.type);
    });
  }
  for (const auto& field : f.add) {
    for_each_parent(body, split(field), 0, [](boost::json::object& o, const std::string& key) {
      if (!o.contains(key)) o[key] = "added";
    });
  }
  return plan::json_text(body);
}

}  // namespace planproof::mocks
