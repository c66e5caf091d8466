// `planproof sim`: the failure modes of `run` in virtual time. The modelled upstream answers as the
// mock would (the same fault injector, seed and bytes), the simulated client decides as the live
// one does (the same policy objects), and the same folds and expectations judge the events: an
// hour of plan time costs milliseconds, and the same plan and seed give the same report.
#pragma once

#include <optional>
#include <string>

#include "plan/model.hpp"
#include "scenario/result.hpp"
#include "scenario/runner.hpp"

namespace planproof::scenario {

struct sim_settings {
  // Added to every answer of the modelled upstream; none: the plan's sim.network_delay (default 1ms).
  std::optional<core::duration> network_delay;
  // Independent clients, each with its own policies (breaker, budget, tokens) and the failure
  // mode's whole traffic, against the one modelled upstream.
  int clients = 1;
};

// Why the simulator cannot judge a failure mode (empty when it can): what `run` cannot do either,
// and what only a live run shows (TLS handshakes).
std::string sim_unsupported_reason(const plan::integration_plan& plan, const plan::failure_mode& mode,
                                   const plan::retry_config& retry);

run_result run_sim(const plan::integration_plan& plan, const run_options& options, const sim_settings& settings = {});

}  // namespace planproof::scenario
