#include "core/limits.hpp"

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace planproof::core {
namespace {

using testing::HasSubstr;

TEST(limits, a_size_takes_bytes_or_a_binary_or_decimal_unit) {
  limits l;
  EXPECT_EQ(set_limit(l, "request_body=4MiB"), "");
  EXPECT_EQ(l.request_body, 4u << 20);
  EXPECT_EQ(set_limit(l, "request_headers=65536"), "");
  EXPECT_EQ(l.request_headers, 65536u);
  EXPECT_EQ(set_limit(l, "response_body=2GiB"), "response_body: 2GiB is more than the largest accepted, 1 GiB");
  EXPECT_EQ(set_limit(l, "response_body=1 GiB"), "");
  EXPECT_EQ(l.response_body, 1u << 30);
  EXPECT_EQ(set_limit(l, "plan_size=3MB"), "");
  EXPECT_EQ(l.plan_size, 3'000'000u);
  EXPECT_EQ(set_limit(l, "plan_size=500kB"), "");
  EXPECT_EQ(l.plan_size, 500'000u);
  EXPECT_EQ(set_limit(l, "response_headers=12B"), "");
  EXPECT_EQ(l.response_headers, 12u);
}

TEST(limits, a_count_is_a_whole_number) {
  limits l;
  EXPECT_EQ(set_limit(l, "connections=500"), "");
  EXPECT_EQ(l.connections, 500u);
  EXPECT_EQ(set_limit(l, "connections=5KiB"), "connections: '5KiB' is not a whole number such as 500");
  EXPECT_EQ(set_limit(l, "plan_depth=1001"), "plan_depth: 1001 is more than the largest accepted, 1000");
  EXPECT_EQ(l.plan_depth, 100u);  // a refused value leaves the cap as it was
}

TEST(limits, bad_input_says_what_is_wrong) {
  limits l;
  EXPECT_THAT(set_limit(l, "request_body"), HasSubstr("is not NAME=VALUE"));
  EXPECT_THAT(set_limit(l, "body=1MiB"),
              HasSubstr("unknown limit 'body'; the limits are plan_size, plan_depth, plan_nodes, concurrency"));
  EXPECT_EQ(set_limit(l, "request_body=0"), "request_body: must be at least 1");
  EXPECT_THAT(set_limit(l, "request_body=-1"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(set_limit(l, "request_body=1.5MiB"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(set_limit(l, "request_body=MiB"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(set_limit(l, "request_body=99999999999999999999"), HasSubstr("is not a size in bytes"));
  EXPECT_THAT(set_limit(l, "request_body=18446744073709551615GiB"), HasSubstr("is not a size in bytes"));
  EXPECT_EQ(l.request_body, limits{}.request_body);
}

TEST(limits, every_cap_is_named_once_with_a_default_within_its_range) {
  const limits defaults;
  std::set<std::string_view> names;
  for (const auto& info : limit_catalog()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_EQ(find_limit(info.name), &info);
    const auto value = defaults.*(info.field);
    EXPECT_GE(value, 1u) << info.name;
    EXPECT_LE(value, info.most) << info.name;
    // What format_limit writes reads back.
    limits l;
    EXPECT_EQ(set_limit(l, std::string(info.name) + "=" + format_limit(info, value)), "") << info.name;
    EXPECT_EQ(l.*(info.field), value) << info.name;
  }
  EXPECT_EQ(names.size(), 9u);
}

TEST(limits, sizes_print_in_the_largest_exact_binary_unit) {
  EXPECT_EQ(format_size(16u << 20), "16 MiB");
  EXPECT_EQ(format_size(1536), "1536 B");
  EXPECT_EQ(format_size(64 * 1024), "64 KiB");
  EXPECT_EQ(format_size(std::uint64_t{1} << 30), "1 GiB");
  EXPECT_EQ(format_size(1000), "1000 B");
  EXPECT_EQ(limit_hint("plan_size"), "raise it with --limit plan_size=SIZE");
  EXPECT_EQ(limit_hint("plan_depth"), "raise it with --limit plan_depth=N");
}

}  // namespace
}  // namespace planproof::core
