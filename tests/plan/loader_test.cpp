#include "plan/loader.hpp"

#include <fstream>
#include <random>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"
#include "support/process.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using test_support::data_dir;
using test_support::errors_of;
using test_support::mutate;
using test_support::read_fixture;
using test_support::retry_on_text;
using test_support::with_sets;

const std::string& good_yaml() {
  static const std::string text = read_fixture("good_plan.yaml");
  return text;
}

// --- the good plan ----------------------------------------------------------------------------------

TEST(loader, reads_a_complete_plan) {
  const auto plan = load_file(data_dir / "good_plan.yaml");
  EXPECT_EQ(plan.file, (data_dir / "good_plan.yaml").string());
  EXPECT_EQ(plan.version, 1);

  EXPECT_EQ(plan.integration.name, "stripe-payments");
  EXPECT_EQ(plan.integration.system, "Stripe");
  EXPECT_EQ(plan.integration.base_url, "https://api.stripe.com");
  EXPECT_EQ(plan.integration.description, "Card payments through Stripe");
  EXPECT_THAT(plan.assumptions, ElementsAre("test mode keys", "EUR only"));
  EXPECT_EQ(plan.integration.where.line, 4);
  EXPECT_EQ(plan.integration.where.column, 3);

  EXPECT_EQ(plan.auth.method, auth_method::api_key);
  EXPECT_EQ(plan.auth.header, "X-API-Key");  // default for api_key
  ASSERT_TRUE(plan.auth.secret);
  EXPECT_EQ(plan.auth.secret->str(), "env:STRIPE_KEY");

  ASSERT_EQ(plan.endpoints.size(), 2u);
  const auto& create = plan.endpoints[0];
  EXPECT_EQ(create.id, "create_payment");
  EXPECT_EQ(create.method, "POST");  // written lower-case
  EXPECT_EQ(create.path, "/v1/payments");
  ASSERT_TRUE(create.request_example);
  EXPECT_EQ(
      *create.request_example,
      boost::json::parse(R"({"amount": 1000, "currency": "eur", "confirm": true, "metadata": {"order": "42"},
                                  "note": null, "ratio": 0.5, "tags": ["a", 1]})"));
  EXPECT_TRUE(create.request_example->as_object().at("amount").is_int64());
  EXPECT_TRUE(create.request_example->as_object().at("metadata").as_object().at("order").is_string());
  ASSERT_TRUE(create.response_example);
  EXPECT_EQ(*create.response_example, boost::json::parse(R"({"id": "pi_123", "status": "succeeded"})"));
  EXPECT_EQ(create.response_status, 201);
  EXPECT_EQ(create.success_status(), 201);
  EXPECT_THAT(create.statuses.success, ElementsAre(200, 201));
  EXPECT_THAT(create.statuses.retryable, ElementsAre(429, 502, 503, 504));
  EXPECT_THAT(create.statuses.fatal, ElementsAre(400, 401, 422));
  EXPECT_EQ(create.idempotency_header, "Idempotency-Key");
  EXPECT_EQ(create.where.line, 13);
  EXPECT_EQ(create.where.column, 5);

  const auto& get = plan.endpoints[1];
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.path, "/v1/payments/{id}");
  EXPECT_FALSE(get.request_example);
  EXPECT_EQ(get.response_status, 0);
  EXPECT_THAT(get.statuses.success, ElementsAre(200, 201, 202, 204));
  EXPECT_FALSE(get.idempotency_header);

  EXPECT_EQ(plan.retry.max_attempts, 4);
  EXPECT_EQ(plan.retry.backoff.strategy, backoff_strategy::exponential);
  EXPECT_EQ(plan.retry.backoff.base, 200ms);
  EXPECT_EQ(plan.retry.backoff.max, 5s);
  EXPECT_EQ(plan.retry.backoff.jitter, jitter_kind::full);
  EXPECT_THAT(retry_on_text(plan.retry),
              ElementsAre("429", "502", "503", "504", "timeout", "connection_error"));
  EXPECT_TRUE(plan.retry.retry_after.honor);
  EXPECT_EQ(plan.retry.retry_after.cap, 30s);
  EXPECT_EQ(plan.retry.timeouts.connect, 1s);
  EXPECT_EQ(plan.retry.timeouts.read, 5s);
  EXPECT_EQ(plan.retry.timeouts.total, 20s);
  EXPECT_EQ(plan.retry.dead_letter_path, "out/dead.jsonl");

  EXPECT_EQ(plan.traffic.endpoint, "create_payment");
  EXPECT_DOUBLE_EQ(plan.traffic.rate, 20.0);
  EXPECT_EQ(plan.traffic.concurrency, 4);
  EXPECT_EQ(plan.traffic.duration, 60s);

  ASSERT_EQ(plan.failure_modes.size(), 2u);
  const auto& limited = plan.failure_modes[0];
  EXPECT_EQ(limited.id, "rate_limited");
  EXPECT_EQ(limited.description, "the provider throttles us");
  EXPECT_EQ(limited.detection, "429 responses counted per endpoint");
  EXPECT_EQ(limited.response, "honor Retry-After, back off with jitter");
  EXPECT_EQ(limited.recovery, "automatic once the rate drops");
  EXPECT_EQ(limited.alerting, "warn when 429s exceed 5% for 5 minutes");
  EXPECT_EQ(limited.user_impact, "confirmation delayed by up to 30 s");
  ASSERT_EQ(limited.inject.size(), 1u);
  const auto& status = limited.inject[0];
  EXPECT_EQ(status.kind, "status");
  EXPECT_EQ(status.status, 429);
  EXPECT_EQ(status.retry_after, 2s);
  EXPECT_DOUBLE_EQ(status.probability, 0.3);
  ASSERT_EQ(status.during.size(), 1u);
  EXPECT_EQ(status.during[0].from, 10s);
  EXPECT_EQ(status.during[0].to, 40s);
  EXPECT_FALSE(status.endpoint);
  EXPECT_EQ(status.where.line, 36);
  EXPECT_EQ(status.where.column, 13);

  ASSERT_EQ(limited.expect.size(), 4u);  // `lost` written, so none added
  EXPECT_EQ(limited.expect[0].name, "success_rate");
  EXPECT_EQ(limited.expect[0].op, comparison::ge);
  EXPECT_DOUBLE_EQ(limited.expect[0].value, 0.99);
  EXPECT_EQ(limited.expect[0].text, ">= 0.99");
  EXPECT_EQ(limited.expect[1].name, "max_attempts");
  EXPECT_EQ(limited.expect[1].op, comparison::le);
  EXPECT_DOUBLE_EQ(limited.expect[1].value, 4);
  EXPECT_EQ(limited.expect[2].name, "honors_retry_after");
  EXPECT_EQ(limited.expect[2].op, comparison::eq);
  EXPECT_TRUE(limited.expect[2].boolean);
  EXPECT_DOUBLE_EQ(limited.expect[2].value, 1);
  EXPECT_EQ(limited.expect[2].text, "true");
  EXPECT_EQ(limited.expect[3].name, "lost");
  EXPECT_EQ(limited.expect[3].op, comparison::eq);
  EXPECT_FALSE(limited.expect[3].implicit);
  EXPECT_EQ(limited.expect[3].where.line, 42);

  const auto& slow = plan.failure_modes[1];
  ASSERT_EQ(slow.inject.size(), 3u);
  EXPECT_EQ(slow.inject[0].kind, "latency");
  EXPECT_EQ(slow.inject[0].latency.distribution, latency_distribution::fixed);
  EXPECT_EQ(slow.inject[0].latency.value, 300ms);
  EXPECT_EQ(slow.inject[0].endpoint, "get_payment");
  EXPECT_DOUBLE_EQ(slow.inject[0].probability, 1.0);
  EXPECT_TRUE(slow.inject[0].during.empty());
  EXPECT_EQ(slow.inject[1].kind, "malformed");
  EXPECT_EQ(slow.inject[1].malformed, malformation::truncated);
  EXPECT_DOUBLE_EQ(slow.inject[1].probability, 0.1);
  EXPECT_EQ(slow.inject[2].kind, "duplicate_delivery");  // known, not typed yet: its keys are kept as written
  EXPECT_EQ(slow.inject[2].params.at("copies").as_int64(), 2);
  ASSERT_EQ(slow.expect.size(), 5u);
  EXPECT_EQ(slow.expect[0].op, comparison::ge);  // a bare success rate is a floor
  EXPECT_DOUBLE_EQ(slow.expect[0].value, 0.99);
  EXPECT_EQ(slow.expect[0].text, "99%");
  EXPECT_EQ(slow.expect[1].name, "dead_lettered");
  EXPECT_EQ(slow.expect[1].op, comparison::eq);
  EXPECT_EQ(slow.expect[1].text, "0");
  EXPECT_EQ(slow.expect[2].name, "p99_latency");
  EXPECT_EQ(slow.expect[2].text, "< 2s");
  EXPECT_EQ(slow.expect[3].name, "recovers_within");
  EXPECT_EQ(slow.expect[3].text, "5s");
  EXPECT_EQ(slow.expect[3].op, comparison::le);  // a bare duration is an upper bound
  EXPECT_EQ(slow.expect[3].value, 5000);         // milliseconds of plan time
  const auto& lost = slow.expect[4];
  EXPECT_EQ(lost.name, "lost");
  EXPECT_TRUE(lost.implicit);
  EXPECT_EQ(lost.op, comparison::eq);
  EXPECT_DOUBLE_EQ(lost.value, 0);
  EXPECT_EQ(lost.text, "0");
  EXPECT_EQ(lost.where.line, slow.where.line);
  EXPECT_EQ(lost.where.line, 43);

  ASSERT_EQ(plan.phases.size(), 2u);
  const auto& phase1 = plan.phases[0];
  EXPECT_EQ(phase1.name, "phase1");
  EXPECT_THAT(phase1.deliverables, ElementsAre("client", "retries"));
  EXPECT_EQ(phase1.complexity, "low");
  EXPECT_THAT(phase1.dependencies, ElementsAre("sandbox account"));
  EXPECT_THAT(phase1.risks, ElementsAre("rate limits"));
  EXPECT_THAT(phase1.success_criteria, ElementsAre("all plan expectations hold"));
  EXPECT_THAT(phase1.failure_modes, ElementsAre("rate_limited"));
  ASSERT_TRUE(phase1.retry_settings);
  // Merged: the phase's keys win, the plan's fill the rest, nested maps key by key.
  EXPECT_EQ(phase1.retry_settings->max_attempts, 2);
  EXPECT_EQ(phase1.retry_settings->backoff.base, 1s);
  EXPECT_EQ(phase1.retry_settings->backoff.max, 5s);
  EXPECT_THAT(retry_on_text(*phase1.retry_settings), ElementsAre("503", "timeout"));
  EXPECT_EQ(phase1.retry_settings->retry_after.cap, 30s);
  EXPECT_EQ(phase1.retry_settings->dead_letter_path, "out/dead.jsonl");
  EXPECT_EQ(phase1.retry_settings->where.line, 64);
  EXPECT_EQ(plan.retry.max_attempts, 4);  // the plan's own retry is untouched

  const auto& phase2 = plan.phases[1];
  EXPECT_EQ(phase2.complexity, "high");
  EXPECT_THAT(phase2.triggers, ElementsAre("phase1 done"));
  EXPECT_TRUE(phase2.failure_modes.empty());
  EXPECT_FALSE(phase2.retry_settings);

  EXPECT_EQ(plan.find_endpoint("get_payment"), &plan.endpoints[1]);
  EXPECT_EQ(plan.find_phase("phase2"), &plan.phases[1]);
}

TEST(loader, json_plan_reads_the_same_as_yaml) {
  const auto yaml = load_file(data_dir / "good_plan.yaml");
  const auto json = load_file(data_dir / "good_plan.json");
  EXPECT_EQ(json.integration.name, yaml.integration.name);
  EXPECT_EQ(json.assumptions, yaml.assumptions);
  EXPECT_EQ(json.auth.secret->str(), yaml.auth.secret->str());
  ASSERT_EQ(json.endpoints.size(), yaml.endpoints.size());
  for (std::size_t i = 0; i < yaml.endpoints.size(); ++i) {
    EXPECT_EQ(json.endpoints[i].id, yaml.endpoints[i].id);
    EXPECT_EQ(json.endpoints[i].method, yaml.endpoints[i].method);
    EXPECT_EQ(json.endpoints[i].request_example, yaml.endpoints[i].request_example);
    EXPECT_EQ(json.endpoints[i].response_example, yaml.endpoints[i].response_example);
    EXPECT_EQ(json.endpoints[i].statuses.success, yaml.endpoints[i].statuses.success);
    EXPECT_EQ(json.endpoints[i].statuses.fatal, yaml.endpoints[i].statuses.fatal);
  }
  EXPECT_EQ(json.retry.max_attempts, yaml.retry.max_attempts);
  EXPECT_EQ(json.retry.backoff.base, yaml.retry.backoff.base);
  EXPECT_EQ(retry_on_text(json.retry), retry_on_text(yaml.retry));
  EXPECT_EQ(json.traffic.duration, yaml.traffic.duration);
  ASSERT_EQ(json.failure_modes.size(), yaml.failure_modes.size());
  for (std::size_t i = 0; i < yaml.failure_modes.size(); ++i) {
    const auto& a = json.failure_modes[i];
    const auto& b = yaml.failure_modes[i];
    ASSERT_EQ(a.inject.size(), b.inject.size());
    for (std::size_t j = 0; j < a.inject.size(); ++j) {
      EXPECT_EQ(a.inject[j].kind, b.inject[j].kind);
      EXPECT_EQ(a.inject[j].probability, b.inject[j].probability);
      EXPECT_EQ(a.inject[j].during.size(), b.inject[j].during.size());
      for (std::size_t w = 0; w < a.inject[j].during.size() && w < b.inject[j].during.size(); ++w)
        EXPECT_EQ(a.inject[j].during[w].to, b.inject[j].during[w].to);
    }
    ASSERT_EQ(a.expect.size(), b.expect.size());
    for (std::size_t j = 0; j < a.expect.size(); ++j) {
      EXPECT_EQ(a.expect[j].name, b.expect[j].name);
      EXPECT_EQ(a.expect[j].op, b.expect[j].op);
      EXPECT_EQ(a.expect[j].value, b.expect[j].value);
      EXPECT_EQ(a.expect[j].implicit, b.expect[j].implicit);
    }
  }
  ASSERT_TRUE(json.phases.at(0).retry_settings);
  EXPECT_EQ(json.phases[0].retry_settings->max_attempts, 2);
  EXPECT_EQ(json.phases[0].retry_settings->backoff.base, 1s);
  // Positions are the JSON file's own.
  EXPECT_EQ(json.integration.where.line, 3);
  EXPECT_EQ(json.integration.where.column, 18);
}

TEST(loader, minimal_plan_gets_the_model_defaults) {
  const auto plan = load_string(R"(planproof: 1
integration: {name: x}
auth: {method: none}
endpoints: [{id: e, path: /}]
retry: {max_attempts: 1}
traffic: {endpoint: e, rate: 1/s, duration: 1s}
failure_modes: [{id: f, inject: {fault: hang}}]
)",
                                "min.yaml");
  const retry_config defaults;
  EXPECT_EQ(plan.auth.method, auth_method::none);
  EXPECT_EQ(plan.auth.header, "");
  EXPECT_FALSE(plan.auth.secret);
  EXPECT_EQ(plan.retry.backoff.base, defaults.backoff.base);
  EXPECT_EQ(plan.retry.backoff.max, defaults.backoff.max);
  EXPECT_EQ(plan.retry.retry_after.cap, defaults.retry_after.cap);
  EXPECT_EQ(plan.retry.timeouts.total, defaults.timeouts.total);
  EXPECT_EQ(plan.retry.dead_letter_path, "dead-letter.jsonl");
  EXPECT_THAT(retry_on_text(plan.retry),
              ElementsAre("429", "502", "503", "504", "timeout", "connection_error"));
  EXPECT_EQ(plan.traffic.concurrency, 8);
  EXPECT_EQ(plan.failure_modes.at(0).inject.at(0).kind, "hang");
  ASSERT_EQ(plan.failure_modes[0].expect.size(), 1u);
  EXPECT_TRUE(plan.failure_modes[0].expect[0].implicit);
  EXPECT_TRUE(plan.phases.empty());
}

TEST(loader, bearer_auth_and_methods_not_yet_supported) {
  const std::string rest = R"(
endpoints: [{id: e, path: /}]
retry: {max_attempts: 1}
traffic: {endpoint: e, rate: 1/s, duration: 1s}
failure_modes: [{id: f, inject: {fault: hang}}]
)";
  auto bearer = load_string(
      "planproof: 1\nintegration: {name: x}\nauth: {method: bearer, token: file:/run/token}" + rest, "p");
  EXPECT_EQ(bearer.auth.method, auth_method::bearer);
  EXPECT_EQ(bearer.auth.secret->from, core::secret_ref::source::file);
  EXPECT_EQ(bearer.auth.secret->name, "/run/token");
  // Methods `run` cannot drive yet are still read in full (tests/plan/auth_test.cpp).
  auto oauth = load_string(
      "planproof: 1\nintegration: {name: x}\nauth: {method: oauth2_client_credentials, "
      "token_url: /oauth/token, scopes: [a], client_secret: env:S}" +
          rest,
      "p");
  EXPECT_EQ(oauth.auth.method, auth_method::oauth2_client_credentials);
  EXPECT_THAT(errors_of("planproof: 1\nintegration: {name: x}\nauth: {method: none, key: env:K}" + rest),
              ElementsAre("plan.yaml:3:22: error: auth: unknown key 'key' (known: method, security_notes)"));
}

// --- one error each ---------------------------------------------------------------------------------

TEST(loader_errors, unknown_key_suggests_the_nearest) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "jitter: full", "jiter: full")),
      ElementsAre("plan.yaml:28:58: error: retry.backoff: unknown key 'jiter'; did you mean 'jitter'?"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "retry:\n", "retyr:\n")),
              ElementsAre("plan.yaml:26:1: error: unknown key 'retyr'; did you mean 'retry'?"));
  // A misspelt required key is reported once, as the misspelling.
  EXPECT_THAT(errors_of(mutate(good_yaml(), "    path: /v1/payments/{id}", "    pth: /v1/payments/{id}")),
              ElementsAre("plan.yaml:25:5: error: endpoints[1]: unknown key 'pth'; did you mean 'path'?"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "dead_letter: {path", "dead_letter: {file")),
              ElementsAre("plan.yaml:31:17: error: retry.dead_letter: unknown key 'file' (known: path)"));
}

TEST(loader_errors, duplicate_key_at_the_second_occurrence) {
  EXPECT_THAT(errors_of(mutate(good_yaml(), "  max_attempts: 4\n", "  max_attempts: 4\n  max_attempts: 5\n")),
              ElementsAre("plan.yaml:28:3: error: retry: duplicate key 'max_attempts' (first at line 27)"));
  // Inside an example too: every map in the file.
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "{id: pi_123,", "{id: pi_123, id: pi_456,")),
      ElementsAre(
          "plan.yaml:21:29: error: endpoints[0].response.example: duplicate key 'id' (first at line 21)"));
}

TEST(loader_errors, wrong_type) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "max_attempts: 4", "max_attempts: four")),
      ElementsAre("plan.yaml:27:17: error: retry.max_attempts: expected an integer >= 1, got 'four'"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "max_attempts: 4", "max_attempts: 0")),
              ElementsAre("plan.yaml:27:17: error: retry.max_attempts: expected an integer >= 1, got '0'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "assumptions: [test mode keys, EUR only]", "assumptions: {a: b}")),
      ElementsAre("plan.yaml:8:14: error: assumptions: expected a list of strings, got a map"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "honor: true", "honor: maybe")),
      ElementsAre("plan.yaml:29:24: error: retry.retry_after.honor: expected true or false, got 'maybe'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "fatal: [400, 401, 422]", "fatal: [400, 401, 4220]")),
      ElementsAre("plan.yaml:22:88: error: endpoints[0].statuses.fatal[2]: expected an HTTP status 100..599, "
                  "got '4220'"));
}

TEST(loader_errors, bad_duration) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "base: 200ms", "base: 200")),
      ElementsAre("plan.yaml:28:42: error: retry.backoff.base: expected a duration such as 250ms, 2s or 1m, "
                  "got '200'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "connect: 1s", "connect: 0s")),
      ElementsAre("plan.yaml:30:23: error: retry.timeouts.connect: expected a duration > 0, got '0s'"));
}

TEST(loader_errors, bad_rate) {
  EXPECT_THAT(errors_of(mutate(good_yaml(), "rate: 20/s", "rate: 20 per second")),
              ElementsAre("plan.yaml:32:43: error: traffic.rate: expected a rate such as 20/s or 600/m, "
                          "got '20 per second'"));
}

TEST(loader_errors, bad_ratio) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "probability: 30%", "probability: 130%")),
      ElementsAre("plan.yaml:36:72: error: failure_modes[0].inject.probability: expected a ratio such as "
                  "0.99 or 99%, got '130%'"));
}

TEST(loader_errors, missing_required_key_at_the_parent) {
  EXPECT_THAT(errors_of(mutate(good_yaml(), "    path: /v1/payments/{id}\n", "")),
              ElementsAre("plan.yaml:24:5: error: endpoints[1]: missing required key 'path'"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "  max_attempts: 4\n", "")),
              ElementsAre("plan.yaml:27:3: error: retry: missing required key 'max_attempts'"));
}

TEST(loader_errors, unknown_fault_lists_the_catalog) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "{fault: status,", "{fault: tiemout,")),
      ElementsAre("plan.yaml:36:21: error: failure_modes[0].inject.fault: unknown fault 'tiemout' (known: "
                  "status, latency, hang, reset, empty_reply, close, slow_body, malformed, schema_drift, "
                  "rate_limit, outage, auth_expiry, token_endpoint_down, tls, pagination, duplicate_delivery, "
                  "out_of_order, bad_signature, burst)"));
  // In a list of faults the index is part of the path.
  EXPECT_THAT(errors_of(mutate(good_yaml(), "{fault: latency,", "{fault: latncy,")),
              ElementsAre(HasSubstr("plan.yaml:45:17: error: failure_modes[1].inject[0].fault: unknown fault "
                                    "'latncy'; did you mean 'latency'? (known: status,")));
}

TEST(loader_errors, unknown_expectation) {
  EXPECT_THAT(errors_of(mutate(good_yaml(), "dead_lettered: 0", "dead_letered: 0")),
              ElementsAre(HasSubstr("plan.yaml:50:7: error: failure_modes[1].expect: unknown expectation "
                                    "'dead_letered'; did you mean 'dead_lettered'? (known: success_rate, ")));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "lost: 0}", "lost: many}")),
      ElementsAre("plan.yaml:42:93: error: failure_modes[0].expect.lost: expected a count or a comparison "
                  "such as '<= 4', got 'many'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "success_rate: \">= 0.99\"", "success_rate: \"=> 0.99\"")),
      ElementsAre("plan.yaml:42:28: error: failure_modes[0].expect.success_rate: expected a ratio or a "
                  "comparison such as '>= 0.99' or '>= 99%', got '=> 0.99'"));
}

TEST(loader_errors, key_of_another_fault_kind) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "status: 429, retry_after: 2s,", "status: 429, latency: 2s,")),
      ElementsAre(
          "plan.yaml:36:42: error: failure_modes[0].inject: latency does not apply to fault 'status'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "{fault: malformed,", "{fault: malformed, status: 500,")),
      ElementsAre("plan.yaml:46:28: error: failure_modes[1].inject[1]: status does not apply to fault "
                  "'malformed'"));
}

TEST(loader_errors, references_to_unknown_ids) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "{endpoint: create_payment,", "{endpoint: create_paymnt,")),
      ElementsAre("plan.yaml:32:21: error: traffic.endpoint: unknown endpoint 'create_paymnt'; did you mean "
                  "'create_payment'? (known: create_payment, get_payment)"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "endpoint: get_payment}", "endpoint: list_payments}")),
              ElementsAre("plan.yaml:45:52: error: failure_modes[1].inject[0].endpoint: unknown endpoint "
                          "'list_payments' (known: create_payment, get_payment)"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "failure_modes: [rate_limited]", "failure_modes: [rate_limited, flaky]")),
      ElementsAre("plan.yaml:61:35: error: phases[0].failure_modes[1]: unknown failure mode 'flaky' (known: "
                  "rate_limited, slow_upstream)"));
}

TEST(loader_errors, duplicate_ids) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "id: get_payment", "id: create_payment")),
      ElementsAre("plan.yaml:24:9: error: endpoints[1].id: duplicate endpoint id 'create_payment' (first at "
                  "line 13)",
                  // get_payment is gone now, so this reference is really broken.
                  "plan.yaml:45:52: error: failure_modes[1].inject[0].endpoint: unknown endpoint "
                  "'get_payment' (known: create_payment)"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "name: phase2", "name: phase1")),
      ElementsAre(
          "plan.yaml:67:11: error: phases[1].name: duplicate phase name 'phase1' (first at line 54)"));
}

TEST(loader_errors, literal_secret_is_refused_and_not_repeated) {
  const auto errors = errors_of(mutate(good_yaml(), "key: env:STRIPE_KEY", "key: sk_live_51Habc"));
  EXPECT_THAT(
      errors,
      ElementsAre("plan.yaml:11:8: error: auth.key: must be a secret reference (env:NAME or file:PATH); "
                  "never write the secret in the plan"));
  EXPECT_THAT(errors.at(0), Not(HasSubstr("sk_live")));
}

TEST(loader_errors, status_in_two_lists) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "fatal: [400, 401, 422]", "fatal: [400, 429, 422]")),
      ElementsAre("plan.yaml:22:83: error: endpoints[0].statuses.fatal[1]: status 429 is also in retryable"));
}

TEST(loader_errors, fault_window_must_be_ordered) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "during: [10s, 40s]", "during: [40s, 10s]")),
      ElementsAre("plan.yaml:36:85: error: failure_modes[0].inject.during: the window must end after it "
                  "starts, got [40s, 10s]"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "during: [10s, 40s]", "during: 10s")),
              ElementsAre("plan.yaml:36:85: error: failure_modes[0].inject.during: expected [FROM, TO] (two "
                          "durations such as [10s, 40s]) or a list of them, got '10s'"));
  // Several windows: each is checked, and the error names the one that is wrong.
  EXPECT_THAT(errors_of(mutate(good_yaml(), "during: [10s, 40s]", "during: [[10s, 20s], [30s, 25s]]")),
              ElementsAre("plan.yaml:36:98: error: failure_modes[0].inject.during[1]: the window must end after "
                          "it starts, got [30s, 25s]"));
  const auto plan = load_string(mutate(good_yaml(), "during: [10s, 40s]", "during: [[10s, 20s], [30s, 40s]]"), "plan.yaml");
  ASSERT_EQ(plan.failure_modes[0].inject[0].during.size(), 2u);
  EXPECT_EQ(plan.failure_modes[0].inject[0].during[1].from, 30s);
  EXPECT_EQ(plan.failure_modes[0].inject[0].starts_at(), 10s);
}

TEST(loader_errors, unsupported_version_stops_there) {
  EXPECT_THAT(
      errors_of(mutate(mutate(good_yaml(), "planproof: 1", "planproof: 2"), "retry:", "retries:")),
      ElementsAre("plan.yaml:2:12: error: planproof: unsupported plan format version 2 (this planproof "
                  "reads 1)"));
}

TEST(loader_errors, yaml_syntax_error) {
  EXPECT_THAT(errors_of(mutate(good_yaml(), "risks: [rate limits]", "risks: [rate limits")),
              ElementsAre("plan.yaml:60:21: error: invalid YAML: end of sequence flow not found"));
  EXPECT_THAT(errors_of(mutate(good_yaml(), "name: stripe-payments", "name: stripe: payments")),
              ElementsAre("plan.yaml:4:15: error: invalid YAML: illegal map value"));
}

TEST(loader_errors, not_a_plan_at_all) {
  EXPECT_THAT(errors_of(""), ElementsAre("plan.yaml: error: the plan is empty"));
  EXPECT_THAT(errors_of("# nothing here\n"), ElementsAre("plan.yaml: error: the plan is empty"));
  EXPECT_THAT(
      errors_of("- a\n- b\n"),
      ElementsAre("plan.yaml:1:1: error: a plan is a map with keys such as planproof, integration and "
                  "endpoints, got a list"));
  EXPECT_THAT(errors_of(good_yaml() + "---\nplanproof: 1\n"),
              ElementsAre("plan.yaml:71:1: error: a plan is one YAML document; this file has 2"));
}

TEST(loader_errors, every_error_in_one_throw_in_file_order) {
  auto text = mutate(good_yaml(), "max_attempts: 4", "max_attempts: four");
  text = mutate(text, "name: stripe-payments", "name: \"\"");
  text = mutate(text, "{fault: status,", "{fault: tiemout,");
  text = mutate(text, "concurrency: 4", "concurency: 4");
  text = mutate(text, "complexity: high", "complexity: huge");
  const auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], "plan.yaml:4:9: error: integration.name: expected a non-empty string");
  EXPECT_EQ(errors[1], "plan.yaml:27:17: error: retry.max_attempts: expected an integer >= 1, got 'four'");
  EXPECT_EQ(errors[2],
            "plan.yaml:32:49: error: traffic: unknown key 'concurency'; did you mean 'concurrency'?");
  EXPECT_THAT(errors[3],
              HasSubstr("plan.yaml:36:21: error: failure_modes[0].inject.fault: unknown fault 'tiemout'"));
  EXPECT_EQ(errors[4],
            "plan.yaml:68:17: error: phases[1].complexity: unknown complexity 'huge'; did you mean "
            "'high'? (known: low, medium, high)");
}

TEST(loader_errors, a_wrong_node_does_not_cascade) {
  // An endpoint whose id cannot be read: references to endpoints are not checked against a partial list.
  EXPECT_THAT(errors_of(mutate(good_yaml(), "id: create_payment", "id: [create_payment]")),
              ElementsAre("plan.yaml:13:9: error: endpoints[0].id: expected a string, got a list"));
  // A broken plan retry is reported once, not again for every phase that merges into it.
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "max: 5s", "max: 5 seconds")),
      ElementsAre("plan.yaml:28:54: error: retry.backoff.max: expected a duration such as 250ms, 2s or 1m, "
                  "got '5 seconds'"));
  // An unknown fault: its other keys are not judged against a kind we do not know.
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "{fault: latency, latency: 300ms", "{fault: latenc, latency: 300ms")),
      ElementsAre(HasSubstr("inject[0].fault: unknown fault 'latenc'")));
}

TEST(loader_errors, phase_settings_errors_point_at_the_settings) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "backoff: {base: 1s}", "backoff: {base: soon}")),
      ElementsAre("plan.yaml:65:25: error: phases[0].settings.retry.backoff.base: expected a duration such "
                  "as 250ms, 2s or 1m, got 'soon'"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "        max_attempts: 2\n", "        max_atempts: 2\n")),
      ElementsAre("plan.yaml:64:9: error: phases[0].settings.retry: unknown key 'max_atempts'; did you mean "
                  "'max_attempts'?"));
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "    settings:\n", "    settings:\n      timeouts: {}\n")),
      ElementsAre("plan.yaml:63:7: error: phases[0].settings: unknown key 'timeouts' (known: retry)"));
}

TEST(loader_errors, file_not_found) {
  try {
    load_file("no/such/plan.yaml");
    FAIL() << "loaded a file that does not exist";
  } catch (const core::diagnostic_error& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              "no/such/plan.yaml: error: cannot read the plan: No such file or directory");
  }
  try {
    load_file(data_dir);
    FAIL() << "loaded a directory";
  } catch (const core::diagnostic_error& e) {
    EXPECT_EQ(e.diagnostics().at(0).str(),
              data_dir.string() + ": error: cannot read the plan: it is a directory");
  }
}

// --- --set ------------------------------------------------------------------------------------------

TEST(parse_override, splits_at_the_first_equals_sign) {
  auto o = parse_override("failure_modes.rate_limited.expect.success_rate=>= 0.5");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key_path, "failure_modes.rate_limited.expect.success_rate");
  EXPECT_EQ(o->value, ">= 0.5");
  o = parse_override("a.b==x");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key_path, "a.b");
  EXPECT_EQ(o->value, "=x");
  o = parse_override("a=");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "");
  EXPECT_FALSE(parse_override("retry.max_attempts"));
  EXPECT_FALSE(parse_override("=3"));
  EXPECT_FALSE(parse_override(""));
}

TEST(overrides, change_values_by_key_index_and_id) {
  const auto plan = load_string(
      good_yaml(), "plan.yaml",
      with_sets({"retry.max_attempts=1", "retry.retry_on=[429,503]", "retry.retry_after.honor=false",
                 "endpoints.1.path=/v2/payments", "failure_modes.rate_limited.expect.success_rate=>= 0.5",
                 "phases.phase1.failure_modes=[rate_limited, slow_upstream]",
                 "failure_modes.slow_upstream.inject.0.latency=2s", "integration.system=Adyen"}));
  EXPECT_EQ(plan.retry.max_attempts, 1);
  EXPECT_THAT(retry_on_text(plan.retry), ElementsAre("429", "503"));
  EXPECT_FALSE(plan.retry.retry_after.honor);
  EXPECT_EQ(plan.endpoints[1].path, "/v2/payments");
  EXPECT_EQ(plan.failure_modes[0].expect[0].op, comparison::ge);
  EXPECT_DOUBLE_EQ(plan.failure_modes[0].expect[0].value, 0.5);
  EXPECT_EQ(plan.failure_modes[0].expect[0].text, ">= 0.5");
  EXPECT_THAT(plan.phases[0].failure_modes, ElementsAre("rate_limited", "slow_upstream"));
  EXPECT_EQ(plan.failure_modes[1].inject[0].latency.value, 2s);
  EXPECT_EQ(plan.integration.system, "Adyen");
  // Phases merge with the plan's retry as overridden.
  EXPECT_THAT(retry_on_text(*plan.phases[0].retry_settings), ElementsAre("503", "timeout"));
  EXPECT_FALSE(plan.phases[0].retry_settings->retry_after.honor);
}

TEST(overrides, create_missing_keys) {
  const auto plan =
      load_string(good_yaml(), "plan.yaml",
                  with_sets({"phases.phase2.settings.retry.backoff.base=3s",
                             "endpoints.get_payment.idempotency.header=Idem", "phases.0.complexity=medium"}));
  ASSERT_TRUE(plan.phases[1].retry_settings);
  EXPECT_EQ(plan.phases[1].retry_settings->backoff.base, 3s);
  EXPECT_EQ(plan.phases[1].retry_settings->max_attempts, 4);
  EXPECT_EQ(plan.endpoints[1].idempotency_header, "Idem");
  EXPECT_EQ(plan.phases[0].complexity, "medium");
}

TEST(overrides, a_bad_value_is_reported_at_set) {
  EXPECT_THAT(errors_of(good_yaml(), with_sets({"retry.max_attempts=abc"})),
              ElementsAre("--set: error: retry.max_attempts: expected an integer >= 1, got 'abc'"));
  EXPECT_THAT(
      errors_of(good_yaml(), with_sets({"retry.retry_on=[429, teapot]"})),
      ElementsAre("--set: error: retry.retry_on[1]: expected an HTTP status 100..599 or an error class "
                  "(timeout, connect_timeout, read_timeout, connection_error, connect_error, reset, tls_error, "
                  "schema_error, protocol_error), got 'teapot'"));
  EXPECT_THAT(errors_of(good_yaml(), with_sets({"retry.backof.base=1s"})),
              ElementsAre("--set: error: retry: unknown key 'backof'; did you mean 'backoff'?"));
}

TEST(overrides, a_path_that_goes_nowhere) {
  EXPECT_THAT(
      errors_of(good_yaml(), with_sets({"endpoints.7.path=/x"})),
      ElementsAre("--set: error: cannot apply 'endpoints.7.path': endpoints has no element 7 (it has 2)"));
  EXPECT_THAT(
      errors_of(good_yaml(), with_sets({"failure_modes.flaky.expect.lost=1"})),
      ElementsAre("--set: error: cannot apply 'failure_modes.flaky.expect.lost': failure_modes has no "
                  "element with id or name 'flaky'"));
  EXPECT_THAT(
      errors_of(good_yaml(), with_sets({"retry.max_attempts.value=1"})),
      ElementsAre("--set: error: cannot apply 'retry.max_attempts.value': retry.max_attempts is a single "
                  "value, not a map or a list"));
  EXPECT_THAT(
      errors_of(good_yaml(), with_sets({"retry..max_attempts=1"})),
      ElementsAre("--set: error: cannot apply 'retry..max_attempts': the key path has an empty segment"));
}

TEST(overrides, file_errors_come_before_set_errors) {
  EXPECT_THAT(
      errors_of(mutate(good_yaml(), "rate: 20/s", "rate: 20"), with_sets({"traffic.concurrency=0"})),
      ElementsAre("plan.yaml:32:43: error: traffic.rate: expected a rate such as 20/s or 600/m, got '20'",
                  "--set: error: traffic.concurrency: expected an integer from 1 to 10000 (the cap --limit concurrency=N "
                  "sets), got '0'"));
}

// --- hostile input ----------------------------------------------------------------------------------

// Loading either succeeds or throws diagnostic_error; a crash or any other exception fails the test.
void expect_no_crash(const std::string& text, const std::string& what) {
  try {
    load_string(text, "fuzz.yaml");
  } catch (const core::diagnostic_error& e) {
    EXPECT_FALSE(e.diagnostics().empty()) << what;
    for (const auto& d : e.diagnostics()) EXPECT_THAT(d.message, Not(HasSubstr("internal error"))) << what;
  }
}

TEST(loader_fuzz, mutated_and_truncated_plans_never_crash) {
  const std::string& good = good_yaml();
  const std::string alphabet = " \n\t:-[]{},#&*!|>'\"%@`?0123456789abcxyz.~";
  test_support::for_each_mutation(good, 20240607, 60, 160, alphabet, expect_no_crash);
}

TEST(loader_fuzz, aliases_cannot_blow_up_or_loop) {
  expect_no_crash("planproof: &a [*a]\n", "self reference");
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 12; ++i) {
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j == 0 ? "*a" : ", *a") + std::to_string(i - 1);
    laughs += "]\n";
  }
  expect_no_crash(laughs, "billion laughs");
  expect_no_crash(std::string(5000, '[') + std::string(5000, ']'), "deep nesting");
  expect_no_crash("planproof: 1\nintegration: {name: x, ? [a, b] : c, ~: d}\n", "odd keys");
  expect_no_crash(std::string("planproof: 1\0\xff\xfe: x\n", 20), "bytes");
}

TEST(loader_fuzz, a_plan_larger_than_16_mib_is_refused_unread) {
  const std::string huge = "planproof: 1\n#" + std::string(16u << 20, 'x') + "\n";
  EXPECT_THAT(errors_of(huge), ElementsAre(HasSubstr("the plan is larger than 16 MiB")));
  test::temp_dir dir;
  {
    std::ofstream(dir / "huge.plan.yaml") << huge;
  }
  try {
    (void)load_file(dir / "huge.plan.yaml");
    ADD_FAILURE() << "loaded";
  } catch (const core::diagnostic_error& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_THAT(e.diagnostics()[0].message, HasSubstr("larger than 16 MiB"));
  }
}

// `--limit`: each of the plan's caps can be lowered or raised, and the message names the flag.
TEST(loader_limits, plan_size_depth_and_nodes_follow_the_limits) {
  load_options small;
  small.limits.plan_size = 1024;
  EXPECT_THAT(errors_of(good_yaml(), small),
              ElementsAre("plan.yaml: error: the plan is larger than 1 KiB; a plan describes an integration, its data "
                          "belongs elsewhere (raise it with --limit plan_size=SIZE)"));
  test::temp_dir dir;
  {
    std::ofstream(dir / "plan.yaml") << good_yaml();
  }
  EXPECT_THROW((void)load_file(dir / "plan.yaml", small), core::diagnostic_error);
  EXPECT_NO_THROW((void)load_file(dir / "plan.yaml"));

  load_options shallow;
  shallow.limits.plan_depth = 3;
  EXPECT_THAT(errors_of(good_yaml(), shallow),
              ElementsAre(HasSubstr("the plan is nested more than 3 levels deep (raise it with --limit plan_depth=N)")));
  load_options few;
  few.limits.plan_nodes = 50;
  EXPECT_THAT(errors_of(good_yaml(), few),
              ElementsAre(HasSubstr("the plan has more than 50 nodes, aliases expanded (raise it with --limit "
                                    "plan_nodes=N)")));
  // Raised: 300 levels of nesting, past the default 100, load up to the plan's own checks.
  const std::string deep = good_yaml() + "x-notes: " + std::string(300, '[') + std::string(300, ']') + "\n";
  EXPECT_THAT(errors_of(deep), ElementsAre(HasSubstr("nested more than 100 levels")));
  load_options deeper;
  deeper.limits.plan_depth = 400;
  for (const auto& e : errors_of(deep, deeper)) EXPECT_THAT(e, Not(HasSubstr("nested more than"))) << e;
}

TEST(loader_limits, concurrency_is_capped_by_the_limit) {
  load_options wide = with_sets({"traffic.concurrency=20000"});
  EXPECT_THAT(errors_of(good_yaml(), wide),
              ElementsAre(HasSubstr("expected an integer from 1 to 10000 (the cap --limit concurrency=N sets)")));
  wide.limits.concurrency = 20'000;
  EXPECT_EQ(load_string(good_yaml(), "plan.yaml", wide).traffic.concurrency, 20'000);
  wide.limits.concurrency = 100;
  EXPECT_THAT(errors_of(good_yaml(), wide), ElementsAre(HasSubstr("expected an integer from 1 to 100 ")));
}

TEST(loader_fuzz, input_yaml_cpp_would_loop_on) {
  // yaml-cpp 0.7 reports an endless run of empty documents for a stray ',' (jbeder/yaml-cpp#1040).
  EXPECT_THAT(errors_of(",\n"), ElementsAre("plan.yaml:1:1: error: invalid YAML: unexpected ','"));
  EXPECT_THAT(errors_of("# a comment\n, planproof: 1\n"),
              ElementsAre("plan.yaml:2:1: error: invalid YAML: unexpected ','"));
  // A --set value the parser cannot read is taken as text, as any other non-YAML value.
  EXPECT_THAT(errors_of(good_yaml(), with_sets({"retry.max_attempts=,"})),
              ElementsAre("--set: error: retry.max_attempts: expected an integer >= 1, got ','"));
}

TEST(loader_fuzz, large_plans_stay_linear) {
  // Thousands of endpoints and example keys, every id duplicated: quadratic checks would take minutes.
  std::string text = "planproof: 1\nintegration: {name: big}\nauth: {method: none}\nendpoints:\n";
  for (int i = 0; i < 5000; ++i) {
    text +=
        "  - {id: e" + std::to_string(i) + ", path: /x}\n  - {id: e" + std::to_string(i) + ", path: /y}\n";
  }
  text += "  - id: last\n    path: /\n    request:\n      example:\n";
  for (int i = 0; i < 20000; ++i) text += "        k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  text +=
      "retry: {max_attempts: 1}\ntraffic: {endpoint: last, rate: 1/s, duration: 1s}\n"
      "failure_modes: [{id: f, inject: {fault: hang}}]\n";
  const auto errors = errors_of(text);
  ASSERT_EQ(errors.size(), 5000u);
  EXPECT_EQ(errors[0],
            "plan.yaml:6:10: error: endpoints[1].id: duplicate endpoint id 'e0' (first at line 5)");
}

}  // namespace
}  // namespace planproof::plan
