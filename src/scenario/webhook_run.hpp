// Inbound webhooks in one failure mode of `planproof run`: the mock plays the provider
// (mocks::webhook_deliveries, with the failure mode's webhook faults) and delivers to the receiver
// the plan describes (webhook_receiver, on its own thread as the application would run it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "core/clock.hpp"
#include "mocks/webhook_deliveries.hpp"
#include "plan/model.hpp"
#include "scenario/result.hpp"
#include "scenario/webhook_receiver.hpp"

namespace planproof::scenario {

// The inbound streams of a failure mode: those `traffic.webhooks` declares, then one for each
// inbound endpoint a webhook fault of the failure mode targets without a declared stream, at the
// traffic's rate and duration (`defaulted` names those endpoints).
struct mode_streams {
  std::vector<plan::webhook_stream> streams;
  std::vector<std::string> defaulted;
};
mode_streams webhook_streams(const plan::integration_plan& plan, const plan::failure_mode& mode);

// What the deliveries of a failure mode are made of, with no socket: the provider's streams and
// fault table, its options (the receiver's address aside), the receiver's endpoints, and a bound.
struct webhook_setup {
  std::vector<mocks::inbound_stream> streams;
  std::vector<mocks::webhook_fault_entry> faults;
  mocks::webhook_deliveries_options options;
  std::vector<receiver_endpoint> endpoints;
  // Plan time from the start by which every delivery should be over (faults' holds and delays,
  // the provider's redeliveries): a bound for the run, not a promise.
  core::duration bound{};
};
webhook_setup make_webhook_setup(const plan::integration_plan& plan, const plan::failure_mode& mode,
                                 const std::vector<plan::webhook_stream>& streams, std::uint64_t seed);

// What happened, from the provider's totals and attempts and what the receiver did (in any order).
webhook_metrics fold_webhooks(const std::vector<mocks::endpoint_delivery_totals>& totals,
                              std::vector<mocks::endpoint_delivery> records,
                              const std::vector<receiver_stats>& stats);

class webhook_run {
 public:
  // `provider` runs the deliveries (the mock's executor). Nothing starts before start().
  webhook_run(const plan::integration_plan& plan, const plan::failure_mode& mode, std::vector<plan::webhook_stream> streams,
              boost::asio::any_io_executor provider, const core::plan_clock& clock, core::time_point origin,
              std::uint64_t seed);
  ~webhook_run();  // stop()s
  webhook_run(const webhook_run&) = delete;
  webhook_run& operator=(const webhook_run&) = delete;

  // The receiver listens and the deliveries begin. Empty on success, else why not.
  std::string start();
  bool done() const;  // every event delivered or given up
  // Plan time from the start by which every delivery should be over (faults' holds and delays,
  // the provider's redeliveries): a bound for the run, not a promise.
  core::duration bound() const noexcept { return setup_.bound; }
  // Idempotent: deliveries stop, the receiver closes and its thread is joined.
  void stop();
  // What happened, after stop().
  webhook_metrics collect() const;

 private:
  const core::plan_clock& clock_;
  core::time_point origin_;
  boost::asio::any_io_executor provider_;
  // What the deliveries are made of; start() sets the receiver's port.
  webhook_setup setup_;
  boost::asio::io_context receiver_io_{1};
  std::unique_ptr<webhook_receiver> receiver_;
  std::unique_ptr<mocks::webhook_deliveries> deliveries_;
  std::thread receiver_thread_;
  bool stopped_ = false;
};

}  // namespace planproof::scenario
