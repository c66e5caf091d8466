#include "mocks/webhook_deliveries.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace planproof::mocks {

namespace {

// Plan faults can ask for up to a million burst events each; the batch as a whole stays bounded.
constexpr std::uint64_t max_events_per_batch = 1'000'000;

bool icontains(std::string_view text, std::string_view part) {
  return std::search(text.begin(), text.end(), part.begin(), part.end(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         }) != text.end();
}

std::vector<plan::fault> plan_faults(const std::vector<webhook_fault_entry>& table) {
  std::vector<plan::fault> out;
  out.reserve(table.size());
  for (const auto& e : table) out.push_back(e.fault);
  return out;
}

// Drops from `faults` what came from the table indexes in `excluded`.
void remove_sources(webhook_faults& faults, const std::vector<std::size_t>& excluded) {
  auto gone = [&](const auto& f) {
    return std::find(excluded.begin(), excluded.end(), f.scope.source) != excluded.end();
  };
  std::erase_if(faults.duplicates, gone);
  std::erase_if(faults.out_of_order, gone);
  std::erase_if(faults.bad_signatures, gone);
  std::erase_if(faults.bursts, gone);
}

}  // namespace

bool is_webhook_fault(std::string_view kind) noexcept {
  return kind == "duplicate_delivery" || kind == "out_of_order" || kind == "bad_signature" || kind == "burst";
}

std::vector<webhook_fault_entry> webhook_faults_of(const plan::integration_plan& plan) {
  std::vector<webhook_fault_entry> out;
  for (const auto& mode : plan.failure_modes) {
    for (const auto& f : mode.inject) {
      if (is_webhook_fault(f.kind)) out.push_back({f, mode.id});
    }
  }
  return out;
}

fault_assignment assign_faults(const std::vector<inbound_stream>& streams, const std::vector<webhook_fault_entry>& faults,
                               const webhook_deliveries_options& options) {
  fault_assignment out;
  out.excluded.resize(streams.size());
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const auto& entry = faults[i];
    const std::string who = entry.failure_mode + ": " + entry.fault.kind;
    const auto mapped = faults_from_plan({entry.fault});
    if (!mapped.errors.empty()) {
      out.notes.push_back(who + ": " + mapped.errors.front().message);
      for (auto& excluded : out.excluded) excluded.push_back(i);
      continue;
    }
    bool anywhere = false;
    for (std::size_t s = 0; s < streams.size(); ++s) {
      const auto& endpoint = streams[s].endpoint;
      if (entry.fault.endpoint && *entry.fault.endpoint != endpoint.id) {
        out.excluded[s].push_back(i);
        continue;
      }
      webhook_sender_config probe;
      probe.target.port = 1;
      probe.endpoint = endpoint;
      probe.secret = streams[s].secret;
      probe.faults = mapped;
      probe.send_stale_within_tolerance = options.send_stale_within_tolerance;
      if (auto why = validate(probe); !why.empty()) {
        out.notes.push_back(who + " on " + endpoint.id + ": " + why);
        out.excluded[s].push_back(i);
        continue;
      }
      anywhere = true;
    }
    if (!anywhere && entry.fault.endpoint &&
        std::none_of(streams.begin(), streams.end(),
                     [&](const inbound_stream& s) { return s.endpoint.id == *entry.fault.endpoint; })) {
      out.notes.push_back(who + ": endpoint " + *entry.fault.endpoint + " is not an inbound endpoint");
    }
  }
  return out;
}

webhook_sender_config batch_config(const std::vector<inbound_stream>& streams, std::size_t index,
                                   const std::vector<webhook_fault_entry>& faults, const fault_assignment& assigned,
                                   const webhook_deliveries_options& options, std::size_t batch, std::uint64_t count,
                                   std::uint64_t first_sequence, const std::vector<std::size_t>& disabled) {
  const auto& stream = streams[index];
  const bool first = batch == 0;
  const std::uint64_t base = first ? stream.count : count;
  webhook_sender_config config;
  config.target.host = options.host;
  config.target.port = options.port;
  config.target.path = options.base_path + stream.endpoint.path;
  // A provider's own attempt counter, when the plan documents one among the headers it sends.
  for (const auto& [name, value] : stream.endpoint.headers) {
    if (icontains(name, "attempt")) config.target.attempt_header = name;
  }
  config.endpoint = stream.endpoint;
  config.secret = stream.secret;
  config.faults = faults_from_plan(plan_faults(faults), stream.endpoint.id);
  config.faults.errors.clear();
  remove_sources(config.faults, assigned.excluded[index]);
  if (!first) config.faults.bursts.clear();
  std::uint64_t events = base;
  for (const auto& b : config.faults.bursts) events += b.count;
  config.traffic.max_events = std::min(events, max_events_per_batch);
  config.traffic.rate = stream.rate;
  // Base events are created at i / rate for i < base: a duration just past the last of them.
  config.traffic.duration = core::duration(
      static_cast<core::duration::rep>(std::llround((static_cast<double>(base) - 0.5) / stream.rate * 1e9)));
  config.traffic.max_in_flight = options.max_in_flight;
  config.retry = options.retry;
  config.timeouts = options.timeouts;
  // Batches of all streams so far, then the stream: the seeds of one serve never repeat.
  config.seed = options.seed + batch * streams.size() + index;
  config.max_records = options.max_records;
  config.first_sequence = first_sequence;
  config.disabled_faults = disabled;
  config.send_stale_within_tolerance = options.send_stale_within_tolerance;
  return config;
}

webhook_deliveries::webhook_deliveries(boost::asio::any_io_executor ex, const core::plan_clock& clock,
                                       std::vector<inbound_stream> streams, std::vector<webhook_fault_entry> faults,
                                       webhook_deliveries_options options)
    : ex_(std::move(ex)),
      clock_(clock),
      streams_(std::move(streams)),
      faults_(std::move(faults)),
      options_(std::move(options)),
      assigned_(assign_faults(streams_, faults_, options_)),
      enabled_(faults_.size(), true),
      next_sequence_(streams_.size(), 1) {
  for (const auto index : options_.disabled) {
    if (index < enabled_.size()) enabled_[index] = false;
  }
}

webhook_deliveries::~webhook_deliveries() { stop(); }

std::string webhook_deliveries::url_of(const inbound_stream& s) const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port) +
         options_.base_path + s.endpoint.path;
}

std::string webhook_deliveries::start() {
  std::lock_guard lock(mutex_);
  if (!batches_.empty()) return "deliveries have started already";
  return start_batch(0);
}

std::string webhook_deliveries::send(std::uint64_t count) {
  if (count == 0 || count > max_send_count) {
    return "count must be from 1 to " + std::to_string(max_send_count) + ", got " + std::to_string(count);
  }
  std::lock_guard lock(mutex_);
  if (batches_.empty()) return "deliveries have not started";
  return start_batch(count);
}

std::string webhook_deliveries::start_batch(std::uint64_t count) {
  if (stopped_) return "the mock is stopping";
  if (batches_.size() / std::max<std::size_t>(1, streams_.size()) >= options_.max_batches) {
    return "at most " + std::to_string(options_.max_batches) + " batches of deliveries per serve (" +
           std::to_string(options_.max_batches) + " sent already)";
  }
  std::vector<std::size_t> disabled;
  for (std::size_t i = 0; i < enabled_.size(); ++i) {
    if (!enabled_[i]) disabled.push_back(i);
  }
  const auto origin = clock_.now();
  const std::size_t number = batches_.size() / std::max<std::size_t>(1, streams_.size());
  std::vector<batch> started;
  std::vector<std::uint64_t> reserved(streams_.size());
  for (std::size_t s = 0; s < streams_.size(); ++s) {
    const auto& stream = streams_[s];
    auto config = batch_config(streams_, s, faults_, assigned_, options_, number, count, next_sequence_[s], disabled);
    reserved[s] = config.traffic.max_events;
    auto sender =
        std::make_unique<webhook_sender>(ex_, clock_, origin, clock_.scale(), std::move(config));
    if (auto ec = sender->start()) {
      for (auto& b : started) b.sender->stop();
      return stream.endpoint.id + ": " + (sender->start_error().empty() ? ec.message() : sender->start_error());
    }
    started.push_back({s, origin - clock_.origin(), std::move(sender)});
  }
  // Ids are reserved for every event the batch may create, so no later batch reuses one.
  for (std::size_t s = 0; s < streams_.size(); ++s) next_sequence_[s] += reserved[s];
  for (auto& b : started) batches_.push_back(std::move(b));
  return {};
}

std::size_t webhook_deliveries::batches() const {
  std::lock_guard lock(mutex_);
  return streams_.empty() ? 0 : batches_.size() / streams_.size();
}

void webhook_deliveries::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  for (auto& b : batches_) b.sender->stop();
}

std::vector<webhook_fault_state> webhook_deliveries::faults() const {
  std::lock_guard lock(mutex_);
  std::vector<webhook_fault_state> out;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    out.push_back({i, faults_[i].failure_mode, faults_[i].fault.kind, faults_[i].fault.endpoint, enabled_[i], 0});
  }
  for (const auto& b : batches_) {
    for (const auto& [source, n] : b.sender->counters().injected) {
      if (source < out.size()) out[source].injected += n;
    }
  }
  return out;
}

bool webhook_deliveries::set_fault_enabled(std::size_t index, bool enabled) {
  std::lock_guard lock(mutex_);
  if (index >= enabled_.size()) return false;
  enabled_[index] = enabled;
  for (auto& b : batches_) b.sender->set_fault_enabled(index, enabled);
  return true;
}

std::vector<endpoint_delivery> webhook_deliveries::records() const {
  std::vector<endpoint_delivery> out;
  {
    std::lock_guard lock(mutex_);
    for (const auto& b : batches_) {
      for (auto& r : b.sender->records()) {
        r.sent_at += b.offset;
        out.push_back({streams_[b.stream].endpoint.id, std::move(r)});
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const endpoint_delivery& a, const endpoint_delivery& b) {
    return a.record.sent_at + a.record.latency < b.record.sent_at + b.record.latency;
  });
  return out;
}

std::vector<endpoint_delivery_totals> webhook_deliveries::totals() const {
  std::vector<endpoint_delivery_totals> out;
  for (const auto& s : streams_) out.push_back({s.endpoint.id, {}});
  std::lock_guard lock(mutex_);
  for (const auto& b : batches_) {
    const auto c = b.sender->counters();
    auto& t = out[b.stream].counters;
    t.events += c.events;
    t.dropped_events += c.dropped_events;
    t.copies += c.copies;
    t.attempts += c.attempts;
    t.delivered += c.delivered;
    t.given_up += c.given_up;
    t.redeliveries += c.redeliveries;
    t.bad_signatures += c.bad_signatures;
    t.errors += c.errors;
    t.in_flight += c.in_flight;
    t.dropped_records += c.dropped_records;
    t.held_back_events += c.held_back_events;
    t.duplicated_events += c.duplicated_events;
    t.burst_events += c.burst_events;
    t.skipped_burst_events += c.skipped_burst_events;
    for (const auto& [source, n] : c.injected) t.injected[source] += n;
  }
  return out;
}

bool webhook_deliveries::done() const {
  std::lock_guard lock(mutex_);
  return !batches_.empty() &&
         std::all_of(batches_.begin(), batches_.end(), [](const batch& b) { return b.sender->done(); });
}

}  // namespace planproof::mocks
