#include "mocks/exposition.hpp"

#include <charconv>
#include <map>
#include <utility>

#include <boost/json/string.hpp>
#include <boost/json/serialize.hpp>

#include "core/logging.hpp"

namespace planproof::mocks {

namespace {

// Shortest text that reads back as the same double; Prometheus parses Go float syntax.
std::string number(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

// What a client sent may be any bytes; a JSON line must be UTF-8, so what is not becomes U+FFFD.
std::string valid_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    std::size_t len = 0;
    char32_t min = 0;
    if (c < 0x80) len = 1;
    else if ((c & 0xE0) == 0xC0) len = 2, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, min = 0x10000;
    bool ok = len != 0 && i + len <= in.size();
    char32_t cp = len == 1 ? c : (c & (0x7F >> len));
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(in[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8 either.
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string json_text(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

std::string millis(core::duration d) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, core::to_millis(d), std::chars_format::fixed, 3);
  return ec == std::errc() ? std::string(buf, end) : std::string("0");
}

class exposition {
 public:
  // Every family is announced once, its samples right after it, as the format requires.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ");
    for (char c : help) {
      if (c == '\\') out_ += "\\\\";
      else if (c == '\n') out_ += "\\n";
      else out_ += c;
    }
    out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
  }

  void sample(std::string_view name, std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              std::string_view value) {
    out_.append(name);
    if (labels.size() != 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_.append(label).append("=\"").append(escape_label_value(v)).append("\"");
      }
      out_ += '}';
    }
    out_.append(" ").append(value).append("\n");
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

metrics_snapshot snapshot_of(const server& mock, std::vector<std::string> fault_failure_modes) {
  metrics_snapshot s;
  // Records first: every total read after them is at least as large, so a scrape never shows a
  // record the totals have not counted.
  s.records = mock.records();
  s.unrecorded = mock.dropped_records();
  s.totals = mock.metrics();
  s.faults = mock.faults();
  s.fault_failure_modes = std::move(fault_failure_modes);
  s.open_connections = mock.open_connections();
  return s;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string prometheus_text(const metrics_snapshot& s) {
  exposition e;

  std::map<std::pair<std::string, int>, std::uint64_t> by_endpoint_status;
  for (const auto& r : s.records) ++by_endpoint_status[{r.endpoint_id, r.status}];
  e.family("planproof_mock_requests_total", "counter",
           "Requests the mock read, by endpoint id (\"\" = no route) and status answered (0 = none), from the "
           "kept records; requests beyond --max-records are in planproof_mock_records_dropped_total.");
  for (const auto& [key, count] : by_endpoint_status) {
    const auto status = std::to_string(key.second);
    e.sample("planproof_mock_requests_total", {{"endpoint", key.first}, {"status", status}}, std::to_string(count));
  }

  e.family("planproof_mock_records_dropped_total", "counter",
           "Requests counted but not kept as records (beyond --max-records): not in the journal nor in "
           "planproof_mock_requests_total.");
  e.sample("planproof_mock_records_dropped_total", {}, std::to_string(s.unrecorded));

  // Every kind the server carries shows, injected or not, so a dashboard sees a fault at 0.
  std::map<std::string, std::uint64_t> by_kind;
  for (const auto& f : s.faults) by_kind.emplace(f.kind, 0);
  for (const auto& [kind, count] : s.totals.by_fault) by_kind[kind] = count;
  e.family("planproof_mock_faults_injected_total", "counter", "Requests a fault was applied to, by fault kind.");
  for (const auto& [kind, count] : by_kind) {
    e.sample("planproof_mock_faults_injected_total", {{"kind", kind}}, std::to_string(count));
  }

  auto owner = [&](std::size_t index) -> std::string_view {
    return index < s.fault_failure_modes.size() ? std::string_view(s.fault_failure_modes[index]) : std::string_view();
  };
  std::map<std::string, std::uint64_t, std::less<>> by_mode;
  for (const auto& f : s.faults) by_mode[std::string(owner(f.index))] += f.injected;
  e.family("planproof_mock_failure_mode_faults_injected_total", "counter",
           "Requests a fault was applied to, by the plan's failure mode the fault belongs to.");
  for (const auto& [mode, count] : by_mode) {
    e.sample("planproof_mock_failure_mode_faults_injected_total", {{"failure_mode", mode}}, std::to_string(count));
  }

  e.family("planproof_mock_fault_enabled", "gauge", "1 when the fault applies to new requests, 0 when disabled.");
  for (const auto& f : s.faults) {
    const auto index = std::to_string(f.index);
    e.sample("planproof_mock_fault_enabled", {{"index", index}, {"failure_mode", owner(f.index)}, {"kind", f.kind}},
             f.enabled ? "1" : "0");
  }

  const auto& t = s.totals;
  e.family("planproof_mock_request_duration_seconds", "histogram",
           "Real time from a request read to the last byte of its answer written (answered requests only).");
  for (std::size_t i = 0; i < t.bucket_bounds.size(); ++i) {
    const auto le = number(t.bucket_bounds[i]);
    e.sample("planproof_mock_request_duration_seconds_bucket", {{"le", le}}, std::to_string(t.bucket_counts[i]));
  }
  e.sample("planproof_mock_request_duration_seconds_bucket", {{"le", "+Inf"}}, std::to_string(t.answered));
  e.sample("planproof_mock_request_duration_seconds_sum", {}, number(t.latency_sum));
  e.sample("planproof_mock_request_duration_seconds_count", {}, std::to_string(t.answered));

  e.family("planproof_mock_open_connections", "gauge", "Connections to the mock open now.");
  e.sample("planproof_mock_open_connections", {}, std::to_string(s.open_connections));
  return e.take();
}

std::string journal_line(const request_record& r) {
  // Written by hand rather than through json::object: Boost.JSON prints every double in exponent
  // form (1.0308E3), which is valid but not what a person grepping a journal wants to read.
  const auto text = json_text;
  std::string out = "{\"at_ms\":" + millis(r.at);
  out += ",\"endpoint\":" + text(r.endpoint_id);
  out += ",\"method\":" + text(valid_utf8(core::redact(r.method)));
  out += ",\"target\":" + text(valid_utf8(core::redact(r.target)));
  out += ",\"status\":" + std::to_string(r.status);
  out += ",\"fault\":" + text(r.fault);
  out += ",\"idempotency_key\":" + text(valid_utf8(core::redact(r.idempotency_key)));
  out += ",\"outcome\":" + text(to_string(r.outcome));
  out += ",\"latency_ms\":" + millis(r.latency);
  // Only a failed handshake has one; other lines keep their shape.
  if (!r.tls_error.empty()) out += ",\"tls_error\":" + text(valid_utf8(r.tls_error));
  out += "}";
  return out;
}

std::string journal_text(const std::vector<request_record>& records) {
  std::string out;
  for (const auto& r : records) out.append(journal_line(r)).append("\n");
  return out;
}

std::vector<std::string_view> faults_of(const delivery_record& r) {
  std::vector<std::string_view> out;
  if (r.duplicate) out.push_back("duplicate_delivery");
  if (r.held_back) out.push_back("out_of_order");
  if (r.signature != signature_kind::valid && r.signature != signature_kind::none) out.push_back("bad_signature");
  if (r.burst) out.push_back("burst");
  return out;
}

std::string delivery_line(const endpoint_delivery& d) {
  const auto& r = d.record;
  std::string faults = "[";
  for (const auto f : faults_of(r)) faults += (faults.size() == 1 ? "" : ",") + json_text(f);
  faults += "]";
  std::string out = "{\"at_ms\":" + millis(r.sent_at);
  out += ",\"endpoint\":" + json_text(d.endpoint);
  out += ",\"event_id\":" + json_text(r.event_id);
  out += ",\"sequence\":" + std::to_string(r.sequence);
  out += ",\"copy\":" + std::to_string(r.copy);
  out += ",\"attempt\":" + std::to_string(r.attempt);
  out += ",\"faults\":" + faults;
  out += ",\"signature\":" + json_text(to_string(r.signature));
  out += ",\"status\":" + std::to_string(r.status);
  out += ",\"error\":" + json_text(to_string(r.error));
  out += ",\"outcome\":" + json_text(to_string(r.outcome));
  out += ",\"latency_ms\":" + millis(r.latency) + "}";
  return out;
}

std::string deliveries_text(const std::vector<endpoint_delivery>& deliveries) {
  std::string out;
  for (const auto& d : deliveries) out.append(delivery_line(d)).append("\n");
  return out;
}

std::string webhook_prometheus_text(const std::vector<endpoint_delivery_totals>& totals,
                                    const std::vector<webhook_fault_state>& faults) {
  exposition e;
  e.family("planproof_mock_webhook_deliveries_total", "counter",
           "Delivery attempts sent to the receiver, by inbound endpoint and outcome: delivered (answered 2xx), "
           "retrying (not 2xx, redelivered later), gave_up (not 2xx on the last attempt).");
  for (const auto& t : totals) {
    const auto& c = t.counters;
    const std::uint64_t retrying = c.attempts - std::min(c.attempts, c.delivered + c.given_up);
    for (const auto& [outcome, n] : {std::pair<std::string_view, std::uint64_t>{"delivered", c.delivered},
                                     {"retrying", retrying}, {"gave_up", c.given_up}}) {
      e.sample("planproof_mock_webhook_deliveries_total", {{"endpoint", t.endpoint}, {"outcome", outcome}},
               std::to_string(n));
    }
  }
  e.family("planproof_mock_webhook_events_total", "counter", "Webhook events created, by inbound endpoint.");
  for (const auto& t : totals) {
    e.sample("planproof_mock_webhook_events_total", {{"endpoint", t.endpoint}}, std::to_string(t.counters.events));
  }
  // Every kind of the table shows, injected or not, so a dashboard sees a fault at 0.
  std::map<std::string, std::uint64_t> by_kind;
  for (const auto& f : faults) by_kind[f.kind] += f.injected;
  e.family("planproof_mock_webhook_faults_injected_total", "counter",
           "Webhook events a fault applied to, by fault kind (bad_signature: copies sent badly signed).");
  for (const auto& [kind, n] : by_kind) {
    e.sample("planproof_mock_webhook_faults_injected_total", {{"kind", kind}}, std::to_string(n));
  }
  e.family("planproof_mock_webhook_fault_enabled", "gauge",
           "1 when the webhook fault applies to new events, 0 when disabled.");
  for (const auto& f : faults) {
    const auto index = std::to_string(f.index);
    e.sample("planproof_mock_webhook_fault_enabled", {{"index", index}, {"failure_mode", f.failure_mode}, {"kind", f.kind}},
             f.enabled ? "1" : "0");
  }
  return e.take();
}

}  // namespace planproof::mocks
