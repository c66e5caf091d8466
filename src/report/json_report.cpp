#include "report/json_report.hpp"

#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/logging.hpp"

namespace planproof::report {
namespace json = boost::json;
namespace {

json::object settings_json(const scenario::run_result& run) {
  const auto& r = run.retry;
  auto conditions = [](const std::vector<plan::retry_condition>& list) {
    json::array out;
    for (const auto& c : list) {
      if (const int* s = std::get_if<int>(&c)) out.emplace_back(*s);
      else out.emplace_back(std::string(core::to_string(std::get<core::error_class>(c))));
    }
    return out;
  };
  return {
      {"retry",
       {{"max_attempts", r.max_attempts},
        {"backoff",
         {{"strategy", std::string(plan::to_string(r.backoff.strategy))},
          {"base_ms", core::to_millis(r.backoff.base)},
          {"max_ms", core::to_millis(r.backoff.max)},
          {"jitter", std::string(plan::to_string(r.backoff.jitter))}}},
        {"retry_on", conditions(r.retry_on)},
        // fatal_on matters to the run: a fine class in it overrides an umbrella in retry_on.
        {"fatal_on", conditions(r.fatal_on)},
        {"retry_after", {{"honor", r.retry_after.honor}, {"cap_ms", core::to_millis(r.retry_after.cap)}}},
        {"timeouts",
         {{"connect_ms", core::to_millis(r.timeouts.connect)},
          {"read_ms", core::to_millis(r.timeouts.read)},
          {"total_ms", core::to_millis(r.timeouts.total)}}},
        {"dead_letter", {{"path", r.dead_letter_path}}}}},
      {"traffic",
       {{"endpoint", run.traffic.endpoint},
        {"rate_per_s", run.traffic.rate},
        {"concurrency", run.traffic.concurrency},
        {"duration_ms", core::to_millis(run.traffic.duration)}}},
  };
}

json::object counts(const std::map<std::string, std::uint64_t>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

json::object failure_mode_json(const scenario::failure_mode_result& f) {
  json::object o{{"id", f.id}, {"verdict", std::string(scenario::to_string(f.outcome))}};
  if (!f.reason.empty()) o["reason"] = core::redact(f.reason);
  json::array expectations;
  for (const auto& e : f.expectations) {
    json::array evidence;
    for (const auto& ev : e.evidence) {
      evidence.push_back({{"request", ev.request}, {"at_ms", ev.at_ms}, {"what", core::redact(ev.what)}});
    }
    json::object x{{"name", e.name}, {"expected", e.expected}, {"observed", e.observed}, {"held", e.held}};
    if (e.implicit) x["implicit"] = true;
    if (!e.note.empty()) x["note"] = e.note;
    if (!evidence.empty()) x["evidence"] = std::move(evidence);
    expectations.push_back(std::move(x));
  }
  o["expectations"] = std::move(expectations);
  const auto& m = f.metrics;
  o["metrics"] = {
      {"planned", m.planned},
      {"requests", m.submitted},
      {"succeeded", m.succeeded},
      {"dead_lettered", m.dead_lettered},
      {"failed", m.failed},
      {"lost", m.lost},
      {"client_attempts", m.attempts},
      {"upstream_attempts", m.upstream_requests},
      {"side_effects", m.side_effects},
      {"duplicate_effects", m.duplicate_effects},
      {"max_attempts", m.max_attempts},
      {"faults_injected", counts(m.faults_injected)},
      {"attempt_results", counts(m.attempt_results)},
      {"end_reasons", counts(m.end_reasons)},
      {"p50_latency_ms", m.p50_latency_ms},
      {"p99_latency_ms", m.p99_latency_ms},
      {"max_latency_ms", m.max_latency_ms},
      {"duration_ms", m.duration_ms},
  };
  return o;
}

}  // namespace

json::value to_json(const scenario::run_result& run) {
  using scenario::verdict;
  std::uint64_t requests = 0, upstream = 0, succeeded = 0, dead = 0, lost = 0, duplicates = 0;
  json::array modes;
  for (const auto& f : run.failure_modes) {
    requests += f.metrics.submitted;
    upstream += f.metrics.upstream_requests;
    succeeded += f.metrics.succeeded;
    dead += f.metrics.dead_lettered;
    lost += f.metrics.lost;
    duplicates += f.metrics.duplicate_effects;
    modes.push_back(failure_mode_json(f));
  }
  json::array notes;
  for (const auto& n : run.notes) notes.emplace_back(core::redact(n));
  return {
      {"plan", run.plan_name},
      {"plan_file", run.plan_file},
      {"phase", run.phase.empty() ? json::value(nullptr) : json::value(run.phase)},
      {"mode", run.mode},
      {"upstream", run.upstream.empty() ? json::value(nullptr) : json::value(run.upstream)},
      {"interrupted", run.interrupted},
      {"seed", run.seed},
      {"time_scale", run.time_scale},
      {"settings", settings_json(run)},
      {"notes", std::move(notes)},
      {"summary",
       {{"failure_modes", run.failure_modes.size()},
        {"held", run.count(verdict::held)},
        {"broken", run.count(verdict::broken)},
        {"skipped", run.count(verdict::skipped)},
        {"error", run.count(verdict::error)},
        {"requests", requests},
        {"upstream_attempts", upstream},
        {"succeeded", succeeded},
        {"dead_lettered", dead},
        {"lost", lost},
        {"duplicate_effects", duplicates}}},
      {"failure_modes", std::move(modes)},
  };
}

std::error_code write_json(const scenario::run_result& run, const std::filesystem::path& path) {
  return core::write_file_atomically(path, boost::json::serialize(to_json(run)) + "\n");
}

}  // namespace planproof::report
