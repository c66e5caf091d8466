// mapping: endpoint references, directions, unmapped-field handling, transforms and validation.
#include <boost/json/value.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using test_support::load_small;
using test_support::small_errors;
using test_support::with_sets;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Two endpoints, one each way, for the mappings below (lines 8-10); mappings start at line 11.
constexpr std::string_view endpoints = R"(endpoints:
  - {id: e, path: /orders}
  - {id: hook, direction: inbound, path: /hook}
)";

integration_plan with_mapping(std::string_view mapping, const load_options& options = {}) {
  return load_small(std::string(endpoints) + std::string(mapping), options);
}

std::vector<std::string> mapping_errors(std::string_view mapping) {
  return small_errors(std::string(endpoints) + std::string(mapping));
}

TEST(mapping, is_optional_in_the_loader) { EXPECT_THAT(load_small("").mapping, IsEmpty()); }

TEST(mapping, directions_default_by_endpoint) {
  const auto plan = with_mapping(R"(mapping:
  - {endpoint: e, unmapped: ignore, fields: [{source: id, target: order.id}]}
  - {endpoint: hook, unmapped: reject, fields: [{source: id, target: event.id}]}
  - {endpoint: e, direction: request, unmapped: preserve, preserve_to: order.extra, fields: [{source: a, target: b}]})");
  ASSERT_EQ(plan.mapping.size(), 3u);
  EXPECT_EQ(plan.mapping[0].endpoint, "e");
  EXPECT_EQ(plan.mapping[0].direction, mapping_direction::response);
  EXPECT_EQ(plan.mapping[0].unmapped, unmapped_policy::ignore);
  EXPECT_EQ(plan.mapping[0].preserve_to, "");
  EXPECT_EQ(plan.mapping[0].where.line, 12);
  EXPECT_EQ(plan.mapping[1].direction, mapping_direction::request);  // inbound: what they send us
  EXPECT_EQ(plan.mapping[1].unmapped, unmapped_policy::reject);
  EXPECT_EQ(plan.mapping[2].direction, mapping_direction::request);
  EXPECT_EQ(plan.mapping[2].unmapped, unmapped_policy::preserve);
  EXPECT_EQ(plan.mapping[2].preserve_to, "order.extra");
}

TEST(mapping, field_defaults) {
  const auto plan = with_mapping(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: id, target: order.id}
      - {target: order.source, default: shop}
      - {target: order.count, type: integer, default: 3}
      - {target: order.ratio, type: number, default: 0.5}
      - {target: order.paid, type: boolean, default: false})");
  const auto& fields = plan.mapping.at(0).fields;
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].source, "id");
  EXPECT_EQ(fields[0].target, "order.id");
  EXPECT_EQ(fields[0].type, field_type::string);
  EXPECT_FALSE(fields[0].required);
  EXPECT_FALSE(fields[0].default_value);
  EXPECT_THAT(fields[0].transform, IsEmpty());
  EXPECT_FALSE(fields[0].validate);
  EXPECT_EQ(fields[0].where.line, 15);
  EXPECT_EQ(fields[1].source, "");
  EXPECT_EQ(fields[1].default_value, boost::json::value("shop"));
  EXPECT_EQ(fields[2].default_value, boost::json::value(3));
  EXPECT_EQ(fields[3].default_value, boost::json::value(0.5));
  EXPECT_EQ(fields[4].default_value, boost::json::value(false));
}

TEST(mapping, transforms) {
  const auto plan = with_mapping(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: a, target: t1, transform: trim}
      - {source: a, target: t2, transform: [rename, trim, lowercase, uppercase, currency_upper]}
      - {source: a, target: t3, transform: [unix_to_rfc3339, rfc3339_to_unix]}
      - {source: a, target: t4, transform: {scale: 0.01}}
      - {source: a, target: t5, transform: [{enum_map: {A: active, I: inactive}}, lowercase]}
      - {target: t6, transform: {concat: {sources: [first, last]}}}
      - {target: t7, transform: [{concat: {sources: [a.b, c, d], separator: ", "}}, trim]})");
  const auto& f = plan.mapping.at(0).fields;
  ASSERT_EQ(f.size(), 7u);
  ASSERT_EQ(f[0].transform.size(), 1u);
  EXPECT_EQ(f[0].transform[0].kind, transform_kind::trim);
  std::vector<transform_kind> kinds;
  for (const auto& step : f[1].transform) kinds.push_back(step.kind);
  EXPECT_THAT(kinds, ElementsAre(transform_kind::rename, transform_kind::trim, transform_kind::lowercase,
                                 transform_kind::uppercase, transform_kind::currency_upper));
  EXPECT_EQ(f[2].transform.at(0).kind, transform_kind::unix_to_rfc3339);
  EXPECT_EQ(f[2].transform.at(1).kind, transform_kind::rfc3339_to_unix);
  EXPECT_EQ(f[3].transform.at(0).kind, transform_kind::scale);
  EXPECT_DOUBLE_EQ(f[3].transform.at(0).factor, 0.01);
  const auto& enum_map = f[4].transform.at(0);
  EXPECT_EQ(enum_map.kind, transform_kind::enum_map);
  EXPECT_THAT(enum_map.enum_map, ElementsAre(std::pair<std::string, std::string>{"A", "active"},
                                             std::pair<std::string, std::string>{"I", "inactive"}));
  EXPECT_EQ(f[4].transform.at(1).kind, transform_kind::lowercase);
  const auto& concat = f[5].transform.at(0);
  EXPECT_EQ(concat.kind, transform_kind::concat);
  EXPECT_THAT(concat.sources, ElementsAre("first", "last"));
  EXPECT_EQ(concat.separator, " ");  // the default
  EXPECT_EQ(f[5].source, "");
  EXPECT_THAT(f[6].transform.at(0).sources, ElementsAre("a.b", "c", "d"));
  EXPECT_EQ(f[6].transform.at(0).separator, ", ");
  EXPECT_EQ(f[6].transform.at(0).where.line, 21);
}

TEST(mapping, validation_forms) {
  const auto plan = with_mapping(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: a, target: t1, type: integer, validate: ">= 0"}
      - {source: a, target: t2, type: number, validate: "> 0.5"}
      - {source: a, target: t3, type: integer, validate: "<= 100"}
      - {source: a, target: t4, type: number, validate: "< -1"}
      - {source: a, target: t5, type: number, validate: {min: 1, max: 9.5}}
      - {source: a, target: t6, validate: {regex: "^[A-Z]{3}$", min_length: 3, max_length: 3, enum: [EUR, USD]}}
      - {source: a, target: t7, type: enum, validate: {enum: [1, true, x]}})");
  const auto& f = plan.mapping.at(0).fields;
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[0].validate->min, 0);
  EXPECT_FALSE(f[0].validate->min_exclusive);
  EXPECT_FALSE(f[0].validate->max);
  EXPECT_EQ(f[1].validate->min, 0.5);
  EXPECT_TRUE(f[1].validate->min_exclusive);
  EXPECT_EQ(f[2].validate->max, 100);
  EXPECT_FALSE(f[2].validate->max_exclusive);
  EXPECT_EQ(f[3].validate->max, -1);
  EXPECT_TRUE(f[3].validate->max_exclusive);
  EXPECT_FALSE(f[3].validate->min);
  EXPECT_EQ(f[4].validate->min, 1);
  EXPECT_EQ(f[4].validate->max, 9.5);
  EXPECT_FALSE(f[4].validate->min_exclusive);
  EXPECT_EQ(f[5].validate->regex, "^[A-Z]{3}$");
  EXPECT_EQ(f[5].validate->min_length, 3);
  EXPECT_EQ(f[5].validate->max_length, 3);
  EXPECT_THAT(f[5].validate->allowed, ElementsAre(boost::json::value("EUR"), boost::json::value("USD")));
  EXPECT_THAT(f[6].validate->allowed,
              ElementsAre(boost::json::value(1), boost::json::value(true), boost::json::value("x")));
  EXPECT_EQ(f[6].validate->where.line, 21);
}

TEST(mapping_errors, references_and_required_keys) {
  EXPECT_THAT(
      mapping_errors(R"(mapping:
  - {endpoint: orders, unmapped: ignore, fields: [{source: a, target: b}]}
  - {endpoint: e, fields: [{source: a, target: b}]}
  - {endpoint: e, unmapped: drop, fields: []})"),
      ElementsAre("plan.yaml:12:16: error: mapping[0].endpoint: unknown endpoint 'orders' (known: e, hook)",
                  "plan.yaml:13:5: error: mapping[1]: missing required key 'unmapped'",
                  "plan.yaml:14:16: error: mapping[2].endpoint: a second response mapping for endpoint 'e' "
                  "(first at line 13)",
                  "plan.yaml:14:29: error: mapping[2].unmapped: unknown unmapped policy 'drop' (known: "
                  "ignore, reject, preserve)",
                  "plan.yaml:14:43: error: mapping[2].fields: expected at least one field"));
  EXPECT_THAT(mapping_errors("mapping: {endpoint: e}"),
              ElementsAre("plan.yaml:11:10: error: mapping: expected a list of mappings, got a map"));
}

TEST(mapping_errors, preserve_to_goes_with_preserve) {
  EXPECT_THAT(
      mapping_errors(R"(mapping:
  - {endpoint: e, unmapped: preserve, fields: [{source: a, target: b}]}
  - {endpoint: hook, unmapped: reject, preserve_to: x, fields: [{source: a, target: b}]})"),
      ElementsAre("plan.yaml:12:5: error: mapping[0]: missing required key 'preserve_to' (required with "
                  "unmapped: preserve)",
                  "plan.yaml:13:40: error: mapping[1]: preserve_to applies only with unmapped: preserve"));
}

TEST(mapping_errors, fields) {
  EXPECT_THAT(
      mapping_errors(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: a, target: order.id}
      - {source: b, target: order.id}
      - {target: order.total, type: integer}
      - {source: c, target: order.kind, type: enumeration}
      - {source: "a b", target: order..x}
      - {target: order.count, type: integer, default: many}
      - {target: order.tags, default: [a]}
      - {source: d, target: e, requird: true})"),
      ElementsAre(
          "plan.yaml:16:29: error: mapping[0].fields[1].target: duplicate target 'order.id' (first at "
          "line 15)",
          "plan.yaml:17:9: error: mapping[0].fields[2]: missing required key 'source' (only a field "
          "with a default or a concat transform may leave it out)",
          "plan.yaml:18:47: error: mapping[0].fields[3].type: unknown field type 'enumeration' (known: "
          "string, integer, number, boolean, timestamp, date, currency, enum, object, array)",
          "plan.yaml:19:18: error: mapping[0].fields[4].source: expected a field path such as "
          "data.items (names separated by '.'), got 'a b'",
          "plan.yaml:19:33: error: mapping[0].fields[4].target: expected a field path such as "
          "data.items (names separated by '.'), got 'order..x'",
          "plan.yaml:20:55: error: mapping[0].fields[5].default: expected a default of type integer, "
          "got 'many'",
          "plan.yaml:21:39: error: mapping[0].fields[6].default: expected a scalar (a string, number or "
          "boolean), got a list",
          "plan.yaml:22:32: error: mapping[0].fields[7]: unknown key 'requird'; did you mean "
          "'required'?"));
}

TEST(mapping_errors, transforms) {
  EXPECT_THAT(
      mapping_errors(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: a, target: t1, transform: lowercse}
      - {source: a, target: t2, transform: scale}
      - {source: a, target: t3, transform: {trim: yes}}
      - {source: a, target: t4, transform: {scale: 0}}
      - {source: a, target: t5, transform: {scale: 1, trim: 2}}
      - {source: a, target: t6, transform: [trim, {concat: {sources: [x, y]}}]}
      - {source: a, target: t7, transform: {concat: {sources: [x, y]}}}
      - {target: t8, transform: {concat: {sources: [x], separator: 1}}}
      - {source: a, target: t9, transform: {enum_map: {}}}
      - {source: a, target: t10, transform: []})"),
      ElementsAre(
          "plan.yaml:15:44: error: mapping[0].fields[0].transform: unknown transform 'lowercse'; did "
          "you mean 'lowercase'? (known: rename, lowercase, uppercase, trim, unix_to_rfc3339, "
          "rfc3339_to_unix, currency_upper, enum_map, scale, concat)",
          "plan.yaml:16:44: error: mapping[0].fields[1].transform: scale takes arguments: write it as "
          "a map such as {scale: 0.01}",
          "plan.yaml:17:45: error: mapping[0].fields[2].transform: trim takes no arguments: write it "
          "as a plain name",
          "plan.yaml:18:52: error: mapping[0].fields[3].transform.scale: expected a non-zero factor "
          "such as 0.01",
          "plan.yaml:19:44: error: mapping[0].fields[4].transform: expected a transform name or a "
          "one-key map such as {scale: 0.01}, got a map",
          "plan.yaml:20:51: error: mapping[0].fields[5].transform[1]: concat must be the first step "
          "(it produces the value the others work on)",
          "plan.yaml:21:10: error: mapping[0].fields[6]: source does not apply with a concat transform "
          "(concat.sources names the fields)",
          "plan.yaml:22:52: error: mapping[0].fields[7].transform.concat.sources: expected at least "
          "two field paths to concatenate",
          "plan.yaml:23:55: error: mapping[0].fields[8].transform.enum_map: expected at least one "
          "value to map",
          "plan.yaml:24:45: error: mapping[0].fields[9].transform: expected at least one transform "
          "step"));
}

TEST(mapping_errors, validation) {
  EXPECT_THAT(
      mapping_errors(R"(mapping:
  - endpoint: e
    unmapped: ignore
    fields:
      - {source: a, target: t1, type: integer, validate: "=> 0"}
      - {source: a, target: t2, validate: ">= 0"}
      - {source: a, target: t3, type: integer, validate: {min: 10, max: 1, regex: x}}
      - {source: a, target: t4, validate: {regex: "[a-", min_length: 5, max_length: 2}}
      - {source: a, target: t5, validate: {enum: [], size: 3}})"),
      ElementsAre(
          "plan.yaml:15:58: error: mapping[0].fields[0].validate: expected a comparison such as '>= 0' "
          "or '< 100', or a map of min, max, regex, enum, min_length and max_length, got '=> 0'",
          "plan.yaml:16:43: error: mapping[0].fields[1].validate: a numeric bound applies to integer "
          "and number fields, not string",
          "plan.yaml:17:73: error: mapping[0].fields[2].validate: max is below min",
          "plan.yaml:17:76: error: mapping[0].fields[2].validate: regex applies to text fields, not "
          "integer",
          "plan.yaml:18:51: error: mapping[0].fields[3].validate.regex: '[a-' is not a valid "
          "ECMAScript regular expression",
          "plan.yaml:18:85: error: mapping[0].fields[3].validate: max_length is below min_length",
          "plan.yaml:19:50: error: mapping[0].fields[4].validate.enum: expected at least one value",
          "plan.yaml:19:54: error: mapping[0].fields[4].validate: unknown key 'size' (known: min, "
          "max, regex, enum, min_length, max_length)"));
}

TEST(mapping, set_reaches_mapping_fields) {
  const auto plan = with_mapping(
      "mapping: [{endpoint: e, unmapped: ignore, fields: [{source: a, target: b, type: integer}]}]",
      with_sets({"mapping.0.unmapped=reject", "mapping.0.fields.0.transform=[trim]",
                 "mapping.0.fields.0.validate=<= 5"}));
  EXPECT_EQ(plan.mapping[0].unmapped, unmapped_policy::reject);
  EXPECT_EQ(plan.mapping[0].fields[0].transform.at(0).kind, transform_kind::trim);
  EXPECT_EQ(plan.mapping[0].fields[0].validate->max, 5);
}

}  // namespace
}  // namespace planproof::plan
