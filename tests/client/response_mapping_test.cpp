// response_mapper: schema check, transforms, types, validation, unmapped fields and list records, on
// small plans and on the example plans' own responses; garbage bodies never throw.
#include "client/response_mapping.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "mocks/schema_drift.hpp"
#include "plan/json_text.hpp"
#include "plan/loader.hpp"
#include "plan/plan_test_support.hpp"
#include "support/paths.hpp"

namespace planproof::client {
namespace {

namespace json = boost::json;
using plan::test_support::load_small;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

response_mapper mapper_of(const plan::integration_plan& p, std::string_view id = "e") {
  const auto* e = p.find_endpoint(id);
  if (e == nullptr) throw std::runtime_error("no endpoint " + std::string(id));
  return response_mapper(*e, received_mapping(p, *e));
}

// A mapping of endpoint `e` (a plain GET) with the given fields, written as YAML flow items.
response_mapper with_fields(std::string_view fields, std::string_view unmapped = "ignore") {
  return mapper_of(load_small("mapping:\n  - endpoint: e\n    unmapped: " + std::string(unmapped) + "\n    fields:\n" +
                              std::string(fields)));
}

// One field `{source: v, target: t, SPEC}`.
response_mapper one_field(std::string_view spec) {
  return with_fields("      - {source: v, target: t, " + std::string(spec) + "}\n");
}

std::vector<std::string> issues_of(const mapping_result& r) {
  std::vector<std::string> out;
  for (const auto& i : r.issues) out.push_back(i.str());
  return out;
}

// The value mapped to `t` from {"v": VALUE}; a failure when the mapping has issues.
json::value mapped_t(const response_mapper& m, std::string_view value) {
  const auto r = m.map("{\"v\": " + std::string(value) + "}");
  EXPECT_TRUE(r.ok()) << r.summary();
  if (!r.ok() || !r.mapped.is_object()) return nullptr;
  const auto* t = r.mapped.get_object().if_contains("t");
  return t != nullptr ? *t : json::value(nullptr);
}

// The only issue mapping {"v": VALUE} gives, as "path: message".
std::string issue_t(const response_mapper& m, std::string_view value) {
  const auto r = m.map("{\"v\": " + std::string(value) + "}");
  EXPECT_EQ(r.issues.size(), 1u) << r.summary();
  EXPECT_EQ(r.error(), core::error_class::schema_error);
  EXPECT_TRUE(r.mapped.is_null());
  return r.issues.empty() ? std::string() : r.issues.front().str();
}

// --- single records: required, default, targets ------------------------------------------------------

TEST(response_mapping, maps_sources_to_nested_targets_with_defaults) {
  const auto m = with_fields(R"(      - {source: id, target: order.id, required: true}
      - {source: customer.email, target: order.customer.email}
      - {source: note, target: order.note}
      - {target: order.source, default: shop}
      - {source: paid, target: order.paid, type: boolean, default: false}
)");
  const auto r = m.map(R"({"id": "o1", "customer": {"email": "a@b.c"}, "note": null})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.records, 1u);
  EXPECT_FALSE(r.list);
  EXPECT_EQ(json::serialize(r.mapped),
            R"({"order":{"id":"o1","customer":{"email":"a@b.c"},"source":"shop","paid":false}})");
}

TEST(response_mapping, a_required_field_missing_or_null_is_an_issue_unless_a_default_fills_it) {
  const auto m = with_fields(R"(      - {source: id, target: order.id, required: true}
      - {source: kind, target: order.kind, required: true, default: retail}
)");
  EXPECT_THAT(issues_of(m.map(R"({"kind": "x"})")), ElementsAre("id: required field is missing (target order.id)"));
  EXPECT_THAT(issues_of(m.map(R"({"id": null})")), ElementsAre("id: required field is null (target order.id)"));
  const auto r = m.map(R"({"id": "o1", "kind": null})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.mapped.at("order").at("kind"), "retail");
}

TEST(response_mapping, a_default_is_the_target_value_as_written_not_transformed) {
  const auto m = one_field(
      "type: enum, default: employee, transform: {enum_map: {full_time: employee}}, "
      "validate: {enum: [employee, contractor]}");
  EXPECT_EQ(m.map("{}").mapped.at("t"), "employee");
  EXPECT_EQ(mapped_t(m, "\"full_time\""), "employee");
}

TEST(response_mapping, a_default_is_still_type_checked_and_validated) {
  const auto m = one_field("type: string, default: toolong, validate: {max_length: 3}");
  const auto r = m.map("{}");
  EXPECT_THAT(issues_of(r), ElementsAre("v: expected at most 3 characters, got 7 (target t)"));
}

TEST(response_mapping, a_path_through_a_non_object_names_the_field) {
  const auto m = with_fields("      - {source: department.name, target: d, required: true}\n");
  EXPECT_THAT(issues_of(m.map(R"({"department": "Engineering"})")),
              ElementsAre(R"(department.name: department is string "Engineering", not an object (target d))"));
  // null on the way is absent, like null at the end
  EXPECT_THAT(issues_of(m.map(R"({"department": null})")),
              ElementsAre("department.name: required field is null (target d)"));
}

TEST(response_mapping, targets_that_collide_are_an_issue_not_a_crash) {
  const auto m = with_fields(R"(      - {source: a, target: x, type: integer}
      - {source: b, target: x.y, type: integer}
)");
  EXPECT_THAT(issues_of(m.map(R"({"a": 1, "b": 2})")), ElementsAre("target x.y runs through another target's value"));
}

// --- transforms ------------------------------------------------------------------------------------------

TEST(response_mapping, text_transforms) {
  EXPECT_EQ(mapped_t(one_field("transform: lowercase"), R"("Ada.Lovelace@Example.COM")"), "ada.lovelace@example.com");
  EXPECT_EQ(mapped_t(one_field("transform: uppercase"), R"("lon1")"), "LON1");
  EXPECT_EQ(mapped_t(one_field("transform: trim"), "\" \\t Ada \\n\""), "Ada");
  EXPECT_EQ(mapped_t(one_field("transform: currency_upper, type: currency"), R"("gbp")"), "GBP");
  EXPECT_EQ(mapped_t(one_field("transform: rename"), R"("as is")"), "as is");
  EXPECT_EQ(mapped_t(one_field("transform: [trim, uppercase]"), R"("  gb ")"), "GB");
  // ASCII only: a non-ASCII letter is left as it is, whatever the locale
  EXPECT_EQ(mapped_t(one_field("transform: uppercase"), R"("étoile")"), "éTOILE");
  EXPECT_EQ(issue_t(one_field("transform: lowercase"), "42"),
            "v: lowercase applies to text, got integer 42 (target t)");
  EXPECT_EQ(issue_t(one_field("transform: trim"), "[1]"), "v: trim applies to text, got an array (target t)");
}

TEST(response_mapping, unix_to_rfc3339) {
  const auto m = one_field("type: timestamp, transform: unix_to_rfc3339");
  EXPECT_EQ(mapped_t(m, "1764003421"), "2025-11-24T16:57:01Z");
  EXPECT_EQ(mapped_t(m, "0"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(mapped_t(m, "-1"), "1969-12-31T23:59:59Z");
  EXPECT_EQ(mapped_t(m, "1764003421.25"), "2025-11-24T16:57:01.25Z");
  EXPECT_EQ(mapped_t(m, "951782400"), "2000-02-29T00:00:00Z");
  // milliseconds where seconds were promised: far beyond year 9999
  EXPECT_THAT(issue_t(m, "1764003421000"), HasSubstr("outside years 0000-9999 as unix seconds"));
  EXPECT_EQ(issue_t(m, R"("1764003421")"),
            R"(v: unix_to_rfc3339 applies to unix seconds (a number), got string "1764003421" (target t))");
}

TEST(response_mapping, rfc3339_to_unix) {
  const auto m = one_field("type: integer, transform: rfc3339_to_unix, validate: \">= 0\"");
  EXPECT_EQ(mapped_t(m, R"("2026-11-23T17:41:09Z")"), 1795455669);
  EXPECT_EQ(mapped_t(m, R"("2026-11-23T18:41:09+01:00")"), 1795455669);
  EXPECT_EQ(mapped_t(m, R"("2026-11-23T12:41:09.999-0500")"), 1795455669);  // the fraction is dropped
  EXPECT_EQ(issue_t(m, R"("2026-11-23 17:41:09")"),
            R"(v: rfc3339_to_unix: "2026-11-23 17:41:09" is not an RFC 3339 timestamp (target t))");
  EXPECT_EQ(issue_t(m, R"("2026-02-30T00:00:00Z")"),
            R"(v: rfc3339_to_unix: "2026-02-30T00:00:00Z" is not an RFC 3339 timestamp (target t))");
  EXPECT_EQ(issue_t(m, R"("1969-12-31T23:59:59Z")"), "v: expected a value >= 0, got -1 (target t)");
}

TEST(response_mapping, enum_map) {
  const auto m = one_field("type: enum, transform: {enum_map: {active: active, on_leave: suspended, \"1\": one}}");
  EXPECT_EQ(mapped_t(m, R"("on_leave")"), "suspended");
  EXPECT_EQ(mapped_t(m, "1"), "one");  // a number is looked up by its text
  EXPECT_EQ(issue_t(m, R"("retired")"),
            R"(v: enum_map has no entry for "retired" (it maps 1, active, on_leave) (target t))");
  EXPECT_EQ(issue_t(m, R"("Active")"),
            R"(v: enum_map has no entry for "Active" (it maps 1, active, on_leave) (target t))");
  EXPECT_EQ(issue_t(m, "{}"), "v: enum_map applies to text, numbers and booleans, got an object (target t)");
}

TEST(response_mapping, scale_into_an_integer_snaps_binary_rounding_only) {
  const auto m = one_field("type: integer, transform: {scale: 100}");
  EXPECT_EQ(mapped_t(m, "19.99"), 1999);  // 1998.9999999999998 in binary
  EXPECT_EQ(mapped_t(m, "12500000.5"), 1250000050);
  EXPECT_EQ(mapped_t(m, "-0.07"), -7);
  EXPECT_EQ(issue_t(m, "19.991"), "v: expected integer, got number 1999.1 (it has a fraction) (target t)");
  EXPECT_EQ(issue_t(m, R"("19.99")"), R"(v: scale applies to numbers, got string "19.99" (target t))");
  EXPECT_EQ(mapped_t(one_field("type: number, transform: {scale: 0.01}"), "250"), 2.5);
  EXPECT_THAT(issue_t(one_field("type: number, transform: {scale: 1e300}"), "1e300"), HasSubstr("overflows"));
}

TEST(response_mapping, concat_skips_missing_parts_then_later_steps_apply) {
  const auto m = with_fields(
      R"(      - {target: name, required: true, transform: [{concat: {sources: [first, last], separator: " "}}, trim, uppercase]}
      - {target: code, transform: {concat: {sources: [a.b, n, flag], separator: "-"}}}
)");
  auto r = m.map(R"({"first": " Ada", "last": "Lovelace ", "a": {"b": "x"}, "n": 4.5, "flag": true})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.mapped.at("name"), "ADA LOVELACE");
  EXPECT_EQ(r.mapped.at("code"), "x-4.5-true");
  r = m.map(R"({"first": null, "last": "Hopper"})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.mapped.at("name"), "HOPPER");
  EXPECT_FALSE(r.mapped.get_object().contains("code"));
  EXPECT_THAT(issues_of(m.map("{}")), ElementsAre("required field is missing (target name)"));
  EXPECT_THAT(issues_of(m.map(R"({"first": {"x": 1}, "last": "L"})")),
              ElementsAre("first: concat joins text, numbers and booleans, got an object (target name)"));
}

// --- types ---------------------------------------------------------------------------------------------

TEST(response_mapping, string_number_boolean_object_array_are_checked_not_coerced) {
  EXPECT_EQ(issue_t(one_field("type: string"), "4211"), "v: expected string, got integer 4211 (target t)");
  EXPECT_EQ(mapped_t(one_field("type: number"), "1.5"), 1.5);
  EXPECT_EQ(mapped_t(one_field("type: number"), "2"), 2);
  EXPECT_EQ(issue_t(one_field("type: number"), R"("1.5")"), R"(v: expected number, got string "1.5" (target t))");
  EXPECT_EQ(mapped_t(one_field("type: boolean"), "true"), true);
  EXPECT_EQ(issue_t(one_field("type: boolean"), R"("true")"), R"(v: expected boolean, got string "true" (target t))");
  EXPECT_EQ(json::serialize(mapped_t(one_field("type: object"), R"({"a": [1]})")), R"({"a":[1]})");
  EXPECT_EQ(issue_t(one_field("type: object"), "[]"), "v: expected object, got an array (target t)");
  EXPECT_EQ(json::serialize(mapped_t(one_field("type: array"), "[1, 2]")), "[1,2]");
  EXPECT_EQ(issue_t(one_field("type: array"), "{}"), "v: expected array, got an object (target t)");
}

TEST(response_mapping, integer_takes_whole_numbers_in_the_int64_range) {
  const auto m = one_field("type: integer");
  EXPECT_EQ(mapped_t(m, "42"), 42);
  const auto whole = mapped_t(m, "42.0");
  EXPECT_TRUE(whole.is_int64());
  EXPECT_EQ(whole, 42);
  EXPECT_EQ(mapped_t(m, "-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(mapped_t(m, "9223372036854775807"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(issue_t(m, "42.5"), "v: expected integer, got number 42.5 (it has a fraction) (target t)");
  EXPECT_EQ(issue_t(m, "9223372036854775808"),
            "v: expected integer, got 9223372036854775808 (outside the 64-bit signed range) (target t)");
  EXPECT_EQ(issue_t(m, "1e19"), "v: expected integer, got 1e+19 (outside the 64-bit signed range) (target t)");
  EXPECT_EQ(issue_t(m, R"("42")"), R"(v: expected integer, got string "42" (target t))");
}

TEST(response_mapping, timestamp_is_rfc3339_text_normalised_to_utc) {
  const auto m = one_field("type: timestamp");
  EXPECT_EQ(mapped_t(m, R"("2026-11-23T17:41:09Z")"), "2026-11-23T17:41:09Z");
  EXPECT_EQ(mapped_t(m, R"("2026-11-23T14:07:31.000+0000")"), "2026-11-23T14:07:31Z");  // Salesforce
  EXPECT_EQ(mapped_t(m, R"("2026-11-23t18:41:09.120+01:00")"), "2026-11-23T17:41:09.12Z");
  EXPECT_EQ(mapped_t(m, R"("2026-01-01T00:30:00+01:00")"), "2025-12-31T23:30:00Z");
  EXPECT_EQ(
      issue_t(m, "1764003421"),
      "v: expected timestamp (RFC 3339 text; unix seconds need unix_to_rfc3339), got integer 1764003421 (target t)");
  for (const char* bad :
       {R"("2026-11-23")", R"("2026-11-23T17:41:09")", R"("2026-11-23T24:00:00Z")", R"("2025-02-29T00:00:00Z")",
        R"("2026-11-23T17:41:09+1:00")", R"("2026-11-23T17:41:09Zjunk")", R"("2026-11-23T17:41:09.Z")"}) {
    EXPECT_THAT(issue_t(m, bad), HasSubstr("expected timestamp (RFC 3339 text), got string")) << bad;
  }
}

TEST(response_mapping, date_is_a_day_that_exists) {
  const auto m = one_field("type: date");
  EXPECT_EQ(mapped_t(m, R"("2024-02-29")"), "2024-02-29");
  for (const char* bad : {R"("2025-02-29")", R"("2026-04-31")", R"("2026-13-01")", R"("2026-1-01")",
                          R"("2026-11-23T00:00:00Z")", "20261123"}) {
    EXPECT_THAT(issue_t(m, bad), HasSubstr("expected date (YYYY-MM-DD, a day that exists)")) << bad;
  }
}

TEST(response_mapping, currency_is_three_capital_letters) {
  const auto m = one_field("type: currency");
  EXPECT_EQ(mapped_t(m, R"("GBP")"), "GBP");
  for (const char* bad : {R"("gbp")", R"("GBPX")", R"("G8P")", "826"}) {
    EXPECT_THAT(issue_t(m, bad), HasSubstr("expected currency (an ISO 4217 code: three capital letters)")) << bad;
  }
}

TEST(response_mapping, enum_takes_a_scalar) {
  const auto m = one_field("type: enum");
  EXPECT_EQ(mapped_t(m, R"("gold")"), "gold");
  EXPECT_EQ(mapped_t(m, "3"), 3);
  EXPECT_EQ(issue_t(m, "[\"gold\"]"), "v: expected enum (a string, number or boolean), got an array (target t)");
}

// --- validation ----------------------------------------------------------------------------------------

TEST(response_mapping, numeric_bounds_inclusive_and_exclusive) {
  const auto inclusive = one_field("type: number, validate: {min: 0, max: 10}");
  EXPECT_EQ(mapped_t(inclusive, "0"), 0);
  EXPECT_EQ(mapped_t(inclusive, "10"), 10);
  EXPECT_EQ(issue_t(inclusive, "-0.5"), "v: expected a value >= 0, got -0.5 (target t)");
  EXPECT_EQ(issue_t(inclusive, "10.5"), "v: expected a value <= 10, got 10.5 (target t)");
  const auto above = one_field("type: integer, validate: \"> 0\"");
  EXPECT_EQ(mapped_t(above, "1"), 1);
  EXPECT_EQ(issue_t(above, "0"), "v: expected a value > 0, got 0 (target t)");
  const auto below = one_field("type: number, validate: \"< 100\"");
  EXPECT_EQ(issue_t(below, "100"), "v: expected a value < 100, got 100 (target t)");
  EXPECT_EQ(mapped_t(below, "99.9"), 99.9);
}

TEST(response_mapping, regex_is_searched_not_anchored) {
  EXPECT_EQ(mapped_t(one_field("validate: {regex: \"[0-9]{3}\"}"), R"("ab123cd")"), "ab123cd");
  EXPECT_EQ(issue_t(one_field("validate: {regex: \"^[0-9]{3}$\"}"), R"("ab123cd")"),
            R"(v: "ab123cd" does not match the regex '^[0-9]{3}$' (target t))");
}

TEST(response_mapping, a_value_too_long_for_the_regex_engine_is_refused_not_passed) {
  const auto m = one_field("validate: {regex: \"^(a|b)*$\"}");
  const auto r = m.map(R"({"v": ")" + std::string(100000, 'a') + "\"}");
  EXPECT_THAT(issues_of(r), ElementsAre(HasSubstr("too long (100000 bytes) to check against the regex")));
}

TEST(response_mapping, allowed_values_compare_numbers_by_value) {
  const auto words = one_field("type: enum, validate: {enum: [gold, silver]}");
  EXPECT_EQ(mapped_t(words, R"("gold")"), "gold");
  EXPECT_EQ(issue_t(words, R"("bronze")"), R"(v: expected one of "gold", "silver", got "bronze" (target t))");
  const auto numbers = one_field("type: number, validate: {enum: [1, 2.5]}");
  EXPECT_EQ(mapped_t(numbers, "1.0"), 1.0);
  EXPECT_EQ(issue_t(numbers, "2"), "v: expected one of 1, 2.5, got 2 (target t)");
}

TEST(response_mapping, lengths_count_characters_not_bytes) {
  const auto m = one_field("validate: {min_length: 2, max_length: 3}");
  EXPECT_EQ(mapped_t(m, R"("été")"), "été");  // 5 bytes, 3 characters
  EXPECT_EQ(issue_t(m, R"("é")"), "v: expected at least 2 characters, got 1 (target t)");
  EXPECT_EQ(issue_t(m, R"("étés")"), "v: expected at most 3 characters, got 4 (target t)");
}

TEST(response_mapping, every_failed_check_of_a_value_is_reported) {
  const auto m = one_field("validate: {regex: \"^[a-z]+$\", max_length: 2}");
  EXPECT_THAT(issues_of(m.map(R"({"v": "ABC"})")),
              ElementsAre("v: expected at most 2 characters, got 3 (target t)",
                          R"(v: "ABC" does not match the regex '^[a-z]+$' (target t))"));
}

// --- unmapped fields -------------------------------------------------------------------------------------

constexpr std::string_view unmapped_fields = R"(      - {source: id, target: x.id, type: integer}
      - {source: department.name, target: x.department}
)";

TEST(response_mapping, unmapped_ignore) {
  EXPECT_TRUE(with_fields(unmapped_fields, "ignore").map(R"({"id": 1, "pronouns": "she/her"})").ok());
}

TEST(response_mapping, unmapped_reject_names_each_field_but_not_inside_a_mapped_object) {
  const auto m = with_fields(unmapped_fields, "reject");
  EXPECT_TRUE(m.map(R"({"id": 1, "department": {"id": "d1", "name": "Ops"}})").ok());
  EXPECT_THAT(issues_of(m.map(R"({"id": 1, "pronouns": "she/her", "extra": null})")),
              ElementsAre("pronouns: unmapped field (the mapping rejects fields it does not name)",
                          "extra: unmapped field (the mapping rejects fields it does not name)"));
  // The client tells a changed shape (a field it does not know) from bad values by this flag.
  EXPECT_TRUE(m.map(R"({"id": 1, "pronouns": "she/her"})").unmapped_fields);
  EXPECT_FALSE(m.map(R"({"id": "not a number"})").unmapped_fields);
  EXPECT_FALSE(with_fields(unmapped_fields, "ignore").map(R"({"id": 1, "pronouns": "x"})").unmapped_fields);
}

TEST(response_mapping, unmapped_preserve_keeps_them_under_preserve_to) {
  const auto m = mapper_of(load_small(R"(mapping:
  - endpoint: e
    unmapped: preserve
    preserve_to: x.extra
    fields:
      - {source: id, target: x.id, type: integer}
      - {source: department.name, target: x.department}
)"));
  auto r = m.map(R"({"id": 1, "department": {"id": "d1", "name": "Ops"}, "pronouns": "she/her", "tags": [1]})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(json::serialize(r.mapped),
            R"({"x":{"id":1,"department":"Ops","extra":{"pronouns":"she/her","tags":[1]}}})");
  r = m.map(R"({"id": 1})");
  EXPECT_EQ(json::serialize(r.mapped), R"({"x":{"id":1,"extra":{}}})");
}

// --- schema ----------------------------------------------------------------------------------------------

constexpr std::string_view schema_endpoint = R"(endpoints:
  - id: e
    path: /users/1
    response:
      schema:
        type: object
        required: [email]
        properties:
          email: {type: string, format: email}
          age: {type: integer, minimum: 0}
)";

TEST(response_mapping, schema_mismatches_are_issues_with_their_path) {
  const auto m = mapper_of(load_small(schema_endpoint));
  EXPECT_TRUE(m.active());
  EXPECT_TRUE(m.map(R"({"email": "a@b.co", "age": 3})").ok());
  const auto r = m.map(R"({"email": null, "age": -1})");
  EXPECT_THAT(issues_of(r), ElementsAre("email: expected string, got null", "age: expected a value >= 0, got -1"));
  EXPECT_TRUE(r.body_rejected);
  EXPECT_EQ(r.error(), core::error_class::schema_error);
  EXPECT_EQ(r.summary(), "email: expected string, got null; age: expected a value >= 0, got -1");
}

TEST(response_mapping, no_schema_and_no_mapping_reads_nothing) {
  const auto m = mapper_of(load_small(""));
  EXPECT_FALSE(m.active());
  EXPECT_TRUE(m.map("not json at all").ok());
}

TEST(response_mapping, bodies_that_are_not_json) {
  const auto m = mapper_of(load_small(schema_endpoint));
  EXPECT_THAT(issues_of(m.map("")), ElementsAre("body is not JSON: it is empty"));
  EXPECT_THAT(issues_of(m.map(R"({"email": "a@b.co")")), ElementsAre(StartsWith("body is not JSON: ")));
  EXPECT_THAT(issues_of(m.map(std::string(100, '['))), ElementsAre("body is not JSON: nested deeper than 64 levels"));
  EXPECT_THAT(issues_of(m.map("{\"email\": \"\xff\"}")), ElementsAre(StartsWith("body is not JSON: ")));
  const auto r = m.map("<html>502 Bad Gateway</html>");
  EXPECT_TRUE(r.body_rejected);
  EXPECT_EQ(r.records, 0u);
  EXPECT_EQ(r.issues.at(0).path, "");
}

// --- list records ------------------------------------------------------------------------------------------

constexpr std::string_view list_plan = R"(endpoints:
  - id: e
    path: /v1/employees
    response:
      schema:
        type: object
        required: [data, meta]
        properties:
          data:
            type: array
            items:
              type: object
              required: [id]
              properties:
                id: {type: string}
                email: {type: string}
          meta: {type: object, properties: {total: {type: integer}}}
    pagination: {style: page, param: page, has_more: meta.more, items: data}
mapping:
  - endpoint: e
    unmapped: reject
    fields:
      - {source: data.id, target: user.id, required: true}
      - {source: data.email, target: user.email, required: true, transform: lowercase}
      - {source: meta.total, target: page.total, type: integer}
)";

TEST(response_mapping, list_records_are_the_pagination_items_each_mapped_with_its_index) {
  const auto m = mapper_of(load_small(list_plan));
  EXPECT_TRUE(m.paginated_records());
  auto r = m.map(R"({"data": [{"id": "a", "email": "A@X.IO"}, {"id": "b", "email": "b@x.io"}], "meta": {"total": 2}})");
  ASSERT_TRUE(r.ok()) << r.summary();
  EXPECT_TRUE(r.list);
  EXPECT_EQ(r.records, 2u);
  EXPECT_EQ(json::serialize(r.mapped), R"([{"user":{"id":"a","email":"a@x.io"},"page":{"total":2}},)"
                                       R"({"user":{"id":"b","email":"b@x.io"},"page":{"total":2}}])");
  r = m.map(R"({"data": [], "meta": {}})");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.records, 0u);
}

TEST(response_mapping, a_bad_record_is_rejected_alone_with_its_index_in_every_path) {
  const auto m = mapper_of(load_small(list_plan));
  const auto r = m.map(R"({"data": [{"id": "a", "email": "a@x.io"}, {"id": "b", "email": "b@x.io"},
                                    {"id": 3, "mail": "c@x.io"}, {"id": "d", "email": "d@x.io"}], "meta": {}})");
  EXPECT_THAT(issues_of(r), ElementsAre("data[2].id: expected string, got integer",
                                        "data[2].id: expected string, got integer 3 (target user.id)",
                                        "data[2].email: required field is missing (target user.email)",
                                        "data[2].mail: unmapped field (the mapping rejects fields it does not name)"));
  for (const auto& i : r.issues) EXPECT_EQ(i.record, 2u);
  EXPECT_FALSE(r.body_rejected);
  EXPECT_EQ(r.records, 4u);
  EXPECT_EQ(r.rejected, 1u);
  ASSERT_TRUE(r.mapped.is_array());
  EXPECT_TRUE(r.mapped.get_array()[2].is_null());
  EXPECT_EQ(r.mapped.get_array()[3].at("user").at("id"), "d");
}

TEST(response_mapping, an_envelope_issue_rejects_the_whole_body) {
  const auto m = mapper_of(load_small(list_plan));
  auto r = m.map(R"({"data": [{"id": "a", "email": "a@x.io"}]})");
  EXPECT_THAT(issues_of(r), ElementsAre("missing required property 'meta'"));
  EXPECT_FALSE(r.issues[0].record);
  EXPECT_TRUE(r.body_rejected);
  EXPECT_TRUE(r.mapped.is_null());
  r = m.map(R"({"data": {"id": "a"}, "meta": {}})");
  EXPECT_TRUE(r.body_rejected);
  EXPECT_THAT(issues_of(r),
              ::testing::Contains("data: expected the array of records (pagination items), got an object"));
}

TEST(response_mapping, a_bare_array_body_is_a_list_of_records) {
  const auto m = with_fields("      - {source: id, target: id, type: integer, required: true}\n");
  const auto r = m.map(R"([{"id": 1}, {"id": "2"}, {}])");
  EXPECT_TRUE(r.list);
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.rejected, 2u);
  EXPECT_THAT(issues_of(r), ElementsAre(R"([1].id: expected integer, got string "2" (target id))",
                                        "[2].id: required field is missing (target id)"));
  EXPECT_EQ(json::serialize(r.mapped), R"([{"id":1},null,null])");
}

TEST(response_mapping, a_bare_array_where_the_schema_promises_an_object_is_drift_not_a_list) {
  const auto m = mapper_of(load_small(R"(endpoints:
  - id: e
    path: /user
    response: {schema: {type: object, properties: {id: {type: integer}}}}
mapping:
  - {endpoint: e, unmapped: ignore, fields: [{source: id, target: id, type: integer}]}
)"));
  const auto r = m.map(R"([{"id": 1}])");
  EXPECT_FALSE(r.list);
  EXPECT_TRUE(r.body_rejected);
  EXPECT_THAT(issues_of(r), ElementsAre("expected object, got array", "expected an object, got an array"));
}

TEST(response_mapping, issues_are_capped_and_the_rest_counted) {
  const auto m = mapper_of(load_small(list_plan));
  std::string body = R"({"meta": {}, "data": [)";
  for (int i = 0; i < 200; ++i) body += std::string(i == 0 ? "" : ",") + R"({"id": "x"})";
  body += "]}";
  const auto r = m.map(body);
  EXPECT_EQ(r.issues.size(), response_mapper::max_issues);
  EXPECT_EQ(r.more_issues, 200u - response_mapper::max_issues);
  EXPECT_EQ(r.rejected, 200u);  // every record is known to be bad, not only the reported ones
  EXPECT_THAT(r.summary(), ::testing::EndsWith("; and 180 more"));
  EXPECT_THAT(r.summary(), StartsWith("data[0].email: required field is missing (target user.email); data[1].email"));
}

TEST(response_mapping, summarize) {
  EXPECT_EQ(summarize({}), "");
  EXPECT_EQ(summarize({{"items[3].email", "expected string, got null", 3}}),
            "items[3].email: expected string, got null");
  EXPECT_EQ(summarize({{"", "body is not JSON: it is empty", std::nullopt}}, 2),
            "body is not JSON: it is empty; and 2 more");
}

// --- the example plans -------------------------------------------------------------------------------------

std::filesystem::path scenario(const std::string& name) {
  return std::filesystem::path(test::source_dir()) / "scenarios" / name;
}

TEST(response_mapping, every_example_plan_maps_its_own_examples_cleanly) {
  int mapped = 0;
  for (const char* name :
       {"hr-sync.plan.yaml", "salesforce-sync.plan.yaml", "payments.plan.yaml", "shipping-webhooks.plan.yaml"}) {
    const auto p = plan::load_file(scenario(name));
    for (const auto& e : p.endpoints) {
      const auto* mapping = received_mapping(p, e);
      const bool inbound = e.direction == plan::endpoint_direction::inbound;
      const auto& example = inbound ? e.request_example : e.response_example;
      if (!example) continue;
      const response_mapper m(e, mapping);
      const auto r = m.map(plan::json_text(*example));
      EXPECT_TRUE(r.ok()) << name << " " << e.id << ": " << r.summary();
      if (mapping != nullptr) ++mapped;
    }
  }
  EXPECT_GE(mapped, 8);  // every mapping of the four plans with an example
}

json::value map_example(const plan::integration_plan& p, std::string_view id) {
  const auto m = mapper_of(p, id);
  const auto r = m.map(plan::json_text(*p.find_endpoint(id)->response_example));
  EXPECT_TRUE(r.ok()) << r.summary();
  return r.mapped;
}

TEST(response_mapping, hr_sync_example_page_maps_to_directory_users) {
  const auto p = plan::load_file(scenario("hr-sync.plan.yaml"));
  const auto m = mapper_of(p, "list_employees");
  EXPECT_TRUE(m.paginated_records());
  const auto page = map_example(p, "list_employees");
  ASSERT_TRUE(page.is_array());
  ASSERT_EQ(page.get_array().size(), 2u);
  const auto& ada = page.get_array()[0].at("user");
  EXPECT_EQ(ada.at("email"), "ada.lovelace@example.com");
  EXPECT_EQ(ada.at("given_name"), "Ada");
  EXPECT_EQ(ada.at("display_name"), "Ada Lovelace");
  EXPECT_EQ(ada.at("office"), "LON1");
  EXPECT_EQ(ada.at("country"), "GB");
  EXPECT_EQ(ada.at("status"), "active");
  EXPECT_EQ(ada.at("hris_updated_at"), "2026-11-23T17:41:09Z");
  EXPECT_EQ(page.get_array()[0].at("sync").at("watermark_unix"), 1795455669);
  const auto& grace = page.get_array()[1].at("user");
  EXPECT_EQ(grace.at("family_name"), "Hopper");
  EXPECT_EQ(grace.at("status"), "deprovisioned");
  EXPECT_EQ(grace.at("country"), "GB");  // null in the record: the default
  EXPECT_EQ(grace.at("end_date"), "2026-11-20");
  EXPECT_FALSE(grace.get_object().contains("title"));  // null and optional: left out
}

TEST(response_mapping, salesforce_example_keeps_unmapped_fields_and_normalises_its_timestamps) {
  const auto p = plan::load_file(scenario("salesforce-sync.plan.yaml"));
  const auto page = map_example(p, "query_contacts");
  const auto& customer = page.at(0).at("customer");
  EXPECT_EQ(customer.at("crm_updated_at"), "2026-11-23T14:07:31Z");
  EXPECT_EQ(customer.at("tier"), "gold");
  EXPECT_EQ(customer.at("account").at("annual_revenue_minor"), 1250000050);
  EXPECT_EQ(customer.at("account").at("currency"), "GBP");
  EXPECT_EQ(customer.at("crm_extra").at("attributes").at("type"), "Contact");
  EXPECT_EQ(map_example(p, "api_limits").at("sync").at("api_calls_remaining"), 231407);
}

TEST(response_mapping, payments_example_converts_unix_seconds) {
  const auto p = plan::load_file(scenario("payments.plan.yaml"));
  const auto payment = map_example(p, "create_payment").at("payment");
  EXPECT_THAT(std::string(payment.at("created_at").as_string()), ::testing::MatchesRegex("[0-9-]+T[0-9:]+Z"));
  EXPECT_TRUE(payment.at("amount_minor").is_int64());
}

// --- drift -------------------------------------------------------------------------------------------------

// The example body after the plan's own schema_drift fault, as the mock upstream serves it.
mapping_result drifted(const plan::integration_plan& p, std::string_view endpoint, const plan::fault& f) {
  const auto* e = p.find_endpoint(endpoint);
  return response_mapper(*e, received_mapping(p, *e)).map(mocks::drifted_body(*e->response_example, f));
}

const plan::fault& drift_of(const plan::integration_plan& p, std::string_view mode) {
  return p.find_failure_mode(mode)->inject.at(0);
}

TEST(response_mapping, the_hr_plans_rename_drift_names_the_renamed_and_the_added_field) {
  const auto p = plan::load_file(scenario("hr-sync.plan.yaml"));
  const auto r = drifted(p, "list_employees", drift_of(p, "hris_field_renamed"));
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.body_rejected);  // every record is bad, the envelope is fine
  EXPECT_EQ(r.rejected, 2u);
  const auto issues = issues_of(r);
  EXPECT_THAT(issues, ::testing::Contains("data[0]: missing required property 'work_email'"));
  EXPECT_THAT(issues, ::testing::Contains("data[0].work_email: required field is missing (target user.email)"));
  EXPECT_THAT(issues,
              ::testing::Contains("data[1].workEmail: unmapped field (the mapping rejects fields it does not name)"));
  EXPECT_THAT(issues,
              ::testing::Contains("data[1].pronouns: unmapped field (the mapping rejects fields it does not name)"));
}

TEST(response_mapping, dropped_and_retyped_fields_name_their_path) {
  const auto hr = plan::load_file(scenario("hr-sync.plan.yaml"));
  const auto dropped = drifted(hr, "list_employees", drift_of(hr, "invalid_employee_records"));
  EXPECT_THAT(issues_of(dropped),
              ::testing::Contains("data[1].last_name: required field is missing (target user.family_name)"));

  const auto pay = plan::load_file(scenario("payments.plan.yaml"));
  plan::fault retype;
  retype.kind = "schema_drift";
  retype.retype = {{"amount", "string"}, {"created", "string"}};
  const auto r = drifted(pay, "create_payment", retype);
  const auto issues = issues_of(r);
  EXPECT_THAT(issues, ::testing::Contains(StartsWith("amount: expected integer, got string")));
  EXPECT_THAT(issues, ::testing::Contains(HasSubstr("created: unix_to_rfc3339 applies to unix seconds")));
  EXPECT_TRUE(r.body_rejected);
}

// --- hostile bodies ----------------------------------------------------------------------------------------

TEST(response_mapping, truncated_and_mutated_bodies_never_throw) {
  const auto p = plan::load_file(scenario("hr-sync.plan.yaml"));
  const auto m = mapper_of(p, "list_employees");
  const auto good = plan::json_text(*p.find_endpoint("list_employees")->response_example);
  std::size_t refused = 0;
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    mapping_result r;
    ASSERT_NO_THROW(r = m.map(std::string_view(good).substr(0, cut))) << cut;
    refused += r.ok() ? 0 : 1;
  }
  EXPECT_EQ(refused, good.size());  // a truncated page never maps
  std::mt19937 random(7);
  constexpr std::string_view alphabet = "{}[]\":,.-+eE0123456789 tfnul\\\x01\xc3\xa9xyz";
  for (int i = 0; i < 3000; ++i) {
    std::string text = good;
    const int edits = std::uniform_int_distribution<int>(1, 8)(random);
    for (int e = 0; e < edits; ++e) {
      const auto at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(random);
      switch (random() % 3) {
        case 0:
          text[at] = alphabet[random() % alphabet.size()];
          break;
        case 1:
          text.erase(at, std::uniform_int_distribution<std::size_t>(1, 30)(random));
          break;
        default:
          text.insert(at, 1, alphabet[random() % alphabet.size()]);
          break;
      }
    }
    ASSERT_NO_THROW((void)m.map(text)) << text;
  }
}

// Random JSON of bounded depth: scalars of every kind where the mapping expects others.
json::value random_json(std::mt19937& random, int depth) {
  switch (random() % (depth > 3 ? 6 : 8)) {
    case 0:
      return nullptr;
    case 1:
      return random() % 2 == 0;
    case 2:
      return static_cast<std::int64_t>(random()) - (1ll << 31);
    case 3:
      return std::ldexp(static_cast<double>(random()), static_cast<int>(random() % 2000) - 1000);
    case 4:
      return json::string(std::string(random() % 50, static_cast<char>('a' + random() % 26)));
    case 5:
      return json::string("2026-11-23T14:07:31.000+0000");
    case 6: {
      json::array a;
      for (unsigned i = random() % 4; i > 0; --i) a.push_back(random_json(random, depth + 1));
      return a;
    }
    default: {
      json::object o;
      static const std::array keys{"data",       "id",      "work_email", "department", "name", "meta",
                                   "updated_at", "records", "Account",    "amount",     "x"};
      for (unsigned i = random() % 6; i > 0; --i) o[keys[random() % keys.size()]] = random_json(random, depth + 1);
      return o;
    }
  }
}

TEST(response_mapping, random_json_never_throws_on_any_example_mapping) {
  std::mt19937 random(11);
  std::vector<std::pair<plan::integration_plan, std::string>> plans;
  for (const char* name : {"hr-sync.plan.yaml", "salesforce-sync.plan.yaml", "payments.plan.yaml"}) {
    plans.emplace_back(plan::load_file(scenario(name)), name);
  }
  for (const auto& [p, name] : plans) {
    for (const auto& mapping : p.mapping) {
      const response_mapper m(*p.find_endpoint(mapping.endpoint), &mapping);
      for (int i = 0; i < 300; ++i) {
        json::value body = random_json(random, 0);
        if (i % 3 == 0) body = json::object{{"data", json::array{body, random_json(random, 1)}}, {"records", body}};
        ASSERT_NO_THROW((void)m.map_value(body)) << name << " " << json::serialize(body);
        ASSERT_NO_THROW((void)m.map(json::serialize(body))) << name;
      }
    }
  }
}

TEST(response_mapping, a_mapper_is_reusable_and_movable) {
  auto m = mapper_of(load_small(list_plan));
  const std::string body = R"({"data": [{"id": "a", "email": "A@x.io"}], "meta": {}})";
  const auto first = m.map(body);
  response_mapper moved = std::move(m);
  const auto second = moved.map(body);
  EXPECT_EQ(first.mapped, second.mapped);
  EXPECT_TRUE(second.ok());
}

TEST(response_mapping, an_inbound_endpoint_checks_its_request_schema) {
  const auto p = plan::load_file(scenario("shipping-webhooks.plan.yaml"));
  const auto m = mapper_of(p, "tracking_events");
  const auto r = m.map(R"({"id": "evt_1"})");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.summary(), HasSubstr("missing required property"));
}

}  // namespace
}  // namespace planproof::client
