#include "report/html_report.hpp"

#include <openssl/evp.h>

#include <array>

#include "core/encoding.hpp"
#include "core/file_io.hpp"
#include "report/svg_chart.hpp"
#include "report/text.hpp"

namespace planproof::report {
namespace {

// The page's only style sheet. The Content-Security-Policy allows exactly this text by its hash.
constexpr std::string_view style_sheet = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1b1b1b;background:#fff;margin:0 auto;max-width:1040px;padding:0 20px 40px}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{font-size:1.3em;margin:1.6em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%}th,td{border:1px solid #d6d6d6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:.6em 0}dl.facts dt{color:#555}dl.facts dd{margin:0}
.badge{display:inline-block;padding:0 8px;border-radius:9px;font-size:.85em;font-weight:600;border:1px solid}
.held{color:#1b5e20;background:#e8f5e9;border-color:#a5d6a7}.broken{color:#b71c1c;background:#ffebee;border-color:#ef9a9a}
.skipped{color:#5d4037;background:#fff8e1;border-color:#ffe082}.error{color:#4a148c;background:#f3e5f5;border-color:#ce93d8}
tr.failed td{background:#fff5f5}ul.evidence{margin:0;padding-left:1.1em}ul.notes li{margin:.2em 0}
.reason{padding:6px 10px;border-left:4px solid #ffb300;background:#fffdf5}
figure{margin:.6em 0 1.4em}figcaption{color:#555;font-size:.9em}svg.chart{width:100%;max-width:720px;height:auto;display:block}
ul.legend{list-style:none;padding:0;margin:.2em 0;font-size:.85em;display:flex;flex-wrap:wrap;gap:4px 16px}
.key{display:inline-block;width:.9em;height:.9em;margin-right:5px;vertical-align:-.1em;border:1px solid #0002}
.axis,.tick{stroke:#555;stroke-width:1}.grid{stroke:#e4e4e4;stroke-width:1}
.tl{font-size:11px;text-anchor:middle;fill:#333}.vl{font-size:11px;text-anchor:end;fill:#333}.pl{font-size:11px;fill:#222}.pl.end{text-anchor:end}
.label{font-size:12px;text-anchor:middle;fill:#333}.empty{font-size:13px;text-anchor:middle;fill:#777}
.s-ok{fill:#43a047;background:#43a047}.s-retry{fill:#fb8c00;background:#fb8c00}.s-fatal{fill:#c62828;background:#c62828}
.s-error{fill:#7b1fa2;background:#7b1fa2}.s-rejected{fill:#9e9e9e;background:#9e9e9e}
.win{fill:#e53935;fill-opacity:.1;background:#fde4e4}.fault{fill:#b71c1c;background:#b71c1c}
.rate{fill:none;stroke:#1565c0;stroke-width:2;background:#1565c0}
.b-closed{fill:#a5d6a7;background:#a5d6a7}.b-open{fill:#e57373;background:#e57373}.b-half{fill:#ffd54f;background:#ffd54f}.b-unknown{fill:#e0e0e0;background:#e0e0e0}
.tok-s{fill:#1e88e5;background:#1e88e5}.tok-r{fill:#fb8c00;background:#fb8c00}.tok-f{fill:none;stroke:#c62828;stroke-width:2.5;background:#c62828}
.lat{fill:#546e7a;background:#546e7a}.pct{stroke:#111;stroke-width:1.2;stroke-dasharray:4 3;background:#111}
footer{margin-top:2em;color:#666;font-size:.85em}
)";

// 'sha256-...' of the style sheet, for the Content-Security-Policy.
std::string style_hash() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(style_sheet.data(), style_sheet.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return "'sha256-" + core::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size)) + "'";
}

std::string verdict_badge(scenario::verdict v) {
  const std::string name(scenario::to_string(v));
  return "<span class=\"badge " + name + "\">" + name + "</span>";
}

std::string fact(std::string_view term, const std::string& value) {
  return "<dt>" + markup_text(term) + "</dt><dd>" + markup_text(value) + "</dd>\n";
}

std::string count(std::uint64_t n) { return std::to_string(n); }

std::string settings_text(const scenario::run_result& run) {
  const auto& r = run.retry;
  std::string s = "at most " + std::to_string(r.max_attempts) + " attempts, " +
                  std::string(plan::to_string(r.backoff.strategy)) + " backoff " + core::format_duration(r.backoff.base) +
                  " to " + core::format_duration(r.backoff.max) + " with " + std::string(plan::to_string(r.backoff.jitter)) +
                  " jitter, Retry-After " + (r.retry_after.honor ? "honored (cap " + core::format_duration(r.retry_after.cap) + ")" : std::string("ignored")) +
                  ", timeouts connect " + core::format_duration(r.timeouts.connect) + ", read " +
                  core::format_duration(r.timeouts.read) + ", total " + core::format_duration(r.timeouts.total);
  s += r.circuit_breaker ? ", circuit breaker on (open for " + core::format_duration(r.circuit_breaker->open_for) + ")"
                         : std::string(", no circuit breaker");
  if (r.retry_budget) s += ", retry budget " + number(r.retry_budget->ratio);
  return s;
}

std::string header(const scenario::run_result& run) {
  const auto held = run.count(scenario::verdict::held);
  const auto broken = run.count(scenario::verdict::broken);
  const auto skipped = run.count(scenario::verdict::skipped);
  const auto errors = run.count(scenario::verdict::error);
  std::string h = "<header>\n<h1>planproof: " + markup_text(run.plan_name) + "</h1>\n<p>" +
                  markup_text(std::to_string(run.failure_modes.size()) +
                              (run.failure_modes.size() == 1 ? " failure mode: " : " failure modes: ") +
                              std::to_string(held) + " held, " + std::to_string(broken) + " broken, " +
                              std::to_string(skipped) + " skipped, " + std::to_string(errors) + " error.") +
                  "</p>\n<dl class=\"facts\">\n";
  h += fact("plan", run.plan_name + (run.plan_file.empty() ? "" : " (" + run.plan_file + ")"));
  h += fact("phase", run.phase.empty() ? "none selected: every failure mode of the plan" : run.phase);
  h += fact("mode", run.mode);
  h += fact("seed", std::to_string(run.seed));
  h += fact("time scale", number(run.time_scale) + ": every plan duration was multiplied by it; times shown are plan time");
  h += fact("traffic", number(run.traffic.rate) + "/s to " + run.traffic.endpoint + " for " +
                           core::format_duration(run.traffic.duration) + ", at most " +
                           std::to_string(run.traffic.concurrency) + " in flight");
  h += fact("retry", settings_text(run));
  if (!run.dead_letter_path.empty()) h += fact("dead letters", run.dead_letter_path);
  h += "</dl>\n";
  if (!run.notes.empty()) {
    h += "<h3>Notes</h3>\n<ul class=\"notes\">\n";
    for (const auto& n : run.notes) h += "<li>" + markup_text(n) + "</li>\n";
    h += "</ul>\n";
  }
  return h + "</header>\n";
}

std::string anchor(std::size_t index) { return "fm-" + std::to_string(index + 1); }

std::string verdict_table(const scenario::run_result& run) {
  std::string t =
      "<h2>Verdicts</h2>\n<table class=\"verdicts\">\n<thead><tr><th>failure mode</th><th>verdict</th>"
      "<th>requests</th><th>succeeded</th><th>dead-lettered</th><th>lost</th><th>p99</th>"
      "<th>failed expectations or reason</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < run.failure_modes.size(); ++i) {
    const auto& f = run.failure_modes[i];
    const auto& m = f.metrics;
    std::string failed;
    for (const auto& e : f.expectations) {
      if (!e.held) failed += (failed.empty() ? "" : ", ") + e.name;
    }
    if (f.outcome == scenario::verdict::skipped || f.outcome == scenario::verdict::error) failed = f.reason;
    const bool ran = f.outcome == scenario::verdict::held || f.outcome == scenario::verdict::broken;
    auto num = [&](std::uint64_t n) { return "<td class=\"n\">" + (ran ? count(n) : std::string("-")) + "</td>"; };
    t += "<tr" + std::string(f.outcome == scenario::verdict::held ? "" : " class=\"failed\"") + "><td><a href=\"#" +
         anchor(i) + "\">" + markup_text(f.id) + "</a></td><td>" + verdict_badge(f.outcome) + "</td>" +
         num(m.submitted) + num(m.succeeded) + num(m.dead_lettered) + num(m.lost) + "<td class=\"n\">" +
         (ran ? markup_text(millis(m.p99_latency_ms)) : std::string("-")) + "</td><td>" + markup_text(failed) +
         "</td></tr>\n";
  }
  return t + "</tbody>\n</table>\n";
}

std::string expectations_table(const scenario::failure_mode_result& f) {
  std::string t =
      "<h3>Expectations</h3>\n<table class=\"expectations\">\n<thead><tr><th>expectation</th><th>expected</th>"
      "<th>observed</th><th>held</th><th>note</th><th>evidence (request, plan time)</th></tr></thead>\n<tbody>\n";
  for (const auto& e : f.expectations) {
    std::string evidence;
    if (!e.evidence.empty()) {
      evidence = "<ul class=\"evidence\">";
      for (const auto& ev : e.evidence) {
        // Request 0: evidence the upstream saw, named by the ids the client sent instead.
        std::string where = ev.request > 0 ? "request " + std::to_string(ev.request) : std::string();
        if (ev.at_ms > 0) where += (where.empty() ? "at " : " at ") + millis(ev.at_ms);
        evidence += "<li>" + markup_text(where.empty() ? ev.what : where + ": " + ev.what) + "</li>";
      }
      evidence += "</ul>";
    }
    std::string note = e.note;
    if (e.implicit) note = "implicit: every request must end in a recorded state" + (note.empty() ? "" : "; " + note);
    t += "<tr" + std::string(e.held ? "" : " class=\"failed\"") + "><td>" + markup_text(e.name) + "</td><td>" +
         markup_text(e.expected) + "</td><td>" +
         markup_text(e.observed.is_null() ? "nothing observed" : observed_text(e.observed)) + "</td><td>" +
         (e.held ? "<span class=\"badge held\">yes</span>" : "<span class=\"badge broken\">no</span>") + "</td><td>" +
         markup_text(note) + "</td><td>" + evidence + "</td></tr>\n";
  }
  return t + "</tbody>\n</table>\n";
}

std::string metrics_list(const scenario::run_metrics& m) {
  auto by = [](const std::map<std::string, std::uint64_t>& counts) {
    std::string s;
    for (const auto& [k, v] : counts) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(v);
    return s.empty() ? std::string("none") : s;
  };
  std::string d = "<h3>Metrics</h3>\n<dl class=\"facts\">\n";
  d += fact("requests", count(m.submitted) + " of " + count(m.planned) + " planned: " + count(m.succeeded) +
                            " succeeded, " + count(m.dead_lettered) + " dead-lettered, " + count(m.failed) +
                            " failed, " + count(m.lost) + " lost");
  d += fact("attempts", count(m.attempts) + " sent by the client, " + count(m.upstream_requests) +
                            " received by the mock upstream, at most " + std::to_string(m.max_attempts) +
                            " for one request");
  d += fact("faults injected", by(m.faults_injected));
  d += fact("attempt results", by(m.attempt_results));
  d += fact("end reasons", by(m.end_reasons));
  d += fact("latency", "p50 " + millis(m.p50_latency_ms) + ", p99 " + millis(m.p99_latency_ms) + ", max " +
                           millis(m.max_latency_ms));
  d += fact("side effects", count(m.side_effects) + " applied, " + count(m.duplicate_effects) + " duplicated");
  d += fact("duration", millis(m.duration_ms) + " of plan time");
  return d + "</dl>\n";
}

std::string charts(const scenario::run_result& run, const scenario::failure_mode_result& f, const std::string& id) {
  const auto& m = f.metrics;
  std::string out = "<h3>Over plan time</h3>\n";
  out += attempts_chart(m, id + "-attempts");
  out += rate_chart(m, id + "-rate");
  if (run.retry.circuit_breaker || !m.breaker_marks.empty()) out += breaker_chart(m, id + "-breaker");
  if (m.tokens_issued != 0 || m.token_failures != 0) out += token_chart(m, id + "-tokens");
  out += latency_chart(m, id + "-latency");
  return out;
}

std::string section(const scenario::run_result& run, std::size_t index) {
  const auto& f = run.failure_modes[index];
  const auto id = anchor(index);
  std::string s = "<section id=\"" + id + "\" class=\"mode\">\n<h2>" + markup_text(f.id) + " " +
                  verdict_badge(f.outcome) + "</h2>\n";
  if (f.outcome == scenario::verdict::skipped || f.outcome == scenario::verdict::error) {
    return s + "<p class=\"reason\">" + markup_text((f.outcome == scenario::verdict::skipped ? "Skipped: " : "Error: ") + f.reason) +
           "</p>\n</section>\n";
  }
  if (!f.expectations.empty()) s += expectations_table(f);
  s += metrics_list(f.metrics);
  s += charts(run, f, id);
  return s + "</section>\n";
}

}  // namespace

std::string to_html(const scenario::run_result& run) {
  std::string page =
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src " +
      style_hash() +
      "; base-uri 'none'; form-action 'none'\"/>\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
      "<meta name=\"generator\" content=\"planproof\"/>\n<title>planproof: " +
      markup_text(run.plan_name) + (run.phase.empty() ? "" : " (" + markup_text(run.phase) + ")") +
      "</title>\n<style>" + std::string(style_sheet) + "</style>\n</head>\n<body>\n";
  page += header(run);
  page += "<main>\n" + verdict_table(run);
  for (std::size_t i = 0; i < run.failure_modes.size(); ++i) page += section(run, i);
  page += "</main>\n<footer>Written by planproof run. Times are plan time since the failure mode's traffic began;"
          " the charts count per bucket of plan time.</footer>\n</body>\n</html>\n";
  return page;
}

std::error_code write_html(const scenario::run_result& run, const std::filesystem::path& path) {
  return core::write_file_atomically(path, to_html(run), core::file_access::owner_only);
}

}  // namespace planproof::report
