#include "scenario/shard.hpp"

#include <numeric>

#include <gtest/gtest.h>

namespace planproof::scenario {
namespace {

TEST(shard, parses_i_of_n) {
  std::string why;
  EXPECT_EQ(parse_shard("1/1", why), (shard_spec{1, 1}));
  EXPECT_EQ(parse_shard("2/4", why), (shard_spec{2, 4}));
  EXPECT_EQ(parse_shard("4/4", why), (shard_spec{4, 4}));
  EXPECT_EQ(parse_shard("10/12", why), (shard_spec{10, 12}));
}

TEST(shard, refuses_what_is_not_a_shard_and_says_why) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"0/2", "between 1 and 2"}, {"3/2", "between 1 and 2"}, {"1/0", "at least 1"},  {"a/b", "is not I/N"},
      {"1", "is not I/N"},        {"/2", "is not I/N"},       {"1/", "is not I/N"},   {"-1/2", "is not I/N"},
      {"+1/2", "is not I/N"},     {"1/2/3", "is not I/N"},    {" 1/2", "is not I/N"}, {"1/2 ", "is not I/N"},
      {"", "is not I/N"},         {"99999999999999999999999/2", "is not I/N"}};
  for (const auto& [text, message] : cases) {
    std::string why;
    EXPECT_FALSE(parse_shard(text, why)) << text;
    EXPECT_NE(why.find(message), std::string::npos) << text << ": " << why;
    EXPECT_NE(why.find("'" + text + "'"), std::string::npos) << why;
  }
}

// For every selection size and shard count: the shards are disjoint, together they are the
// selection, shard_size agrees with take_shard, and sizes differ by at most one.
TEST(shard, shards_partition_the_selection_round_robin) {
  for (std::size_t selected = 0; selected <= 10; ++selected) {
    std::vector<std::size_t> positions(selected);
    std::iota(positions.begin(), positions.end(), 0);
    for (std::size_t count = 1; count <= 7; ++count) {
      std::vector<int> owners(selected, 0);
      std::size_t smallest = selected, largest = 0;
      for (std::size_t index = 1; index <= count; ++index) {
        const shard_spec shard{index, count};
        const auto part = take_shard(positions, shard);
        EXPECT_EQ(part.size(), shard_size(selected, shard)) << selected << " " << index << "/" << count;
        smallest = std::min(smallest, part.size());
        largest = std::max(largest, part.size());
        for (std::size_t k = 0; k < part.size(); ++k) {
          ++owners[part[k]];
          EXPECT_EQ(part[k], index - 1 + k * count);  // plan order, dealt round robin
        }
      }
      for (std::size_t p = 0; p < selected; ++p) EXPECT_EQ(owners[p], 1) << "position " << p << " of " << selected;
      EXPECT_LE(largest - smallest, 1u);
    }
  }
}

}  // namespace
}  // namespace planproof::scenario
