// endpoints: direction, path parameters, headers, query, versioning, pagination, inbound signatures,
// and which keys belong to which direction.
#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using test_support::load_small;
using test_support::small_errors;
using test_support::with_sets;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(endpoint, outbound_defaults) {
  const auto plan = load_small("endpoints: [{id: e, path: '/v1/items/{item_id}/notes/{note}'}]");
  const auto& e = plan.endpoints.at(0);
  EXPECT_EQ(e.direction, endpoint_direction::outbound);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.description, "");
  EXPECT_THAT(e.path_params, ElementsAre("item_id", "note"));
  EXPECT_THAT(e.path_param_specs, IsEmpty());  // documenting them is optional
  EXPECT_TRUE(e.headers.empty());
  EXPECT_TRUE(e.query.empty());
  EXPECT_FALSE(e.request_schema);
  EXPECT_FALSE(e.response_schema);
  EXPECT_TRUE(e.response_headers.empty());
  EXPECT_FALSE(e.rate_limit);
  EXPECT_FALSE(e.pagination);
  EXPECT_FALSE(e.timeout);
  EXPECT_FALSE(e.versioning);
  EXPECT_FALSE(e.signature);
  EXPECT_EQ(e.dedup_key, "");
}

TEST(endpoint, outbound_in_full) {
  const auto plan = load_small(R"(endpoints:
  - id: e
    description: list a customer's orders
    path: /v2/customers/{customer_id}/orders
    path_params:
      customer_id: {type: integer, example: 42, description: the customer}
    headers: {Accept: application/json, X-Partner-Key: env:PARTNER_KEY}
    query:
      limit: {type: integer, required: false, example: 50}
      status: {type: string, required: true, description: order status}
    response:
      status: 200
      headers: {X-RateLimit-Remaining: calls left in the window}
    rate_limit: 600/m
    timeout: 8s
    versioning: {style: header, header: Api-Version, value: 2024-06-20}
    pagination: {style: page, param: page, limit_param: per_page, max_page_size: 100, has_more: meta.has_more,
                 items: data, on_page_shift: refetch}
    idempotency: {header: Idempotency-Key})");
  const auto& e = plan.endpoints.at(0);
  EXPECT_EQ(e.description, "list a customer's orders");
  ASSERT_EQ(e.path_param_specs.size(), 1u);
  const auto& id = e.path_param_specs[0];
  EXPECT_EQ(id.name, "customer_id");
  EXPECT_EQ(id.type, param_type::integer);
  EXPECT_EQ(id.example, boost::json::value(42));
  EXPECT_EQ(id.description, "the customer");
  EXPECT_EQ(id.where.line, 13);

  ASSERT_EQ(e.headers.size(), 2u);
  EXPECT_EQ(e.headers.at("Accept").text, "application/json");
  EXPECT_FALSE(e.headers.at("Accept").secret);
  EXPECT_EQ(e.headers.at("X-Partner-Key").text, "");
  EXPECT_EQ(e.headers.at("X-Partner-Key").secret->str(), "env:PARTNER_KEY");

  ASSERT_EQ(e.query.size(), 2u);
  EXPECT_EQ(e.query[0].name, "limit");
  EXPECT_EQ(e.query[0].type, param_type::integer);
  EXPECT_FALSE(e.query[0].required);
  EXPECT_EQ(e.query[0].example, boost::json::value(50));
  EXPECT_EQ(e.query[1].name, "status");
  EXPECT_EQ(e.query[1].type, param_type::string);  // the default
  EXPECT_TRUE(e.query[1].required);
  EXPECT_FALSE(e.query[1].example);

  EXPECT_EQ(e.response_status, 200);
  EXPECT_EQ(e.response_headers.at("X-RateLimit-Remaining"), "calls left in the window");
  EXPECT_DOUBLE_EQ(*e.rate_limit, 10.0);
  EXPECT_EQ(e.timeout, 8s);
  ASSERT_TRUE(e.versioning);
  EXPECT_EQ(e.versioning->style, versioning_style::header);
  EXPECT_EQ(e.versioning->name, "Api-Version");
  EXPECT_EQ(e.versioning->value, "2024-06-20");
  ASSERT_TRUE(e.pagination);
  const auto& p = *e.pagination;
  EXPECT_EQ(p.style, pagination_style::page);
  EXPECT_EQ(p.param, "page");
  EXPECT_EQ(p.limit_param, "per_page");
  EXPECT_EQ(p.max_page_size, 100);
  EXPECT_EQ(p.has_more, "meta.has_more");
  EXPECT_EQ(p.next_cursor, "");
  EXPECT_EQ(p.items, "data");
  EXPECT_TRUE(p.refetch_on_page_shift);
  EXPECT_EQ(p.where.line, 24);
  EXPECT_EQ(e.idempotency_header, "Idempotency-Key");
}

TEST(endpoint, versioning_styles) {
  auto e =
      load_small(
          "endpoints: [{id: e, path: /v1/x, versioning: {style: query, param: api-version, value: '7.1'}}]")
          .endpoints.at(0);
  EXPECT_EQ(e.versioning->style, versioning_style::query);
  EXPECT_EQ(e.versioning->name, "api-version");
  EXPECT_EQ(e.versioning->value, "7.1");
  e = load_small("endpoints: [{id: e, path: /api/v3/x, versioning: {style: path, value: v3}}]")
          .endpoints.at(0);
  EXPECT_EQ(e.versioning->style, versioning_style::path);
  EXPECT_EQ(e.versioning->name, "");
  e = load_small("endpoints: [{id: e, path: /api/v3, versioning: {style: path, value: v3}}]").endpoints.at(0);
  EXPECT_EQ(e.versioning->value, "v3");
}

TEST(endpoint, cursor_and_link_header_pagination) {
  auto p = *load_small(
                "endpoints: [{id: e, path: /x, pagination: {style: cursor, param: starting_after, "
                "has_more: has_more, next_cursor: meta.next}}]")
                .endpoints.at(0)
                .pagination;
  EXPECT_EQ(p.style, pagination_style::cursor);
  EXPECT_EQ(p.param, "starting_after");
  EXPECT_EQ(p.next_cursor, "meta.next");
  EXPECT_FALSE(p.max_page_size);
  p = *load_small("endpoints: [{id: e, path: /x, pagination: {style: link_header, limit_param: per_page}}]")
           .endpoints.at(0)
           .pagination;
  EXPECT_EQ(p.style, pagination_style::link_header);
  EXPECT_EQ(p.param, "");
}

TEST(endpoint, inbound_defaults_and_signature) {
  const auto plan = load_small(R"(endpoints:
  - {id: e, path: /}
  - id: hook
    direction: inbound
    path: /webhooks/orders
    signature: {header: X-Signature, secret: env:HOOK_SECRET}
    dedup_key: event.id
  - id: hook2
    direction: inbound
    method: PUT
    path: /webhooks/other
    signature: {scheme: hmac-sha512, header: Sig, secret: file:/run/s, tolerance: 1m, timestamp_header: Sig-Time})");
  const auto& hook = plan.endpoints.at(1);
  EXPECT_EQ(hook.direction, endpoint_direction::inbound);
  EXPECT_EQ(hook.method, "POST");  // the default for inbound
  ASSERT_TRUE(hook.signature);
  EXPECT_EQ(hook.signature->scheme, signature_scheme::hmac_sha256);
  EXPECT_EQ(hook.signature->header, "X-Signature");
  EXPECT_EQ(hook.signature->secret.str(), "env:HOOK_SECRET");
  EXPECT_EQ(hook.signature->tolerance, 5min);
  EXPECT_EQ(hook.signature->timestamp_header, "");
  EXPECT_EQ(hook.signature->where.line, 13);
  EXPECT_EQ(hook.dedup_key, "event.id");
  const auto& hook2 = plan.endpoints.at(2);
  EXPECT_EQ(hook2.method, "PUT");
  EXPECT_EQ(hook2.signature->scheme, signature_scheme::hmac_sha512);
  EXPECT_EQ(hook2.signature->tolerance, 1min);
  EXPECT_EQ(hook2.signature->timestamp_header, "Sig-Time");
  EXPECT_EQ(hook2.dedup_key, "");
}

TEST(endpoint_errors, keys_of_the_other_direction) {
  EXPECT_THAT(
      small_errors(R"(endpoints:
  - {id: e, path: /}
  - id: hook
    direction: inbound
    path: /hook
    idempotency: {header: Idempotency-Key}
    pagination: {style: cursor, param: c}
    rate_limit: 10/s
    timeout: 1s)"),
      ElementsAre("plan.yaml:13:5: error: endpoints[1]: idempotency applies only to outbound endpoints",
                  "plan.yaml:14:5: error: endpoints[1]: pagination applies only to outbound endpoints",
                  "plan.yaml:15:5: error: endpoints[1]: rate_limit applies only to outbound endpoints",
                  "plan.yaml:16:5: error: endpoints[1]: timeout applies only to outbound endpoints"));
  EXPECT_THAT(small_errors(R"(endpoints:
  - id: e
    path: /
    signature: {header: S, secret: env:S}
    dedup_key: id)"),
              ElementsAre("plan.yaml:11:5: error: endpoints[0]: signature applies only to inbound endpoints "
                          "(direction: inbound)",
                          "plan.yaml:12:5: error: endpoints[0]: dedup_key applies only to inbound endpoints "
                          "(direction: inbound)"));
  // An unreadable direction: neither rule is applied, so the one error stands alone.
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /, direction: incoming, dedup_key: id, timeout: 1s}]"),
      ElementsAre("plan.yaml:8:41: error: endpoints[0].direction: unknown direction 'incoming' (known: "
                  "outbound, inbound)"));
}

TEST(endpoint_errors, path_parameters) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/{id'}]"),
      ElementsAre("plan.yaml:8:27: error: endpoints[0].path: '{' without a matching '}' in the path"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/{a/{b}}'}]"),
      ElementsAre("plan.yaml:8:27: error: endpoints[0].path: '{' without a matching '}' in the path"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/id}'}]"),
      ElementsAre("plan.yaml:8:27: error: endpoints[0].path: '}' without a matching '{' in the path"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/{}'}]"),
      ElementsAre("plan.yaml:8:27: error: endpoints[0].path: expected a parameter name of letters, digits "
                  "and '_' inside {}, got '{}'"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/{item id}'}]"),
      ElementsAre("plan.yaml:8:27: error: endpoints[0].path: expected a parameter name of letters, digits "
                  "and '_' inside {}, got '{item id}'"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: '/x/{id}/y/{id}'}]"),
              ElementsAre("plan.yaml:8:27: error: endpoints[0].path: path parameter 'id' appears twice"));
}

TEST(endpoint_errors, path_params_must_match_the_braces) {
  EXPECT_THAT(
      small_errors(R"(endpoints:
  - id: e
    path: /orders/{order_id}/lines/{line}
    path_params:
      order_di: {type: string}
      extra: {type: integer})"),
      ElementsAre("plan.yaml:12:7: error: endpoints[0].path_params.order_di: 'order_di' is not a parameter "
                  "of the path '/orders/{order_id}/lines/{line}'; did you mean 'order_id'?",
                  "plan.yaml:12:7: error: endpoints[0].path_params: missing path parameter 'order_id' (the "
                  "path has {order_id})",
                  "plan.yaml:12:7: error: endpoints[0].path_params: missing path parameter 'line' (the path "
                  "has {line})",
                  "plan.yaml:13:7: error: endpoints[0].path_params.extra: 'extra' is not a parameter of the "
                  "path '/orders/{order_id}/lines/{line}'"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, path_params: {id: {}}}]"),
      ElementsAre("plan.yaml:8:45: error: endpoints[0].path_params.id: 'id' is not a parameter of the path "
                  "'/x'"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: '/x/{id}', path_params: {id: {type: uuid, required: true}}}]"),
      ElementsAre("plan.yaml:8:63: error: endpoints[0].path_params.id.type: unknown type 'uuid' (known: "
                  "string, integer, number, boolean)",
                  "plan.yaml:8:69: error: endpoints[0].path_params.id: unknown key 'required' (known: type, "
                  "example, description)"));
}

TEST(endpoint_errors, parameter_examples_have_their_type) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, query: {limit: {type: integer, example: ten}}}]"),
      ElementsAre("plan.yaml:8:71: error: endpoints[0].query.limit.example: expected integer, got string"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, query: {on: {type: boolean, example: \"true\"}}}]"),
      ElementsAre("plan.yaml:8:68: error: endpoints[0].query.on.example: expected boolean, got string"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /x, query: {q: {requird: true}}}]"),
              ElementsAre("plan.yaml:8:43: error: endpoints[0].query.q: unknown key 'requird'; did you mean "
                          "'required'?"));
}

TEST(endpoint_errors, headers) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, headers: {Accept: a, accept: b, Bad Name: c, X: [1]}}]"),
      ElementsAre("plan.yaml:8:52: error: endpoints[0].headers.accept: header 'accept' is also given as "
                  "'Accept' (line 8); header names ignore case",
                  "plan.yaml:8:63: error: endpoints[0].headers.Bad Name: expected a header name (letters, "
                  "digits and !#$%&'*+-.^_`|~), got 'Bad Name'",
                  "plan.yaml:8:79: error: endpoints[0].headers.X: expected a string, got a list"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, response: {headers: {Retry-After: {a: b}}}}]"),
      ElementsAre("plan.yaml:8:65: error: endpoints[0].response.headers.Retry-After: expected a string, got "
                  "a map"));
}

TEST(endpoint, on_page_shift_is_ignore_unless_refetch_is_asked_for) {
  auto load_shift = [](const std::string& value) {
    return load_small("endpoints: [{id: e, path: /x, pagination: {style: cursor, param: c" + value + "}}]")
        .endpoints.at(0)
        .pagination->refetch_on_page_shift;
  };
  EXPECT_FALSE(load_shift(""));
  EXPECT_FALSE(load_shift(", on_page_shift: ignore"));
  EXPECT_TRUE(load_shift(", on_page_shift: refetch"));
}

TEST(endpoint_errors, pagination) {
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /x, pagination: {style: page, param: p, on_page_shift: yes}}]"),
              ElementsAre("plan.yaml:8:82: error: endpoints[0].pagination.on_page_shift: expected refetch or ignore, "
                          "got 'yes'"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /x, pagination: {param: p}}]"),
              ElementsAre("plan.yaml:8:43: error: endpoints[0].pagination: missing required key 'style'"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, pagination: {style: offset}}]"),
      ElementsAre("plan.yaml:8:43: error: endpoints[0].pagination: missing required key 'param' (required "
                  "for offset pagination)"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, pagination: {style: link_header, param: page}}]"),
      ElementsAre("plan.yaml:8:64: error: endpoints[0].pagination: param does not apply to link_header "
                  "pagination (the Link header names the next page)"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, pagination: {style: page, param: p, next_cursor: n}}]"),
      ElementsAre("plan.yaml:8:67: error: endpoints[0].pagination: next_cursor applies only to cursor "
                  "pagination"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, pagination: {style: cursr, param: p}}]"),
      ElementsAre("plan.yaml:8:51: error: endpoints[0].pagination.style: unknown pagination style 'cursr'; "
                  "did you mean 'cursor'? (known: cursor, page, offset, link_header)"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, pagination: {style: cursor, param: p, max_page_size: 0, "
                   "items: data..rows}}]"),
      ElementsAre("plan.yaml:8:84: error: endpoints[0].pagination.max_page_size: expected an integer >= 1, "
                  "got '0'",
                  "plan.yaml:8:94: error: endpoints[0].pagination.items: expected a field path such as "
                  "data.items (names separated by '.'), got 'data..rows'"));
}

TEST(endpoint_errors, versioning) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, versioning: {style: header, value: '1'}}]"),
      ElementsAre("plan.yaml:8:43: error: endpoints[0].versioning: missing required key 'header' (required "
                  "with style: header)"));
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, versioning: {style: header, header: V, param: v, "
                   "value: '1'}}]"),
      ElementsAre("plan.yaml:8:70: error: endpoints[0].versioning: param does not apply to versioning style "
                  "header"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /v1/x, versioning: {style: path, value: v2}}]"),
              ElementsAre("plan.yaml:8:67: error: endpoints[0].versioning: 'v2' is not a segment of the path "
                          "'/v1/x'"));
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /v1/x, versioning: {style: query, param: v}}]"),
              ElementsAre("plan.yaml:8:46: error: endpoints[0].versioning: missing required key 'value'"));
}

TEST(endpoint_errors, signature) {
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /}, {id: h, direction: inbound, path: /h, signature: "
                           "{scheme: hmac-sha265, secret: whsec_abc}}]"),
              ElementsAre("plan.yaml:8:80: error: endpoints[1].signature: missing required key 'header'",
                          "plan.yaml:8:89: error: endpoints[1].signature.scheme: unknown signature scheme "
                          "'hmac-sha265'; did you mean 'hmac-sha256'? (known: hmac-sha256, hmac-sha512)",
                          "plan.yaml:8:110: error: endpoints[1].signature.secret: must be a secret reference "
                          "(env:NAME or file:PATH); never write the secret in the plan"));
}

TEST(endpoint_errors, timeout_and_rate_limit) {
  EXPECT_THAT(
      small_errors("endpoints: [{id: e, path: /x, timeout: 0s, rate_limit: lots}]"),
      ElementsAre("plan.yaml:8:40: error: endpoints[0].timeout: expected a duration > 0, got '0s'",
                  "plan.yaml:8:56: error: endpoints[0].rate_limit: expected a rate such as 20/s or 600/m, "
                  "got 'lots'"));
}

TEST(endpoint, set_reaches_the_new_keys) {
  const auto plan =
      load_small("endpoints: [{id: e, path: /x}]",
                 with_sets({"endpoints.e.timeout=3s", "endpoints.e.pagination.style=link_header",
                            "endpoints.e.headers.X-Trace=on"}));
  EXPECT_EQ(plan.endpoints[0].timeout, 3s);
  EXPECT_EQ(plan.endpoints[0].pagination->style, pagination_style::link_header);
  EXPECT_EQ(plan.endpoints[0].headers.at("X-Trace").text, "on");
  EXPECT_THAT(small_errors("endpoints: [{id: e, path: /x}]",
                           with_sets({"endpoints.e.direction=inbound", "endpoints.e.timeout=3s"})),
              ElementsAre("--set: error: endpoints[0]: timeout applies only to outbound endpoints"));
}

}  // namespace
}  // namespace planproof::plan
