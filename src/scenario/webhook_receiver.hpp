// The application's side of inbound webhooks in `planproof run`: a receiver built from the plan's
// inbound endpoints, doing what the plan says the integration does with a delivery. It checks the
// signature (401 when it fails), maps the event with the plan's request mapping (400 when the event
// is unusable), drops a redelivery whose `dedup_key` it has stored (200, not processed again) and
// otherwise processes the event (stores its key, 200). The provider's deliveries come from
// mocks::webhook_deliveries; what the receiver did with each is what processed_exactly_once,
// rejects_bad_signatures and mapping_valid judge.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "client/response_mapping.hpp"
#include "core/clock.hpp"
#include "core/webhook_signature.hpp"
#include "mocks/webhook_sender.hpp"
#include "scenario/run_stats.hpp"

namespace planproof::scenario {

// The header in which the provider names the event a delivery carries: the same on every copy
// and redelivery of one event. The receiver never decides with it (the plan's dedup_key does);
// it tells the run which event a delivery was, to judge whether each was processed once.
using mocks::event_id_header;

struct receiver_endpoint {
  std::string id;
  std::string method = "POST";
  std::string path;
  std::optional<core::webhook_signature_params> signature;  // none: deliveries are not verified
  std::string secret;
  std::string dedup_key;  // a field path; empty: every accepted delivery is processed
  std::shared_ptr<const client::response_mapper> mapper;  // the request mapping; null: none
};

// What one endpoint's receiver did, by the provider's event ids where deliveries named them.
struct receiver_stats {
  std::string endpoint;
  std::uint64_t requests = 0;
  std::uint64_t processed = 0;
  std::uint64_t duplicates = 0;  // acknowledged without processing: the dedup key was stored
  std::uint64_t rejected_signature = 0;
  std::uint64_t rejected_unusable = 0;
  std::map<std::string, std::uint64_t> signature_failures;  // by verify result (missing, stale...)
  std::unordered_map<std::string, std::uint32_t> processed_events;  // event id -> times processed
  std::vector<evidence_item> unusable_evidence;  // the first few, `request` 0, `what` names the event
};

// What the receiver answers to one delivery.
struct receiver_answer {
  int status = 200;
  std::string body;  // JSON
};

// The receiver with no socket and no clock: what the application does with one delivery. The
// live receiver below and the simulator both hand their deliveries to it.
class receiver_core {
 public:
  explicit receiver_core(std::vector<receiver_endpoint> endpoints);

  // `unix_now` is the time signatures are checked against; `plan_ms` times the evidence.
  receiver_answer handle(std::string_view method, std::string_view target, const core::header_lookup& headers,
                         std::string_view body, std::int64_t unix_now, double plan_ms);
  // In the order the endpoints were given.
  const std::vector<receiver_stats>& stats() const noexcept { return stats_; }

 private:
  std::vector<receiver_endpoint> endpoints_;
  std::vector<receiver_stats> stats_;
  std::vector<std::unordered_set<std::string>> stored_;  // per endpoint: dedup keys processed
};

class webhook_receiver {
 public:
  // `clock` and `origin` time the evidence; `unix_now` is the clock signatures are checked against
  // (wall-clock seconds, as the provider signs them).
  webhook_receiver(boost::asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
                   std::vector<receiver_endpoint> endpoints, std::function<std::int64_t()> unix_now);
  ~webhook_receiver();
  webhook_receiver(const webhook_receiver&) = delete;
  webhook_receiver& operator=(const webhook_receiver&) = delete;

  // Listens on 127.0.0.1 on a free port.
  std::error_code listen();
  unsigned short port() const noexcept;
  // Safe from any thread: no connection is accepted afterwards; open ones end with the executor.
  void stop();

  // A snapshot, in the order the endpoints were given; safe from any thread.
  std::vector<receiver_stats> stats() const;

  // Bounds on what a delivery may be: a larger request is refused with 413.
  static constexpr std::size_t max_body = 1024 * 1024;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace planproof::scenario
