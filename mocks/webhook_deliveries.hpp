// The provider side of `planproof serve`: one webhook_sender per inbound endpoint of the plan,
// sending signed deliveries to the receiver under test, with the plan's webhook faults as one
// table that the admin API turns off and on by index or failure mode, more deliveries on demand,
// and every attempt recorded.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"
#include "mocks/webhook_sender.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

// The fault kinds a provider injects into its deliveries (the rest belong to the outbound mock).
bool is_webhook_fault(std::string_view kind) noexcept;

// One webhook fault of the plan, with the failure mode it belongs to.
struct webhook_fault_entry {
  plan::fault fault;
  std::string failure_mode;
};

// Every webhook fault of every failure mode, in plan order: the table's indexes are the admin
// API's (`/deliveries/faults/{index}`).
std::vector<webhook_fault_entry> webhook_faults_of(const plan::integration_plan& plan);

// One inbound endpoint to deliver to.
struct inbound_stream {
  plan::endpoint endpoint;  // direction inbound
  std::string secret;       // the signing secret itself; empty when the endpoint declares no signature
  double rate = 1;          // events per second of plan time, > 0
  std::uint64_t count = 100;  // base events of the first batch, >= 1
};

struct webhook_deliveries_options {
  std::string host = "127.0.0.1";  // the receiver: an IP address
  unsigned short port = 0;
  std::string base_path;           // put before each endpoint's path; "" or "/x" without a trailing '/'
  std::uint64_t seed = 1;
  std::size_t max_records = 100'000;  // per batch of one endpoint; later attempts are only counted
  provider_retry_policy retry;
  delivery_timeouts timeouts;
  std::size_t max_in_flight = 8;  // per endpoint and batch
  std::vector<std::size_t> disabled;  // table indexes disabled from the start
  // Batches at most, the first included: every batch is bounded, and so is their number.
  std::size_t max_batches = 64;
  bool send_stale_within_tolerance = false;  // see webhook_sender_config
};

// A fault of the table as the admin API shows it.
struct webhook_fault_state {
  std::size_t index = 0;
  std::string failure_mode;
  std::string kind;
  std::optional<std::string> endpoint;
  bool enabled = true;
  std::uint64_t injected = 0;  // events (copies, for bad_signature) it applied to, every batch together
};

// One attempt with the endpoint it went to; sent_at counts from the serve's plan-time origin.
struct endpoint_delivery {
  std::string endpoint;
  delivery_record record;
};

struct endpoint_delivery_totals {
  std::string endpoint;
  webhook_sender_counters counters;  // every batch added up (injected per fault included)
};

// Which faults of the table each stream takes (table indexes left out, per stream) and why the
// others are not injected: each checked on its own, so that one a sender would refuse is left out
// with a reason instead of stopping the endpoint's deliveries.
struct fault_assignment {
  std::vector<std::vector<std::size_t>> excluded;  // per stream
  std::vector<std::string> notes;                  // "failure mode: kind: why", for people
};
fault_assignment assign_faults(const std::vector<inbound_stream>& streams, const std::vector<webhook_fault_entry>& faults,
                               const webhook_deliveries_options& options);

// The sender configuration of stream `index`'s batch number `batch` (0: the first, with
// `stream.count` base events and the bursts; later ones `count` events and no bursts), its events
// numbered from `first_sequence`, the table indexes in `disabled` turned off.
webhook_sender_config batch_config(const std::vector<inbound_stream>& streams, std::size_t index,
                                   const std::vector<webhook_fault_entry>& faults, const fault_assignment& assigned,
                                   const webhook_deliveries_options& options, std::size_t batch, std::uint64_t count,
                                   std::uint64_t first_sequence, const std::vector<std::size_t>& disabled);

class webhook_deliveries {
 public:
  // `clock` must outlive this object; its origin is plan time zero for sent_at. Faults that cannot
  // apply to an endpoint (their endpoint is another one, or not inbound; a bad_signature on an
  // endpoint that signs nothing; parameters the sender refuses) are left out of that endpoint,
  // each with a note.
  webhook_deliveries(boost::asio::any_io_executor ex, const core::plan_clock& clock, std::vector<inbound_stream> streams,
                     std::vector<webhook_fault_entry> faults, webhook_deliveries_options options);
  ~webhook_deliveries();  // stop()s
  webhook_deliveries(const webhook_deliveries&) = delete;
  webhook_deliveries& operator=(const webhook_deliveries&) = delete;

  // Why some faults are not injected, for people ("failure mode: kind: why").
  const std::vector<std::string>& notes() const noexcept { return assigned_.notes; }
  const std::vector<inbound_stream>& streams() const noexcept { return streams_; }
  // The URL each stream delivers to, in streams() order.
  std::string url_of(const inbound_stream& s) const;

  // Starts the first batch: each stream's `count` events at its rate, bursts added. Empty on
  // success, else what is wrong (nothing started).
  std::string start();

  // Another batch of `count` events per stream, starting now, with the faults as they are set
  // (bursts excepted: they belong to the first batch). Its plan time, for `during` windows, starts
  // now. Empty on success, else why not (count out of 1..max_send_count, too many batches, stopped).
  static constexpr std::uint64_t max_send_count = 10'000;
  std::string send(std::uint64_t count);
  std::size_t batches() const;

  // Safe from any thread, idempotent: no delivery starts afterwards.
  void stop();

  std::vector<webhook_fault_state> faults() const;
  bool set_fault_enabled(std::size_t index, bool enabled);  // false: no such index
  // Every batch's attempts, ordered by when they finished.
  std::vector<endpoint_delivery> records() const;
  std::vector<endpoint_delivery_totals> totals() const;  // in streams() order
  bool done() const;  // every batch has delivered or given up every copy

 private:
  struct batch {
    std::size_t stream = 0;
    core::duration offset{};  // batch origin minus the clock's origin
    std::unique_ptr<webhook_sender> sender;
  };
  std::string start_batch(std::uint64_t count);  // mutex_ held; count unused for the first

  boost::asio::any_io_executor ex_;
  const core::plan_clock& clock_;
  std::vector<inbound_stream> streams_;
  std::vector<webhook_fault_entry> faults_;
  webhook_deliveries_options options_;
  fault_assignment assigned_;

  mutable std::mutex mutex_;
  std::vector<bool> enabled_;
  std::vector<batch> batches_;
  std::vector<std::uint64_t> next_sequence_;  // per stream
  bool stopped_ = false;
};

}  // namespace planproof::mocks
