#include "report/junit_report.hpp"

#include <cstdio>

#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/logging.hpp"
#include "report/json_report.hpp"
#include "report/text.hpp"

namespace planproof::report {
namespace {

void hex_escape(std::string& out, std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  for (const unsigned char b : bytes) {
    out += "\\x";
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
}

// The length of the well-formed UTF-8 sequence starting `text` (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), 0 when it is not one; its code point in `cp`.
std::size_t utf8_sequence(std::string_view text, char32_t& cp) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = b(0);
  std::size_t n = 0;
  if (lead < 0x80) { cp = lead; return 1; }
  if (lead >= 0xC2 && lead <= 0xDF) { n = 2; cp = lead & 0x1F; }
  else if (lead >= 0xE0 && lead <= 0xEF) { n = 3; cp = lead & 0x0F; }
  else if (lead >= 0xF0 && lead <= 0xF4) { n = 4; cp = lead & 0x07; }
  else return 0;
  if (text.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string attr(std::string_view text) { return xml_escape(text, true); }

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

// Real seconds a failure mode took: its plan time at the run's time scale.
double real_seconds(const scenario::run_result& run, const scenario::failure_mode_result& f) {
  return f.metrics.duration_ms * run.time_scale / 1000.0;
}

std::string metrics_text(const scenario::failure_mode_result& f) {
  const auto& m = f.metrics;
  std::string out = std::to_string(m.submitted) + " requests, " + std::to_string(m.upstream_requests) +
                    " upstream attempts, " + std::to_string(m.succeeded) + " succeeded, " +
                    std::to_string(m.dead_lettered) + " dead-lettered, " + std::to_string(m.lost) + " lost, p99 " +
                    millis(m.p99_latency_ms) + " (plan time)\n";
  for (const auto& e : f.expectations) out += (e.held ? "ok   " : "FAIL ") + expectation_text(e) + "\n";
  return out;
}

std::string failure_text(const scenario::failure_mode_result& f) {
  std::string out;
  for (const auto& e : f.expectations) {
    if (e.held) continue;
    out += expectation_text(e) + "\n";
    if (!e.note.empty()) out += "  note: " + e.note + "\n";
    for (const auto& ev : e.evidence) out += "  evidence: " + evidence_text(ev) + "\n";
  }
  return out + "(times are plan time since the failure mode started)\n";
}

std::string failure_message(const scenario::failure_mode_result& f) {
  std::size_t failed = 0;
  std::string first;
  for (const auto& e : f.expectations) {
    if (e.held) continue;
    if (failed++ == 0) first = expectation_text(e);
  }
  if (failed > 1) first += " (and " + std::to_string(failed - 1) + " more)";
  return first;
}

void property(std::string& xml, std::string_view name, std::string_view value) {
  xml += "      <property name=\"" + attr(name) + "\" value=\"" + attr(value) + "\"/>\n";
}

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
  const auto clean = core::redact(text);
  std::string_view rest(clean);
  std::string out;
  out.reserve(rest.size());
  while (!rest.empty()) {
    char32_t cp = 0;
    const auto n = utf8_sequence(rest, cp);
    if (n == 0) {
      hex_escape(out, rest.substr(0, 1));
      rest.remove_prefix(1);
      continue;
    }
    const auto bytes = rest.substr(0, n);
    rest.remove_prefix(n);
    switch (cp) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += attribute ? "&quot;" : "\""; continue;
      case '\t': out += attribute ? "&#9;" : "\t"; continue;
      case '\n': out += attribute ? "&#10;" : "\n"; continue;
      case '\r': out += "&#13;"; continue;  // a raw one would be read as a line break
      default: break;
    }
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) hex_escape(out, bytes);
    else out += bytes;
  }
  return out;
}

std::string to_junit(const scenario::run_result& run) {
  using scenario::verdict;
  double total = 0;
  for (const auto& f : run.failure_modes) total += real_seconds(run, f);
  const auto counts = "tests=\"" + std::to_string(run.failure_modes.size()) + "\" failures=\"" +
                      std::to_string(run.count(verdict::broken)) + "\" errors=\"" +
                      std::to_string(run.count(verdict::error)) + "\" skipped=\"" +
                      std::to_string(run.count(verdict::skipped)) + "\" time=\"" + seconds(total) + "\"";

  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += "<testsuites name=\"planproof\" " + counts + ">\n";
  xml += "  <testsuite name=\"" + attr(run.plan_name) + "\" " + counts + ">\n";
  xml += "    <properties>\n";
  property(xml, "plan_file", run.plan_file);
  property(xml, "phase", run.phase);
  property(xml, "mode", run.mode);
  property(xml, "seed", std::to_string(run.seed));
  property(xml, "time_scale", number(run.time_scale));
  if (run.shard) {
    property(xml, "shard", std::to_string(run.shard->shard.index) + "/" + std::to_string(run.shard->shard.count));
  }
  property(xml, "settings", boost::json::serialize(to_json(run).at("settings")));
  for (const auto& n : run.notes) property(xml, "note", n);
  xml += "    </properties>\n";

  for (const auto& f : run.failure_modes) {
    xml += "    <testcase classname=\"" + attr(run.plan_name) + "\" name=\"" + attr(f.id) + "\" time=\"" +
           seconds(real_seconds(run, f)) + "\">\n";
    switch (f.outcome) {
      case verdict::held: break;
      case verdict::broken:
        xml += "      <failure type=\"broken\" message=\"" + attr(failure_message(f)) + "\">" +
               xml_escape(failure_text(f), false) + "</failure>\n";
        break;
      case verdict::error:
        xml += "      <error type=\"harness_error\" message=\"" + attr(f.reason) + "\">" + xml_escape(f.reason, false) +
               "</error>\n";
        break;
      case verdict::skipped: xml += "      <skipped message=\"" + attr(f.reason) + "\"/>\n"; break;
    }
    if (f.outcome == verdict::held || f.outcome == verdict::broken) {
      xml += "      <system-out>" + xml_escape(metrics_text(f), false) + "</system-out>\n";
    }
    xml += "    </testcase>\n";
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

std::error_code write_junit(const scenario::run_result& run, const std::filesystem::path& path) {
  return core::write_file_atomically(path, to_junit(run), core::file_access::owner_only);
}

}  // namespace planproof::report
