// Expectations are judged from the folded event stream and the run's metrics only, so the live
// executor and the simulator share this code.
#pragma once

#include "plan/model.hpp"
#include "scenario/result.hpp"
#include "scenario/run_stats.hpp"
#include "scenario/secret_scan.hpp"

namespace planproof::scenario {

expectation_result evaluate(const plan::expectation& expectation, const run_stats& stats, const run_metrics& m);

// no_secret_in_logs, from the scan of what the failure mode wrote: observed is the number of
// occurrences found; the note says what was scanned and which forms were searched, the evidence
// where the first occurrences are. Neither ever holds a secret's value.
expectation_result evaluate(const plan::expectation& expectation, const secret_scan& scan);
// processed_exactly_once on a paginated traffic endpoint: every record of the pages a pull asked
// for was processed exactly once in that pull. evaluate() picks it when the run walked pages.
expectation_result evaluate_pull_exactly_once(const plan::expectation& expectation, const pull_tally& pull);

// `observed op expected`, with a relative tolerance of 1e-9 for ratios computed in floating point.
bool compare(double observed, plan::comparison op, double expected) noexcept;

}  // namespace planproof::scenario
