#include "scenario/sim_runner.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "core/units.hpp"
#include "mocks/webhook_deliveries.hpp"
#include "plan/catalog.hpp"
#include "plan/traffic_profile.hpp"
#include "scenario/auth_material.hpp"
#include "scenario/event_log.hpp"
#include "scenario/expectations.hpp"
#include "scenario/secret_scan.hpp"
#include "scenario/pull_walk.hpp"
#include "scenario/run_stats.hpp"
#include "scenario/timeline.hpp"
#include "scenario/webhook_sim.hpp"
#include "sim/client.hpp"
#include "sim/scheduler.hpp"
#include "sim/upstream.hpp"

namespace planproof::scenario {
namespace {

enum traffic_event : std::uint32_t { ev_arrival = sim::first_free_event_kind, ev_start, ev_refetch, ev_webhook };

// Events between two looks at the stop token and the progress callback.
constexpr std::uint64_t check_every = 1u << 14;

// The failure mode's traffic on the virtual clock, as the live traffic generator sends it: open
// loop (request i due at its schedule offset, started then or when one of `concurrency` workers is
// free) or closed loop (each worker sends its next request when its last has ended and think_time
// has passed, until the duration is over). On a paginated endpoint each worker walks the
// collection page after page (pull_walk), fetching a page again at once when the walk says so.
struct sim_traffic {
  sim::scheduler& sched;
  sim::sim_client* client = nullptr;
  const plan::traffic_config& traffic;
  plan::arrival_schedule schedule;
  std::size_t endpoint = 0;
  const plan::endpoint& spec;
  std::shared_ptr<const mocks::paged_collection> pages;  // null: not paginated
  core::time_point origin;
  std::uint64_t workers = 0;
  std::vector<std::uint32_t> idle;  // open loop: free workers
  std::unordered_map<std::uint64_t, std::uint32_t> worker_of;  // requests in flight
  std::uint64_t backlog = 0;   // open loop: requests due while every worker was busy
  std::uint64_t next = 0;      // requests of the schedule due so far (open) or started (closed)
  std::uint64_t refetches = 0; // pages fetched again: extra requests, planned too
  std::uint64_t* ids;          // shared by every client's traffic: request ids are unique in the run
  std::uint32_t owner = 0;     // the client it drives
  bool stopping = false;
  std::vector<pull_walk> walks;  // one per worker on a paginated endpoint
  std::unordered_map<const std::string*, std::optional<page_records>>* pages_read = nullptr;

  sim_traffic(sim::scheduler& s, const plan::traffic_config& t, std::size_t e, const plan::endpoint& ep,
              std::shared_ptr<const mocks::paged_collection> p, core::time_point o, std::uint64_t& i, std::uint32_t w,
              pull_tally& pulls, std::uint32_t max_fetches)
      : sched(s), traffic(t), schedule(t), endpoint(e), spec(ep), pages(std::move(p)), origin(o), ids(&i), owner(w) {
    const auto most = closed_loop() ? plan::max_planned_requests : schedule.size();
    workers = std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max(1, t.concurrency)), most);
    for (auto k = workers; k-- > 0;) idle.push_back(static_cast<std::uint32_t>(k));
    if (pages) {
      // A record's id is made from its JSON: worked out once per record, not once per page read.
      auto known = std::make_shared<std::vector<std::string>>(pages->size());
      walks.reserve(workers);
      for (std::uint64_t k = 0; k < workers; ++k) {
        walks.emplace_back(pull_walk::settings{pages->size(), pages->page_size(), spec.pagination->refetch_on_page_shift,
                                               max_fetches},
                           [c = pages, known](std::size_t i) {
                             auto& id = (*known)[i];
                             if (id.empty()) id = c->record_id(i);
                             return id;
                           },
                           pulls);
      }
    }
  }
  bool closed_loop() const noexcept { return traffic.profile == plan::traffic_profile::closed_loop; }
  std::uint64_t planned() const noexcept { return (closed_loop() ? next : schedule.size()) + refetches; }

  void begin() {
    if (closed_loop()) {
      for (std::uint32_t w = 0; w < workers; ++w) sched.at(origin, ev_start, w, 0, owner);
    } else if (schedule.size() != 0) {
      sched.at(origin + schedule.at(0), ev_arrival, 0, 0, owner);
    }
  }
  void start(std::uint32_t worker) {
    const auto id = ++*ids;
    worker_of.emplace(id, worker);
    std::size_t page = 0;
    bool restartable = false;
    if (!walks.empty()) {
      page = walks[worker].page();
      restartable = page != 0 && spec.pagination->restart_on_invalid_cursor;
    }
    client->submit(id, endpoint, page, restartable);
  }
  std::uint32_t take_idle() {
    const auto w = idle.back();
    idle.pop_back();
    return w;
  }
  void dispatch(const sim::sim_event& e) {
    if (stopping) return;
    if (e.kind == ev_arrival) {
      ++next;
      if (!idle.empty()) start(take_idle());
      else ++backlog;
      if (next < schedule.size()) sched.at(origin + schedule.at(next), ev_arrival, 0, 0, owner);
      return;
    }
    if (e.kind == ev_refetch) {
      ++refetches;
      start(e.slot);
      return;
    }
    // ev_start: a closed-loop worker (slot) is free, or an open-loop worker may take from the backlog.
    if (closed_loop()) {
      if (sched.now() - origin >= traffic.duration || next >= plan::max_planned_requests) return;
      ++next;
      start(e.slot);
    } else if (backlog != 0 && !idle.empty()) {
      --backlog;
      start(take_idle());
    }
  }
  // A request ended: its walk reads the page, and its worker fetches the page again or takes the
  // next request, at the same instant but as an event of its own, so a run of requests that end at
  // once does not recurse.
  void on_end(const sim::sim_client::ending& end) {
    const auto it = worker_of.find(end.request);
    if (it == worker_of.end()) return;
    const auto worker = it->second;
    worker_of.erase(it);
    if (!walks.empty()) {
      auto& walk = walks[worker];
      std::optional<page_records> read;
      if (end.succeeded && end.body != nullptr) {
        // The upstream shares each version of a page: it is read once.
        auto [it, fresh] = pages_read->try_emplace(end.body);
        if (fresh) it->second = read_page(*end.body, *spec.pagination);
        read = it->second;
      }
      walk.on_answer(read, end.restarted, end.request, core::to_millis(sched.now() - origin),
                     pages->target_for_page(end.restarted ? 0 : end.page));
      if (walk.refetching() && !stopping) {
        sched.after(core::duration::zero(), ev_refetch, worker, 0, owner);
        return;
      }
    }
    if (closed_loop()) {
      sched.after(traffic.think_time, ev_start, worker, 0, owner);
    } else {
      idle.push_back(worker);
      if (backlog != 0) sched.after(core::duration::zero(), ev_start, 0, 0, owner);
    }
  }
  void finish() {
    for (auto& w : walks) w.finish();
  }
};

failure_mode_result sim_one(const plan::integration_plan& plan, const plan::failure_mode& mode,
                            const plan::retry_config& retry, const run_options& options,
                            const sim_settings& settings, std::size_t position, std::size_t count,
                            bool& interrupted) {
  failure_mode_result result;
  result.id = mode.id;
  result.traffic = mode.traffic;
  if (auto why = sim_unsupported_reason(plan, mode, retry); !why.empty()) {
    result.outcome = verdict::skipped;
    result.reason = why;
    return result;
  }
  const auto& traffic = plan.traffic_for(mode);
  std::size_t endpoint = 0;
  while (plan.endpoints[endpoint].id != traffic.endpoint) ++endpoint;

  sim::scheduler sched;
  const auto origin = sched.now();
  run_stats stats(origin, traffic.duration);
  if (const auto end = faults_end(mode.inject)) stats.recovery_from = origin + *end;
  if (options.log != nullptr) options.log->set_context({{"failure_mode", mode.id}}, origin);
  event_tee events(stats, options.log);

  std::vector<plan::fault> api_faults;
  std::copy_if(mode.inject.begin(), mode.inject.end(), std::back_inserter(api_faults),
               [](const plan::fault& f) { return !mocks::is_webhook_fault(f.kind); });
  const auto delay = settings.network_delay.value_or(plan.sim.network_delay);
  sim::upstream_model upstream(plan, std::move(api_faults), origin,
                               {.seed = derive_seed(options.seed, mode.id, 1),
                                .network_delay = delay,
                                .capacity = plan.sim.capacity,
                                .contention = plan.sim.contention,
                                .on_fault = [&stats](core::duration at) { stats.over_time.add(at, series::faults); }});
  // One client, or several independent ones, each sending the failure mode's traffic.
  const auto clients = static_cast<std::uint32_t>(std::max(1, settings.clients));
  std::uint64_t ids = 0;
  std::vector<std::unique_ptr<sim_traffic>> generators;
  pull_tally pulls;
  std::unordered_map<const std::string*, std::optional<page_records>> pages_read;
  const auto& spec = plan.endpoints[endpoint];
  const auto max_fetches = static_cast<std::uint32_t>(std::max(1, retry.max_attempts));
  std::vector<std::unique_ptr<sim::sim_client>> simulated;
  generators.reserve(clients);
  simulated.reserve(clients);
  for (std::uint32_t c = 0; c < clients; ++c) {
    generators.push_back(std::make_unique<sim_traffic>(sched, traffic, endpoint, spec, upstream.pages(endpoint), origin,
                                                       ids, c, pulls, max_fetches));
    auto* generator = generators.back().get();
    generator->pages_read = &pages_read;
    // The first client draws as `run`'s one client does; the others each from a stream of their own.
    const auto seed = c == 0 ? derive_seed(options.seed, mode.id, 2)
                             : derive_seed(options.seed, mode.id + "#" + std::to_string(c), 2);
    simulated.push_back(std::make_unique<sim::sim_client>(sched, upstream, plan, retry, events, seed,
                                                         [generator](const sim::sim_client::ending& end) {
                                                           generator->on_end(end);
                                                         },
                                                         c));
    generator->client = simulated.back().get();
    generator->begin();
  }
  // Inbound webhooks: the provider delivers to the receiver the plan describes, as in run.
  std::unique_ptr<webhook_sim> webhooks;
  if (auto inbound = webhook_streams(plan, mode); !inbound.streams.empty()) {
    webhooks = std::make_unique<webhook_sim>(
        sched, origin, make_webhook_setup(plan, mode, inbound.streams, derive_seed(options.seed, mode.id, 4)), delay,
        ev_webhook);
    if (auto why = webhooks->start(); !why.empty()) {
      result.outcome = verdict::error;
      result.reason = why;
      return result;
    }
  }
  const auto planned_so_far = [&] {
    std::uint64_t n = 0;
    for (const auto& g : generators) n += g->planned();
    return n;
  };

  // no_secret_in_logs: the simulator sends no credential anywhere; what it writes (this failure
  // mode's part of the decision log, the lines --verbose prints, the report texts) is searched for
  // the plan's credentials all the same.
  const bool scan_secrets = std::any_of(mode.expect.begin(), mode.expect.end(),
                                        [](const auto& x) { return x.name == "no_secret_in_logs"; });
  secret_scan scan(scan_secrets ? secret_forms(resolve_auth(plan.auth)) : std::vector<secret_form>());
  event_log* const scanned_log = scan_secrets ? options.log : nullptr;
  std::uint64_t log_from = 0;
  std::uint64_t text_line = 0, text_offset = 0;
  if (scanned_log != nullptr) {
    if (!scanned_log->path().empty()) {
      scanned_log->flush();
      std::error_code ec;
      log_from = std::filesystem::file_size(scanned_log->path(), ec);
      if (ec) log_from = 0;
    }
    scanned_log->set_text_observer([&](std::string_view line) {
      scan.scan_line("verbose output (standard error)", line, ++text_line, text_offset);
      text_offset += line.size() + 1;
    });
  }
  const text_observer_reset reset{scanned_log};

  // The live run's bound: the traffic, the last requests' whole deadline, as long again for a backlog.
  auto span = traffic.duration * 2 + retry.timeouts.total + std::chrono::seconds(5);
  if (webhooks) span = std::max(span, webhooks->bound());
  const auto bound = origin + span;
  sim::sim_event e;
  while (sched.next(e, bound)) {
    if (e.kind < sim::first_free_event_kind) simulated[e.owner]->dispatch(e);
    else if (webhooks && webhooks->owns(e.kind)) webhooks->dispatch(e);
    else generators[e.owner]->dispatch(e);
    if (sched.dispatched() % check_every == 0) {
      if (options.stop.stop_requested()) {
        interrupted = true;
        break;
      }
      if (options.on_progress) {
        options.on_progress(run_progress{mode.id, position, count, sched.now() - origin, traffic.duration,
                                         stats.completed, planned_so_far(), stats.dead_lettered + stats.failed,
                                         stats.attempts});
      }
    }
  }
  const auto planned = planned_so_far();
  for (auto& g : generators) g->finish();
  result.metrics = metrics_from(stats, planned, sched.now() - origin);
  auto& m = result.metrics;
  m.upstream_requests = upstream.requests();
  m.side_effects = upstream.side_effects();
  m.duplicate_effects = upstream.duplicate_effects();
  m.faults_injected = upstream.faults_injected();
  for (const auto& [request, at] : upstream.duplicates()) {
    m.duplicate_evidence.push_back({request, core::to_millis(at), "request " + std::to_string(request) + ": applied again"});
  }
  m.fault_windows = fault_windows(mode.inject);
  if (upstream.pages(endpoint)) m.pull = pulls;
  if (webhooks) add_webhooks(result, mode, webhooks->collect());
  if (interrupted) {
    result.outcome = verdict::error;
    result.reason = "interrupted: the simulation was stopped at " + core::format_duration(sched.now() - origin) +
                    " of plan time";
    return result;
  }
  result.outcome = verdict::held;
  for (const auto& x : mode.expect) {
    // no_secret_in_logs is judged last, over the other results' texts as well.
    result.expectations.push_back(x.name == "no_secret_in_logs" ? expectation_result{} : evaluate(x, stats, m));
  }
  if (scan_secrets) {
    std::string error;
    if (scanned_log != nullptr && !scanned_log->path().empty()) {
      scanned_log->flush();
      scan.scan_file("decision log " + scanned_log->path().string(), scanned_log->path(), log_from, error);
    }
    judge_secrets(mode, scan, error, result, "the simulator sends no credential; ");
  }
  for (const auto& r : result.expectations) {
    if (!r.held) result.outcome = verdict::broken;
  }
  return result;
}

}  // namespace

std::string sim_unsupported_reason(const plan::integration_plan& plan, const plan::failure_mode& mode,
                                   const plan::retry_config& retry) {
  // What run cannot do either (a simulated handshake needs no certificates: https as given).
  std::string out = unsupported_reason(plan, mode, retry, true);
  std::vector<std::string> live_only;
  auto add = [&](std::string what) {
    if (std::find(live_only.begin(), live_only.end(), what) == live_only.end()) live_only.push_back(std::move(what));
  };
  for (const auto& f : mode.inject) {
    if (f.kind == "tls") add("fault 'tls' (TLS handshakes)");
  }
  if (!live_only.empty()) {
    std::string what;
    for (const auto& w : live_only) what += (what.empty() ? "" : ", ") + w;
    out += (out.empty() ? "" : "; ") + std::string("only `planproof run` judges: ") + what;
  }
  return out;
}

run_result run_sim(const plan::integration_plan& plan, const run_options& options, const sim_settings& settings) {
  std::vector<const plan::failure_mode*> selected;
  auto run = begin_run(plan, options, selected);
  run.mode = "sim";
  run.time_scale = 1.0;
  run.dead_letter_path.clear();
  std::string model = "sim: virtual time; the modelled upstream answers after " +
                      core::format_duration(settings.network_delay.value_or(plan.sim.network_delay)) +
                      " plus its faults' delays";
  if (const auto& c = plan.sim.capacity) {
    model += "; it serves " + std::to_string(c->workers) + " requests at once, " +
             core::format_duration(c->service_time) + " each, queues " + std::to_string(c->queue) + " and sheds the rest (" +
             std::to_string(c->shed_status) + ")";
  }
  if (const auto& c = plan.sim.contention) {
    model += "; every request is a conditional write on one shared record, lost (" + std::to_string(c->status) +
             ") when another landed since its read";
  }
  if (settings.clients > 1) model += "; " + std::to_string(settings.clients) + " independent clients";
  run.notes.push_back(model + "; dead letters are counted, not written");
  if (options.on_start) options.on_start(run, selected.size());
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (options.stop.stop_requested()) {
      run.interrupted = true;
      for (std::size_t j = i; j < selected.size(); ++j) {
        failure_mode_result r;
        r.id = selected[j]->id;
        r.outcome = verdict::skipped;
        r.reason = "interrupted: not run";
        if (options.on_result) options.on_result(r);
        run.failure_modes.push_back(std::move(r));
      }
      break;
    }
    bool interrupted = false;
    auto r = sim_one(plan, *selected[i], run.retry, options, settings, i + 1, selected.size(), interrupted);
    if (interrupted) run.interrupted = true;
    if (options.on_result) options.on_result(r);
    run.failure_modes.push_back(std::move(r));
  }
  return run;
}

}  // namespace planproof::scenario
