#include "core/limits.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <optional>

namespace planproof::core {
namespace {

constexpr std::uint64_t kib = 1024;
constexpr std::uint64_t mib = kib * 1024;
constexpr std::uint64_t gib = mib * 1024;

constexpr std::array catalog{
    limit_info{"plan_size", limit_unit::bytes, &limits::plan_size, gib, "bytes of a plan file"},
    // yaml-cpp refuses nesting past 2000 levels on its own; each level is a stack frame of ours.
    limit_info{"plan_depth", limit_unit::count, &limits::plan_depth, 1000, "levels of nesting in a plan"},
    limit_info{"plan_nodes", limit_unit::count, &limits::plan_nodes, 100'000'000,
               "nodes of a plan, aliases expanded"},
    limit_info{"concurrency", limit_unit::count, &limits::concurrency, 1'000'000,
               "the largest traffic.concurrency (requests in flight per client) a plan may ask"},
    // Beast counts a header limit in 32 bits.
    limit_info{"request_headers", limit_unit::bytes, &limits::request_headers, std::numeric_limits<std::uint32_t>::max(),
               "a request line and headers a mock accepts (431 beyond)"},
    limit_info{"request_body", limit_unit::bytes, &limits::request_body, gib,
               "a request body a mock accepts (413 beyond)"},
    limit_info{"connections", limit_unit::count, &limits::connections, 1'000'000,
               "open connections per mock (more are closed at once)"},
    limit_info{"response_headers", limit_unit::bytes, &limits::response_headers,
               std::numeric_limits<std::uint32_t>::max(),
               "an upstream answer's status line and headers the client and the proxy accept"},
    limit_info{"response_body", limit_unit::bytes, &limits::response_body, gib,
               "an upstream answer's body the client and the proxy accept"},
};

std::string names() {
  std::string out;
  for (const auto& info : catalog) {
    if (!out.empty()) out += ", ";
    out += info.name;
  }
  return out;
}

struct unit_suffix {
  std::string_view text;
  std::uint64_t factor;
};
constexpr std::array suffixes{
    unit_suffix{"KiB", kib}, unit_suffix{"MiB", mib}, unit_suffix{"GiB", gib}, unit_suffix{"kB", 1000},
    unit_suffix{"KB", 1000}, unit_suffix{"MB", 1000 * 1000}, unit_suffix{"GB", 1000 * 1000 * 1000},
    unit_suffix{"B", 1},
};

std::optional<std::uint64_t> parse_whole(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t factor = 1;
  for (const auto& s : suffixes) {
    if (text.size() > s.text.size() && text.ends_with(s.text)) {
      factor = s.factor;
      text.remove_suffix(s.text.size());
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
      break;
    }
  }
  const auto number = parse_whole(text);
  if (!number || *number > std::numeric_limits<std::uint64_t>::max() / factor) return std::nullopt;
  return *number * factor;
}

}  // namespace

std::span<const limit_info> limit_catalog() { return catalog; }

const limit_info* find_limit(std::string_view name) {
  for (const auto& info : catalog) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string set_limit(limits& into, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return "'" + std::string(assignment) + "' is not NAME=VALUE (e.g. --limit request_body=4MiB)";
  }
  const auto name = assignment.substr(0, eq);
  const auto text = assignment.substr(eq + 1);
  const auto* info = find_limit(name);
  if (info == nullptr) return "unknown limit '" + std::string(name) + "'; the limits are " + names();
  const bool bytes = info->unit == limit_unit::bytes;
  const auto value = bytes ? parse_size(text) : parse_whole(text);
  const std::string syntax = bytes ? "a size in bytes such as 65536, 64KiB or 4MiB" : "a whole number such as 500";
  if (!value) return std::string(name) + ": '" + std::string(text) + "' is not " + syntax;
  if (*value == 0) return std::string(name) + ": must be at least 1";
  if (*value > info->most) {
    return std::string(name) + ": " + std::string(text) + " is more than the largest accepted, " +
           format_limit(*info, info->most);
  }
  into.*(info->field) = *value;
  return {};
}

std::string format_size(std::uint64_t bytes) {
  if (bytes != 0 && bytes % gib == 0) return std::to_string(bytes / gib) + " GiB";
  if (bytes != 0 && bytes % mib == 0) return std::to_string(bytes / mib) + " MiB";
  if (bytes != 0 && bytes % kib == 0) return std::to_string(bytes / kib) + " KiB";
  return std::to_string(bytes) + " B";
}

std::string format_limit(const limit_info& info, std::uint64_t value) {
  return info.unit == limit_unit::bytes ? format_size(value) : std::to_string(value);
}

std::string limit_hint(std::string_view name) {
  const auto* info = find_limit(name);
  return "raise it with --limit " + std::string(name) + "=" +
         (info != nullptr && info->unit == limit_unit::bytes ? "SIZE" : "N");
}

}  // namespace planproof::core
