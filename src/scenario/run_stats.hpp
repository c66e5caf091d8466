// An online fold over the event stream: everything the expectations and metrics need, in memory
// proportional to the requests in flight plus a bounded sample of offenders kept as evidence.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/events.hpp"
#include "scenario/histogram.hpp"
#include "scenario/timeline.hpp"

namespace planproof::scenario {

// One piece of evidence: which request, when (plan ms since the run started), and what happened.
struct evidence_item {
  std::uint64_t request = 0;
  double at_ms = 0;
  std::string what;
};

class run_stats final : public core::event_sink {
 public:
  static constexpr std::size_t max_evidence = 5;

  // `planned`: how long the traffic is planned to last, which sets the timeline's bucket width.
  explicit run_stats(core::time_point origin, core::duration planned = {}) : over_time(planned), origin_(origin) {}
  void on_event(const core::event& e) override;

  // For the charts: attempts, what came of them and refused calls over plan time; breaker
  // transitions and token renewals as they happened (the first max_marks of each).
  timeline over_time;
  std::uint64_t breaker_transitions = 0;
  std::vector<breaker_mark> breaker_marks;
  std::vector<token_mark> token_marks;

  std::uint64_t submitted = 0;
  std::uint64_t completed = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t failed = 0;
  std::uint64_t attempts = 0;
  std::uint32_t max_attempts = 0;
  std::uint64_t retry_after_answers = 0;     // attempts answered with a Retry-After
  std::uint64_t retry_after_violations = 0;  // next attempt sent before it
  std::map<std::string, std::uint64_t> end_reasons;
  std::map<std::string, std::uint64_t> attempt_results;  // "200", "503", "timeout"...
  // Access tokens (OAuth2): fetches, what came of them, and refusals of a token by the upstream.
  std::uint64_t token_requests = 0;
  std::uint64_t tokens_issued = 0;
  std::uint64_t token_refreshes = 0;  // tokens issued to replace one (scheduled, refused or expired)
  std::uint64_t token_failures = 0;
  std::uint64_t credential_rejections = 0;  // 401 answers to a token the client sent
  // Requests that ended without success because of auth: a last answer of 401 or 403, or no
  // token to be had. The caller sees these; a plan that promises none leaks them.
  std::uint64_t auth_failures_leaked = 0;
  // Data mapping: success answers whose body could not be used at all (schema or mapping broken,
  // the attempt failed as schema_error), and records of list answers set aside while the rest was used.
  // Circuit breaker: transitions, calls refused while open (no upstream call), and attempts that
  // went out while the breaker was open (a breaker that does not fail fast).
  std::uint64_t breaker_opens = 0;
  std::uint64_t calls_rejected = 0;
  std::uint64_t attempts_while_open = 0;
  std::vector<evidence_item> breaker_evidence;
  // Recovery: the first success completed at or after `recovery_from` (the end of the faults).
  std::optional<core::time_point> recovery_from;
  std::optional<core::time_point> first_success_after_recovery;
  std::uint64_t retries_refused = 0;  // by the retry budget
  std::uint64_t reads_restarted = 0;  // paginated reads restarted after a refused cursor
  std::uint64_t unusable_responses = 0;
  std::uint64_t responses_with_rejected_records = 0;
  std::uint64_t records_rejected = 0;
  histogram latency_ms;  // logical request latency, succeeded or not
  // Attempts started in each whole second of plan time since the run began (peak_upstream_rate).
  std::map<std::int64_t, std::uint32_t> attempts_by_second;

  std::vector<evidence_item> max_attempts_evidence;  // requests that used the most attempts
  std::vector<evidence_item> not_succeeded_evidence;
  std::vector<evidence_item> retry_after_evidence;
  std::vector<evidence_item> token_evidence;  // refreshes and failed fetches
  std::vector<evidence_item> auth_leak_evidence;
  std::vector<evidence_item> mapping_evidence;
  std::vector<evidence_item> slowest_evidence;  // the slowest logical requests, slowest first

  // The busiest whole second of attempts from the first whole second after the faults ended (over the
  // whole run when they never end): {attempts, second}; second is -1 when no attempt was counted.
  std::pair<std::uint32_t, std::int64_t> peak_after_recovery() const;
  // From the end of the faults to the first success after it; none when either is missing.
  std::optional<core::duration> recovery_time() const;

  // Requests submitted but not ended: the ones `lost` counts.
  std::size_t in_flight() const noexcept { return open_.size(); }
  core::time_point origin() const noexcept { return origin_; }
  std::vector<std::uint64_t> in_flight_ids(std::size_t limit) const;

 private:
  struct open_request {
    std::uint32_t attempts = 0;
    core::time_point retry_not_before{};  // from the last Retry-After answer
    core::duration asked{};
    bool has_retry_after = false;
  };
  double ms_since_origin(core::time_point t) const noexcept { return core::to_millis(t - origin_); }

  core::time_point origin_;
  std::unordered_map<std::uint64_t, open_request> open_;
  std::uint8_t breaker_state_ = 0;  // resilience::breaker_state of the last transition
  std::vector<double> slowest_ms_;   // parallel to slowest_evidence
};

}  // namespace planproof::scenario
