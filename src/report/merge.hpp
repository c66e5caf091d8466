// `planproof merge`: the JSON reports of the shards of one run (`run --shard I/N --json`) combined
// into the report of the whole run, as if it had run on one machine.
#pragma once

#include <string>
#include <vector>

#include "scenario/result.hpp"

namespace planproof::report {

struct named_report {
  std::string file;  // where it was read from, for messages
  scenario::run_result run;
};

// The combined run. Reports of shards (all of one count N, each shard once and every one present)
// are put back in plan order; reports without a shard (runs of different --only sets) are combined
// in the order given. Notes are kept once each. Throws core::diagnostic_error naming the files when
// they are not parts of one run: another plan, phase, seed, time scale, mode or settings, a failure
// mode in two reports, a shard twice or missing, or a shard whose size does not fit its selection.
scenario::run_result merge_reports(const std::vector<named_report>& reports);

}  // namespace planproof::report
