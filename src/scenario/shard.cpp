#include "scenario/shard.hpp"

#include <charconv>

namespace planproof::scenario {
namespace {

// A whole positive decimal number, digits only (no sign, no spaces).
std::optional<std::size_t> whole_number(std::string_view text) {
  std::size_t n = 0;
  const auto* end = text.data() + text.size();
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return n;
}

}  // namespace

std::optional<shard_spec> parse_shard(std::string_view text, std::string& error) {
  const auto slash = text.find('/');
  const auto index = slash == std::string_view::npos ? std::nullopt : whole_number(text.substr(0, slash));
  const auto count = slash == std::string_view::npos ? std::nullopt : whole_number(text.substr(slash + 1));
  if (!index || !count) {
    error = "'" + std::string(text) + "' is not I/N (shard I of N, e.g. 2/4)";
    return std::nullopt;
  }
  if (*count == 0) {
    error = "'" + std::string(text) + "': the number of shards N must be at least 1";
    return std::nullopt;
  }
  if (*index == 0 || *index > *count) {
    error = "'" + std::string(text) + "': the shard I must be between 1 and " + std::to_string(*count);
    return std::nullopt;
  }
  return shard_spec{*index, *count};
}

}  // namespace planproof::scenario
