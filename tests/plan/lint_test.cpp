// Lint rules: every rule fires on a plan that breaks it, at the line that breaks it, and stays quiet on
// the clean fixture and on a near miss.
#include <functional>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "plan/lint.hpp"
#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using test_support::read_fixture;

const std::string clean = read_fixture("lint_clean.plan.yaml");

std::vector<core::diagnostic> lint_text(const std::string& text) {
  return lint(load_string(text, "plan.yaml"));
}

std::string show(const std::vector<core::diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += "  " + d.str() + "\n";
  return out.empty() ? "  (no findings)\n" : out;
}

// Text edits of the clean plan.
using edit = std::function<std::string(std::string)>;

edit replace(std::string from, std::string to) {
  return [from, to](std::string text) {
    const auto at = text.find(from);
    if (at == std::string::npos) {
      ADD_FAILURE() << "the fixture has no '" << from << "'";
      return text;
    }
    return text.replace(at, from.size(), to);
  };
}

edit remove(std::string what) { return replace(std::move(what), ""); }

// Drops a top-level section: its key line up to the next top-level key.
edit drop_section(std::string key) {
  return [key](std::string text) {
    const auto start = text.find("\n" + key + ":");
    if (start == std::string::npos) {
      ADD_FAILURE() << "the fixture has no section " << key;
      return text;
    }
    auto end = start + 1;
    do {
      end = text.find('\n', end);
      if (end == std::string::npos) return text.substr(0, start + 1);
      ++end;
    } while (end < text.size() && (text[end] == ' ' || text[end] == '-'));
    return text.erase(start + 1, end - start - 1);
  };
}

edit all_of(std::vector<edit> edits) {
  return [edits](std::string text) {
    for (const auto& e : edits) text = e(std::move(text));
    return text;
  };
}

struct rule_case {
  std::string rule;
  edit change;
  std::string at;  // text on the line the finding must point at; empty: the finding has no line
};

// One plan per rule that must trigger it.
const std::vector<rule_case>& triggers() {
  static const std::vector<rule_case> cases{
      {"section-missing", drop_section("mapping"), ""},
      {"section-missing", drop_section("phases"), ""},
      {"section-empty", all_of({drop_section("mapping"), replace("\nretry:", "\nmapping: []\nretry:")}), "mapping: []"},
      {"assumptions-missing", remove("assumptions: [the API applies a POST once per Idempotency-Key for 24 hours]\n"), ""},
      {"verification-missing", remove("verification: [a week against the sandbox before go-live]\n"), ""},
      {"placeholder", replace("user_impact: none visible", "user_impact: TODO"), "user_impact: TODO"},
      {"literal-credential",
       replace("headers: {Accept: application/json}", "headers: {Accept: application/json, Authorization: Basic b3JkZXJzOnMzY3JldA}"),
       "Authorization: Basic"},
      {"literal-credential",
       replace("description: the API throttles the account",
               "description: \"throttled key sk_" "live_" "4eC39HqLyjWDarjtT1zdp7dc\""),
       "description: \"throttled key"},
      {"literal-credential",
       replace("headers: {Accept: application/json}", "headers: {Accept: application/json, X-Api-Token: abc123}"),
       "X-Api-Token: abc123"},
      {"auth-none-unexplained",
       replace("auth: {method: api_key, header: X-Api-Key, key: env:ORDERS_API_KEY, rotation: 90d}", "auth: {method: none}"),
       "auth: {method: none}"},
      {"auth-rotation-missing", remove(", rotation: 90d"), "auth: {method: api_key"},
      {"credentials-over-http", replace("https://api.orders.example", "http://api.orders.example"), "base_url: http://"},
      {"base-url-not-https",
       all_of({replace("https://api.orders.example", "http://api.orders.example"),
               replace("auth: {method: api_key, header: X-Api-Key, key: env:ORDERS_API_KEY, rotation: 90d}",
                       "auth: {method: none, security_notes: [the sandbox is open]}")}),
       "base_url: http://"},
      {"pagination-missing", remove("    pagination: {style: cursor, param: starting_after, has_more: has_more, items: data}\n"),
       "path: /v1/orders\n    response: {example: {data"},
      {"rate-limit-429-not-retried", replace("retry_on: [429, 503,", "retry_on: [503,"), "rate_limit: 100/s"},
      {"webhook-unsigned",
       remove("    signature: {scheme: hmac-sha256, header: Signature, secret: env:ORDERS_WEBHOOK_SECRET, tolerance: 5m}\n"),
       "id: order_events"},
      {"webhook-no-dedup", remove("    dedup_key: event.id\n"), "id: order_events"},
      {"webhook-tolerance-wide", replace("tolerance: 5m", "tolerance: 1h"), "tolerance: 1h"},
      {"mapping-source-unknown", replace("{source: total,", "{source: amount,"), "{source: amount,"},
      {"backoff-base-above-max", replace("base: 200ms", "base: 10s"), "base: 10s"},
      {"timeout-order", replace("read: 2s", "read: 30s"), "read: 30s"},
      {"retry-client-error", replace("retry_on: [429,", "retry_on: [404, 429,"), "retry_on: [404"},
      {"retry-401-without-refresh", replace("retry_on: [429,", "retry_on: [401, 429,"), "retry_on: [401"},
      {"retry-conflicts-with-endpoint",
       all_of({replace("fatal: [400, 401, 404, 422]", "fatal: [400, 401, 404, 409, 422]"), replace("retry_on: [429,", "retry_on: [409, 429,")}),
       "retry_on: [409"},
      {"retry-unsafe-method", remove("    idempotency: {header: Idempotency-Key}\n"), "method: POST"},
      {"retry-exceeds-deadline", replace("total: 20s", "total: 8s"), "total: 8s"},
      {"retry-after-cap-exceeds-deadline", replace("cap: 10s", "cap: 20s"), "cap: 20s"},
      {"retry-disabled", replace("max_attempts: 3", "max_attempts: 1"), "max_attempts: 1"},
      {"jitter-none", replace("jitter: full", "jitter: none"), "jitter: none"},
      {"retry-storm", remove("    settings:\n      retry:\n        retry_budget: {ratio: 20%, min_per_second: 5}\n"), "retry:\n  max_attempts"},
      {"dead-letter-missing", remove("  dead_letter: {path: dead-letter/orders.jsonl}\n"), "retry:\n  max_attempts"},
      {"retry-untested", remove(", {fault: reset, probability: 0.1}"), "retry_on: [429"},
      {"fault-unclassified", replace("status: 429, retry_after: 2s", "status: 500, retry_after: 2s"), "status: 500"},
      {"fault-unclassified", replace("retry_on: [429, 503, timeout, connection_error, schema_error]", "retry_on: [429, 503, timeout, connection_error]"),
       "{fault: malformed"},
      {"retry-after-ignored", replace("honor: true", "honor: false"), "honor: false"},
      {"traffic-exceeds-rate-limit", replace("rate: 20/s", "rate: 150/s"), "rate: 150/s"},
      // A profile is judged by its peak: a ramp's faster end, a burst's rate.
      {"traffic-exceeds-rate-limit", replace("rate: 20/s,", "profile: ramp, from: 150/s, rate: 20/s,"), "from: 150/s"},
      {"traffic-exceeds-rate-limit",
       replace("rate: 20/s,", "profile: burst, rate: 20/s, burst: {rate: 150/s, every: 20s, length: 2s},"), "rate: 150/s"},
      // A failure mode's own traffic, at its line.
      {"traffic-exceeds-rate-limit",
       replace("    detection: 429 answers per minute\n", "    detection: 429 answers per minute\n    traffic: {rate: 150/s}\n"),
       "traffic: {rate: 150/s}"},
      {"traffic-rate-ignored", replace("rate: 20/s,", "profile: closed_loop, rate: 20/s,"), "profile: closed_loop"},
      {"retry-amplification-exceeds-rate-limit",
       all_of({replace("rate: 20/s", "rate: 40/s"), remove("    settings:\n      retry:\n        retry_budget: {ratio: 20%, min_per_second: 5}\n")}),
       "max_attempts: 3"},
      {"failure-mode-prose-missing", remove("    alerting: page after 2 minutes\n"), "id: outage"},
      {"failure-mode-no-expect", remove("    expect: {success_rate: \">= 0.99\"}\n"), "id: slow_or_broken"},
      {"failure-mode-unphased", replace("failure_modes: [rate_limited, outage, slow_or_broken]", "failure_modes: [rate_limited, outage]"),
       "id: slow_or_broken"},
      {"fault-inert", replace("during: [20s, 30s]", "during: [70s, 80s]"), "during: [70s, 80s]"},
      {"fault-inert", replace("{fault: status, status: 503, probability: 0.5", "{fault: status, status: 503, probability: 0"),
       "probability: 0,"},
      {"fault-inert", replace("{fault: hang, probability: 0.1}", "{fault: hang, probability: 0.1, endpoint: list_orders}"),
       "endpoint: list_orders"},
      {"phases-too-few", remove(clean.substr(clean.find("  - name: phase2"))), "phases:\n"},
      {"phase-no-success-criteria", remove("    success_criteria: [every failure mode holds]\n"), "name: phase2"},
      {"phase-incomplete", remove("    risks: [budget too tight]\n"), "name: phase2"},
      {"phase1-more-complex", replace("complexity: low", "complexity: high"), "complexity: high"},
      {"phase2-drops-acceptance",
       replace("failure_modes: [rate_limited, outage, slow_or_broken]", "failure_modes: [rate_limited, slow_or_broken]"),
       "failure_modes: [rate_limited, slow_or_broken]"},
      {"phase2-no-triggers", remove("    triggers: [phase1 live for two weeks]\n"), "name: phase2"},
  };
  return cases;
}

// Plans close to breaking a rule that must not trigger it.
const std::vector<std::pair<std::string, edit>>& near_misses() {
  static const std::vector<std::pair<std::string, edit>> cases{
      {"placeholder", replace("user_impact: none visible", "user_impact: TODOS are tracked elsewhere")},
      {"literal-credential",
       replace("headers: {Accept: application/json}", "headers: {Accept: application/json, Authorization: env:ORDERS_TOKEN}")},
      {"literal-credential",
       replace("headers: {Accept: application/json}", "headers: {Accept: application/json, Authorization: \"Bearer {token}\"}")},
      {"auth-none-unexplained",
       replace("auth: {method: api_key, header: X-Api-Key, key: env:ORDERS_API_KEY, rotation: 90d}",
               "auth: {method: none, security_notes: [the sandbox is open to the VPN only]}")},
      {"credentials-over-http", replace("https://api.orders.example", "http://127.0.0.1:8080")},
      {"pagination-missing",
       all_of({remove("    pagination: {style: cursor, param: starting_after, has_more: has_more, items: data}\n"),
               replace("path: /v1/orders\n    response: {example: {data: [{id: ord_1}], has_more: false}}",
                       "path: /v1/orders/{order_id}\n    response: {example: {id: ord_1}}")})},
      {"rate-limit-429-not-retried",
       all_of({replace("retry_on: [429, 503,", "retry_on: [503,"), replace("  retry_after:", "  fatal_on: [429]\n  retry_after:")})},
      {"webhook-tolerance-wide", replace("tolerance: 5m", "tolerance: 15m")},
      {"mapping-source-unknown", replace("{source: total,", "{source: status,")},
      {"retry-client-error", replace("retry_on: [429,", "retry_on: [408, 429,")},
      {"retry-401-without-refresh",
       all_of({replace("retry_on: [429,", "retry_on: [401, 429,"),
               replace("auth: {method: api_key, header: X-Api-Key, key: env:ORDERS_API_KEY, rotation: 90d}",
                       "auth: {method: oauth2_client_credentials, token_url: /oauth/token, client_secret: env:ORDERS_SECRET, rotation: 90d}")})},
      {"retry-unsafe-method",
       all_of({remove("    idempotency: {header: Idempotency-Key}\n"),
               replace("  dead_letter:", "  idempotency: {approach: natural_key}\n  dead_letter:")})},
      {"retry-unsafe-method", all_of({remove("    idempotency: {header: Idempotency-Key}\n"), replace("max_attempts: 3", "max_attempts: 1")})},
      {"retry-exceeds-deadline", replace("total: 20s", "total: 10s")},
      {"retry-after-cap-exceeds-deadline", replace("cap: 10s", "cap: 19s")},
      {"jitter-none", all_of({replace("jitter: full", "jitter: none"), replace("concurrency: 8", "concurrency: 1")})},
      {"retry-untested", replace("{fault: reset, probability: 0.1}", "{fault: close, probability: 0.1}")},
      {"fault-unclassified", replace("status: 429, retry_after: 2s", "status: 422, retry_after: 2s")},
      {"traffic-exceeds-rate-limit", replace("rate: 20/s", "rate: 100/s")},
      {"traffic-exceeds-rate-limit",
       replace("rate: 20/s,", "profile: burst, rate: 20/s, burst: {rate: 100/s, every: 20s, length: 2s},")},
      {"traffic-exceeds-rate-limit", replace("rate: 20/s,", "profile: ramp, from: 2/s, rate: 100/s,")},
      {"traffic-exceeds-rate-limit", replace("rate: 20/s,", "profile: closed_loop,")},
      {"traffic-rate-ignored", replace("rate: 20/s,", "profile: closed_loop,")},
      {"retry-amplification-exceeds-rate-limit", replace("rate: 20/s", "rate: 40/s")},
      {"fault-inert", replace("during: [20s, 30s]", "during: [50s, 80s]")},
      {"phase1-more-complex", replace("complexity: low", "complexity: medium")},
  };
  return cases;
}

int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return -1;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

TEST(lint, clean_fixture_has_no_findings) {
  const auto findings = lint_text(clean);
  EXPECT_TRUE(findings.empty()) << show(findings);
}

TEST(lint, each_rule_fires_where_the_plan_breaks_it) {
  for (const auto& c : triggers()) {
    SCOPED_TRACE(c.rule);
    const auto text = c.change(clean);
    std::vector<core::diagnostic> findings;
    try {
      findings = lint_text(text);
    } catch (const core::diagnostic_error& e) {
      ADD_FAILURE() << "the mutated plan for " << c.rule << " does not load:\n" << e.what();
      continue;
    }
    const auto it = std::find_if(findings.begin(), findings.end(), [&](const auto& d) { return d.rule == c.rule; });
    ASSERT_NE(it, findings.end()) << c.rule << " did not fire; findings:\n" << show(findings);
    const lint_rule* rule = find_lint_rule(c.rule);
    ASSERT_NE(rule, nullptr);
    EXPECT_EQ(it->level, rule->level);
    EXPECT_EQ(it->where.file, "plan.yaml");
    if (c.at.empty()) {
      EXPECT_EQ(it->where.line, 0) << it->str();
    } else {
      EXPECT_EQ(it->where.line, line_of(text, c.at)) << it->str();
      EXPECT_GT(it->where.column, 0) << it->str();
    }
    EXPECT_NE(it->str().find("[" + c.rule + "]"), std::string::npos);
  }
}

TEST(lint, near_misses_do_not_fire) {
  for (const auto& [rule, change] : near_misses()) {
    SCOPED_TRACE(rule);
    const auto findings = lint_text(change(clean));
    for (const auto& d : findings) EXPECT_NE(d.rule, rule) << d.str();
  }
}

TEST(lint, every_rule_has_a_trigger) {
  std::set<std::string> covered;
  for (const auto& c : triggers()) covered.insert(c.rule);
  for (const auto& r : lint_rules()) EXPECT_TRUE(covered.contains(std::string(r.id))) << r.id << " has no test";
  // Ids are unique and kebab-case: tools match on them.
  std::set<std::string_view> ids;
  for (const auto& r : lint_rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_TRUE(std::all_of(r.id.begin(), r.id.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }))
        << r.id;
  }
}

TEST(lint, a_phase_finding_points_at_the_phase_setting_and_says_so) {
  const auto text = replace("        retry_budget: {ratio: 20%, min_per_second: 5}\n",
                            "        retry_budget: {ratio: 20%, min_per_second: 5}\n        retry_on: [429, 503, 404]\n")(clean);
  const auto findings = lint_text(text);
  const auto it = std::find_if(findings.begin(), findings.end(), [](const auto& d) { return d.rule == "retry-client-error"; });
  ASSERT_NE(it, findings.end()) << show(findings);
  EXPECT_EQ(it->where.line, line_of(text, "retry_on: [429, 503, 404]"));
  EXPECT_EQ(it->where.column, 30);
  EXPECT_NE(it->message.find("phase phase2: "), std::string::npos) << it->message;
}

TEST(lint, a_plan_level_finding_is_not_repeated_for_each_phase) {
  // phase2 inherits the plan's retry_on: one finding, located in the plan's retry.
  const auto findings = lint_text(replace("retry_on: [429,", "retry_on: [400, 429,")(clean));
  const auto n = std::count_if(findings.begin(), findings.end(), [](const auto& d) { return d.rule == "retry-client-error"; });
  EXPECT_EQ(n, 1) << show(findings);
}

TEST(lint, secrets_are_never_quoted_back) {
  const std::string key = std::string("sk_") + "live_" + "4eC39HqLyjWDarjtT1zdp7dc";
  const auto findings = lint_text(replace("description: the API throttles the account", "description: \"" + key + "\"")(clean));
  ASSERT_FALSE(findings.empty());
  for (const auto& d : findings) EXPECT_EQ(d.str().find(key), std::string::npos) << d.str();
}

TEST(lint, findings_come_in_file_order_with_unlocated_ones_last) {
  const auto text = all_of({drop_section("mapping"), replace("base: 200ms", "base: 10s"), replace("complexity: low", "complexity: high")})(clean);
  const auto findings = lint_text(text);
  ASSERT_GE(findings.size(), 3u) << show(findings);
  for (std::size_t i = 1; i < findings.size(); ++i) {
    const auto& a = findings[i - 1].where;
    const auto& b = findings[i].where;
    if (b.line == 0) continue;
    EXPECT_NE(a.line, 0) << show(findings);
    EXPECT_LE(a.line, b.line) << show(findings);
  }
  EXPECT_EQ(findings.back().where.line, 0);
}

TEST(lint, written_locations_follow_the_file) {
  const auto plan = load_string(clean, "plan.yaml");
  EXPECT_TRUE(plan.has("retry.max_attempts"));
  EXPECT_FALSE(plan.has("retry.circuit_breaker"));
  EXPECT_EQ(plan.locate("retry.max_attempts").line, line_of(clean, "max_attempts: 3"));
  EXPECT_EQ(plan.locate("retry.max_attempts").column, 17);
  // A default falls back to its nearest written ancestor; a list item is found by index.
  EXPECT_EQ(plan.locate("retry.circuit_breaker.size").line, line_of(clean, "retry:\n"));
  EXPECT_EQ(plan.locate("retry.retry_on[1]").column, 19);
  EXPECT_EQ(plan.locate("nothing.here").line, 0);
  ASSERT_TRUE(plan.written.at("integration.name").scalar);
  EXPECT_EQ(*plan.written.at("integration.name").scalar, "orders");
}

TEST(lint, overrides_are_located_at_set) {
  load_options options;
  options.overrides.push_back({"retry.retry_on", "[429, 503, 403, timeout, connection_error, schema_error]"});
  const auto findings = lint(load_string(clean, "plan.yaml", options));
  const auto it = std::find_if(findings.begin(), findings.end(), [](const auto& d) { return d.rule == "retry-client-error"; });
  ASSERT_NE(it, findings.end()) << show(findings);
  EXPECT_EQ(it->where.file, "--set");
}

TEST(lint, parameters_of_faults_not_yet_typed_are_kept) {
  const auto plan = load_string(
      replace("{fault: reset, probability: 0.1}", "{fault: burst, breakage: short_page, pages: 10, status: 503}")(clean), "plan.yaml");
  const auto& f = plan.failure_modes[1].inject[1];
  EXPECT_EQ(f.kind, "burst");
  EXPECT_EQ(f.params.at("breakage").as_string(), "short_page");
  EXPECT_EQ(f.params.at("pages").as_int64(), 10);
  EXPECT_FALSE(f.params.contains("fault"));
}

TEST(lint, mutated_plans_that_load_lint_without_crashing) {
  // Hostile edits of the clean fixture and of the fixture with every construct: whatever loads,
  // lint reads without throwing, and every finding has a rule and a place or a reason to have none.
  int linted = 0;
  auto check = [&](const std::string& text, const std::string& what) {
    std::optional<integration_plan> plan;
    try {
      plan = load_string(text, "fuzz.yaml");
    } catch (const core::diagnostic_error&) {
      return;
    }
    ++linted;
    for (const auto& d : lint(*plan)) {
      EXPECT_NE(find_lint_rule(d.rule), nullptr) << what << ": " << d.str();
      EXPECT_FALSE(d.message.empty()) << what;
    }
  };
  const std::string alphabet = " \n\t:-[]{},#&*!|>'\"%@`?0123456789abcxyz.~$/";
  test_support::for_each_mutation(clean, 20261127, 40, 600, alphabet, check);
  test_support::for_each_mutation(read_fixture("full_plan.yaml"), 20261128, 20, 300, alphabet, check);
  EXPECT_GT(linted, 50) << "too few mutants loaded to say anything about lint";
}

}  // namespace
}  // namespace planproof::plan
