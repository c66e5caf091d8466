// The typed events every executor emits and every expectation folds over.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace planproof::core {

// How an attempt failed when it did not produce a usable HTTP response. Clients report the fine
// classes; `timeout` and `connection_error` are umbrellas that plans name in retry_on / fatal_on
// (and that plans written before the fine classes existed use), matched through covers().
enum class error_class : std::uint8_t {
  none,
  timeout,           // umbrella: connect_timeout or read_timeout
  connection_error,  // umbrella: connect_error or reset
  schema_error,      // a response arrived but its body is not what the endpoint promises
  protocol_error,    // bytes that are not valid HTTP: a bad status line, chunking or framing
  connect_timeout,   // no connection within the connect deadline
  read_timeout,      // connected, but the response did not arrive within the read deadline
  connect_error,     // refused or unreachable: the request was never sent
  reset,             // the connection was reset or closed mid-exchange: the request may have arrived
  tls_error,         // handshake or certificate failure; no umbrella covers it (retrying rarely helps)
};
std::string_view to_string(error_class e) noexcept;
std::optional<error_class> parse_error_class(std::string_view name) noexcept;
// Every class a plan may name, in the order messages list them.
inline constexpr std::array<error_class, 9> named_error_classes{
    error_class::timeout,          error_class::connect_timeout, error_class::read_timeout,
    error_class::connection_error, error_class::connect_error,   error_class::reset,
    error_class::tls_error,        error_class::schema_error,    error_class::protocol_error,
};
// Whether a plan condition matches what an attempt produced: itself, or a fine class under an
// umbrella (`timeout` covers read_timeout). A fine condition never covers its umbrella.
constexpr bool covers(error_class condition, error_class actual) noexcept {
  if (condition == actual) return true;
  switch (condition) {
    case error_class::timeout:
      return actual == error_class::connect_timeout || actual == error_class::read_timeout;
    case error_class::connection_error:
      return actual == error_class::connect_error || actual == error_class::reset;
    default: return false;
  }
}

enum class request_outcome : std::uint8_t { succeeded, dead_lettered, failed };
std::string_view to_string(request_outcome o) noexcept;

// Why a logical request ended.
enum class end_reason : std::uint8_t {
  succeeded,
  fatal_status,             // a status the plan does not retry
  fatal_error,              // an error class the plan does not retry
  attempts_exhausted,       // max_attempts reached
  deadline_exceeded,        // the total timeout would pass before the next attempt
  retry_after_exceeds_cap,  // the upstream asked for a longer wait than the plan accepts
  dead_letter_failed,       // could not write the dead-letter record (request is `failed`)
  token_unavailable,        // no access token could be obtained before the deadline
  breaker_open,             // the circuit breaker refused the call (fail fast, no upstream call)
  retry_budget_exhausted,   // a retry would have taken more than the retry budget allows
};
std::string_view to_string(end_reason r) noexcept;

enum class event_kind : std::uint8_t {
  request_submitted,
  attempt_started,
  attempt_finished,     // detail: how the client classified it (resilience::attempt_class)
  backoff_scheduled,
  request_completed,
  token_requested,      // a token fetch started; detail: resilience::refresh_reason
  token_issued,         // the token endpoint issued one; delay: its lifetime
  token_failed,         // the fetch failed (status or error); delay: wait before the next fetch
  credential_rejected,  // the upstream refused the credential (401): it is dropped and refreshed
  breaker_transition,   // detail: the state entered (resilience::breaker_state)
  call_rejected,        // the breaker refused an attempt: no upstream call was made
  retry_refused,        // the retry budget refused a retry
  read_restarted,       // a refused cursor: the read starts again from the first page (next attempt)
};
std::string_view to_string(event_kind k) noexcept;

struct event {
  event_kind kind = event_kind::request_submitted;
  time_point at{};            // plan time
  std::uint64_t request = 0;  // logical request id, unique within a run
  std::uint32_t attempt = 0;  // 1-based attempt number (attempt_* and backoff_scheduled: the next one)
  int status = 0;             // attempt_finished: HTTP status, 0 when none arrived
  error_class error = error_class::none;
  std::optional<duration> retry_after;  // attempt_finished: what the upstream asked for
  duration delay{};                     // backoff_scheduled: wait before the next attempt
  duration latency{};                   // attempt_finished: the attempt; request_completed: the request
  request_outcome outcome = request_outcome::succeeded;  // request_completed
  end_reason reason = end_reason::succeeded;             // request_completed
  std::uint8_t detail = 0;                               // per kind, see event_kind
  // attempt_finished: records of a list response the mapping rejected (the rest was used)
  std::uint32_t rejected_records = 0;
  // attempt_finished with schema_error or rejected records: where the body broke the schema or the
  // mapping ("data[3].work_email: required field is missing"). Valid only during on_event.
  std::string_view note;
  // request_submitted: which endpoint, and the id the request carries on the wire (X-Request-Id)
  // on every attempt. Valid during on_event only; a sink that needs them later copies them.
  std::string_view endpoint;
  std::string_view correlation_id;
};

class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual void on_event(const event& e) = 0;
};

}  // namespace planproof::core
