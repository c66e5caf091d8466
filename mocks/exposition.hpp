// The mock's state in the formats outside tools read: Prometheus text exposition (format 0.0.4)
// for `GET /metrics`, and the request journal as JSON lines for `GET /journal` and `serve --journal`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mocks/server.hpp"

namespace planproof::mocks {

// Everything one scrape shows, read from one server.
struct metrics_snapshot {
  server_metrics totals;
  std::vector<fault_state> faults;
  std::vector<std::string> fault_failure_modes;  // failure mode id per fault index; "" when unknown
  // Requests by endpoint and status come from the kept records: server_metrics counts the two
  // apart. Requests beyond max_records are counted in `unrecorded` instead.
  std::vector<request_record> records;
  std::uint64_t unrecorded = 0;
  std::size_t open_connections = 0;
};

metrics_snapshot snapshot_of(const server& mock, std::vector<std::string> fault_failure_modes);

// The text exposition: planproof_mock_requests_total{endpoint,status},
// planproof_mock_records_dropped_total, planproof_mock_faults_injected_total{kind},
// planproof_mock_failure_mode_faults_injected_total{failure_mode},
// planproof_mock_fault_enabled{index,failure_mode,kind}, planproof_mock_request_duration_seconds
// (histogram) and planproof_mock_open_connections.
std::string prometheus_text(const metrics_snapshot& s);

// A label value as the exposition format wants it between double quotes.
std::string escape_label_value(std::string_view value);

// One record as a JSON object on one line (no newline): at_ms (plan time), endpoint, method,
// target, status, fault, idempotency_key, outcome, latency_ms. What the client sent goes through
// the log redactor first, so a resolved secret in a target never reaches the journal.
std::string journal_line(const request_record& r);
// Every record, one line each, each ending in '\n'.
std::string journal_text(const std::vector<request_record>& records);

}  // namespace planproof::mocks
