#include "scenario/webhook_sim.hpp"

#include <algorithm>
#include <cctype>

#include "mocks/webhook_deliveries.hpp"

namespace planproof::scenario {

namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

webhook_sim::webhook_sim(sim::scheduler& sched, core::time_point origin, webhook_setup setup,
                         core::duration network_delay, std::uint32_t wake)
    : sched_(sched),
      origin_(origin),
      setup_(std::move(setup)),
      delay_(network_delay),
      wake_(wake),
      receiver_(setup_.endpoints) {}

std::string webhook_sim::start() {
  // Any address will do: nothing is sent, but the configuration is checked as run checks it.
  setup_.options.host = "127.0.0.1";
  setup_.options.port = 1;
  const auto assigned = mocks::assign_faults(setup_.streams, setup_.faults, setup_.options);
  if (!assigned.notes.empty()) {
    std::string why;
    for (const auto& n : assigned.notes) why += (why.empty() ? "" : "; ") + n;
    return "webhook faults that cannot be injected: " + why;
  }
  for (std::size_t s = 0; s < setup_.streams.size(); ++s) {
    cores_.emplace_back(mocks::batch_config(setup_.streams, s, setup_.faults, assigned, setup_.options, 0, 0, 1,
                                            setup_.options.disabled));
    if (auto why = cores_.back().start(); !why.empty()) return setup_.streams[s].endpoint.id + ": " + why;
  }
  generation_.assign(cores_.size(), 0);
  woken_at_.assign(cores_.size(), std::nullopt);
  for (std::size_t s = 0; s < cores_.size(); ++s) advance(s);
  return {};
}

core::duration webhook_sim::plan_now() const { return sched_.now() - origin_; }

std::int64_t webhook_sim::unix_now() const {
  return unix_origin + std::chrono::duration_cast<std::chrono::seconds>(plan_now()).count();
}

// Creates what is due, starts every attempt a slot allows, and wakes the stream again when its
// next creation or delivery is due (an earlier wake replaces a later one).
void webhook_sim::advance(std::size_t stream) {
  auto& provider = cores_[stream];
  const auto now = plan_now();
  provider.create_due(now, provider.config().disabled_faults);
  while (auto a = provider.take_due(now, unix_now())) {
    const auto id = next_flight_++;
    flights_.emplace(id, flight{stream, std::move(*a), now});
    sched_.after(delay_, wake_ + 1, id);
  }
  const auto next = provider.next_due();
  if (!next) return;
  if (woken_at_[stream] && *woken_at_[stream] >= now && *woken_at_[stream] <= *next) return;
  woken_at_[stream] = *next;
  sched_.at(origin_ + *next, wake_, static_cast<std::uint32_t>(stream), ++generation_[stream]);
}

void webhook_sim::dispatch(const sim::sim_event& e) {
  if (e.kind == wake_) {
    if (e.tag != generation_[e.slot]) return;  // a later wake replaced it
    woken_at_[e.slot].reset();
    advance(e.slot);
    return;
  }
  // An attempt reaches the receiver, whose answer is back at once: the delay is the round trip.
  const auto it = flights_.find(e.slot);
  if (it == flights_.end()) return;
  auto f = std::move(it->second);
  flights_.erase(it);
  const auto& a = f.attempt;
  const core::header_lookup lookup = [&a](std::string_view name) -> std::optional<std::string_view> {
    for (const auto& h : a.headers) {
      if (same_name(h.name, name)) return std::string_view(h.value);
    }
    return std::nullopt;
  };
  const auto answer = receiver_.handle(a.method, a.target, lookup, a.body, unix_now(), core::to_millis(plan_now()));
  cores_[f.stream].finish(a, f.started, plan_now(), answer.status, mocks::delivery_error::none);
  advance(f.stream);
}

webhook_metrics webhook_sim::collect() const {
  std::vector<mocks::endpoint_delivery_totals> totals;
  std::vector<mocks::endpoint_delivery> records;
  for (std::size_t s = 0; s < cores_.size(); ++s) {
    const auto& id = setup_.streams[s].endpoint.id;
    totals.push_back({id, cores_[s].counters()});
    for (const auto& r : cores_[s].records()) records.push_back({id, r});
  }
  return fold_webhooks(totals, std::move(records), receiver_.stats());
}

}  // namespace planproof::scenario
