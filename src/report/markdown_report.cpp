#include "report/markdown_report.hpp"

#include "core/file_io.hpp"
#include "core/logging.hpp"
#include "report/text.hpp"

namespace planproof::report {
namespace {

// Text in a table cell or a list item: redacted, on one line, with Markdown's own characters escaped
// (`>` only quotes at the start of a line, which a cell never is).
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : core::redact(text)) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '[' || c == ']') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view verdict_text(scenario::verdict v) {
  switch (v) {
    case scenario::verdict::held: return "held";
    case scenario::verdict::broken: return "**BROKEN**";
    case scenario::verdict::skipped: return "skipped";
    case scenario::verdict::error: return "**ERROR**";
  }
  return "?";
}

}  // namespace

std::string to_markdown(const scenario::run_result& run) {
  std::string md = "## planproof: " + cell(run.plan_name) + (run.phase.empty() ? "" : " (" + cell(run.phase) + ")") + "\n\n";
  const auto held = run.count(scenario::verdict::held);
  const auto broken = run.count(scenario::verdict::broken);
  const auto skipped = run.count(scenario::verdict::skipped);
  const auto errors = run.count(scenario::verdict::error);
  md += std::to_string(run.failure_modes.size()) + (run.failure_modes.size() == 1 ? " failure mode: " : " failure modes: ") + std::to_string(held) + " held, " +
        std::to_string(broken) + " broken, " + std::to_string(skipped) + " skipped, " + std::to_string(errors) +
        " error. Seed " + std::to_string(run.seed) + ", time scale " + number(run.time_scale) + ".\n\n";
  for (const auto& n : run.notes) md += "> " + cell(n) + "\n";
  if (!run.notes.empty()) md += "\n";

  md += "| failure mode | verdict | requests | succeeded | dead-lettered | lost | p99 | failed expectations |\n";
  md += "|---|---|---:|---:|---:|---:|---:|---|\n";
  for (const auto& f : run.failure_modes) {
    const auto& m = f.metrics;
    std::string failed;
    for (const auto& e : f.expectations) {
      if (!e.held) failed += (failed.empty() ? "" : ", ") + cell(e.name);
    }
    if (f.outcome == scenario::verdict::skipped || f.outcome == scenario::verdict::error) failed = cell(f.reason);
    md += "| " + cell(f.id) + " | " + std::string(verdict_text(f.outcome)) + " | " + std::to_string(m.submitted) +
          " | " + std::to_string(m.succeeded) + " | " + std::to_string(m.dead_lettered) + " | " +
          std::to_string(m.lost) + " | " + millis(m.p99_latency_ms) + " | " + failed + " |\n";
  }

  for (const auto& f : run.failure_modes) {
    if (f.outcome != scenario::verdict::broken) continue;
    md += "\n### " + cell(f.id) + ": broken\n\n";
    for (const auto& e : f.expectations) {
      if (e.held) continue;
      md += "- **" + cell(e.name) + "**: expected " + cell(e.expected) + ", " +
            (e.observed.is_null() ? std::string("nothing observed") : "observed " + cell(observed_text(e.observed))) +
            (e.note.empty() ? "" : ". " + cell(e.note)) + "\n";
      for (const auto& ev : e.evidence) md += "  - " + cell(evidence_text(ev)) + "\n";
    }
  }
  return md;
}

std::error_code write_markdown(const scenario::run_result& run, const std::filesystem::path& path) {
  return core::write_file_atomically(path, to_markdown(run), core::file_access::owner_only);
}

}  // namespace planproof::report
