#include "resilience/idempotency.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace planproof::resilience {
namespace {

TEST(idempotency_key, is_a_version_4_uuid_and_unique) {
  seeded_random rng(1);
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto key = make_idempotency_key(rng);
    EXPECT_TRUE(std::regex_match(key, uuid)) << key;
    EXPECT_TRUE(seen.insert(key).second) << key;
  }
}

TEST(idempotency_key, reproducible_from_the_seed) {
  seeded_random a(9), b(9);
  EXPECT_EQ(make_idempotency_key(a), make_idempotency_key(b));
}

}  // namespace
}  // namespace planproof::resilience
