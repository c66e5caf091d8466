// The simulator's one virtual scheduler: a clock that jumps from event to event, and a queue of
// events ordered by (time, sequence), so two events at the same instant run in the order they were
// scheduled and a seed reproduces a run to the byte. Events are plain (kind, slot) pairs the owner
// dispatches with a switch: no allocation per event, no virtual call.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "core/clock.hpp"

namespace planproof::sim {

struct sim_event {
  core::time_point at{};
  std::uint64_t seq = 0;
  std::uint32_t kind = 0;  // the owner's
  std::uint32_t slot = 0;  // the owner's: which request, client or worker
  std::uint32_t tag = 0;   // the owner's: a generation, to drop events a later decision made stale
  std::uint32_t owner = 0; // which of several owners (clients) it is for
};

class scheduler {
 public:
  explicit scheduler(core::time_point start = core::time_point{}) : clock_(start) {}

  const core::manual_clock& clock() const noexcept { return clock_; }
  core::time_point now() const noexcept { return clock_.now(); }

  // Schedules an event; a time in the past runs at the current time, after what is already due.
  void at(core::time_point when, std::uint32_t kind, std::uint32_t slot, std::uint32_t tag = 0,
          std::uint32_t owner = 0) {
    if (when < clock_.now()) when = clock_.now();
    queue_.push(sim_event{when, seq_++, kind, slot, tag, owner});
  }
  void after(core::duration d, std::uint32_t kind, std::uint32_t slot, std::uint32_t tag = 0, std::uint32_t owner = 0) {
    at(clock_.now() + d, kind, slot, tag, owner);
  }

  // The next event, the clock moved to its time; false when none is left or the next lies past
  // `until` (the clock then stays where it is).
  bool next(sim_event& out, core::time_point until) {
    if (queue_.empty() || queue_.top().at > until) return false;
    out = queue_.top();
    queue_.pop();
    clock_.set(out.at);
    ++dispatched_;
    return true;
  }

  bool empty() const noexcept { return queue_.empty(); }
  std::size_t pending() const noexcept { return queue_.size(); }
  std::uint64_t dispatched() const noexcept { return dispatched_; }

 private:
  struct later {
    bool operator()(const sim_event& a, const sim_event& b) const noexcept {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  core::manual_clock clock_;
  std::priority_queue<sim_event, std::vector<sim_event>, later> queue_;
  std::uint64_t seq_ = 0;
  std::uint64_t dispatched_ = 0;
};

}  // namespace planproof::sim
