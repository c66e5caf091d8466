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

// The series the charts draw: counts per bucket of plan time, the faults' windows, breaker and
// token marks (bounded), and the latency distribution.
json::object timeline_json(const scenario::run_metrics& m) {
  using scenario::series;
  const auto& t = m.over_time;
  json::object counts;
  for (std::size_t s = 0; s < scenario::series_count; ++s) {
    json::array values;
    for (std::size_t b = 0; b < t.size(); ++b) values.emplace_back(t.at(b, static_cast<series>(s)));
    counts[scenario::to_string(static_cast<series>(s))] = std::move(values);
  }
  json::array windows;
  for (const auto& w : m.fault_windows) {
    windows.push_back({{"fault", w.fault}, {"from_ms", w.from_ms},
                       {"to_ms", w.to_ms ? json::value(*w.to_ms) : json::value(nullptr)}});
  }
  json::array breaker;
  for (const auto& b : m.breaker_marks) {
    breaker.push_back({{"at_ms", b.at_ms}, {"state", std::string(resilience::to_string(b.state))}});
  }
  json::array tokens;
  for (const auto& k : m.token_marks) {
    tokens.push_back({{"at_ms", k.at_ms},
                      {"event", k.failed ? "fetch_failed" : "renewed"},
                      {"reason", std::string(resilience::to_string(k.reason))}});
  }
  return {
      {"bucket_ms", core::to_millis(t.bucket_width())},
      {"buckets", t.size()},
      {"series", std::move(counts)},
      {"fault_windows", std::move(windows)},
      {"breaker", {{"transitions", m.breaker_transitions}, {"marks", std::move(breaker)}}},
      {"tokens",
       {{"issued", m.tokens_issued},
        {"renewed", m.token_refreshes},
        {"fetch_failures", m.token_failures},
        {"marks", std::move(tokens)}}},
  };
}

json::array latency_histogram_json(const scenario::run_metrics& m) {
  json::array bins;
  for (const auto& b : m.latency_bins) bins.push_back({{"from_ms", b.lower}, {"to_ms", b.upper}, {"count", b.count}});
  return bins;
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
  if (f.outcome == scenario::verdict::held || f.outcome == scenario::verdict::broken) {
    o["timeline"] = timeline_json(m);
    o["latency_histogram"] = latency_histogram_json(m);
  }
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
