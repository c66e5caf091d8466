// A hand-built run for the report tests: every verdict, a breaker and tokens, hostile text in ids,
// notes and evidence, and series made by folding events as a run would.
#pragma once

#include <string>

#include "scenario/result.hpp"
#include "scenario/run_stats.hpp"

namespace planproof::test {

// Text that breaks markup if it is not escaped, and bytes that are not UTF-8.
inline const std::string hostile = "<script>alert(\"x\")</script> & <img src=x onerror=alert(1)> ]]> '\x01\xff\xfe";

// A failure mode that ran for `length` of plan time at 20 requests/s: a 503 window from 10 s to
// 20 s, the breaker opening in it, a token renewed every 30 s. Its metrics come from the fold.
inline scenario::failure_mode_result ran_mode(std::string id, core::duration length, scenario::verdict outcome) {
  using namespace std::chrono_literals;
  using core::event_kind;
  const core::time_point origin{};
  scenario::run_stats stats(origin, length);
  std::uint64_t request = 0;
  for (auto at = 0ms; at < length; at += 50ms) {
    ++request;
    const auto t = origin + at;
    const bool faulted = at >= 10s && at < 20s;
    stats.on_event({.kind = event_kind::request_submitted, .at = t, .request = request});
    stats.on_event({.kind = event_kind::attempt_started, .at = t, .request = request, .attempt = 1});
    stats.on_event({.kind = event_kind::attempt_finished, .at = t + 5ms, .request = request, .attempt = 1,
                    .status = faulted ? 503 : 201, .latency = 5ms, .detail = std::uint8_t(faulted ? 1 : 0)});
    if (faulted) {
      stats.on_event({.kind = event_kind::attempt_started, .at = t + 405ms, .request = request, .attempt = 2});
      stats.on_event({.kind = event_kind::attempt_finished, .at = t + 410ms, .request = request, .attempt = 2,
                      .status = 0, .error = core::error_class::read_timeout, .latency = 5ms, .detail = 1});
    }
    stats.on_event({.kind = event_kind::request_completed, .at = t + (faulted ? 410ms : 5ms), .request = request,
                    .attempt = faulted ? 2u : 1u, .latency = faulted ? 410ms : 5ms,
                    .outcome = faulted ? core::request_outcome::dead_lettered : core::request_outcome::succeeded,
                    .reason = faulted ? core::end_reason::attempts_exhausted : core::end_reason::succeeded});
    if (at % 30s == 0ms) {
      stats.on_event({.kind = event_kind::token_issued, .at = t, .request = request, .delay = 60s,
                      .detail = std::uint8_t(at == 0ms ? 0 : 1)});
    }
    if (at % 40s == 12s) {
      stats.on_event({.kind = event_kind::breaker_transition, .at = t, .detail = 1});  // open
      stats.on_event({.kind = event_kind::call_rejected, .at = t + 1ms, .request = request});
    }
    if (at % 40s == 17s) stats.on_event({.kind = event_kind::breaker_transition, .at = t, .detail = 2});
    if (at % 40s == 18s) stats.on_event({.kind = event_kind::breaker_transition, .at = t, .detail = 0});
    if (faulted) stats.over_time.add(at, scenario::series::faults);
  }
  scenario::failure_mode_result f;
  f.id = std::move(id);
  f.outcome = outcome;
  auto& m = f.metrics;
  m.planned = m.submitted = stats.submitted;
  m.succeeded = stats.succeeded;
  m.dead_lettered = stats.dead_lettered;
  m.attempts = m.upstream_requests = stats.attempts;
  m.max_attempts = stats.max_attempts;
  m.attempt_results = stats.attempt_results;
  m.end_reasons = stats.end_reasons;
  m.faults_injected = {{"status", stats.over_time.total(scenario::series::faults)}};
  m.p50_latency_ms = stats.latency_ms.quantile(0.5);
  m.p99_latency_ms = stats.latency_ms.quantile(0.99);
  m.max_latency_ms = stats.latency_ms.max();
  m.duration_ms = core::to_millis(length);
  m.over_time = stats.over_time;
  m.breaker_transitions = stats.breaker_transitions;
  m.breaker_marks = stats.breaker_marks;
  m.tokens_issued = stats.tokens_issued;
  m.token_refreshes = stats.token_refreshes;
  m.token_marks = stats.token_marks;
  m.latency_bins = stats.latency_ms.bins(4);
  m.fault_windows = {{"status 503", 10000, 20000}};
  return f;
}

inline scenario::run_result sample_run() {
  using namespace std::chrono_literals;
  scenario::run_result run;
  run.plan_name = "acme " + hostile;
  run.plan_file = "plans/acme.plan.yaml";
  run.phase = "phase1";
  run.seed = 7;
  run.time_scale = 0.1;
  run.traffic.endpoint = "create_payment";
  run.traffic.rate = 20;
  run.traffic.duration = 60s;
  run.retry.max_attempts = 2;
  run.retry.circuit_breaker = plan::circuit_breaker_config{};
  run.notes = {"auth: note with " + hostile};

  auto held = ran_mode("rate_limited", 60s, scenario::verdict::held);
  held.expectations.push_back({"lost", "0", boost::json::value(0), true, true, "", {}});

  auto broken = ran_mode("id " + hostile, 60s, scenario::verdict::broken);
  broken.expectations.push_back({"success_rate", ">= 0.99", boost::json::value(0.8333), false, false,
                                 "note " + hostile,
                                 {{12, 10500, "dead_lettered after 2 attempts " + hostile}, {0, 0, "upstream saw it"}}});
  broken.expectations.push_back({"max_attempts", "<= 2", boost::json::value(2), true, false, "", {}});
  broken.expectations.push_back({"recovers_within", "<= 5s", boost::json::value(nullptr), false, false, "", {}});

  scenario::failure_mode_result skipped;
  skipped.id = "webhook_duplicates";
  skipped.outcome = scenario::verdict::skipped;
  skipped.reason = "not yet supported by this version: " + hostile;

  scenario::failure_mode_result error;
  error.id = "bind_failure";
  error.outcome = scenario::verdict::error;
  error.reason = "could not start the mock upstream on 127.0.0.1: address in use";

  // Ran, but nothing was sent: every series is empty.
  scenario::failure_mode_result empty;
  empty.id = "no_traffic";
  empty.outcome = scenario::verdict::held;
  empty.metrics.over_time = scenario::timeline(60s);
  empty.metrics.duration_ms = 0;

  run.failure_modes = {held, broken, skipped, error, empty};
  return run;
}

}  // namespace planproof::test
