#include "scenario/run_stats.hpp"

#include <algorithm>

#include "resilience/circuit_breaker.hpp"
#include "resilience/retry_classifier.hpp"
#include "resilience/token_lifecycle.hpp"

namespace planproof::scenario {

namespace {

// Retries are compared with Retry-After in plan time derived from one clock; allow for the rounding
// of the real-to-plan conversion and nothing more.
constexpr core::duration retry_after_tolerance = std::chrono::microseconds(1);

void keep(std::vector<evidence_item>& v, evidence_item e) {
  if (v.size() < run_stats::max_evidence) v.push_back(std::move(e));
}

template <typename Mark>
void mark(std::vector<Mark>& v, Mark m) {
  if (v.size() < max_marks) v.push_back(m);
}

// What came of an attempt, as the client classified it (attempt_finished's detail).
series series_of(const core::event& e) {
  if (e.error != core::error_class::none) return series::errors;
  switch (static_cast<resilience::attempt_class>(e.detail)) {
    case resilience::attempt_class::success: return series::succeeded;
    case resilience::attempt_class::retryable:
    case resilience::attempt_class::refresh_auth: return series::retryable;
    case resilience::attempt_class::fatal: return series::fatal;
  }
  return series::fatal;
}

std::string attempt_result_name(const core::event& e) {
  if (e.error != core::error_class::none) return std::string(core::to_string(e.error));
  return std::to_string(e.status);
}

}  // namespace

void run_stats::on_event(const core::event& e) {
  switch (e.kind) {
    case core::event_kind::request_submitted:
      ++submitted;
      open_.emplace(e.request, open_request{});
      break;
    case core::event_kind::attempt_started: {
      ++attempts;
      over_time.add(e.at - origin_, series::attempts);
      ++attempts_by_second[std::chrono::floor<std::chrono::seconds>(e.at - origin_).count()];
      if (static_cast<resilience::breaker_state>(breaker_state_) == resilience::breaker_state::open) ++attempts_while_open;
      auto& r = open_[e.request];
      r.attempts = e.attempt;
      if (r.has_retry_after && e.at + retry_after_tolerance < r.retry_not_before) {
        ++retry_after_violations;
        keep(retry_after_evidence,
             {e.request, ms_since_origin(e.at),
              "attempt " + std::to_string(e.attempt) + " sent " +
                  core::format_duration(r.retry_not_before - e.at) + " before the Retry-After of " +
                  core::format_duration(r.asked) + " had passed"});
      }
      r.has_retry_after = false;
      break;
    }
    case core::event_kind::attempt_finished: {
      ++attempt_results[attempt_result_name(e)];
      over_time.add(e.at - origin_, series_of(e));
      if (e.error == core::error_class::schema_error) {
        ++unusable_responses;
        keep(mapping_evidence, {e.request, ms_since_origin(e.at),
                                "attempt " + std::to_string(e.attempt) + " unusable: " + std::string(e.note.substr(0, 300))});
      } else if (e.rejected_records != 0) {
        ++responses_with_rejected_records;
        records_rejected += e.rejected_records;
        keep(mapping_evidence, {e.request, ms_since_origin(e.at),
                                std::to_string(e.rejected_records) + " records set aside: " + std::string(e.note.substr(0, 300))});
      }
      if (e.retry_after) {
        ++retry_after_answers;
        auto& r = open_[e.request];
        r.has_retry_after = true;
        r.retry_not_before = e.at + *e.retry_after;
        r.asked = *e.retry_after;
      }
      break;
    }
    case core::event_kind::backoff_scheduled: break;
    case core::event_kind::token_requested: ++token_requests; break;
    case core::event_kind::token_issued:
      ++tokens_issued;
      if (e.detail != 0) {  // not the first token
        ++token_refreshes;
        mark(token_marks, {ms_since_origin(e.at), false, static_cast<resilience::refresh_reason>(e.detail)});
        keep(token_evidence, {e.request, ms_since_origin(e.at),
                              "token refreshed (" + std::string(resilience::to_string(static_cast<resilience::refresh_reason>(e.detail))) + "), valid for " +
                                  core::format_duration(e.delay)});
      }
      break;
    case core::event_kind::token_failed:
      ++token_failures;
      mark(token_marks, {ms_since_origin(e.at), true, static_cast<resilience::refresh_reason>(e.detail)});
      keep(token_evidence, {e.request, ms_since_origin(e.at),
                            "token fetch failed (" + attempt_result_name(e) + "), next try in " +
                                core::format_duration(e.delay)});
      break;
    case core::event_kind::credential_rejected: ++credential_rejections; break;
    case core::event_kind::breaker_transition: {
      const auto to = static_cast<resilience::breaker_state>(e.detail);
      breaker_state_ = e.detail;
      ++breaker_transitions;
      mark(breaker_marks, {ms_since_origin(e.at), to});
      if (to == resilience::breaker_state::open) ++breaker_opens;
      keep(breaker_evidence, {0, ms_since_origin(e.at), "breaker " + std::string(resilience::to_string(to))});
      break;
    }
    case core::event_kind::call_rejected:
      ++calls_rejected;
      over_time.add(e.at - origin_, series::rejected);
      break;
    case core::event_kind::retry_refused: ++retries_refused; break;
    case core::event_kind::read_restarted: ++reads_restarted; break;
    case core::event_kind::request_completed: {
      ++completed;
      ++end_reasons[std::string(core::to_string(e.reason))];
      latency_ms.add(core::to_millis(e.latency));
      if (const double ms = core::to_millis(e.latency);
          slowest_ms_.size() < max_evidence || ms > slowest_ms_.back()) {
        const auto at = static_cast<std::size_t>(
            std::upper_bound(slowest_ms_.begin(), slowest_ms_.end(), ms, std::greater<>()) - slowest_ms_.begin());
        slowest_ms_.insert(slowest_ms_.begin() + static_cast<std::ptrdiff_t>(at), ms);
        slowest_evidence.insert(slowest_evidence.begin() + static_cast<std::ptrdiff_t>(at),
                                {e.request, ms_since_origin(e.at),
                                 "took " + core::format_duration(e.latency) + ", " +
                                     std::string(core::to_string(e.outcome)) + " after " + std::to_string(e.attempt) +
                                     " attempts"});
        if (slowest_ms_.size() > max_evidence) {
          slowest_ms_.pop_back();
          slowest_evidence.pop_back();
        }
      }
      switch (e.outcome) {
        case core::request_outcome::succeeded:
          ++succeeded;
          if (recovery_from && !first_success_after_recovery && e.at >= *recovery_from) first_success_after_recovery = e.at;
          break;
        case core::request_outcome::dead_lettered: ++dead_lettered; break;
        case core::request_outcome::failed: ++failed; break;
      }
      if (e.outcome != core::request_outcome::succeeded &&
          (e.status == 401 || e.status == 403 || e.reason == core::end_reason::token_unavailable)) {
        ++auth_failures_leaked;
        keep(auth_leak_evidence, {e.request, ms_since_origin(e.at),
                                  std::string(core::to_string(e.outcome)) + " (" +
                                      std::string(core::to_string(e.reason)) + "), last " + attempt_result_name(e)});
      }
      if (e.outcome != core::request_outcome::succeeded) {
        keep(not_succeeded_evidence,
             {e.request, ms_since_origin(e.at),
              std::string(core::to_string(e.outcome)) + " (" + std::string(core::to_string(e.reason)) +
                  ") after " + std::to_string(e.attempt) + " attempts, last " + attempt_result_name(e)});
      }
      if (e.attempt > max_attempts) {
        max_attempts = e.attempt;
        max_attempts_evidence.clear();
      }
      if (e.attempt == max_attempts) {
        keep(max_attempts_evidence, {e.request, ms_since_origin(e.at),
                                     std::to_string(e.attempt) + " attempts, " +
                                         std::string(core::to_string(e.reason))});
      }
      open_.erase(e.request);
      break;
    }
  }
}

std::vector<std::uint64_t> run_stats::in_flight_ids(std::size_t limit) const {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, r] : open_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  if (ids.size() > limit) ids.resize(limit);
  return ids;
}

std::pair<std::uint32_t, std::int64_t> run_stats::peak_after_recovery() const {
  std::int64_t from = 0;
  if (recovery_from) from = std::chrono::ceil<std::chrono::seconds>(*recovery_from - origin_).count();
  std::int64_t peak_second = -1;
  std::uint32_t peak = 0;
  for (auto it = attempts_by_second.lower_bound(from); it != attempts_by_second.end(); ++it) {
    if (it->second > peak) {
      peak = it->second;
      peak_second = it->first;
    }
  }
  return {peak, peak_second};
}

std::optional<core::duration> run_stats::recovery_time() const {
  if (!recovery_from || !first_success_after_recovery) return std::nullopt;
  return *first_success_after_recovery - *recovery_from;
}

}  // namespace planproof::scenario
