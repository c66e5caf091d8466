#include "scenario/expectations.hpp"

#include <cmath>

namespace planproof::scenario {

bool compare(double observed, plan::comparison op, double expected) noexcept {
  const double eps = 1e-9 * std::max(1.0, std::abs(expected));
  switch (op) {
    case plan::comparison::eq: return std::abs(observed - expected) <= eps;
    case plan::comparison::ne: return std::abs(observed - expected) > eps;
    case plan::comparison::lt: return observed < expected - eps;
    case plan::comparison::le: return observed <= expected + eps;
    case plan::comparison::gt: return observed > expected + eps;
    case plan::comparison::ge: return observed >= expected - eps;
  }
  return false;
}

expectation_result evaluate(const plan::expectation& e, const run_stats& stats, const run_metrics& m) {
  expectation_result r;
  r.name = e.name;
  r.expected = e.text;
  r.implicit = e.implicit;

  auto numeric = [&](double observed) {
    r.observed = observed;
    r.held = compare(observed, e.op, e.value);
  };
  auto boolean = [&](bool observed) {
    r.observed = observed;
    r.held = observed == e.boolean;
  };

  if (e.name == "success_rate") {
    if (m.submitted == 0) {
      r.note = "no logical request was sent";
      return r;
    }
    numeric(static_cast<double>(m.succeeded) / static_cast<double>(m.submitted));
    r.evidence = stats.not_succeeded_evidence;
  } else if (e.name == "max_attempts") {
    numeric(m.max_attempts);
    r.evidence = stats.max_attempts_evidence;
  } else if (e.name == "lost") {
    numeric(static_cast<double>(m.lost));
    for (auto id : stats.in_flight_ids(run_stats::max_evidence)) {
      r.evidence.push_back({id, 0, "submitted, never ended"});
    }
    if (m.submitted < m.planned) {
      r.note = std::to_string(m.planned - m.submitted) + " planned requests were never sent before the run's deadline";
    }
  } else if (e.name == "dead_lettered") {
    numeric(static_cast<double>(m.dead_lettered));
    r.evidence = stats.not_succeeded_evidence;
  } else if (e.name == "honors_retry_after") {
    boolean(stats.retry_after_violations == 0);
    r.evidence = stats.retry_after_evidence;
    if (stats.retry_after_answers == 0) r.note = "no Retry-After was answered during the run";
    else r.note = std::to_string(stats.retry_after_violations) + " of " +
                  std::to_string(stats.retry_after_answers) + " Retry-After answers retried early";
  } else if (e.name == "no_duplicate_effects") {
    boolean(m.duplicate_effects == 0);
    r.evidence = m.duplicate_evidence;
    r.note = std::to_string(m.duplicate_effects) + " of " + std::to_string(m.side_effects) +
             " side effects applied again for a logical request that already had one";
  } else if (e.name == "token_refreshes") {
    numeric(static_cast<double>(stats.token_refreshes));
    r.evidence = stats.token_evidence;
    r.note = std::to_string(stats.tokens_issued) + " tokens issued in " + std::to_string(stats.token_requests) +
             " fetches (" + std::to_string(stats.token_failures) + " failed); " +
             std::to_string(stats.credential_rejections) +
             (stats.credential_rejections == 1 ? " answer refused a token" : " answers refused a token");
  } else if (e.name == "no_auth_failures_leaked") {
    boolean(stats.auth_failures_leaked == 0);
    r.evidence = stats.auth_leak_evidence;
    r.note = std::to_string(stats.auth_failures_leaked) + " requests ended on an auth failure (401, 403 or no token)";
  } else if (e.name == "breaker_opens") {
    boolean(stats.breaker_opens > 0);
    r.evidence = stats.breaker_evidence;
    r.note = "the breaker opened " + std::to_string(stats.breaker_opens) + " times";
  } else if (e.name == "fails_fast") {
    // Failing fast needs both: calls were refused while open, and none went to the upstream then.
    boolean(stats.calls_rejected > 0 && stats.attempts_while_open == 0);
    r.evidence = stats.breaker_evidence;
    r.note = std::to_string(stats.calls_rejected) + " calls refused without an upstream call while open; " +
             std::to_string(stats.attempts_while_open) + " attempts sent while open";
  } else if (e.name == "recovers_within") {
    if (!stats.recovery_from) {
      r.note = "the failure mode's faults have no end, so there is nothing to recover from";
      return r;
    }
    if (!stats.first_success_after_recovery) {
      r.note = "no request succeeded after the faults ended";
      return r;
    }
    const auto took = *stats.first_success_after_recovery - *stats.recovery_from;
    numeric(core::to_millis(took));
    r.note = "first success " + core::format_duration(took) + " after the faults ended (observed and expected in ms)";
  } else if (e.name == "mapping_valid") {
    // Every answer the integration received was usable: it mapped onto the plan's targets, or the
    // records that did not were set aside while the rest of the page was used.
    boolean(stats.unusable_responses == 0);
    r.evidence = stats.mapping_evidence;
    r.note = std::to_string(stats.unusable_responses) + " answers unusable (schema or mapping broken); " +
             std::to_string(stats.records_rejected) + " records set aside from " +
             std::to_string(stats.responses_with_rejected_records) + " answers";
  } else {
    r.note = "expectation not supported by this version";
  }
  return r;
}

}  // namespace planproof::scenario
