#include "report/json_report.hpp"

#include <array>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/diagnostic.hpp"
#include "core/logging.hpp"
#include "core/units.hpp"

namespace planproof::report {
namespace json = boost::json;
namespace {

// The keys of its profile only: a closed loop has no rate, a constant rate no burst.
json::object traffic_json(const plan::traffic_config& t) {
  using plan::traffic_profile;
  json::object o{{"endpoint", t.endpoint}, {"profile", std::string(plan::to_string(t.profile))}};
  if (t.profile != traffic_profile::closed_loop) o["rate_per_s"] = t.rate;
  if (t.profile == traffic_profile::ramp) o["from_per_s"] = t.from;
  if (t.profile == traffic_profile::burst) {
    o["burst"] = {{"rate_per_s", t.burst.rate},
                  {"every_ms", core::to_millis(t.burst.every)},
                  {"length_ms", core::to_millis(t.burst.length)},
                  {"at_ms", core::to_millis(t.burst.at)}};
  }
  if (t.profile == traffic_profile::closed_loop) o["think_time_ms"] = core::to_millis(t.think_time);
  o["concurrency"] = t.concurrency;
  o["duration_ms"] = core::to_millis(t.duration);
  return o;
}

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
      {"traffic", traffic_json(run.traffic)},
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
  // Where the failure mode writes its own traffic, the settings' plan-wide traffic is not what it ran.
  if (f.traffic) o["traffic"] = traffic_json(*f.traffic);
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
  if (m.pull) {
    const auto& p = *m.pull;
    o["metrics"].as_object()["pull"] = {
        {"pulls", p.pulls},
        {"pages_read", p.pages_read},
        {"refetches", p.refetches},
        {"records_expected", p.records_expected},
        {"processed_once", p.processed_once},
        {"processed_twice", p.processed_twice},
        {"missed", p.missed},
        {"duplicates_dropped", p.duplicates_dropped},
    };
  }
  if (const auto& w = m.webhooks; w.ran) {
    o["metrics"].as_object()["webhooks"] = {
        {"events", w.events},
        {"delivery_attempts", w.attempts},
        {"delivered", w.delivered},
        {"given_up", w.given_up},
        {"processed", w.processed},
        {"processed_once", w.processed_once},
        {"never_processed", w.never_processed},
        {"processed_again", w.processed_again},
        {"duplicates_dropped", w.duplicates_dropped},
        {"bad_signatures", w.bad_signatures},
        {"bad_signatures_accepted", w.bad_signatures_accepted},
        {"genuine_refused", w.genuine_refused},
        {"signature_failures", counts(w.signature_failures)},
        {"unusable", w.unusable},
        {"p50_latency_ms", w.p50_latency_ms},
        {"p99_latency_ms", w.p99_latency_ms},
        {"max_latency_ms", w.max_latency_ms},
    };
  }
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
  json::object report{
      {"plan", run.plan_name},
      {"plan_file", run.plan_file},
      {"phase", run.phase.empty() ? json::value(nullptr) : json::value(run.phase)},
      {"mode", run.mode},
      {"upstream", run.upstream.empty() ? json::value(nullptr) : json::value(run.upstream)},
      {"interrupted", run.interrupted},
      {"seed", run.seed},
      {"time_scale", run.time_scale},
  };
  if (run.shard) {
    report["shard"] = {{"index", run.shard->shard.index},
                       {"count", run.shard->shard.count},
                       {"selected", run.shard->selected}};
  }
  report["settings"] = settings_json(run);
  report["notes"] = std::move(notes);
  report["summary"] = {{"failure_modes", run.failure_modes.size()},
                       {"held", run.count(verdict::held)},
                       {"broken", run.count(verdict::broken)},
                       {"skipped", run.count(verdict::skipped)},
                       {"error", run.count(verdict::error)},
                       {"requests", requests},
                       {"upstream_attempts", upstream},
                       {"succeeded", succeeded},
                       {"dead_lettered", dead},
                       {"lost", lost},
                       {"duplicate_effects", duplicates}};
  report["failure_modes"] = std::move(modes);
  return report;
}

std::error_code write_json(const scenario::run_result& run, const std::filesystem::path& path) {
  return core::write_file_atomically(path, boost::json::serialize(to_json(run)) + "\n", core::file_access::owner_only);
}

namespace {

// Reads the fields of one JSON object, naming the field (`failure_modes[2].metrics.requests`) in
// every complaint.
class fields {
 public:
  fields(const json::value& v, std::string path) : path_(std::move(path)) {
    if (!v.is_object()) fail(path_, "expected an object");
    object_ = &v.as_object();
  }

  const json::value& at(std::string_view key) const {
    const auto* v = object_->if_contains(key);
    if (v == nullptr) fail(name(key), "missing");
    return *v;
  }
  bool has(std::string_view key) const { return object_->contains(key); }
  std::string name(std::string_view key) const { return path_.empty() ? std::string(key) : path_ + "." + std::string(key); }

  std::string text(std::string_view key) const {
    const auto& v = at(key);
    if (!v.is_string()) fail(name(key), "expected a string");
    return std::string(v.as_string());
  }
  std::uint64_t count(std::string_view key) const { return whole(at(key), name(key)); }
  double number(std::string_view key) const {
    const auto& v = at(key);
    if (!v.is_number()) fail(name(key), "expected a number");
    return v.to_number<double>();
  }
  bool flag(std::string_view key) const {
    const auto& v = at(key);
    if (!v.is_bool()) fail(name(key), "expected true or false");
    return v.as_bool();
  }
  const json::array& list(std::string_view key) const {
    const auto& v = at(key);
    if (!v.is_array()) fail(name(key), "expected an array");
    return v.as_array();
  }
  fields object(std::string_view key) const { return {at(key), name(key)}; }
  core::duration millis(std::string_view key) const {
    return core::duration{static_cast<core::duration::rep>(std::llround(number(key) * 1e6))};
  }
  std::map<std::string, std::uint64_t> counts(std::string_view key) const {
    const auto o = object(key);
    std::map<std::string, std::uint64_t> out;
    for (const auto& [k, v] : *o.object_) out[std::string(k)] = whole(v, o.name(k));
    return out;
  }

  [[noreturn]] static void fail(const std::string& where, std::string_view why) {
    throw report_format_error(where + ": " + std::string(why));
  }
  static std::uint64_t whole(const json::value& v, const std::string& where) {
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    fail(where, "expected a whole number >= 0");
  }

 private:
  const json::object* object_ = nullptr;
  std::string path_;
};

// Puts the numbers of `text`, in document order, back into `v` (parsed from it): each double read
// again from its own digits. Boost.JSON 1.81 reads some 17-digit doubles a unit in the last place
// off, and a report read back must hold the numbers it was written with.
void reread_doubles(json::value& v, const std::vector<std::string_view>& numbers, std::size_t& next) {
  if (v.is_number()) {
    if (next >= numbers.size()) return;
    const auto digits = numbers[next++];
    double d = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (v.is_double() && ec == std::errc() && end == digits.data() + digits.size()) v = d;
  } else if (v.is_array()) {
    for (auto& x : v.as_array()) reread_doubles(x, numbers, next);
  } else if (v.is_object()) {
    for (auto& [k, x] : v.as_object()) reread_doubles(x, numbers, next);
  }
}

json::value parse_exactly(std::string_view text, boost::system::error_code& ec) {
  auto v = json::parse(text, ec);
  if (ec) return v;
  std::vector<std::string_view> numbers;  // valid JSON: outside strings, a digit or '-' starts a number
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) i += text[i] == '\\' ? 1 : 0;
      ++i;
    } else if (text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
      const auto end = text.find_first_not_of("+-0123456789.eE", i);
      numbers.push_back(text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
      i = end == std::string_view::npos ? text.size() : end;
    } else {
      ++i;
    }
  }
  std::size_t next = 0;
  reread_doubles(v, numbers, next);
  return v;
}

std::string item(const std::string& list, std::size_t i) { return list + "[" + std::to_string(i) + "]"; }

template <class Enum, std::size_t N>
Enum enum_value(const fields& f, std::string_view key, const std::array<Enum, N>& values) {
  const auto text = f.text(key);
  for (const auto v : values) {
    if (to_string(v) == text) return v;  // plan:: or scenario::, found by argument
  }
  fields::fail(f.name(key), "unknown value '" + text + "'");
}

std::vector<plan::retry_condition> conditions_from(const fields& f, std::string_view key) {
  std::vector<plan::retry_condition> out;
  const auto& list = f.list(key);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& v = list[i];
    if (v.is_int64() && v.as_int64() >= 100 && v.as_int64() <= 599) {
      out.emplace_back(static_cast<int>(v.as_int64()));
    } else if (const auto e = v.is_string() ? core::parse_error_class(v.as_string()) : std::nullopt) {
      out.emplace_back(*e);
    } else {
      fields::fail(item(f.name(key), i), "expected an HTTP status or an error class");
    }
  }
  return out;
}

void settings_from(const fields& settings, scenario::run_result& run) {
  const auto retry = settings.object("retry");
  auto& r = run.retry;
  const auto max_attempts = retry.count("max_attempts");
  if (max_attempts > 1'000'000) fields::fail(retry.name("max_attempts"), "out of range");
  r.max_attempts = static_cast<int>(max_attempts);
  const auto backoff = retry.object("backoff");
  r.backoff.strategy = enum_value(backoff, "strategy",
                                  std::array{plan::backoff_strategy::constant, plan::backoff_strategy::linear,
                                             plan::backoff_strategy::exponential});
  r.backoff.base = backoff.millis("base_ms");
  r.backoff.max = backoff.millis("max_ms");
  r.backoff.jitter = enum_value(backoff, "jitter",
                                std::array{plan::jitter_kind::none, plan::jitter_kind::full, plan::jitter_kind::equal,
                                           plan::jitter_kind::decorrelated});
  r.retry_on = conditions_from(retry, "retry_on");
  r.fatal_on = conditions_from(retry, "fatal_on");
  const auto retry_after = retry.object("retry_after");
  r.retry_after.honor = retry_after.flag("honor");
  r.retry_after.cap = retry_after.millis("cap_ms");
  const auto timeouts = retry.object("timeouts");
  r.timeouts.connect = timeouts.millis("connect_ms");
  r.timeouts.read = timeouts.millis("read_ms");
  r.timeouts.total = timeouts.millis("total_ms");
  r.dead_letter_path = retry.object("dead_letter").text("path");
  run.dead_letter_path = r.dead_letter_path;

  const auto traffic = settings.object("traffic");
  run.traffic.endpoint = traffic.text("endpoint");
  run.traffic.rate = traffic.number("rate_per_s");
  const auto concurrency = traffic.count("concurrency");
  if (concurrency > 1'000'000) fields::fail(traffic.name("concurrency"), "out of range");
  run.traffic.concurrency = static_cast<int>(concurrency);
  run.traffic.duration = traffic.millis("duration_ms");
}

std::vector<scenario::evidence_item> evidence_from(const fields& f, std::string_view key) {
  std::vector<scenario::evidence_item> out;
  if (!f.has(key)) return out;
  const auto& list = f.list(key);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const fields ev(list[i], item(f.name(key), i));
    out.push_back({ev.count("request"), ev.number("at_ms"), ev.text("what")});
  }
  return out;
}

scenario::failure_mode_result failure_mode_from(const fields& f) {
  scenario::failure_mode_result r;
  r.id = f.text("id");
  r.outcome = enum_value(f, "verdict",
                         std::array{scenario::verdict::held, scenario::verdict::broken, scenario::verdict::error,
                                    scenario::verdict::skipped});
  if (f.has("reason")) r.reason = f.text("reason");
  const auto& expectations = f.list("expectations");
  for (std::size_t i = 0; i < expectations.size(); ++i) {
    const fields x(expectations[i], item(f.name("expectations"), i));
    scenario::expectation_result e;
    e.name = x.text("name");
    e.expected = x.text("expected");
    e.observed = x.at("observed");
    e.held = x.flag("held");
    if (x.has("implicit")) e.implicit = x.flag("implicit");
    if (x.has("note")) e.note = x.text("note");
    e.evidence = evidence_from(x, "evidence");
    r.expectations.push_back(std::move(e));
  }
  const auto m = f.object("metrics");
  auto& out = r.metrics;
  out.planned = m.count("planned");
  out.submitted = m.count("requests");
  out.succeeded = m.count("succeeded");
  out.dead_lettered = m.count("dead_lettered");
  out.failed = m.count("failed");
  out.lost = m.count("lost");
  out.attempts = m.count("client_attempts");
  out.upstream_requests = m.count("upstream_attempts");
  out.side_effects = m.count("side_effects");
  out.duplicate_effects = m.count("duplicate_effects");
  const auto max_attempts = m.count("max_attempts");
  if (max_attempts > UINT32_MAX) fields::fail(m.name("max_attempts"), "out of range");
  out.max_attempts = static_cast<std::uint32_t>(max_attempts);
  out.faults_injected = m.counts("faults_injected");
  out.attempt_results = m.counts("attempt_results");
  out.end_reasons = m.counts("end_reasons");
  out.p50_latency_ms = m.number("p50_latency_ms");
  out.p99_latency_ms = m.number("p99_latency_ms");
  out.max_latency_ms = m.number("max_latency_ms");
  out.duration_ms = m.number("duration_ms");
  if (m.has("pull")) {
    // The evidence of the pull is its expectation's; the counts are here.
    const auto p = m.object("pull");
    auto& pull = out.pull.emplace();
    pull.pulls = p.count("pulls");
    pull.pages_read = p.count("pages_read");
    pull.refetches = p.count("refetches");
    pull.records_expected = p.count("records_expected");
    pull.processed_once = p.count("processed_once");
    pull.processed_twice = p.count("processed_twice");
    pull.missed = p.count("missed");
    pull.duplicates_dropped = p.count("duplicates_dropped");
  }
  if (m.has("webhooks")) {
    const auto w = m.object("webhooks");
    auto& o = out.webhooks;
    o.ran = true;
    o.events = w.count("events");
    o.attempts = w.count("delivery_attempts");
    o.delivered = w.count("delivered");
    o.given_up = w.count("given_up");
    o.processed = w.count("processed");
    o.processed_once = w.count("processed_once");
    o.never_processed = w.count("never_processed");
    o.processed_again = w.count("processed_again");
    o.duplicates_dropped = w.count("duplicates_dropped");
    o.bad_signatures = w.count("bad_signatures");
    o.bad_signatures_accepted = w.count("bad_signatures_accepted");
    o.genuine_refused = w.count("genuine_refused");
    o.signature_failures = w.counts("signature_failures");
    o.unusable = w.count("unusable");
    o.p50_latency_ms = w.number("p50_latency_ms");
    o.p99_latency_ms = w.number("p99_latency_ms");
    o.max_latency_ms = w.number("max_latency_ms");
  }
  return r;
}

}  // namespace

scenario::run_result from_json(const json::value& report) {
  const fields f(report, "");
  scenario::run_result run;
  run.plan_name = f.text("plan");
  run.plan_file = f.text("plan_file");
  if (!f.at("phase").is_null()) run.phase = f.text("phase");
  run.mode = f.text("mode");
  if (!f.at("upstream").is_null()) run.upstream = f.text("upstream");
  run.interrupted = f.flag("interrupted");
  run.seed = f.count("seed");
  run.time_scale = f.number("time_scale");
  if (f.has("shard")) {
    const auto shard = f.object("shard");
    scenario::shard_info info{{shard.count("index"), shard.count("count")}, shard.count("selected")};
    if (info.shard.count == 0 || info.shard.index == 0 || info.shard.index > info.shard.count) {
      fields::fail("shard", "index must be between 1 and count");
    }
    run.shard = info;
  }
  settings_from(f.object("settings"), run);
  // A simulated run keeps its dead letters as counts: the plan's file was never written.
  if (run.mode == "sim") run.dead_letter_path.clear();
  const auto& notes = f.list("notes");
  for (std::size_t i = 0; i < notes.size(); ++i) {
    if (!notes[i].is_string()) fields::fail(item("notes", i), "expected a string");
    run.notes.emplace_back(notes[i].as_string());
  }
  f.object("summary");  // recomputed from the failure modes; only its presence is checked
  const auto& modes = f.list("failure_modes");
  for (std::size_t i = 0; i < modes.size(); ++i) {
    run.failure_modes.push_back(failure_mode_from(fields(modes[i], item("failure_modes", i))));
  }
  return run;
}

scenario::run_result read_json(const std::filesystem::path& path) {
  auto fail = [&](const std::string& why) -> scenario::run_result {
    throw core::diagnostic_error(core::diagnostic{{path.string()}, core::severity::error, why});
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read the report: " + std::error_code(errno, std::generic_category()).message());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail("cannot read the report: " + std::error_code(errno, std::generic_category()).message());
  boost::system::error_code ec;
  const auto value = parse_exactly(text.str(), ec);
  if (ec) return fail("not JSON: " + ec.message());
  try {
    return from_json(value);
  } catch (const report_format_error& e) {
    return fail(std::string("not a planproof JSON report: ") + e.what());
  }
}

}  // namespace planproof::report
