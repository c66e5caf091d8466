// Which fault, if any, the mock upstream applies to a request. Pure decision: the plan's faults, a
// seeded generator and the request's plan time in, a fault out. No clock and no socket, so the
// same seed and the same request order give the same fault sequence, and tests need no server.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "core/units.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

// Whether the mock can carry out this fault: a supported catalog kind with usable parameters.
// The runner filters unsupported kinds out first; anything else is dropped here, never applied.
bool is_injectable(const plan::fault& f) noexcept;

class fault_injector {
 public:
  fault_injector(std::vector<plan::fault> faults, std::uint64_t seed);

  // Index (into faults()) of the fault to apply to a request for `endpoint_id` at plan time
  // `elapsed`. A fault is in scope when elapsed is in [from, to) and its endpoint filter matches;
  // each in-scope fault takes exactly one draw from the generator, whether or not an earlier one
  // already applied, so one request's outcome never shifts the draws of the faults after it.
  // The first in-scope fault (in plan order) whose draw is below its probability wins.
  std::optional<std::size_t> decide(std::string_view endpoint_id, core::duration elapsed);

  // The faults kept, in plan order.
  std::span<const plan::fault> faults() const noexcept { return faults_; }
  // How many faults of the plan were dropped because is_injectable() said no.
  std::size_t ignored() const noexcept { return ignored_; }

 private:
  std::vector<plan::fault> faults_;
  std::mt19937_64 rng_;
  std::size_t ignored_ = 0;
};

}  // namespace planproof::mocks
