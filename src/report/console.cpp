#include "report/console.hpp"
#include "report/text.hpp"

#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

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

void print_header(std::ostream& out, const scenario::run_result& run, std::size_t selected, std::string_view command) {
  out << "planproof " << command << ' ' << run.plan_name;
  if (!run.phase.empty()) out << " (phase " << run.phase << ")";
  if (run.shard) {
    out << ", shard " << run.shard->shard.index << '/' << run.shard->shard.count << ": " << selected << " of the "
        << run.shard->selected << " selected failure modes";
  } else {
    out << ": " << selected << " failure mode" << (selected == 1 ? "" : "s");
  }
  out << ", " << run.mode << (run.upstream.empty() ? "" : " against " + run.upstream) << ", seed " << run.seed;
  if (run.mode == "sim") out << ", virtual time (times below are plan time)\n";
  else out << ", time scale " << number(run.time_scale) << " (times below are plan time)\n";
  for (const auto& note : run.notes) out << "  note: " << core::redact(note) << '\n';
  if (run.shard && selected == 0) {
    out << "  note: this shard has no failure mode to run (" << run.shard->selected << " selected, "
        << run.shard->shard.count << " shards): an empty run that holds\n";
  }
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
    out << "      " << (e.held ? "ok  " : "FAIL") << " " << expectation_text(e);
    if (e.implicit) out << " (implicit: every request must end in a recorded state)";
    out << '\n';
    if (!e.note.empty()) out << "           " << e.note << '\n';
    if (!e.held) {
      for (const auto& ev : e.evidence) out << "           " << evidence_text(ev) << '\n';
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
    if (m.pull) {
      const auto& p = *m.pull;
      out << "      pulls: " << p.pulls << ", " << p.pages_read << " pages read, " << p.refetches
          << " fetched again; records: " << p.records_expected << " expected, " << p.processed_once
          << " processed once, " << p.processed_twice << " processed twice or more, " << p.missed << " missed, "
          << p.duplicates_dropped << " repeated dropped\n";
    }
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
  if (dead > 0 && !run.dead_letter_path.empty()) {
    out << dead << (dead == 1 ? " dead letter" : " dead letters") << " appended to " << run.dead_letter_path << '\n';
  } else if (dead > 0) {
    out << dead << (dead == 1 ? " request" : " requests") << " dead-lettered (counted; no file written)\n";
  }
  out.flush();
}

}  // namespace planproof::report

namespace planproof::report {
namespace {

// What the table says of a failure mode that did not hold: its first failed expectation, or why
// it was skipped or not run.
std::string first_failure(const scenario::failure_mode_result& f) {
  if (f.outcome == scenario::verdict::skipped || f.outcome == scenario::verdict::error) return core::redact(f.reason);
  for (const auto& e : f.expectations) {
    if (!e.held) return expectation_text(e);
  }
  return {};
}

// `text` cut to at most `width` bytes without splitting a UTF-8 sequence.
std::string cut(std::string text, std::size_t width) {
  if (text.size() <= width) return text;
  auto end = width;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

}  // namespace

void print_table(std::ostream& out, const scenario::run_result& run) {
  if (run.failure_modes.empty()) return;
  // Columns after the first are right-aligned numbers but the verdict and the last, left-aligned.
  std::vector<std::array<std::string, 8>> rows{
      {"failure mode", "verdict", "requests", "succeeded", "dead-lettered", "lost", "p99", "first failed expectation"}};
  for (const auto& f : run.failure_modes) {
    const auto& m = f.metrics;
    const bool ran = f.outcome == scenario::verdict::held || f.outcome == scenario::verdict::broken;
    auto count = [&](std::uint64_t n) { return ran ? std::to_string(n) : std::string("-"); };
    rows.push_back({core::redact(f.id), std::string(scenario::to_string(f.outcome)), count(m.submitted),
                    count(m.succeeded), count(m.dead_lettered), count(m.lost),
                    ran ? millis(m.p99_latency_ms) : std::string("-"), first_failure(f)});
  }
  std::array<std::size_t, 8> width{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line = "  ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      const auto pad = std::string(width[c] - row[c].size(), ' ');
      if (c == row.size() - 1) line += row[c];
      else if (c <= 1) line += row[c] + pad + "  ";
      else line += pad + row[c] + "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  out.flush();
}

std::string progress_line(const scenario::run_progress& p, std::size_t id_width, std::size_t max_width) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1fs", core::to_seconds(p.elapsed));
  std::string id(p.id);
  if (id.size() < id_width) id += std::string(id_width - id.size(), ' ');
  std::string line = "  [" + std::to_string(p.position) + "/" + std::to_string(p.count) + "] " + id + "  " + elapsed +
                     " of " + core::format_duration(p.planned) + "  " + std::to_string(p.completed) + "/" +
                     std::to_string(p.requests) + " requests  " + std::to_string(p.failed) + " failed  " +
                     std::to_string(p.attempts) + " attempts";
  return cut(core::redact(line), max_width);
}

void progress_display::update(const scenario::run_progress& p) {
  if (!enabled_) return;
  const auto line = progress_line(p, id_width_, max_width_);
  out_ << '\r' << line;
  if (line.size() < shown_) out_ << std::string(shown_ - line.size(), ' ');
  shown_ = line.size();
  out_.flush();
}

void progress_display::clear() {
  if (shown_ == 0) return;
  out_ << '\r' << std::string(shown_, ' ') << '\r';
  out_.flush();
  shown_ = 0;
}

}  // namespace planproof::report
