// The mock's state in the formats outside tools read: Prometheus text exposition (format 0.0.4)
// for `GET /metrics`, and the request journal as JSON lines for `GET /journal` and `serve --journal`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mocks/server.hpp"
#include "mocks/webhook_deliveries.hpp"

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

// --- webhook deliveries (`planproof serve --deliver-to`) ---------------------------------------------

// The webhook faults that shaped one attempt, by plan kind: duplicate_delivery (a copy after the
// first), out_of_order (the event was held back), bad_signature (sent badly signed), burst (the
// event came from a burst).
std::vector<std::string_view> faults_of(const delivery_record& r);

// One attempt as a JSON object on one line (no newline): at_ms (plan time the attempt started),
// endpoint, event_id, sequence, copy, attempt, faults, signature, status (0 = none), error,
// outcome, latency_ms.
std::string delivery_line(const endpoint_delivery& d);
// Every attempt, one line each, each ending in '\n'.
std::string deliveries_text(const std::vector<endpoint_delivery>& deliveries);

// The text exposition of the deliveries, to follow prometheus_text's:
// planproof_mock_webhook_deliveries_total{endpoint,outcome} (attempts by outcome: delivered,
// retrying, gave_up), planproof_mock_webhook_events_total{endpoint},
// planproof_mock_webhook_faults_injected_total{kind} and
// planproof_mock_webhook_fault_enabled{index,failure_mode,kind}.
std::string webhook_prometheus_text(const std::vector<endpoint_delivery_totals>& totals,
                                    const std::vector<webhook_fault_state>& faults);

}  // namespace planproof::mocks
