// Hand-made run results for the report tests: every verdict, every field a report writes, and text
// that tries to break the formats (markup, quotes, control characters, bytes that are not UTF-8).
#pragma once

#include <string>
#include <vector>

#include "scenario/result.hpp"

namespace planproof::report::test {

inline scenario::failure_mode_result held_mode(std::string id, double duration_ms = 60000) {
  scenario::failure_mode_result f;
  f.id = std::move(id);
  f.outcome = scenario::verdict::held;
  f.expectations.push_back({"success_rate", ">= 0.99", 1.0, true, false, "", {}});
  f.expectations.push_back({"lost", "0", std::uint64_t{0}, true, true, "", {}});
  auto& m = f.metrics;
  m.planned = m.submitted = m.succeeded = 1200;
  m.attempts = m.upstream_requests = m.side_effects = 1290;
  m.max_attempts = 3;
  m.faults_injected = {{"status", 90}};
  m.attempt_results = {{"201", 1200}, {"503", 90}};
  m.end_reasons = {{"succeeded", 1200}};
  m.p50_latency_ms = 1.25;
  m.p99_latency_ms = 812.5;
  m.max_latency_ms = 1500;
  m.duration_ms = duration_ms;
  return f;
}

inline scenario::failure_mode_result broken_mode(std::string id, std::string note, std::string evidence) {
  auto f = held_mode(std::move(id));
  f.outcome = scenario::verdict::broken;
  f.expectations[0] = {"success_rate", ">= 0.99", 0.9483, false, false, std::move(note),
                       {{401, 20020, std::move(evidence)}, {0, 0, "Idempotency-Key k-1: applied again (ok)"}}};
  f.expectations.push_back({"honors_retry_after", "true", false, false, false, "", {{202, 10150.5, "early"}}});
  f.expectations.push_back({"detected_as", "timeout", nullptr, false, false, "", {}});
  f.metrics.succeeded = 1138;
  f.metrics.dead_lettered = 62;
  return f;
}

inline scenario::failure_mode_result other_mode(std::string id, scenario::verdict v, std::string reason) {
  scenario::failure_mode_result f;
  f.id = std::move(id);
  f.outcome = v;
  f.reason = std::move(reason);
  return f;
}

inline scenario::run_result sample_run() {
  scenario::run_result run;
  run.plan_name = "acme-payments";
  run.plan_file = "scenarios/payments.plan.yaml";
  run.phase = "phase1";
  run.seed = 42;
  run.time_scale = 0.05;
  run.retry.max_attempts = 4;
  run.retry.backoff.base = std::chrono::milliseconds(200);
  run.retry.backoff.max = std::chrono::seconds(5);
  run.retry.backoff.jitter = plan::jitter_kind::equal;
  run.retry.retry_on = {429, 503, core::error_class::timeout, core::error_class::reset};
  run.retry.fatal_on = {core::error_class::read_timeout, 404};
  run.retry.retry_after.honor = true;
  run.retry.retry_after.cap = std::chrono::milliseconds(1500);
  run.retry.timeouts.connect = std::chrono::microseconds(2500);
  run.retry.dead_letter_path = "dead-letter/acme.jsonl";
  run.dead_letter_path = run.retry.dead_letter_path;
  run.traffic.endpoint = "create_payment";
  run.traffic.rate = 20.5;
  run.traffic.concurrency = 8;
  run.traffic.duration = std::chrono::seconds(60);
  run.notes = {"auth: a generated credential", "lint: the plan has 0 errors and 1 warning"};
  run.failure_modes.push_back(held_mode("rate_limited"));
  run.failure_modes.push_back(broken_mode("upstream_503_burst", "189 of 193 retried early",
                                          "dead_lettered (attempts_exhausted) after 1 attempts, last 503"));
  run.failure_modes.push_back(other_mode("tls_expired", scenario::verdict::skipped, "fault 'tls' (needs run --tls DIR)"));
  run.failure_modes.push_back(other_mode("hung", scenario::verdict::error, "could not start the mock upstream"));
  return run;
}

}  // namespace planproof::report::test
