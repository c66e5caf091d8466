// The JSON Schema subset: how the loader checks a schema, and how examples are checked against one.
#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan/schema_patterns.hpp"
#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using test_support::load_small;
using test_support::small_errors;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Mismatches as printed, for compact assertions.
std::vector<std::string> mismatches(std::string_view schema, std::string_view value) {
  std::vector<std::string> out;
  for (const auto& m : check_against_schema(boost::json::parse(schema), boost::json::parse(value)))
    out.push_back(m.str());
  return out;
}

// --- check_against_schema ---------------------------------------------------------------------------

TEST(schema_check, a_conforming_value_has_no_mismatch) {
  const std::string_view schema =
      R"({"type": "object", "required": ["id", "amount"], "additionalProperties": false,
    "properties": {"id": {"type": "string", "pattern": "^pi_"}, "amount": {"type": "integer", "minimum": 0},
                   "ratio": {"type": "number", "exclusiveMaximum": 1}, "tags": {"type": "array",
                   "items": {"type": "string"}, "maxItems": 3}, "note": {"type": "string", "nullable": true},
                   "created": {"type": "string", "format": "date-time"}}})";
  EXPECT_THAT(mismatches(schema, R"({"id": "pi_1", "amount": 5, "ratio": 0.5, "tags": ["a"], "note": null,
                                     "created": "2024-06-20T12:30:00+02:00"})"),
              IsEmpty());
  EXPECT_THAT(mismatches(R"({"type": "integer"})", "3.0"), IsEmpty());  // a whole number is an integer
  EXPECT_THAT(mismatches(R"({"type": "number"})", "3"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"type": ["string", "null"]})", "null"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"enum": [1, "a"]})", "1.0"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"format": "x-custom"})", R"("anything")"), IsEmpty());  // an annotation only
  EXPECT_THAT(mismatches(R"({})", R"({"a": [1, {"b": null}]})"), IsEmpty());
}

TEST(schema_check, type_mismatches_name_the_path) {
  const std::string_view schema = R"({"type": "object", "properties": {"amount": {"type": "integer"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}}}})";
  EXPECT_THAT(
      mismatches(schema, R"({"amount": "10", "lines": [{"sku": "a"}, {"sku": 7}]})"),
      ElementsAre("amount: expected integer, got string", "lines[1].sku: expected string, got integer"));
  EXPECT_THAT(mismatches(schema, "[]"), ElementsAre("expected object, got array"));
  EXPECT_THAT(mismatches(R"({"type": "integer"})", "1.5"), ElementsAre("expected integer, got number"));
  EXPECT_THAT(mismatches(R"({"type": ["string", "integer", "null"]})", "true"),
              ElementsAre("expected string, integer or null, got boolean"));
  EXPECT_THAT(mismatches(R"({"type": "string"})", "null"), ElementsAre("expected string, got null"));
  EXPECT_THAT(mismatches(R"({"properties": {"a b": {"properties": {"0": {"type": "string"}}}}})",
                         R"({"a b": {"0": false}})"),
              ElementsAre("a b.0: expected string, got boolean"));
}

TEST(schema_check, values_and_bounds) {
  EXPECT_THAT(mismatches(R"({"enum": ["eur", "usd"]})", R"("gbp")"),
              ElementsAre(R"(expected one of "eur", "usd", got "gbp")"));
  EXPECT_THAT(mismatches(R"({"const": "payment"})", R"("refund")"),
              ElementsAre(R"(expected "payment", got "refund")"));
  EXPECT_THAT(mismatches(R"({"minimum": 0, "maximum": 10})", "-5"),
              ElementsAre("expected a value >= 0, got -5"));
  EXPECT_THAT(mismatches(R"({"minimum": 0, "maximum": 10})", "10.5"),
              ElementsAre("expected a value <= 10, got 10.5"));
  EXPECT_THAT(mismatches(R"({"exclusiveMinimum": 0})", "0"), ElementsAre("expected a value > 0, got 0"));
  EXPECT_THAT(mismatches(R"({"exclusiveMaximum": 1})", "1"), ElementsAre("expected a value < 1, got 1"));
  // Length counts characters, not bytes.
  EXPECT_THAT(mismatches(R"({"maxLength": 3})", R"("äöü")"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"minLength": 4})", R"("äöü")"),
              ElementsAre("expected at least 4 characters, got 3"));
  EXPECT_THAT(mismatches(R"({"maxLength": 2})", R"("äöü")"),
              ElementsAre("expected at most 2 characters, got 3"));
  EXPECT_THAT(mismatches(R"({"pattern": "^pi_[0-9]+$"})", R"("ch_1")"),
              ElementsAre(R"("ch_1" does not match the pattern '^pi_[0-9]+$')"));
  EXPECT_THAT(mismatches(R"({"pattern": "[0-9]"})", R"("abc1def")"), IsEmpty());  // searched, not anchored
  EXPECT_THAT(mismatches(R"({"minItems": 1})", "[]"), ElementsAre("expected at least 1 items, got 0"));
  EXPECT_THAT(mismatches(R"({"maxItems": 1})", "[1, 2]"), ElementsAre("expected at most 1 items, got 2"));
}

TEST(schema_check, formats) {
  for (const char* good : {"2024-06-20T12:30:00Z", "2024-06-20t12:30:00.123z", "2024-06-20T23:59:60-05:30"}) {
    EXPECT_THAT(mismatches(R"({"format": "date-time"})", "\"" + std::string(good) + "\""), IsEmpty()) << good;
  }
  for (const char* bad : {"2024-06-20", "2024-06-20T12:30:00", "2024-13-20T12:30:00Z", "2024-06-20T24:00:00Z",
                          "2024-06-20 12:30:00Z", "2024-06-20T12:30:00+0200"}) {
    EXPECT_THAT(mismatches(R"({"format": "date-time"})", "\"" + std::string(bad) + "\""),
                ElementsAre("\"" + std::string(bad) + "\" is not a valid date-time"))
        << bad;
  }
  EXPECT_THAT(mismatches(R"({"format": "date"})", R"("2024-06-20")"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"format": "date"})", R"("20/06/2024")"),
              ElementsAre(R"("20/06/2024" is not a valid date)"));
  EXPECT_THAT(mismatches(R"({"format": "date"})", R"("2025-02-29")"),  // a day that does not exist
              ElementsAre(R"("2025-02-29" is not a valid date)"));
  EXPECT_THAT(mismatches(R"({"format": "email"})", R"("ada@example.com")"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"format": "email"})", R"("ada@example")"),
              ElementsAre(R"("ada@example" is not a valid email)"));
  EXPECT_THAT(mismatches(R"({"format": "uuid"})", R"("123e4567-e89b-12d3-a456-426614174000")"), IsEmpty());
  EXPECT_THAT(mismatches(R"({"format": "uuid"})", R"("123e4567e89b12d3a456426614174000")"),
              ElementsAre(R"("123e4567e89b12d3a456426614174000" is not a valid uuid)"));
  EXPECT_THAT(mismatches(R"({"format": "date"})", "20240620"), IsEmpty());  // formats apply to strings only
}

TEST(schema_check, objects) {
  const std::string_view schema = R"({"required": ["id", "amount"], "properties": {"id": {}, "amount": {}},
                                      "additionalProperties": false})";
  EXPECT_THAT(mismatches(schema, R"({"id": 1, "extra": true})"),
              ElementsAre("missing required property 'amount'",
                          "extra: unexpected property (additionalProperties is false)"));
  EXPECT_THAT(mismatches(R"({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}})",
                         R"({"a": "x", "b": 1, "c": "2"})"),
              ElementsAre("c: expected integer, got string"));
}

TEST(schema_check, combinations) {
  const std::string_view one_of = R"({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]})";
  EXPECT_THAT(mismatches(one_of, "1"), IsEmpty());
  EXPECT_THAT(mismatches(one_of, "10.5"), IsEmpty());
  EXPECT_THAT(mismatches(one_of, "12"), ElementsAre("matches 2 of the oneOf schemas, expected exactly one"));
  EXPECT_THAT(mismatches(one_of, R"("x")"), ElementsAre("matches none of the oneOf schemas"));
  const std::string_view any_of = R"({"anyOf": [{"type": "string"}, {"type": "null"}]})";
  EXPECT_THAT(mismatches(any_of, "null"), IsEmpty());
  EXPECT_THAT(mismatches(any_of, "3"), ElementsAre("matches none of the anyOf schemas"));
  EXPECT_THAT(
      mismatches(R"({"allOf": [{"type": "string"}, {"minLength": 2}, {"maxLength": 3}]})", R"("abcd")"),
      ElementsAre("expected at most 3 characters, got 4"));
}

TEST(schema_check, local_references) {
  const std::string_view tree = R"({"type": "object", "properties": {"name": {"type": "string"},
                                    "children": {"type": "array", "items": {"$ref": "#"}}}})";
  EXPECT_THAT(mismatches(tree, R"({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})"),
              IsEmpty());
  EXPECT_THAT(mismatches(tree, R"({"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]})"),
              ElementsAre("children[0].children[0].name: expected string, got integer"));
  EXPECT_THAT(mismatches(R"({"properties": {"a": {"type": "integer"}, "b": {"$ref": "#/properties/a"}}})",
                         R"({"b": "x"})"),
              ElementsAre("b: expected integer, got string"));
  EXPECT_THAT(
      mismatches(R"({"properties": {"a~/b": {"type": "integer"}}, "$ref": "#/properties/a~0~1b"})", "true"),
      ElementsAre("expected integer, got boolean"));
  EXPECT_THAT(mismatches(R"({"$ref": "#/nowhere"})", "1"), ElementsAre("$ref '#/nowhere' does not resolve"));
  // A reference that comes back to the same value without consuming any of it cannot go on forever.
  EXPECT_THAT(mismatches(R"({"allOf": [{"$ref": "#"}]})", "1"), ElementsAre("$ref '#' loops back to itself"));
}

TEST(schema_check, hostile_schemas_stay_bounded) {
  // Each level doubles the work: 2^25 without a bound.
  std::string schema =
      R"({"anyOf": [{"type": "string"}, {"type": "array", "items": {"$ref": "#"}}, {"$ref": "#/anyOf/1"}]})";
  std::string value = "1";
  for (int i = 0; i < 25; ++i) value = "[" + value + "]";
  const auto result = mismatches(schema, value);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0], "too complex to check against the schema (more than 1000000 steps)");
  // Long strings are not run through std::regex.
  EXPECT_THAT(mismatches(R"({"pattern": "^(a|b)*$"})", "\"" + std::string(100'000, 'a') + "\""), IsEmpty());
}

TEST(schema_check, precompiled_patterns_give_the_same_mismatches) {
  const auto schema = boost::json::parse(
      R"({"type": "object", "properties": {"id": {"type": "string", "pattern": "^pi_[0-9]+$"},
          "items": {"type": "array", "items": {"$ref": "#/definitions/code"}}},
          "definitions": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}})");
  const schema_patterns patterns(schema);
  ASSERT_NE(patterns.get(), nullptr);
  for (const char* value : {R"({"id": "pi_1", "items": ["ABC"]})", R"({"id": "ch_1", "items": ["ABC", "abc", 3]})"}) {
    auto strings = [](const std::vector<schema_mismatch>& ms) {
      std::vector<std::string> out;
      for (const auto& m : ms) out.push_back(m.str());
      return out;
    };
    const auto body = boost::json::parse(value);
    EXPECT_EQ(strings(check_against_schema(schema, body, patterns)), strings(check_against_schema(schema, body)))
        << value;
  }
  EXPECT_THAT(mismatches(R"({"items": {"pattern": "^[A-Z]{3}$"}})", R"(["abc"])"),
              ElementsAre(R"([0]: "abc" does not match the pattern '^[A-Z]{3}$')"));
  // Patterns the table does not hold (another schema's) are compiled as before.
  EXPECT_THAT(check_against_schema(boost::json::parse(R"({"pattern": "^x"})"), boost::json::parse(R"("y")"), patterns),
              ::testing::SizeIs(1));
}

// --- schemas in the plan ----------------------------------------------------------------------------

TEST(schema_loader, stores_the_schema_as_json) {
  const auto plan = load_small(R"(endpoints:
  - id: e
    path: /x
    response:
      schema:
        type: object
        properties: {id: {type: string}, amount: {type: integer, minimum: 0}, kind: {enum: [a, 1, true]}}
        required: [id]
      example: {id: x, amount: 3})");
  EXPECT_EQ(*plan.endpoints[0].response_schema, boost::json::parse(R"({"type": "object", "properties": {"id":
    {"type": "string"}, "amount": {"type": "integer", "minimum": 0}, "kind": {"enum": ["a", 1, true]}},
    "required": ["id"]})"));
  EXPECT_FALSE(plan.endpoints[0].request_schema);
}

TEST(schema_loader, unknown_keywords) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {schema: {type: object, propertis: {}}}}]"),
      ElementsAre("plan.yaml:8:65: error: endpoints[0].response.schema: unknown JSON Schema keyword "
                  "'propertis'; did you mean 'properties'?"));
  EXPECT_THAT(
      small_errors(
          "endpoints: [{id: e, path: /x, request: {schema: {properties: {a: {uniqueItems: true}}}}}]"),
      ElementsAre("plan.yaml:8:67: error: endpoints[0].request.schema.properties.a: unknown JSON Schema "
                  "keyword 'uniqueItems' (this subset knows: type, properties, required, items, enum, const, "
                  "format, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, "
                  "pattern, minItems, maxItems, additionalProperties, description, default, nullable, "
                  "oneOf, anyOf, allOf, $ref)"));
}

TEST(schema_loader, keyword_values) {
  EXPECT_THAT(
      small_errors(R"(endpoints:
  - id: e
    path: /x
    response:
      schema:
        type: [object, str, object]
        properties: {amount: {type: integer}, currency: {type: string}}
        required: [amount, curency, total, amount]
        minLength: -1
        minimum: 10
        maximum: 1
        pattern: "([a-z]"
        additionalProperties: maybe
        oneOf: []
        $ref: other.json#/x)"),
      ElementsAre(
          "plan.yaml:13:24: error: endpoints[0].response.schema.type[1]: unknown type 'str' (known: "
          "string, integer, number, boolean, object, array, null)",
          "plan.yaml:13:29: error: endpoints[0].response.schema.type[2]: 'object' is listed twice",
          "plan.yaml:15:28: error: endpoints[0].response.schema.required[1]: 'curency' is not in "
          "properties; did you mean 'currency'?",
          "plan.yaml:15:37: error: endpoints[0].response.schema.required[2]: 'total' is not in "
          "properties",
          "plan.yaml:15:44: error: endpoints[0].response.schema.required[3]: 'amount' is listed twice",
          "plan.yaml:16:20: error: endpoints[0].response.schema.minLength: expected an integer >= 0, "
          "got '-1'",
          "plan.yaml:18:18: error: endpoints[0].response.schema: maximum is below minimum",
          "plan.yaml:19:18: error: endpoints[0].response.schema.pattern: '([a-z]' is not a valid "
          "ECMAScript regular expression",
          "plan.yaml:20:31: error: endpoints[0].response.schema.additionalProperties: expected true, "
          "false or a schema, got 'maybe'",
          "plan.yaml:21:16: error: endpoints[0].response.schema.oneOf: expected at least one schema",
          "plan.yaml:22:15: error: endpoints[0].response.schema.$ref: only local references ('#' or "
          "'#/...') are supported, got 'other.json#/x'"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /x, response: {schema: {required: [id]}}}]"),
              ElementsAre("plan.yaml:8:62: error: endpoints[0].response.schema.required[0]: 'id' is not in "
                          "properties"));
}

TEST(schema_loader, references) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {schema: {items: {$ref: '#/properties/a'}}}}]"),
      ElementsAre("plan.yaml:8:65: error: endpoints[0].response.schema.items.$ref: $ref '#/properties/a' "
                  "does not resolve in this schema"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {schema: {required: [], items: {$ref: "
                   "'#/required'}}}}]"),
      ElementsAre("plan.yaml:8:79: error: endpoints[0].response.schema.items.$ref: $ref '#/required' does "
                  "not point at a schema"));
  EXPECT_THAT(
      small_errors(
          "endpoints: [{id: e, path: /x, response: {schema: {properties: {a: {$ref: '#/properties/b'}, "
          "b: {$ref: '#/properties/a'}}}}}]"),
      ElementsAre("plan.yaml:8:74: error: endpoints[0].response.schema.properties.a.$ref: $ref "
                  "'#/properties/b' refers back to itself",
                  "plan.yaml:8:103: error: endpoints[0].response.schema.properties.b.$ref: $ref "
                  "'#/properties/a' refers back to itself"));
}

TEST(schema_loader, examples_are_checked_where_they_go_wrong) {
  const std::string plan = R"(endpoints:
  - id: e
    method: POST
    path: /v1/payments
    request:
      schema:
        type: object
        required: [amount, currency]
        properties:
          amount: {type: integer, minimum: 1}
          currency: {type: string, enum: [eur, usd]}
          lines: {type: array, items: {type: object, properties: {qty: {type: integer}}}}
      example:
        amount: "1000"
        lines: [{qty: 1}, {qty: 2.5}]
    response:
      schema: {type: object, properties: {id: {type: string, pattern: "^pi_"}}}
      example: {id: ch_1})";
  EXPECT_THAT(
      small_errors(plan),
      ElementsAre(
          "plan.yaml:21:9: error: endpoints[0].request.example: missing required property 'currency'",
          "plan.yaml:21:17: error: endpoints[0].request.example: amount: expected integer, got string",
          "plan.yaml:22:33: error: endpoints[0].request.example: lines[1].qty: expected integer, got "
          "number",
          "plan.yaml:25:21: error: endpoints[0].response.example: id: \"ch_1\" does not match the "
          "pattern '^pi_'"));
}

TEST(schema_loader, a_broken_schema_does_not_judge_its_example) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {schema: {type: integr}, example: 1}}]"),
      ElementsAre("plan.yaml:8:57: error: endpoints[0].response.schema.type: unknown type 'integr'; did "
                  "you mean 'integer'? (known: string, integer, number, boolean, object, array, null)"));
  // Duplicate keys inside a schema are reported once.
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {schema: {properties: {a: {}, a: {}}}}}]"),
      ElementsAre("plan.yaml:8:71: error: endpoints[0].response.schema.properties: duplicate key 'a' (first "
                  "at line 8)"));
}

}  // namespace
}  // namespace planproof::plan
