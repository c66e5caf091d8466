#include "scenario/webhook_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>

#include <boost/asio/executor_work_guard.hpp>

#include "client/response_mapping.hpp"
#include "scenario/auth_material.hpp"
#include "scenario/histogram.hpp"

namespace planproof::scenario {

namespace {

bool is_success(int status) { return status >= 200 && status < 300; }

double ms(core::duration d) { return core::to_millis(d); }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

mode_streams webhook_streams(const plan::integration_plan& plan, const plan::failure_mode& mode) {
  mode_streams out;
  out.streams = plan.traffic.webhooks;
  auto declared = [&](const std::string& id) {
    return std::any_of(out.streams.begin(), out.streams.end(), [&](const auto& s) { return s.endpoint == id; });
  };
  for (const auto& f : mode.inject) {
    if (!mocks::is_webhook_fault(f.kind)) continue;
    for (const auto& e : plan.endpoints) {
      if (e.direction != plan::endpoint_direction::inbound) continue;
      if (f.endpoint && *f.endpoint != e.id) continue;
      if (declared(e.id)) continue;
      plan::webhook_stream s;
      s.endpoint = e.id;
      s.rate = plan.traffic.rate;
      s.where = plan.traffic.where;
      out.streams.push_back(s);
      out.defaulted.push_back(e.id);
    }
  }
  return out;
}

webhook_setup make_webhook_setup(const plan::integration_plan& plan, const plan::failure_mode& mode,
                                 const std::vector<plan::webhook_stream>& streams, std::uint64_t seed) {
  webhook_setup p;
  // One secret per reference: two endpoints naming the same one share it, as the provider would.
  std::map<std::string, signing_secret> secrets;
  core::duration longest{};
  for (const auto& s : streams) {
    const auto* e = plan.find_endpoint(s.endpoint);
    if (e == nullptr) continue;
    const auto duration = s.duration.value_or(plan.traffic.duration);
    longest = std::max(longest, duration);
    mocks::inbound_stream in;
    in.endpoint = *e;
    // The provider's own event id field: the example's top-level `id` when it has one, whatever
    // the receiver de-duplicates by (a dedup_key at another path is the receiver's choice, and a
    // wrong one must show), else the dedup_key's path.
    const auto* example = e->request_example ? e->request_example->if_object() : nullptr;
    if (example != nullptr && example->contains("id")) in.endpoint.dedup_key = "id";
    in.rate = s.rate;
    in.count = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(s.rate * core::to_seconds(duration))));
    receiver_endpoint r;
    r.id = e->id;
    r.method = e->method;
    r.path = e->path;
    r.dedup_key = e->dedup_key;
    if (e->signature) {
      const auto ref = e->signature->secret.str();
      auto it = secrets.find(ref);
      if (it == secrets.end()) it = secrets.emplace(ref, resolve_signing_secret(e->signature->secret)).first;
      in.secret = it->second.value;
      r.secret = it->second.value;
      r.signature = mocks::signature_params(*e->signature);
    }
    r.mapper = std::make_shared<const client::response_mapper>(*e, client::received_mapping(plan, *e));
    p.options.max_in_flight = std::max<std::size_t>(p.options.max_in_flight, static_cast<std::size_t>(s.in_flight));
    p.streams.push_back(std::move(in));
    p.endpoints.push_back(std::move(r));
  }
  // Every webhook fault of the plan, those of other failure modes switched off: the table and the
  // fault draws are the same whichever failure modes a run selects.
  p.faults = mocks::webhook_faults_of(plan);
  for (std::size_t i = 0; i < p.faults.size(); ++i) {
    if (p.faults[i].failure_mode != mode.id) p.options.disabled.push_back(i);
  }
  p.options.seed = seed;
  p.options.max_records = 1'000'000;
  p.options.max_batches = 1;
  p.options.send_stale_within_tolerance = true;

  // The bound: the last event's creation, the longest hold or copy delay, a burst's length, then
  // every redelivery the provider makes with its timeouts, and a margin.
  core::duration extra{};
  const auto typed = mocks::faults_from_plan(mode.inject);
  for (const auto& d : typed.duplicates) extra = std::max(extra, d.delay * (d.copies - 1));
  for (const auto& o : typed.out_of_order) extra = std::max(extra, o.window);
  for (const auto& b : typed.bursts) {
    const double seconds = b.rate > 0 ? static_cast<double>(b.count) / b.rate : 0.0;
    extra = std::max(extra, b.at + std::chrono::duration_cast<core::duration>(std::chrono::duration<double>(seconds)));
  }
  const auto& r = p.options.retry;
  const auto& t = p.options.timeouts;
  core::duration redeliveries{};
  auto wait = r.base;
  for (int a = 1; a < r.max_attempts; ++a) {
    redeliveries += std::min(wait, r.max);
    wait = std::chrono::duration_cast<core::duration>(wait * r.multiplier);
  }
  redeliveries += (t.connect + t.read) * r.max_attempts;
  p.bound = longest + extra + redeliveries + std::chrono::seconds(10);
  return p;
}

webhook_run::webhook_run(const plan::integration_plan& plan, const plan::failure_mode& mode,
                         std::vector<plan::webhook_stream> streams, boost::asio::any_io_executor provider,
                         const core::plan_clock& clock, core::time_point origin, std::uint64_t seed)
    : clock_(clock), origin_(origin), provider_(std::move(provider)), setup_(make_webhook_setup(plan, mode, streams, seed)) {
  receiver_ = std::make_unique<webhook_receiver>(receiver_io_.get_executor(), clock, origin, setup_.endpoints,
                                                 &unix_now);
}

webhook_run::~webhook_run() { stop(); }

std::string webhook_run::start() {
  if (auto ec = receiver_->listen()) return "the webhook receiver could not listen on 127.0.0.1: " + ec.message();
  receiver_thread_ = std::thread([this] {
    auto work = boost::asio::make_work_guard(receiver_io_);
    receiver_io_.run();
  });
  setup_.options.host = "127.0.0.1";
  setup_.options.port = receiver_->port();
  deliveries_ = std::make_unique<mocks::webhook_deliveries>(provider_, clock_, setup_.streams, setup_.faults,
                                                            setup_.options);
  if (!deliveries_->notes().empty()) {
    std::string why;
    for (const auto& n : deliveries_->notes()) why += (why.empty() ? "" : "; ") + n;
    return "webhook faults that cannot be injected: " + why;
  }
  return deliveries_->start();
}

bool webhook_run::done() const { return deliveries_ && deliveries_->done(); }

void webhook_run::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (deliveries_) deliveries_->stop();
  receiver_->stop();
  receiver_io_.stop();
  if (receiver_thread_.joinable()) receiver_thread_.join();
}

webhook_metrics webhook_run::collect() const {
  if (!deliveries_) return {};
  return fold_webhooks(deliveries_->totals(), deliveries_->records(), receiver_->stats());
}

webhook_metrics fold_webhooks(const std::vector<mocks::endpoint_delivery_totals>& totals,
                              std::vector<mocks::endpoint_delivery> records,
                              const std::vector<receiver_stats>& stats) {
  // Evidence is taken in the order attempts ended.
  std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return a.record.sent_at + a.record.latency < b.record.sent_at + b.record.latency;
  });
  webhook_metrics m;
  m.ran = true;
  for (const auto& t : totals) {
    m.events += t.counters.events;
    m.attempts += t.counters.attempts;
    m.delivered += t.counters.delivered;
    m.given_up += t.counters.given_up;
    // What the provider's faults applied to: events, or attempts for bad signatures.
    const auto add = [&](const char* kind, std::uint64_t n) {
      if (n > 0) m.faults_injected[kind] += n;
    };
    add("duplicate_delivery", t.counters.duplicated_events);
    add("out_of_order", t.counters.held_back_events);
    add("bad_signature", t.counters.bad_signatures);
    add("burst", t.counters.burst_events);
  }
  // Per event (endpoint and id): its sequence, when it was first sent, and what the receiver did.
  struct seen {
    std::uint64_t sequence = 0;
    double first_ms = 0;
    std::uint32_t processed = 0;
  };
  std::map<std::pair<std::string, std::string>, seen> events;
  histogram latency;
  std::vector<std::pair<double, evidence_item>> slowest;  // latency first
  for (const auto& d : records) {
    const auto& r = d.record;
    auto [it, fresh] = events.try_emplace({d.endpoint, r.event_id});
    if (fresh || ms(r.sent_at) < it->second.first_ms) it->second = {r.sequence, ms(r.sent_at), 0};
    if (r.status != 0) {
      latency.add(ms(r.latency));
      slowest.push_back({ms(r.latency), {r.sequence, ms(r.sent_at),
                                         r.event_id + " attempt " + std::to_string(r.attempt) + ": answered " +
                                             std::to_string(r.status) + " in " + core::format_duration(r.latency)}});
    }
    const bool bad = r.signature != mocks::signature_kind::valid && r.signature != mocks::signature_kind::none;
    if (bad) {
      ++m.bad_signatures;
      if (is_success(r.status)) {
        ++m.bad_signatures_accepted;
        if (m.signature_evidence.size() < run_stats::max_evidence) {
          m.signature_evidence.push_back({r.sequence, ms(r.sent_at),
                                          r.event_id + ": signature " + std::string(mocks::to_string(r.signature)) +
                                              " accepted (" + std::to_string(r.status) + ")"});
        }
      }
    } else if (r.status == 401) {
      ++m.genuine_refused;
      if (m.signature_evidence.size() < run_stats::max_evidence) {
        m.signature_evidence.push_back({r.sequence, ms(r.sent_at), r.event_id + ": a valid signature refused (401)"});
      }
    }
  }
  for (const auto& s : stats) {
    m.processed += s.processed;
    m.duplicates_dropped += s.duplicates;
    m.unusable += s.rejected_unusable;
    for (const auto& [why, n] : s.signature_failures) m.signature_failures[why] += n;
    for (const auto& e : s.unusable_evidence) {
      if (m.unusable_evidence.size() < run_stats::max_evidence) m.unusable_evidence.push_back(e);
    }
    for (const auto& [id, n] : s.processed_events) {
      auto it = events.find({s.endpoint, id});
      if (it != events.end()) it->second.processed += n;
    }
  }
  // Events the provider created but never got to send (the run's bound) were never processed either.
  const auto attempted = static_cast<std::uint64_t>(events.size());
  m.never_processed = m.events > attempted ? m.events - attempted : 0;
  for (const auto& [key, e] : events) {
    if (e.processed == 1) {
      ++m.processed_once;
      continue;
    }
    if (e.processed == 0) ++m.never_processed;
    else ++m.processed_again;
    if (m.processing_evidence.size() < run_stats::max_evidence) {
      m.processing_evidence.push_back(
          {e.sequence, e.first_ms,
           key.first + " " + key.second +
               (e.processed == 0 ? ": never processed" : ": processed " + std::to_string(e.processed) + " times")});
    }
  }
  m.p50_latency_ms = latency.quantile(0.5);
  m.p99_latency_ms = latency.quantile(0.99);
  m.max_latency_ms = latency.max();
  const auto keep = std::min<std::size_t>(slowest.size(), run_stats::max_evidence);
  std::partial_sort(slowest.begin(), slowest.begin() + static_cast<std::ptrdiff_t>(keep), slowest.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; i < keep; ++i) m.slowest_evidence.push_back(std::move(slowest[i].second));
  return m;
}

}  // namespace planproof::scenario
