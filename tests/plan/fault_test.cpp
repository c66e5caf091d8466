// The fault catalog in the plan: each kind's keys, defaults and errors, the selectors every kind
// takes, and the kinds kept as written for a later version.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test_support::load_small;
using test_support::small_errors;

// The one fault of a small plan whose failure mode injects `fault` (a YAML flow map).
fault fault_of(std::string_view fault_yaml) {
  const auto plan = load_small("failure_modes: [{id: f, inject: " + std::string(fault_yaml) + "}]");
  return plan.failure_modes.at(0).inject.at(0);
}

std::vector<std::string> fault_errors(std::string_view fault_yaml) {
  return small_errors("failure_modes: [{id: f, inject: " + std::string(fault_yaml) + "}]");
}

TEST(faults, selectors_windows_and_probability_apply_to_every_kind) {
  const auto f = fault_of("{fault: reset, first: 3, every: 2, after: 1, probability: 50%, during: [[1s, 2s], [5s, 9s]]}");
  EXPECT_EQ(f.first, 3u);
  EXPECT_EQ(f.every, 2u);
  EXPECT_EQ(f.after, 1u);
  EXPECT_DOUBLE_EQ(f.probability, 0.5);
  ASSERT_EQ(f.during.size(), 2u);
  EXPECT_EQ(f.during[1].from, 5s);
  EXPECT_EQ(f.during[1].to, 9s);
  EXPECT_THAT(fault_errors("{fault: hang, first: 0}"),
              ElementsAre(HasSubstr("failure_modes[0].inject.first: expected a count >= 1, got '0'")));
  EXPECT_THAT(fault_errors("{fault: hang, every: two}"),
              ElementsAre(HasSubstr("failure_modes[0].inject.every: expected a count >= 1, got 'two'")));
}

TEST(faults, status_with_retry_after_as_seconds_or_a_date) {
  const auto f = fault_of("{fault: status, status: 503, retry_after: 2s, retry_after_format: http_date}");
  EXPECT_EQ(f.status, 503);
  EXPECT_EQ(f.retry_after, 2s);
  EXPECT_EQ(f.retry_after_as, retry_after_format::http_date);
  EXPECT_EQ(fault_of("{fault: status, status: 429, retry_after: 1s}").retry_after_as, retry_after_format::seconds);
  EXPECT_THAT(fault_errors("{fault: status, status: 503, retry_after_format: http_date}"),
              ElementsAre(HasSubstr("retry_after_format applies only with retry_after")));
  EXPECT_THAT(fault_errors("{fault: status, status: 503, retry_after: 1s, retry_after_format: epoch}"),
              ElementsAre(HasSubstr("unknown Retry-After format 'epoch'")));
}

TEST(faults, latency_fixed_uniform_or_lognormal) {
  EXPECT_EQ(fault_of("{fault: latency, latency: 250ms}").latency.value, 250ms);
  const auto u = fault_of("{fault: latency, latency: {distribution: uniform, min: 10ms, max: 90ms}}").latency;
  EXPECT_EQ(u.distribution, latency_distribution::uniform);
  EXPECT_EQ(u.min, 10ms);
  EXPECT_EQ(u.max, 90ms);
  EXPECT_EQ(u.upper_bound(), 90ms);
  const auto l = fault_of("{fault: latency, latency: {distribution: lognormal, median: 200ms, sigma: 0.8, cap: 5s}}").latency;
  EXPECT_EQ(l.distribution, latency_distribution::lognormal);
  EXPECT_EQ(l.median, 200ms);
  EXPECT_DOUBLE_EQ(l.sigma, 0.8);
  EXPECT_EQ(l.upper_bound(), 5s);
  // A lognormal tail needs its cap; bounds must be ordered; keys belong to their distribution.
  EXPECT_THAT(fault_errors("{fault: latency, latency: {distribution: lognormal, median: 200ms}}"),
              ElementsAre(HasSubstr("missing required key 'cap'")));
  EXPECT_THAT(fault_errors("{fault: latency, latency: {distribution: uniform, min: 2s, max: 1s}}"),
              ElementsAre(HasSubstr("max is below min")));
  EXPECT_THAT(fault_errors("{fault: latency, latency: {distribution: uniform, min: 1s, max: 2s, median: 1s}}"),
              ElementsAre(HasSubstr("unknown key 'median'")));
  EXPECT_THAT(fault_errors("{fault: latency, latency: {distribution: gaussian}}"),
              ElementsAre(HasSubstr("unknown latency distribution 'gaussian'")));
  EXPECT_THAT(fault_errors("{fault: latency, latency: {distribution: lognormal, median: 1s, sigma: 9, cap: 2s}}"),
              ElementsAre(HasSubstr("expected a sigma in (0, 5]")));
}

TEST(faults, connection_faults_and_slow_bodies) {
  EXPECT_EQ(fault_of("{fault: reset}").kind, "reset");
  EXPECT_EQ(fault_of("{fault: empty_reply}").kind, "empty_reply");
  EXPECT_FALSE(fault_of("{fault: close}").after_bytes);
  EXPECT_EQ(fault_of("{fault: close, after_bytes: 0}").after_bytes, std::optional<std::size_t>(0));
  const auto s = fault_of("{fault: slow_body, chunks: 5, over: 3s}");
  EXPECT_EQ(s.chunks, 5);
  EXPECT_EQ(s.over, 3s);
  EXPECT_THAT(fault_errors("{fault: reset, status: 500}"),
              ElementsAre(HasSubstr("status does not apply to fault 'reset'")));
  EXPECT_THAT(fault_errors("{fault: slow_body, over: 0s}"), ElementsAre(HasSubstr("expected a duration > 0")));
}

TEST(faults, malformations) {
  EXPECT_EQ(fault_of("{fault: malformed}").malformed, malformation::truncated);
  for (auto [text, m] : {std::pair{"invalid_utf8", malformation::invalid_utf8},
                         std::pair{"wrong_content_type", malformation::wrong_content_type},
                         std::pair{"wrong_content_length", malformation::wrong_content_length}}) {
    EXPECT_EQ(fault_of("{fault: malformed, malformed: " + std::string(text) + "}").malformed, m) << text;
  }
  EXPECT_THAT(fault_errors("{fault: malformed, malformed: garbled}"),
              ElementsAre(HasSubstr("unknown malformation 'garbled'")));
}

TEST(faults, schema_drift_edits) {
  const auto f = fault_of("{fault: schema_drift, drop: [a.b], rename: {c: d}, retype: {e: string}, add: [g]}");
  EXPECT_THAT(f.drop, ElementsAre("a.b"));
  ASSERT_EQ(f.rename.size(), 1u);
  EXPECT_EQ(f.rename[0].from, "c");
  EXPECT_EQ(f.rename[0].to, "d");
  ASSERT_EQ(f.retype.size(), 1u);
  EXPECT_EQ(f.retype[0].type, "string");
  EXPECT_THAT(f.add, ElementsAre("g"));
  EXPECT_THAT(fault_errors("{fault: schema_drift}"),
              ElementsAre(HasSubstr("schema_drift needs at least one of drop, rename, retype or add")));
  EXPECT_THAT(fault_errors("{fault: schema_drift, retype: {a: text}}"), ElementsAre(HasSubstr("unknown JSON type 'text'")));
  EXPECT_THAT(fault_errors("{fault: schema_drift, drop: [\"a..b\"]}"), ElementsAre(HasSubstr("expected a field path")));
}

TEST(faults, rate_limit_by_credential_globally_or_by_header) {
  const auto f = fault_of("{fault: rate_limit, limit: 100/m}");
  EXPECT_NEAR(f.limit, 100.0 / 60, 1e-9);
  EXPECT_EQ(f.status, 429);
  EXPECT_EQ(f.limit_key, "credential");
  EXPECT_EQ(fault_of("{fault: rate_limit, limit: 5/s, burst: 20, key: global, status: 503}").burst, 20);
  EXPECT_EQ(fault_of("{fault: rate_limit, limit: 5/s, key: \"header:X-Tenant\"}").limit_key, "header:X-Tenant");
  EXPECT_THAT(fault_errors("{fault: rate_limit}"), ElementsAre(HasSubstr("missing required key 'limit'")));
  EXPECT_THAT(fault_errors("{fault: rate_limit, limit: 5/s, key: tenant}"),
              ElementsAre(HasSubstr("expected credential, global or header:NAME, got 'tenant'")));
}

TEST(faults, outage_status_or_reset_and_flapping) {
  const auto f = fault_of("{fault: outage, during: [10s, 40s], up: 5s, down: 2s, retry_after: 3s}");
  EXPECT_EQ(f.outage, outage_mode::status);
  EXPECT_EQ(f.status, 503);
  EXPECT_EQ(f.up, 5s);
  EXPECT_EQ(f.down, 2s);
  EXPECT_EQ(fault_of("{fault: outage, mode: reset}").outage, outage_mode::reset);
  EXPECT_THAT(fault_errors("{fault: outage, mode: reset, status: 502}"),
              ElementsAre(HasSubstr("status does not apply to an outage in mode reset")));
  EXPECT_THAT(fault_errors("{fault: outage, up: 5s}"), ElementsAre(HasSubstr("flapping needs both up and down")));
}

TEST(faults, auth_expiry_revokes_or_shortens_tokens) {
  const auto revoke = fault_of("{fault: auth_expiry, first: 1}");
  EXPECT_EQ(revoke.status, 401);
  EXPECT_FALSE(revoke.expire_after);
  EXPECT_EQ(fault_of("{fault: auth_expiry, expire_after: 30s}").expire_after, 30s);
  EXPECT_THAT(fault_errors("{fault: auth_expiry, revoke: true}"), ElementsAre(HasSubstr("unknown key 'revoke'")));
}

TEST(faults, token_endpoint_down_fails_or_is_slow) {
  EXPECT_EQ(fault_of("{fault: token_endpoint_down}").status, 503);
  const auto slow = fault_of("{fault: token_endpoint_down, delay: 3s}");
  EXPECT_EQ(slow.status, 0) << "only slow: the token still comes";
  EXPECT_EQ(slow.delay, 3s);
  const auto both = fault_of("{fault: token_endpoint_down, status: 500, delay: 1s, retry_after: 2s}");
  EXPECT_EQ(both.status, 500);
  EXPECT_EQ(both.retry_after, 2s);
}

// Two endpoints, one paginated, and failure mode f injecting `fault_yaml`.
std::string paged_plan(std::string_view fault_yaml) {
  return "endpoints: [{id: e, path: /}, {id: list, path: /items, pagination: {style: cursor, param: after}}]\n"
         "failure_modes: [{id: f, inject: " + std::string(fault_yaml) + "}]";
}

TEST(faults, pagination_breakages_and_the_invalid_cursor_error) {
  auto f = load_small(paged_plan("{fault: pagination, breakage: invalid_cursor, error_code: INVALID_QUERY_LOCATOR}"))
               .failure_modes.at(0).inject.at(0);
  EXPECT_EQ(f.breakage, page_breakage::invalid_cursor);
  EXPECT_EQ(f.status, 400) << "an expired cursor is a 400 unless the plan says otherwise";
  EXPECT_EQ(f.error_code, "INVALID_QUERY_LOCATOR");
  EXPECT_TRUE(f.params.empty()) << "typed: nothing kept as written";
  f = load_small(paged_plan("{fault: pagination, breakage: invalid_cursor, status: 410, endpoint: list}"))
          .failure_modes.at(0).inject.at(0);
  EXPECT_EQ(f.status, 410);
  EXPECT_EQ(f.error_code, "");
  for (auto [text, b] : {std::pair{"short_page", page_breakage::short_page},
                         std::pair{"repeated_page", page_breakage::repeated_page},
                         std::pair{"shifted_page", page_breakage::shifted_page}}) {
    EXPECT_EQ(load_small(paged_plan("{fault: pagination, breakage: " + std::string(text) + "}"))
                  .failure_modes.at(0).inject.at(0).breakage, b);
  }
}

TEST(faults, pagination_errors) {
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination}")), ElementsAre(HasSubstr("missing required key 'breakage'")));
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: lost_page}")),
              ElementsAre(HasSubstr("unknown page breakage 'lost_page'")));
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: short_page, status: 400}")),
              ElementsAre(HasSubstr("status applies only to breakage invalid_cursor")));
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: repeated_page, error_code: X}")),
              ElementsAre(HasSubstr("error_code applies only to breakage invalid_cursor")));
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: short_page, pages: 3}")),
              ElementsAre(HasSubstr("unknown key 'pages'")));
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: invalid_cursor, status: 99}")),
              ElementsAre(HasSubstr("expected an HTTP status")));
  // Only a paginated endpoint serves pages.
  EXPECT_THAT(small_errors(paged_plan("{fault: pagination, breakage: short_page, endpoint: e}")),
              ElementsAre("plan.yaml:9:85: error: failure_modes[0].inject.endpoint: a pagination fault needs a "
                          "paginated endpoint, and endpoint 'e' has no `pagination`"));
  EXPECT_THAT(fault_errors("{fault: pagination, breakage: short_page}"),
              ElementsAre(HasSubstr("a pagination fault needs a paginated endpoint, and no endpoint of the plan "
                                    "has `pagination`")));
}

TEST(faults, tls_names_a_handshake_fault_and_picks_connections) {
  for (auto h : {handshake_fault::expired_certificate, handshake_fault::wrong_host_certificate,
                 handshake_fault::untrusted_certificate, handshake_fault::no_client_certificate_required,
                 handshake_fault::reject_client_certificate}) {
    const auto f = fault_of("{fault: tls, tls: " + std::string(to_string(h)) + ", first: 2}");
    EXPECT_EQ(f.tls, h);
    EXPECT_EQ(f.first, 2u);
  }
  EXPECT_THAT(fault_errors("{fault: tls}"), ElementsAre(HasSubstr("missing required key 'tls'")));
  EXPECT_THAT(fault_errors("{fault: tls, tls: expired}"),
              ElementsAre(HasSubstr("unknown TLS fault 'expired' (known: expired_certificate, wrong_host_certificate,")));
  EXPECT_THAT(fault_errors("{fault: tls, tls: expired_certificate, status: 503}"),
              ElementsAre(HasSubstr("status does not apply to fault 'tls'")));
  EXPECT_THAT(fault_errors("{fault: tls, tls: expired_certificate, endpoint: e}"),
              ElementsAre(HasSubstr("endpoint does not apply to a tls fault: the handshake happens before a request "
                                    "names its endpoint")));
}

TEST(faults, kinds_not_typed_yet_keep_what_the_plan_writes) {
  const auto f = fault_of("{fault: duplicate_delivery, copies: 2, delay: 30s, first: 4}");
  EXPECT_EQ(f.kind, "duplicate_delivery");
  EXPECT_EQ(f.params.at("copies").as_int64(), 2);
  EXPECT_EQ(f.params.at("delay").as_string(), "30s");
  EXPECT_EQ(f.first, 4u) << "the common selectors are read for every kind";
  EXPECT_FALSE(f.params.contains("first"));
}

TEST(expectations, detected_as_factors_and_rates) {
  const auto plan = load_small(
      "failure_modes: [{id: f, inject: {fault: hang}, expect: {detected_as: timeout, upstream_amplification: 1.5, "
      "peak_upstream_rate: \"< 40/s\", p50_latency: 300ms}}]");
  const auto& x = plan.failure_modes.at(0).expect;
  ASSERT_GE(x.size(), 4u);
  EXPECT_EQ(x[0].word, "timeout");
  EXPECT_EQ(x[1].op, comparison::le);  // a bare factor is a ceiling
  EXPECT_DOUBLE_EQ(x[1].value, 1.5);
  EXPECT_EQ(x[2].op, comparison::lt);
  EXPECT_DOUBLE_EQ(x[2].value, 40);
  EXPECT_EQ(x[3].op, comparison::le);
  EXPECT_DOUBLE_EQ(x[3].value, 300);
  EXPECT_EQ(load_small("failure_modes: [{id: f, inject: {fault: hang}, expect: {detected_as: 503}}]")
                .failure_modes.at(0).expect.at(0).word,
            "503");

  EXPECT_THAT(small_errors("failure_modes: [{id: f, inject: {fault: hang}, expect: {detected_as: slowness}}]"),
              ElementsAre(HasSubstr("expected an error class (timeout, connect_timeout, read_timeout, connection_error, "
                                    "connect_error, reset, tls_error, schema_error, protocol_error) or an HTTP status, "
                                    "got 'slowness'")));
  EXPECT_THAT(small_errors("failure_modes: [{id: f, inject: {fault: hang}, expect: {upstream_amplification: \"<= lots\"}}]"),
              ElementsAre(HasSubstr("expected a number or a comparison such as '<= 1.5'")));
  EXPECT_THAT(small_errors("failure_modes: [{id: f, inject: {fault: hang}, expect: {peak_upstream_rate: 40}}]"),
              ElementsAre(HasSubstr("expected a rate or a comparison such as '<= 40/s'")));
}

}  // namespace
}  // namespace planproof::plan
