// What a run found, failure mode by failure mode: the data every report format renders.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "plan/model.hpp"
#include "scenario/pull_walk.hpp"
#include "scenario/run_stats.hpp"
#include "scenario/shard.hpp"

namespace planproof::scenario {

enum class verdict { held, broken, error, skipped };
std::string_view to_string(verdict v) noexcept;

struct expectation_result {
  std::string name;
  std::string expected;         // as the plan states it, e.g. ">= 0.99"
  boost::json::value observed;  // number or bool; null when nothing could be observed
  bool held = false;
  bool implicit = false;        // not written in the plan (lost: 0)
  std::string note;             // context, e.g. "no Retry-After was answered during the run"
  std::vector<evidence_item> evidence;
};

// Inbound webhooks during a failure mode: what the provider delivered and what the plan's receiver
// did with it. Events are known by the id the provider gives them (Webhook-Id).
struct webhook_metrics {
  bool ran = false;                 // the failure mode had inbound deliveries
  std::uint64_t events = 0;         // created by the provider
  std::uint64_t attempts = 0;       // delivery attempts (copies and redeliveries included)
  std::uint64_t delivered = 0;      // copies answered 2xx
  std::uint64_t given_up = 0;       // copies the provider stopped redelivering
  std::uint64_t processed = 0;      // times the receiver processed an event
  std::uint64_t processed_once = 0;   // events processed exactly once
  std::uint64_t never_processed = 0;  // events never processed
  std::uint64_t processed_again = 0;  // events processed more than once
  std::uint64_t duplicates_dropped = 0;  // deliveries acknowledged without processing (dedup key stored)
  std::uint64_t bad_signatures = 0;           // attempts sent with a bad signature
  std::uint64_t bad_signatures_accepted = 0;  // ...answered 2xx
  std::uint64_t genuine_refused = 0;          // validly signed attempts refused as badly signed (401)
  std::map<std::string, std::uint64_t> signature_failures;  // the receiver's refusals by reason
  std::map<std::string, std::uint64_t> faults_injected;     // by webhook fault kind; merged into the run's
  std::uint64_t unusable = 0;       // deliveries refused as unusable (not JSON, mapping, no dedup key)
  double p50_latency_ms = 0;        // delivery attempts, sent to answered
  double p99_latency_ms = 0;
  double max_latency_ms = 0;
  std::vector<evidence_item> processing_evidence;  // events not processed exactly once
  std::vector<evidence_item> signature_evidence;
  std::vector<evidence_item> unusable_evidence;
  std::vector<evidence_item> slowest_evidence;
};

struct run_metrics {
  std::uint64_t planned = 0;    // logical requests the traffic section asks for
  std::uint64_t submitted = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t failed = 0;
  std::uint64_t lost = 0;       // planned requests with no recorded end
  std::uint64_t attempts = 0;   // attempts the client started
  std::uint64_t upstream_requests = 0;  // requests the mock upstream received
  std::uint64_t side_effects = 0;       // writes the mock upstream applied
  std::uint64_t duplicate_effects = 0;  // ...applied again for a logical request that had one
  std::vector<evidence_item> duplicate_evidence;  // the first few, as the mock recorded them
  std::map<std::string, std::uint64_t> faults_injected;  // by fault kind, as the mock counted them
  std::map<std::string, std::uint64_t> attempt_results;  // "201", "503", "timeout"...
  std::map<std::string, std::uint64_t> end_reasons;
  std::uint32_t max_attempts = 0;
  double p50_latency_ms = 0;
  double p99_latency_ms = 0;
  double max_latency_ms = 0;
  double duration_ms = 0;  // plan time the failure mode took
  // For sweeps: the busiest second of attempts once the faults ended, and how long after their end
  // the first success came (none: no end, or no success after it).
  double peak_rate_after_recovery = 0;
  std::optional<double> recovery_ms;
  // For the charts (timeline.hpp): counts over plan time, the faults' windows, the moments the
  // breaker changed state or a token was renewed, and the latency distribution; all bounded.
  timeline over_time;
  std::vector<fault_window> fault_windows;
  std::uint64_t breaker_transitions = 0;
  std::vector<breaker_mark> breaker_marks;
  std::uint64_t tokens_issued = 0;
  std::uint64_t token_refreshes = 0;
  std::uint64_t token_failures = 0;
  std::vector<token_mark> token_marks;
  std::vector<histogram::bin> latency_bins;  // logical requests, ms, four bins per doubling
  // The traffic endpoint is paginated: what its pulls read, record by record (processed_exactly_once).
  std::optional<pull_tally> pull;
  webhook_metrics webhooks;
  // Latency expectations judge the webhook deliveries: every fault of the failure mode is a
  // provider's (a burst, duplicates...), so what it threatens is the receiver's answers.
  bool latency_of_deliveries = false;
};

struct failure_mode_result {
  std::string id;
  verdict outcome = verdict::error;
  std::string reason;  // skipped / error: why
  std::vector<expectation_result> expectations;
  run_metrics metrics;
  std::optional<plan::traffic_config> traffic;  // the failure mode's own traffic, when it has one
};

// A run of one shard (`--shard I/N`): which one, and how many failure modes the whole selection
// has, every shard's together (what `planproof merge` checks the shards against).
struct shard_info {
  shard_spec shard;
  std::size_t selected = 0;
};

struct run_result {
  std::string plan_name;
  std::string plan_file;
  std::string phase;  // empty when no phase was selected
  std::string mode = "live";
  std::uint64_t seed = 0;
  double time_scale = 1.0;
  plan::retry_config retry;  // the effective settings (phase applied)
  plan::traffic_config traffic;
  std::string dead_letter_path;
  std::vector<std::string> notes;  // things the user must know about how the run was done
  std::optional<shard_info> shard;  // `--shard I/N`: failure_modes holds this shard's part only
  std::string upstream;  // `run --upstream URL`: the real upstream behind the mocks' proxy; empty = none
  // Stopped before its end (SIGINT, SIGTERM): the failure mode it was in is an error, those after
  // it are skipped, each with a reason starting "interrupted".
  bool interrupted = false;
  std::vector<failure_mode_result> failure_modes;

  std::size_t count(verdict v) const noexcept;
  // 0 every failure mode held, 1 some broken or skipped, 3 harness error or interrupted (error wins).
  int exit_code() const noexcept;
};

}  // namespace planproof::scenario
