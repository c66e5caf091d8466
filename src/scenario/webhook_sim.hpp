// Inbound webhooks of a failure mode on the virtual clock: the provider's sans-io core
// (mocks::delivery_core) per stream delivers to the plan's receiver (receiver_core), each attempt
// answered after the modelled network delay, signatures stamped and checked on one simulated
// calendar. The same setup, seeds and fold as `planproof run`'s webhook_run.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "mocks/webhook_sender.hpp"
#include "scenario/webhook_receiver.hpp"
#include "scenario/webhook_run.hpp"
#include "sim/scheduler.hpp"

namespace planproof::scenario {

class webhook_sim {
 public:
  // Events of kinds `wake` and `wake + 1` are this object's; `origin` is plan time zero.
  webhook_sim(sim::scheduler& sched, core::time_point origin, webhook_setup setup, core::duration network_delay,
              std::uint32_t wake);

  // Empty on success, else why the deliveries cannot run (the same reasons run gives).
  std::string start();
  bool owns(std::uint32_t kind) const noexcept { return kind == wake_ || kind == wake_ + 1; }
  void dispatch(const sim::sim_event& e);
  core::duration bound() const noexcept { return setup_.bound; }
  webhook_metrics collect() const;

  // Seconds since the Unix epoch at plan time zero: fixed, so a seed reproduces every signature.
  static constexpr std::int64_t unix_origin = 1'767'225'600;  // 2026-01-01T00:00:00Z

 private:
  struct flight {
    std::size_t stream = 0;
    mocks::delivery_attempt attempt;
    core::duration started{};
  };
  void advance(std::size_t stream);
  core::duration plan_now() const;
  std::int64_t unix_now() const;

  sim::scheduler& sched_;
  core::time_point origin_;
  webhook_setup setup_;
  core::duration delay_;
  std::uint32_t wake_;
  std::vector<mocks::delivery_core> cores_;
  std::vector<std::uint32_t> generation_;  // per stream: the wake event that is current
  std::vector<std::optional<core::duration>> woken_at_;  // per stream: when that wake is due
  std::unordered_map<std::uint32_t, flight> flights_;
  std::uint32_t next_flight_ = 0;
  receiver_core receiver_;
};

}  // namespace planproof::scenario
