// The full-format fixture: every construct of the plan, read back value by value, and its JSON twin.
#include <random>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"
#include "support/paths.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using test_support::conditions_text;
using test_support::data_dir;
using test_support::errors_of;
using test_support::load_small;
using test_support::mutate;
using test_support::read_fixture;
using test_support::small_errors;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const integration_plan& full() {
  static const integration_plan plan = load_file(data_dir / "full_plan.yaml");
  return plan;
}

TEST(full_plan, integration_and_the_top_level_lists) {
  const auto& p = full();
  EXPECT_EQ(p.integration.name, "acme-crm-sync");
  EXPECT_EQ(p.integration.description, "Keep our customer records and the CRM's Contacts in step, both ways");
  ASSERT_EQ(p.assumptions.size(), 3u);
  EXPECT_EQ(p.assumptions[2], "Contact.External_Id__c is unique and indexed");
  EXPECT_THAT(p.verification,
              ElementsAre("planproof run against the embedded mocks in CI, every failure mode",
                          "a week in the full sandbox with production-sized data before phase 2"));
}

TEST(full_plan, auth) {
  const auto& a = full().auth;
  EXPECT_EQ(a.method, auth_method::oauth2_client_credentials);
  EXPECT_EQ(a.secret->str(), "env:SF_CLIENT_SECRET");
  EXPECT_EQ(a.rotation, std::chrono::hours(24 * 90));
  EXPECT_THAT(a.required_scopes, ElementsAre("api"));
  EXPECT_EQ(a.security_notes.size(), 2u);
  ASSERT_TRUE(a.oauth2);
  EXPECT_EQ(a.oauth2->token_url, "/services/oauth2/token");
  EXPECT_EQ(a.oauth2->client_id.secret->str(), "env:SF_CLIENT_ID");
  EXPECT_THAT(a.oauth2->scopes, ElementsAre("api", "refresh_token"));
  EXPECT_EQ(a.oauth2->audience, "https://login.salesforce.com");
  EXPECT_EQ(a.oauth2->refresh_before_expiry, 5min);
  EXPECT_EQ(a.oauth2->token_lifetime, 2h);
  EXPECT_EQ(a.where.line, 18);
  EXPECT_EQ(a.where.column, 3);
}

TEST(full_plan, outbound_query_endpoint) {
  const auto& e = *full().find_endpoint("query_contacts");
  EXPECT_EQ(e.direction, endpoint_direction::outbound);
  EXPECT_EQ(e.headers.at("Sforce-Query-Options").text, "batchSize=2000");
  ASSERT_EQ(e.query.size(), 2u);
  EXPECT_TRUE(e.query[0].required);
  EXPECT_EQ(e.query[0].example, boost::json::value("SELECT Id FROM Contact"));
  EXPECT_EQ(e.query[1].name, "cursor");
  ASSERT_TRUE(e.response_schema);
  EXPECT_EQ(e.response_schema->at("required"), boost::json::parse(R"(["totalSize", "done", "records"])"));
  EXPECT_EQ(e.response_schema->at_pointer("/properties/records/items/properties/Status__c/enum"),
            boost::json::parse(R"(["Active", "Inactive", "Lead"])"));
  EXPECT_EQ(e.response_example->at_pointer("/records/0/Id"), boost::json::value("003D000000QV9n2IAD"));
  EXPECT_EQ(e.response_headers.at("Sforce-Limit-Info"), "api-usage=25/100000");
  EXPECT_DOUBLE_EQ(*e.rate_limit, 25.0);
  EXPECT_EQ(e.timeout, 20s);
  EXPECT_EQ(e.versioning->style, versioning_style::path);
  EXPECT_EQ(e.versioning->value, "v59.0");
  const auto& pg = *e.pagination;
  EXPECT_EQ(pg.style, pagination_style::cursor);
  EXPECT_EQ(pg.param, "cursor");
  EXPECT_EQ(pg.limit_param, "batchSize");
  EXPECT_EQ(pg.max_page_size, 2000);
  EXPECT_EQ(pg.has_more, "done");
  EXPECT_EQ(pg.next_cursor, "nextRecordsUrl");
  EXPECT_EQ(pg.items, "records");
  EXPECT_EQ(pg.where.line, 76);
  EXPECT_EQ(pg.where.column, 17);
}

TEST(full_plan, outbound_upsert_endpoint) {
  const auto& e = *full().find_endpoint("upsert_contact");
  EXPECT_EQ(e.method, "PATCH");
  EXPECT_THAT(e.path_params, ElementsAre("customer_id"));
  ASSERT_EQ(e.path_param_specs.size(), 1u);
  EXPECT_EQ(e.path_param_specs[0].example, boost::json::value("cus_1042"));
  EXPECT_EQ(e.headers.at("X-Correlation-Id").text, "{request_id}");
  ASSERT_TRUE(e.request_schema);
  EXPECT_EQ(e.request_schema->at_pointer("/properties/Phone/pattern"), boost::json::value("^\\+[0-9 ]+$"));
  EXPECT_EQ(e.request_schema->at_pointer("/properties/Status__c/$ref"),
            boost::json::value("#/properties/Tier__c"));
  EXPECT_EQ(e.request_example->at("Owner"), nullptr);
  EXPECT_EQ(e.response_status, 201);
  EXPECT_EQ(e.versioning->style, versioning_style::header);
  EXPECT_EQ(e.versioning->name, "X-SFDC-Api-Version");
  EXPECT_EQ(e.versioning->value, "59.0");
  EXPECT_EQ(e.idempotency_header, "Idempotency-Key");
  EXPECT_FALSE(e.pagination);
}

TEST(full_plan, inbound_endpoint) {
  const auto& e = *full().find_endpoint("contact_changed");
  EXPECT_EQ(e.direction, endpoint_direction::inbound);
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.signature->scheme, signature_scheme::hmac_sha512);
  EXPECT_EQ(e.signature->header, "X-SF-Signature");
  EXPECT_EQ(e.signature->secret.str(), "env:SF_WEBHOOK_SECRET");
  EXPECT_EQ(e.signature->tolerance, 2min);
  EXPECT_EQ(e.signature->timestamp_header, "X-SF-Timestamp");
  EXPECT_EQ(e.dedup_key, "event.replayId");
  EXPECT_EQ(e.response_status, 202);
}

TEST(full_plan, mapping) {
  const auto& m = full().mapping;
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].endpoint, "query_contacts");
  EXPECT_EQ(m[0].direction, mapping_direction::response);
  EXPECT_EQ(m[0].unmapped, unmapped_policy::preserve);
  EXPECT_EQ(m[0].preserve_to, "customer.crm_extra");
  ASSERT_EQ(m[0].fields.size(), 15u);
  const auto& name = m[0].fields[2];
  EXPECT_EQ(name.source, "");
  EXPECT_EQ(name.transform.at(0).kind, transform_kind::concat);
  EXPECT_THAT(name.transform[0].sources, ElementsAre("records.FirstName", "records.LastName"));
  const auto& status = m[0].fields[3];
  EXPECT_EQ(status.type, field_type::enum_);
  EXPECT_EQ(status.transform.at(0).enum_map.at(2), (std::pair<std::string, std::string>{"Lead", "prospect"}));
  const auto& spend = m[0].fields[4];
  EXPECT_DOUBLE_EQ(spend.transform.at(0).factor, 100);
  EXPECT_EQ(spend.validate->min, 0);
  EXPECT_FALSE(spend.validate->min_exclusive);
  EXPECT_EQ(m[0].fields[6].default_value, boost::json::value("eur"));
  EXPECT_EQ(m[0].fields[6].type, field_type::currency);
  EXPECT_EQ(m[0].fields[10].default_value, boost::json::value(true));
  EXPECT_EQ(m[0].fields[14].validate->max, 1000000);
  EXPECT_TRUE(m[0].fields[14].validate->max_exclusive);
  EXPECT_EQ(m[1].endpoint, "contact_changed");
  EXPECT_EQ(m[1].direction, mapping_direction::request);
  EXPECT_EQ(m[1].unmapped, unmapped_policy::reject);
  EXPECT_EQ(m[2].direction, mapping_direction::request);
  EXPECT_EQ(m[2].where.line, 157);
}

TEST(full_plan, retry) {
  const auto& r = full().retry;
  EXPECT_EQ(r.backoff.jitter, jitter_kind::decorrelated);
  EXPECT_EQ(r.backoff.multiplier, 3.0);
  EXPECT_THAT(conditions_text(r.fatal_on), ElementsAre("400", "401", "403", "404", "schema_error"));
  EXPECT_DOUBLE_EQ(r.retry_budget->ratio, 0.1);
  EXPECT_DOUBLE_EQ(r.retry_budget->min_per_second, 5);
  const auto& b = *r.circuit_breaker;
  EXPECT_EQ(b.window, breaker_window::time);
  EXPECT_EQ(b.time_size, 30s);
  EXPECT_DOUBLE_EQ(b.failure_rate, 0.5);
  EXPECT_EQ(b.slow_call->threshold, 5s);
  EXPECT_DOUBLE_EQ(b.slow_call->rate, 0.8);
  EXPECT_EQ(b.min_calls, 20);
  EXPECT_EQ(b.open_for, 45s);
  EXPECT_EQ(b.half_open_calls, 5);
  EXPECT_EQ(r.idempotency->approach, idempotency_approach::natural_key);
}

TEST(full_plan, failure_modes_and_phases) {
  const auto& f = *full().find_failure_mode("api_limit_exhausted");
  EXPECT_EQ(f.degradation, "reads from our own database keep working; CRM edits queue up");
  ASSERT_TRUE(f.observability);
  EXPECT_THAT(f.observability->logs, ElementsAre("sync batch id", "api usage header per call"));
  EXPECT_EQ(f.observability->correlation_id, "X-Correlation-Id, sent on every call and logged on both sides");
  EXPECT_THAT(f.observability->metrics, ElementsAre("crm_api_usage_ratio", "crm_sync_lag_seconds"));
  EXPECT_EQ(f.consistency, "eventual; the next sync picks up every change by LastModifiedDate");
  EXPECT_EQ(f.compensation, "none needed; upserts are replayed from the dead-letter file");
  EXPECT_FALSE(full().find_failure_mode("token_expiry")->observability);

  const auto& p1 = *full().find_phase("phase1");
  EXPECT_FALSE(p1.retry_settings->circuit_breaker);
  EXPECT_FALSE(p1.retry_settings->retry_budget);
  EXPECT_EQ(p1.retry_settings->backoff.jitter, jitter_kind::full);
  EXPECT_EQ(p1.retry_settings->backoff.multiplier, 3.0);
  const auto& p2 = *full().find_phase("phase2");
  EXPECT_EQ(p2.retry_settings->circuit_breaker->window, breaker_window::count);
  EXPECT_EQ(p2.retry_settings->circuit_breaker->size, 50);
  EXPECT_EQ(p2.retry_settings->circuit_breaker->slow_call->threshold, 5s);
  EXPECT_THAT(p2.failure_modes, ElementsAre("api_limit_exhausted", "token_expiry", "duplicate_events"));
}

TEST(full_plan, json_twin_reads_the_same) {
  const auto& y = full();
  const auto j = load_file(data_dir / "full_plan.json");
  EXPECT_EQ(j.assumptions, y.assumptions);
  EXPECT_EQ(j.verification, y.verification);
  EXPECT_EQ(j.auth.oauth2->token_lifetime, y.auth.oauth2->token_lifetime);
  EXPECT_EQ(j.auth.rotation, y.auth.rotation);
  ASSERT_EQ(j.endpoints.size(), y.endpoints.size());
  for (std::size_t i = 0; i < y.endpoints.size(); ++i) {
    EXPECT_EQ(j.endpoints[i].request_schema, y.endpoints[i].request_schema) << i;
    EXPECT_EQ(j.endpoints[i].response_schema, y.endpoints[i].response_schema) << i;
    EXPECT_EQ(j.endpoints[i].request_example, y.endpoints[i].request_example) << i;
    EXPECT_EQ(j.endpoints[i].response_example, y.endpoints[i].response_example) << i;
    EXPECT_EQ(j.endpoints[i].path_params, y.endpoints[i].path_params) << i;
    EXPECT_EQ(j.endpoints[i].direction, y.endpoints[i].direction) << i;
    EXPECT_EQ(j.endpoints[i].pagination.has_value(), y.endpoints[i].pagination.has_value()) << i;
  }
  ASSERT_EQ(j.mapping.size(), y.mapping.size());
  for (std::size_t i = 0; i < y.mapping.size(); ++i) {
    ASSERT_EQ(j.mapping[i].fields.size(), y.mapping[i].fields.size());
    for (std::size_t k = 0; k < y.mapping[i].fields.size(); ++k) {
      EXPECT_EQ(j.mapping[i].fields[k].target, y.mapping[i].fields[k].target);
      EXPECT_EQ(j.mapping[i].fields[k].transform.size(), y.mapping[i].fields[k].transform.size());
      EXPECT_EQ(j.mapping[i].fields[k].default_value, y.mapping[i].fields[k].default_value);
    }
  }
  EXPECT_EQ(j.retry.circuit_breaker->time_size, y.retry.circuit_breaker->time_size);
  // `off` reads as false in JSON; both switch the breaker off.
  EXPECT_FALSE(j.find_phase("phase1")->retry_settings->circuit_breaker);
  EXPECT_EQ(j.find_failure_mode("api_limit_exhausted")->observability->metrics,
            y.find_failure_mode("api_limit_exhausted")->observability->metrics);
}

TEST(full_plan, a_wrong_example_in_the_fixture_is_caught) {
  const auto text = read_fixture("full_plan.yaml");
  EXPECT_THAT(errors_of(mutate(text, "AnnualSpend__c: 1250.5", "AnnualSpend__c: lots")),
              ElementsAre("plan.yaml:71:49: error: endpoints[0].response.example: records[0].AnnualSpend__c: "
                          "expected number, got string"));
  EXPECT_THAT(
      errors_of(mutate(text, "Region: UK", "Region: U")),
      ElementsAre("plan.yaml:103:69: error: endpoints[1].request.example: Region: expected at least 2 "
                  "characters, got 1"));
  EXPECT_THAT(
      errors_of(mutate(text, "Source: planproof}", "Source: other}")),
      ElementsAre("plan.yaml:103:81: error: endpoints[1].request.example: Source: expected \"planproof\", "
                  "got \"other\""));
  EXPECT_THAT(errors_of(mutate(text, "Status__c: Active,\n", "Status__c: Gold,\n")),
              ElementsAre("plan.yaml:102:99: error: endpoints[1].request.example: Status__c: expected one of "
                          "\"Active\", \"Inactive\", \"Lead\", got \"Gold\""));
  EXPECT_THAT(
      errors_of(mutate(text, "Owner: null", "Owner: 7")),
      ElementsAre("plan.yaml:103:40: error: endpoints[1].request.example: Owner: matches none of the oneOf "
                  "schemas"));
  EXPECT_THAT(errors_of(mutate(text, "Tags__c: [vip]", "Tags__c: [vip], Notes: x")),
              ElementsAre("plan.yaml:103:40: error: endpoints[1].request.example: Notes: unexpected property "
                          "(additionalProperties is false)"));
}

TEST(full_plan, mutations_never_crash) {
  // The same hostile edits as loader_fuzz, over the fixture that exercises every new construct.
  const std::string good = read_fixture("full_plan.yaml");
  const std::string alphabet = " \n\t:-[]{},#&*!|>'\"%@`?0123456789abcxyz.~$/";
  auto expect_no_crash = [](const std::string& text, const std::string& what) {
    try {
      load_string(text, "fuzz.yaml");
    } catch (const core::diagnostic_error& e) {
      EXPECT_FALSE(e.diagnostics().empty()) << what;
      for (const auto& d : e.diagnostics())
        EXPECT_EQ(d.message.find("internal error"), std::string::npos) << what << ": " << d.message;
    }
  };
  test_support::for_each_mutation(good, 20240621, 60, 300, alphabet, expect_no_crash);
}

// --- plan-level keys --------------------------------------------------------------------------------

TEST(plan_keys, assumptions_moved_to_the_top_level) {
  EXPECT_THAT(small_errors("integration: {name: x, assumptions: [a]}"),
              ElementsAre("plan.yaml:8:24: error: integration: assumptions moved to the top level"));
  EXPECT_THAT(small_errors("verification: {a: b}"),
              ElementsAre("plan.yaml:8:15: error: verification: expected a list of strings, got a map"));
}

TEST(plan_keys, failure_mode_fields) {
  const auto plan = load_small(R"(failure_modes:
  - id: f
    inject: {fault: hang}
    degradation: reads still work
    consistency: at most one minute stale
    compensation: replay from the dead-letter file
    observability: {correlation_id: X-Request-Id})");
  const auto& f = plan.failure_modes.at(0);
  EXPECT_EQ(f.degradation, "reads still work");
  EXPECT_EQ(f.consistency, "at most one minute stale");
  EXPECT_EQ(f.compensation, "replay from the dead-letter file");
  ASSERT_TRUE(f.observability);
  EXPECT_THAT(f.observability->logs, IsEmpty());
  EXPECT_EQ(f.observability->correlation_id, "X-Request-Id");
  EXPECT_EQ(f.observability->where.line, 14);
  EXPECT_THAT(
      small_errors("failure_modes: [{id: f, inject: {fault: hang}, observability: {log: [a], metrics: x}}]"),
      ElementsAre(
          "plan.yaml:8:64: error: failure_modes[0].observability: unknown key 'log'; did you mean "
          "'logs'?",
          "plan.yaml:8:83: error: failure_modes[0].observability.metrics: expected a list of strings, "
          "got 'x'"));
}

// --- unsupported_features ---------------------------------------------------------------------------

TEST(unsupported_features, the_full_plan_lists_what_run_cannot_do) {
  const auto& p = full();
  // OAuth2, the circuit breaker and the retry budget all run.
  EXPECT_THAT(unsupported_features(p, *p.find_failure_mode("api_limit_exhausted")), IsEmpty());
  EXPECT_THAT(unsupported_features(p, *p.find_failure_mode("api_limit_exhausted"),
                                   *p.find_phase("phase1")->retry_settings),
              IsEmpty());
  // Webhook faults are delivered to the plan's receiver, and processed_exactly_once judged on the events.
  EXPECT_THAT(unsupported_features(p, *p.find_failure_mode("duplicate_events"),
                                   *p.find_phase("phase1")->retry_settings),
              IsEmpty());
}

// processed_exactly_once is judged on webhook events, or record by record on a paginated pull; on
// an outbound endpoint without pages and with no webhook stream there is nothing it could mean.
TEST(unsupported_features, processed_exactly_once_runs_on_a_paginated_traffic_endpoint_only) {
  const auto plan = load_file(std::filesystem::path(::planproof::test::source_dir()) / "scenarios/hr-sync.plan.yaml");
  const auto* shift = plan.find_failure_mode("page_shift_during_pull");
  ASSERT_NE(shift, nullptr);
  EXPECT_THAT(unsupported_features(plan, *shift), IsEmpty());
  auto on_a_plain_endpoint = *shift;
  on_a_plain_endpoint.traffic = plan.traffic;
  on_a_plain_endpoint.traffic->endpoint = "get_employee";
  EXPECT_THAT(unsupported_features(plan, on_a_plain_endpoint), ElementsAre("expectation 'processed_exactly_once'"));
}

TEST(unsupported_features, a_plan_run_can_execute_lists_nothing) {
  const auto plan = load_file(std::filesystem::path(::planproof::test::source_dir()) / "scenarios/payments.plan.yaml");
  for (const auto& f : plan.failure_modes) {
    EXPECT_THAT(unsupported_features(plan, f), IsEmpty()) << f.id;
  }
}

TEST(unsupported_features, one_reason_each) {
  auto reasons = [](std::string_view tail) {
    const auto plan = load_small(tail);
    return unsupported_features(plan, plan.failure_modes.at(0));
  };
  EXPECT_THAT(reasons("auth: {method: api_key, in: query, param: k, key: env:K}"), IsEmpty());
  EXPECT_THAT(reasons("auth: {method: jwt, signing_key: env:K}"), IsEmpty());
  EXPECT_THAT(reasons("auth: {method: bearer, token: env:T}"), IsEmpty());
  // Runs over HTTPS mocks (run --tls DIR); whether a run has them is the runner's to say.
  EXPECT_THAT(reasons("auth: {method: mtls, client_cert: file:c, client_key: file:k}"), IsEmpty());
  // Every jitter, strategy and multiplier runs.
  for (const char* jitter : {"none", "full", "equal", "decorrelated"}) {
    EXPECT_THAT(reasons(std::string("retry: {max_attempts: 2, backoff: {jitter: ") + jitter + ", multiplier: 3}}"),
                IsEmpty())
        << jitter;
  }
  EXPECT_THAT(reasons("retry: {max_attempts: 2, backoff: {strategy: linear, jitter: equal}}"), IsEmpty());
  EXPECT_THAT(reasons("retry: {max_attempts: 2, circuit_breaker: off, retry_budget: off}"), IsEmpty());
  EXPECT_THAT(reasons("endpoints: [{id: e, path: /, timeout: 1s}]"),
              ElementsAre("per-endpoint timeout on e"));
  EXPECT_THAT(reasons("endpoints: [{id: e, direction: inbound, path: /}]"),
              ElementsAre("traffic to an inbound endpoint"));
  EXPECT_THAT(reasons("failure_modes: [{id: f, inject: [{fault: out_of_order}, {fault: hang}, {fault: out_of_order}], "
                      "expect: {processed_exactly_once: true}}]"),
              IsEmpty());
  EXPECT_THAT(reasons("failure_modes: [{id: f, inject: {fault: tls, tls: expired_certificate}}]"), IsEmpty());
}

}  // namespace
}  // namespace planproof::plan
