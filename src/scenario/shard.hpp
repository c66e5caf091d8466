// `--shard I/N`: which of the selected failure modes one of N parallel runs takes. Round robin over
// the selection in plan order: the k-th selected failure mode (0-based) belongs to shard k mod N + 1.
// Every shard given the same plan and selection agrees on it, the shards are disjoint and together
// they are the selection, and `planproof merge` can put the modes back in plan order.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace planproof::scenario {

struct shard_spec {
  std::size_t index = 1;  // 1-based
  std::size_t count = 1;
  bool operator==(const shard_spec&) const = default;
};

// "I/N" with 1 <= I <= N; nullopt, with why in `error`, for anything else ("0/2", "3/2", "a/b", "1/0").
std::optional<shard_spec> parse_shard(std::string_view text, std::string& error);

// Whether the selected failure mode at `position` (0-based, in plan order) belongs to `shard`.
constexpr bool in_shard(std::size_t position, const shard_spec& shard) noexcept {
  return position % shard.count == shard.index - 1;
}

// How many of `selected` failure modes the shard takes.
constexpr std::size_t shard_size(std::size_t selected, const shard_spec& shard) noexcept {
  return selected >= shard.index ? (selected - shard.index) / shard.count + 1 : 0;
}

// The shard's part of `selected`, in the same order.
template <class T>
std::vector<T> take_shard(const std::vector<T>& selected, const shard_spec& shard) {
  std::vector<T> out;
  for (std::size_t k = 0; k < selected.size(); ++k) {
    if (in_shard(k, shard)) out.push_back(selected[k]);
  }
  return out;
}

}  // namespace planproof::scenario
