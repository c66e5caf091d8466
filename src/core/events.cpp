#include "core/events.hpp"

namespace planproof::core {

std::string_view to_string(error_class e) noexcept {
  switch (e) {
    case error_class::none: return "none";
    case error_class::timeout: return "timeout";
    case error_class::connection_error: return "connection_error";
    case error_class::schema_error: return "schema_error";
    case error_class::protocol_error: return "protocol_error";
    case error_class::connect_timeout: return "connect_timeout";
    case error_class::read_timeout: return "read_timeout";
    case error_class::connect_error: return "connect_error";
    case error_class::reset: return "reset";
    case error_class::tls_error: return "tls_error";
  }
  return "none";
}

std::optional<error_class> parse_error_class(std::string_view name) noexcept {
  for (auto e : named_error_classes) {
    if (to_string(e) == name) return e;
  }
  return std::nullopt;
}

std::string_view to_string(request_outcome o) noexcept {
  switch (o) {
    case request_outcome::succeeded: return "succeeded";
    case request_outcome::dead_lettered: return "dead_lettered";
    case request_outcome::failed: return "failed";
  }
  return "failed";
}

std::string_view to_string(end_reason r) noexcept {
  switch (r) {
    case end_reason::succeeded: return "succeeded";
    case end_reason::fatal_status: return "fatal_status";
    case end_reason::fatal_error: return "fatal_error";
    case end_reason::attempts_exhausted: return "attempts_exhausted";
    case end_reason::deadline_exceeded: return "deadline_exceeded";
    case end_reason::retry_after_exceeds_cap: return "retry_after_exceeds_cap";
    case end_reason::dead_letter_failed: return "dead_letter_failed";
    case end_reason::token_unavailable: return "token_unavailable";
    case end_reason::breaker_open: return "breaker_open";
    case end_reason::retry_budget_exhausted: return "retry_budget_exhausted";
  }
  return "failed";
}

std::string_view to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::request_submitted: return "request_submitted";
    case event_kind::attempt_started: return "attempt_started";
    case event_kind::attempt_finished: return "attempt_finished";
    case event_kind::backoff_scheduled: return "backoff_scheduled";
    case event_kind::request_completed: return "request_completed";
    case event_kind::token_requested: return "token_requested";
    case event_kind::token_issued: return "token_issued";
    case event_kind::token_failed: return "token_failed";
    case event_kind::credential_rejected: return "credential_rejected";
    case event_kind::breaker_transition: return "breaker_transition";
    case event_kind::call_rejected: return "call_rejected";
    case event_kind::retry_refused: return "retry_refused";
    case event_kind::read_restarted: return "read_restarted";
  }
  return "unknown";
}

}  // namespace planproof::core
