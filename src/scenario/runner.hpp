// `planproof run`: for each selected failure mode, fresh mock upstreams with its faults, the plan's
// traffic through the real client, the event stream folded, and the expectations judged.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/limits.hpp"
#include "plan/model.hpp"
#include "scenario/event_log.hpp"
#include "scenario/result.hpp"
#include "scenario/shard.hpp"

namespace planproof::scenario {

struct run_tls;  // scenario/run_tls.hpp
class secret_scan;  // scenario/secret_scan.hpp

// Where a running failure mode stands, for a live progress line. Plan time; counters from run_stats.
struct run_progress {
  std::string_view id;    // the failure mode
  std::size_t position = 0;  // 1-based, among the failure modes this run executes
  std::size_t count = 0;
  core::duration elapsed{};  // since its traffic started
  core::duration planned{};  // the traffic duration
  std::uint64_t completed = 0;  // logical requests ended, however they ended
  std::uint64_t requests = 0;   // logical requests planned
  std::uint64_t failed = 0;     // ended without success so far (dead-lettered or failed)
  std::uint64_t attempts = 0;   // attempts the client started
};

struct run_options {
  std::optional<std::string> phase;
  std::vector<std::string> only;  // failure mode ids; empty = all of the phase (or plan)
  std::uint64_t seed = 1;
  double time_scale = 1.0;
  // Progress output: once the run's settings and notes are known, then as each failure mode ends.
  std::function<void(const run_result&, std::size_t selected)> on_start;
  std::function<void(const failure_mode_result&)> on_result;
  // Called about every `progress_interval` (real time) while a failure mode runs, on the client's
  // thread, between its events: keep it short, it delays them.
  std::function<void(const run_progress&)> on_progress;
  std::chrono::milliseconds progress_interval{100};
  // `--shard I/N`: run only this shard's part of the selection (scenario/shard.hpp).
  std::optional<shard_spec> shard;
  event_log* log = nullptr;  // `--log FILE`: every client decision, each line naming its failure mode
  // `--tls DIR`: every mock serves HTTPS and the client speaks it (load_run_tls). Unset = plain
  // HTTP, and a failure mode that needs TLS (auth mtls, a `tls` fault) is skipped.
  std::shared_ptr<const run_tls> tls;
  // `--upstream URL`: every failure mode runs against this real upstream through the mock's proxy
  // (mocks/proxy.hpp): faults answer in its place or break its answers, everything else is
  // forwarded, and the client carries the plan's real credentials. `upstream_ca`: PEM file of the
  // CAs an https upstream's certificate must chain to (empty: the system store).
  std::string upstream;
  std::string upstream_ca;
  // `--insecure`: an https upstream's certificate is not checked. Only to look at a server known to
  // be misconfigured; the run says so on standard error and in the report's notes.
  bool upstream_insecure = false;
  // `--limit`: what each mock accepts (request_headers, request_body, connections) and what the
  // client and the proxy accept of an answer (response_headers, response_body).
  core::limits limits;
  // Requested from any thread (a signal handler's): the failure mode running stops sending, gives
  // the requests in flight a second to end, cuts the rest and is reported as an error; the ones
  // after it are skipped. Both with a reason starting "interrupted".
  std::stop_token stop;
};

// The failure modes the options select, in plan order. Throws core::diagnostic_error for an
// unknown phase or failure mode id (a usage error).
std::vector<const plan::failure_mode*> select_failure_modes(const plan::integration_plan& plan,
                                                            const run_options& options);

// Why this build cannot run a failure mode with these retry settings ("not yet supported by this
// version: circuit breaker, fault 'reset'"), or cannot without HTTPS mocks (`https` false: "fault
// 'tls' (needs run --tls DIR; ...)"); empty when it can.
// `proxied`: against --upstream, where the mock checks no credential (so auth mtls needs no HTTPS
// mocks) and what only the embedded mock can do is named: its own pages, its own tokens, its count
// of side effects.
std::string unsupported_reason(const plan::integration_plan& plan, const plan::failure_mode& mode,
                               const plan::retry_config& retry, bool https, bool proxied = false);

run_result run_live(const plan::integration_plan& plan, const run_options& options);

// Shared by run and sim.
// The run's description before anything runs: plan, phase, seed, effective settings, lint notes;
// `selected` receives the failure modes this run (or shard) executes.
run_result begin_run(const plan::integration_plan& plan, const run_options& options,
                     std::vector<const plan::failure_mode*>& selected);
// Each failure mode's own stream of randomness, from the run seed, its id and a salt per use.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view id, std::uint64_t salt);
// The metrics the event stream gives (requests, attempts, latency, timeline...); the upstream's
// own counts (requests received, side effects, faults) are the executor's to add.
run_metrics metrics_from(const run_stats& stats, std::uint64_t planned, core::duration elapsed);
// What the inbound webhooks of `mode` did, into `result`: their faults counted with the run's, and
// latency expectations judged on the deliveries when every fault of the mode is a webhook fault.
void add_webhooks(failure_mode_result& result, const plan::failure_mode& mode, webhook_metrics webhooks);
// no_secret_in_logs, judged last: the failure mode's texts as the reports print them are searched
// too, then each such expectation of `result` gets the scan's verdict (its note after `preface`);
// `error`, what could not be read, leaves it unobserved and not held.
void judge_secrets(const plan::failure_mode& mode, secret_scan& scan, const std::string& error,
                   failure_mode_result& result, std::string_view preface = {});
// When the last fault window ends (plan time since traffic start), from which recovery is
// measured; none when a fault has no end (or there is no fault).
std::optional<core::duration> faults_end(const std::vector<plan::fault>& inject);

}  // namespace planproof::scenario
