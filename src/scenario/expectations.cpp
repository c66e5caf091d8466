#include "scenario/expectations.hpp"

#include <charconv>
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
    const auto took = *stats.recovery_time();
    numeric(core::to_millis(took));
    r.note = "first success " + core::format_duration(took) + " after the faults ended (observed and expected in ms)";
  } else if (e.name == "mapping_valid") {
    // Every answer the integration received was usable: it mapped onto the plan's targets, or the
    // records that did not were set aside while the rest of the page was used. With inbound
    // webhooks, every event delivered was usable too.
    const auto& w = m.webhooks;
    boolean(stats.unusable_responses == 0 && w.unusable == 0);
    r.evidence = stats.mapping_evidence;
    r.evidence.insert(r.evidence.end(), w.unusable_evidence.begin(), w.unusable_evidence.end());
    r.note = std::to_string(stats.unusable_responses) + " answers unusable (schema or mapping broken); " +
             std::to_string(stats.records_rejected) + " records set aside from " +
             std::to_string(stats.responses_with_rejected_records) + " answers";
    if (w.ran) r.note += "; " + std::to_string(w.unusable) + " webhook deliveries refused as unusable";
  } else if (e.name == "processed_exactly_once" && (m.webhooks.ran || !m.pull)) {
    const auto& w = m.webhooks;
    if (!w.ran || w.events == 0) {
      r.note = "no webhook event was delivered in this failure mode (traffic.webhooks lists no stream and no webhook "
               "fault targets an inbound endpoint)";
      return r;
    }
    boolean(w.never_processed == 0 && w.processed_again == 0);
    r.evidence = w.processing_evidence;
    r.note = std::to_string(w.events) + " events: " + std::to_string(w.processed_once) + " processed once, " +
             std::to_string(w.never_processed) + " never, " + std::to_string(w.processed_again) +
             " more than once; " + std::to_string(w.duplicates_dropped) + " redeliveries dropped as duplicates, " +
             std::to_string(w.given_up) + " deliveries given up by the provider";
  } else if (e.name == "rejects_bad_signatures") {
    const auto& w = m.webhooks;
    if (!w.ran || w.bad_signatures == 0) {
      // Nothing was put to the test: never a silent pass.
      r.note = "no badly signed delivery was sent in this failure mode (a bad_signature fault sends them)";
      return r;
    }
    boolean(w.bad_signatures_accepted == 0 && w.genuine_refused == 0);
    r.evidence = w.signature_evidence;
    std::string reasons;
    for (const auto& [why, n] : w.signature_failures) reasons += (reasons.empty() ? "" : ", ") + why + "=" + std::to_string(n);
    r.note = std::to_string(w.bad_signatures - w.bad_signatures_accepted) + " of " + std::to_string(w.bad_signatures) +
             " badly signed deliveries refused; " + std::to_string(w.genuine_refused) +
             " validly signed ones refused" + (reasons.empty() ? "" : " (the receiver's refusals: " + reasons + ")");
  } else if ((e.name == "p50_latency" || e.name == "p99_latency") && m.latency_of_deliveries) {
    const auto& w = m.webhooks;
    if (w.attempts == 0) {
      r.note = "no webhook delivery was answered";
      return r;
    }
    numeric(e.name == "p50_latency" ? w.p50_latency_ms : w.p99_latency_ms);
    r.note = "webhook delivery latency, sent to answered, every attempt (observed and expected in ms); max " +
             core::format_duration(std::chrono::duration_cast<core::duration>(
                 std::chrono::duration<double, std::milli>(w.max_latency_ms)));
    r.evidence = w.slowest_evidence;
  } else if (e.name == "p50_latency" || e.name == "p99_latency") {
    if (m.submitted == 0) {
      r.note = "no logical request was sent";
      return r;
    }
    numeric(e.name == "p50_latency" ? m.p50_latency_ms : m.p99_latency_ms);
    r.note = "logical request latency, first attempt to the end, succeeded or not (observed and expected in ms); max " +
             core::format_duration(std::chrono::duration_cast<core::duration>(
                 std::chrono::duration<double, std::milli>(m.max_latency_ms)));
    r.evidence = stats.slowest_evidence;
  } else if (e.name == "upstream_amplification") {
    if (m.submitted == 0) {
      r.note = "no logical request was sent";
      return r;
    }
    numeric(static_cast<double>(m.attempts) / static_cast<double>(m.submitted));
    r.note = std::to_string(m.attempts) + " attempts for " + std::to_string(m.submitted) + " logical requests";
    r.evidence = stats.max_attempts_evidence;
  } else if (e.name == "peak_upstream_rate") {
    // From the first whole second after the faults ended; over the whole run when they never end.
    std::int64_t from = 0;
    if (stats.recovery_from) from = std::chrono::ceil<std::chrono::seconds>(*stats.recovery_from - stats.origin()).count();
    const auto [peak, peak_second] = stats.peak_after_recovery();
    numeric(static_cast<double>(peak));
    const std::string counted = stats.recovery_from
                                    ? "counted from second " + std::to_string(from) + ", the first after the faults ended"
                                    : "the faults never end: the whole run";
    r.note = peak_second < 0 ? std::string("no attempt was sent after the faults ended")
                             : std::to_string(peak) + " attempts started in second " + std::to_string(peak_second) +
                                   " of the run (" + counted + "); per second";
  } else if (e.name == "detected_as") {
    // The failure the client saw most often: an error class (an umbrella such as `timeout`
    // covers its fine classes) or a status of 400 and up.
    const auto expected_class = core::parse_error_class(e.word);
    std::uint64_t matching = 0;
    std::string top;
    std::uint64_t top_count = 0;
    std::string breakdown;
    for (const auto& [name, count] : stats.attempt_results) {
      const auto cls = core::parse_error_class(name);
      int status = 0;
      std::from_chars(name.data(), name.data() + name.size(), status);
      const bool failure = cls.has_value() || status >= 400;
      if (!failure) continue;
      breakdown += (breakdown.empty() ? "" : ", ") + name + "=" + std::to_string(count);
      const bool match = expected_class ? cls && core::covers(*expected_class, *cls) : name == e.word;
      if (match) matching += count;
      else if (count > top_count) {
        top_count = count;
        top = name;
      }
    }
    r.observed = boost::json::value(matching >= top_count && matching > 0 ? e.word : top);
    r.held = matching > 0 && matching >= top_count;
    r.note = breakdown.empty() ? std::string("no attempt failed")
                               : "failed attempts: " + breakdown + " (" + std::to_string(matching) + " " + e.word +
                                     (top_count > matching ? ", fewer than " + top + ")" : ")");
    r.evidence = stats.not_succeeded_evidence;
  } else if (e.name == "processed_exactly_once" && m.pull) {
    return evaluate_pull_exactly_once(e, *m.pull);
  } else {
    r.note = "expectation not supported by this version";
  }
  return r;
}

expectation_result evaluate(const plan::expectation& e, const secret_scan& scan) {
  expectation_result r;
  r.name = e.name;
  r.expected = e.text;
  r.implicit = e.implicit;
  r.observed = scan.occurrences();
  r.held = (scan.occurrences() == 0) == e.boolean;
  r.note = std::to_string(scan.occurrences()) + (scan.occurrences() == 1 ? " occurrence" : " occurrences") +
           " of a secret found (observed); scanned " + scan.summary();
  r.evidence = scan.evidence();
  return r;
}

expectation_result evaluate_pull_exactly_once(const plan::expectation& e, const pull_tally& pull) {
  expectation_result r;
  r.name = e.name;
  r.expected = e.text;
  r.implicit = e.implicit;
  r.evidence = pull.evidence;
  if (pull.pages_read == 0) {
    r.note = "no page of the collection was read";
    return r;
  }
  r.observed = pull.exactly_once();
  r.held = pull.exactly_once() == e.boolean;
  r.note = std::to_string(pull.records_expected) + " records expected over " + std::to_string(pull.pulls) +
           " pulls (" + std::to_string(pull.pages_read) + " pages read, " + std::to_string(pull.refetches) +
           " fetched again): " + std::to_string(pull.processed_once) + " processed once, " +
           std::to_string(pull.processed_twice) + " processed twice or more, " + std::to_string(pull.missed) +
           " missed; " + std::to_string(pull.duplicates_dropped) + " repeated records dropped";
  return r;
}

}  // namespace planproof::scenario
