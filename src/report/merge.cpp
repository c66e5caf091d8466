#include "report/merge.hpp"

#include <algorithm>
#include <map>

#include <boost/json/serialize.hpp>

#include "core/diagnostic.hpp"
#include "report/json_report.hpp"
#include "report/text.hpp"

namespace planproof::report {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& message) {
  throw core::diagnostic_error(core::diagnostic{{file}, core::severity::error, message});
}

std::string shard_name(const scenario::shard_spec& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

// The first way `b` is not a part of the same run as `a`, or empty.
std::string difference(const scenario::run_result& a, const scenario::run_result& b) {
  auto quoted = [](const std::string& s) { return s.empty() ? std::string("none") : "'" + s + "'"; };
  if (a.plan_name != b.plan_name) return "plan " + quoted(b.plan_name) + " is not " + quoted(a.plan_name);
  if (a.phase != b.phase) return "phase " + quoted(b.phase) + " is not " + quoted(a.phase);
  if (a.seed != b.seed) return "seed " + std::to_string(b.seed) + " is not " + std::to_string(a.seed);
  if (a.time_scale != b.time_scale) {
    return "time scale " + number(b.time_scale) + " is not " + number(a.time_scale);
  }
  if (a.mode != b.mode) return "mode " + quoted(b.mode) + " is not " + quoted(a.mode);
  if (a.upstream != b.upstream) return "upstream " + quoted(b.upstream) + " is not " + quoted(a.upstream);
  if (to_json(a).at("settings") != to_json(b).at("settings")) {
    return "its settings (retry, traffic) differ: another --set or another version of the plan";
  }
  if (a.shard.has_value() != b.shard.has_value()) {
    return a.shard ? "it has no shard, and is merged with shard reports"
                   : "it is shard " + shard_name(b.shard->shard) + ", and is merged with a report of no shard";
  }
  if (a.shard && a.shard->shard.count != b.shard->shard.count) {
    return "it is shard " + shard_name(b.shard->shard) + ", of another number of shards than shard " +
           shard_name(a.shard->shard);
  }
  if (a.shard && a.shard->selected != b.shard->selected) {
    return "its run selected " + std::to_string(b.shard->selected) + " failure modes, not " +
           std::to_string(a.shard->selected) + ": another --only or --phase";
  }
  return {};
}

}  // namespace

scenario::run_result merge_reports(const std::vector<named_report>& reports) {
  if (reports.empty()) fail("merge", "no report to merge");
  const auto& first = reports.front();
  for (std::size_t i = 1; i < reports.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (reports[i].file == reports[j].file) fail(reports[i].file, "given twice");
    }
  }
  for (std::size_t i = 1; i < reports.size(); ++i) {
    if (const auto why = difference(first.run, reports[i].run); !why.empty()) {
      fail(reports[i].file, "not a part of the run of " + first.file + ": " + why);
    }
  }
  std::map<std::string, const std::string*> seen;  // failure mode id -> the file that has it
  for (const auto& r : reports) {
    for (const auto& f : r.run.failure_modes) {
      const auto [it, added] = seen.emplace(f.id, &r.file);
      if (!added) fail(r.file, "failure mode '" + f.id + "' is in " + *it->second + " too: the reports overlap");
    }
  }

  scenario::run_result merged = first.run;
  merged.shard.reset();
  merged.failure_modes.clear();
  for (const auto& r : reports) merged.interrupted = merged.interrupted || r.run.interrupted;
  for (const auto& r : reports) {
    for (const auto& n : r.run.notes) {
      if (std::find(merged.notes.begin(), merged.notes.end(), n) == merged.notes.end()) merged.notes.push_back(n);
    }
  }

  if (!first.run.shard) {
    for (const auto& r : reports) {
      merged.failure_modes.insert(merged.failure_modes.end(), r.run.failure_modes.begin(), r.run.failure_modes.end());
    }
    return merged;
  }

  // Shards: each once, all present, each as large as the round robin makes it; then the k-th
  // failure mode of the selection is entry k / N of shard k mod N + 1.
  const auto count = first.run.shard->shard.count;
  const auto selected = first.run.shard->selected;
  std::vector<const named_report*> by_index(count + 1, nullptr);
  for (const auto& r : reports) {
    const auto& s = *r.run.shard;
    if (by_index[s.shard.index] != nullptr) {
      fail(r.file, "shard " + shard_name(s.shard) + " is " + by_index[s.shard.index]->file + " too");
    }
    by_index[s.shard.index] = &r;
    const auto expected = scenario::shard_size(selected, s.shard);
    if (r.run.failure_modes.size() != expected) {
      fail(r.file, "shard " + shard_name(s.shard) + " has " + std::to_string(r.run.failure_modes.size()) +
                       " failure modes; of " + std::to_string(selected) + " selected it takes " +
                       std::to_string(expected));
    }
  }
  std::string missing;
  for (std::size_t i = 1; i <= count; ++i) {
    if (by_index[i] == nullptr) missing += (missing.empty() ? "" : ", ") + shard_name({i, count});
  }
  if (!missing.empty()) {
    fail("merge", "no report of shard " + missing + ": merge needs the report of every shard (" +
                      std::to_string(reports.size()) + " of " + std::to_string(count) + " given)");
  }
  for (std::size_t k = 0; k < selected; ++k) {
    merged.failure_modes.push_back(by_index[k % count + 1]->run.failure_modes[k / count]);
  }
  return merged;
}

}  // namespace planproof::report
