#include "report/console.hpp"
#include "report/text.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "core/logging.hpp"
#include "core/units.hpp"

namespace planproof::report {
namespace {


std::string label(scenario::verdict v) {
  switch (v) {
    case scenario::verdict::held: return "held   ";
    case scenario::verdict::broken: return "BROKEN ";
    case scenario::verdict::error: return "ERROR  ";
    case scenario::verdict::skipped: return "SKIPPED";
  }
  return "?";
}

}  // namespace

void print_header(std::ostream& out, const scenario::run_result& run, std::size_t selected) {
  out << "planproof run " << run.plan_name;
  if (!run.phase.empty()) out << " (phase " << run.phase << ")";
  out << ": " << selected << " failure mode" << (selected == 1 ? "" : "s") << ", " << run.mode
      << (run.upstream.empty() ? "" : " against " + run.upstream) << ", seed "
      << run.seed << ", time scale " << number(run.time_scale) << " (times below are plan time)\n";
  for (const auto& note : run.notes) out << "  note: " << core::redact(note) << '\n';
  out.flush();
}

void print_failure_mode(std::ostream& out, const scenario::failure_mode_result& r, const console_options& options) {
  const auto& m = r.metrics;
  out << "  " << label(r.outcome) << "  " << r.id;
  if (r.id.size() < options.id_width) out << std::string(options.id_width - r.id.size(), ' ');
  if (r.outcome == scenario::verdict::skipped || r.outcome == scenario::verdict::error) {
    out << "  " << core::redact(r.reason) << '\n';
    out.flush();
    return;
  }
  out << "  (" << m.submitted << " requests, " << m.upstream_requests << " upstream attempts, " << m.succeeded
      << " succeeded, " << m.dead_lettered << " dead-lettered";
  if (m.lost > 0) out << ", " << m.lost << " LOST";
  out << ", p99 " << millis(m.p99_latency_ms) << ")\n";
  for (const auto& e : r.expectations) {
    if (e.held && !options.verbose) continue;
    out << "      " << (e.held ? "ok  " : "FAIL") << " " << e.name << ": expected " << e.expected << ", "
        << (e.observed.is_null() ? "nothing observed" : "observed " + observed_text(e.observed));
    if (e.implicit) out << " (implicit: every request must end in a recorded state)";
    out << '\n';
    if (!e.note.empty()) out << "           " << e.note << '\n';
    if (!e.held) {
      for (const auto& ev : e.evidence) {
        // Request 0: evidence the upstream saw, named by the ids the client sent instead.
        out << "           " << (ev.request > 0 ? "request " + std::to_string(ev.request) + " " : std::string());
        if (ev.at_ms > 0) out << "at " << millis(ev.at_ms);
        out << ": " << core::redact(ev.what) << '\n';
      }
    }
  }
  if (options.verbose) {
    out << "      faults injected:";
    if (m.faults_injected.empty()) out << " none";
    for (const auto& [kind, n] : m.faults_injected) out << ' ' << kind << '=' << n;
    out << "\n      attempt results:";
    for (const auto& [what, n] : m.attempt_results) out << ' ' << what << '=' << n;
    out << "\n      ends:";
    for (const auto& [why, n] : m.end_reasons) out << ' ' << why << '=' << n;
    out << "\n      latency p50 " << millis(m.p50_latency_ms) << ", p99 " << millis(m.p99_latency_ms) << ", max "
        << millis(m.max_latency_ms) << "; run took " << millis(m.duration_ms) << '\n';
  }
  out.flush();
}

void print_summary(std::ostream& out, const scenario::run_result& run) {
  using scenario::verdict;
  out << run.failure_modes.size() << " failure mode" << (run.failure_modes.size() == 1 ? "" : "s") << ": "
      << run.count(verdict::held) << " held, " << run.count(verdict::broken) << " broken";
  if (auto n = run.count(verdict::skipped)) out << ", " << n << " skipped (not verified)";
  if (auto n = run.count(verdict::error)) out << ", " << n << " harness error" << (n == 1 ? "" : "s");
  if (run.interrupted) out << " (INTERRUPTED before the end)";
  out << '\n';
  std::size_t dead = 0;
  for (const auto& f : run.failure_modes) dead += f.metrics.dead_lettered;
  if (dead > 0) out << dead << (dead == 1 ? " dead letter" : " dead letters") << " appended to " << run.dead_letter_path << '\n';
  out.flush();
}

}  // namespace planproof::report
