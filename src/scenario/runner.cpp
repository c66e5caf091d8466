#include "scenario/runner.hpp"
#include "plan/json_text.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "client/http_client.hpp"
#include "core/logging.hpp"
#include "mocks/pagination.hpp"
#include "mocks/proxy.hpp"
#include "mocks/server.hpp"
#include "plan/catalog.hpp"
#include "plan/lint.hpp"
#include "plan/traffic_profile.hpp"
#include "scenario/auth_material.hpp"
#include "scenario/expectations.hpp"
#include "scenario/pull_walk.hpp"
#include "scenario/run_tls.hpp"
#include "scenario/secret_scan.hpp"
#include "scenario/webhook_run.hpp"

namespace planproof::scenario {

namespace asio = boost::asio;

// Each failure mode gets its own stream of randomness derived from the run seed and its id, so
// selecting a subset with --only reproduces the same faults and jitter.
std::uint64_t derive_seed(std::uint64_t seed, std::string_view id, std::uint64_t salt) {
  std::uint64_t h = 1469598103934665603ull ^ salt;
  for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(h), static_cast<std::uint32_t>(h >> 32)};
  std::uint32_t words[2];
  seq.generate(words, words + 2);
  return (static_cast<std::uint64_t>(words[0]) << 32) | words[1];
}

namespace {

run_metrics collect_metrics(const run_stats& stats, std::uint64_t planned, const mocks::server& upstream,
                        core::duration elapsed) {
  run_metrics m = metrics_from(stats, planned, elapsed);
  for (const auto& r : upstream.records()) {
    ++m.upstream_requests;
    if (!r.fault.empty()) m.over_time.add(r.at, series::faults);
    if (r.duplicate_effect && m.duplicate_evidence.size() < run_stats::max_evidence) {
      // The mock knows the request by the ids the client sent, not by the run's numbering.
      const auto& who = r.idempotency_key.empty() ? "X-Request-Id " + r.request_id : "Idempotency-Key " + r.idempotency_key;
      m.duplicate_evidence.push_back({0, core::to_millis(r.at), who + ": applied again (" + std::string(mocks::to_string(r.outcome)) + ")"});
    }
  }
  const auto totals = upstream.metrics();
  // The mock's totals, not its records: a tls fault picks connections, and one whose handshake
  // still succeeds (no_client_certificate_required) leaves no record of its own.
  m.faults_injected = totals.by_fault;
  m.side_effects = totals.side_effects;
  m.duplicate_effects = totals.duplicate_effects;
  return m;
}

}  // namespace

std::optional<core::duration> faults_end(const std::vector<plan::fault>& inject) {
  core::duration end = core::duration::zero();
  if (inject.empty()) return std::nullopt;
  for (const auto& f : inject) {
    if (f.during.empty()) return std::nullopt;
    for (const auto& w : f.during) {
      if (!w.to) return std::nullopt;
      end = std::max(end, *w.to);
    }
  }
  return end;
}

run_metrics metrics_from(const run_stats& stats, std::uint64_t planned, core::duration elapsed) {
  run_metrics m;
  m.planned = planned;
  m.submitted = stats.submitted;
  m.succeeded = stats.succeeded;
  m.dead_lettered = stats.dead_lettered;
  m.failed = stats.failed;
  m.lost = planned - stats.completed;
  m.attempts = stats.attempts;
  m.max_attempts = stats.max_attempts;
  m.attempt_results = stats.attempt_results;
  m.end_reasons = stats.end_reasons;
  m.p50_latency_ms = stats.latency_ms.quantile(0.5);
  m.p99_latency_ms = stats.latency_ms.quantile(0.99);
  m.max_latency_ms = stats.latency_ms.max();
  m.duration_ms = core::to_millis(elapsed);
  m.over_time = stats.over_time;
  m.breaker_transitions = stats.breaker_transitions;
  m.breaker_marks = stats.breaker_marks;
  m.tokens_issued = stats.tokens_issued;
  m.token_refreshes = stats.token_refreshes;
  m.token_failures = stats.token_failures;
  m.token_marks = stats.token_marks;
  m.latency_bins = stats.latency_ms.bins(4);
  m.peak_rate_after_recovery = stats.peak_after_recovery().first;
  if (const auto took = stats.recovery_time()) m.recovery_ms = core::to_millis(*took);
  return m;
}

namespace {

// The failure mode's traffic. Open loop (constant, ramp, burst): request i is due at origin plus
// the arrival schedule's offset i and starts then, or as soon as one of the `concurrency` workers is
// free. Closed loop: each of the `concurrency` workers sends its next request when its last has
// ended (and think_time has passed), until the traffic's duration is over; every request it starts
// is planned. On a paginated endpoint each worker pulls the mock's collection as a sync does: page
// after page from the first, with the cursor, page number or offset the mock hands out (so faults
// on continuation pages, an invalid cursor, are met as a client walking the pages meets them),
// reading each page's records (pull_walk), and starting a new pull after the last page. A page the
// walk fetches again (on_page_shift: refetch) is an extra request, sent at once and planned too.
// The workers are member coroutines of this object, which outlives them; a capturing lambda
// coroutine would not be safe.
struct traffic_generator {
  asio::io_context& io;
  client::http_client& client;
  const core::clock& clock;
  core::time_scale scale;
  core::time_point origin;
  const plan::traffic_config& traffic;
  plan::arrival_schedule schedule;
  const plan::endpoint* endpoint;
  std::string body;
  std::shared_ptr<const mocks::paged_collection> pages;  // none when the endpoint is not paginated
  std::uint32_t max_fetches = 1;  // of one page by a pull (retry.max_attempts)
  int running = workers();
  std::uint64_t next = 0;  // requests of the schedule started
  std::uint64_t refetches = 0;  // extra requests: pages fetched again
  std::uint64_t ids = 0;  // request ids handed out
  std::uint64_t in_flight = 0;
  bool stopping = false;  // interrupted: no request starts any more
  pull_tally pulls;

  bool closed_loop() const noexcept { return traffic.profile == plan::traffic_profile::closed_loop; }

  int workers() const noexcept {
    const auto most = closed_loop() ? plan::max_planned_requests : schedule.size();
    return static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(traffic.concurrency), most));
  }

  // What `lost` is counted against: the schedule, or what the closed loop started; and the re-fetches.
  std::uint64_t planned() const noexcept { return (closed_loop() ? next : schedule.size()) + refetches; }

  // Whether the traffic has another request to send.
  bool more() const noexcept {
    if (stopping) return false;
    if (!closed_loop()) return next < schedule.size();
    return clock.now() - origin < traffic.duration && next < plan::max_planned_requests;
  }

  // A walk for each worker on a paginated endpoint; they live here, not in the workers' frames, so
  // the pulls under way when the run ends (or is cut) are counted by finish_pulls().
  std::vector<pull_walk> walks;

  void make_walks() {
    if (!pages) return;
    const auto& p = *endpoint->pagination;
    walks.reserve(static_cast<std::size_t>(running));
    for (int w = 0; w < running; ++w) {
      walks.emplace_back(pull_walk::settings{pages->size(), pages->page_size(), p.refetch_on_page_shift, max_fetches},
                         [c = pages](std::size_t i) { return c->record_id(i); }, pulls);
    }
  }

  void finish_pulls() {
    for (auto& w : walks) w.finish();
  }

  // One request of the walk (or of a plain endpoint), to its end.
  asio::awaitable<void> send(pull_walk* walk) {
    const auto page = walk != nullptr ? walk->page() : 0;
    // Named, not a braced temporary: g++ 12 destroys temporaries inside co_await twice.
    client::logical_request request{++ids, endpoint, body, walk != nullptr ? pages->target_for_page(page) : std::string()};
    if (walk != nullptr && page != 0 && endpoint->pagination->restart_on_invalid_cursor) {
      request.restart_target = pages->target_for_page(0);
    }
    client::page_capture capture;
    if (walk != nullptr) request.capture = &capture;
    const auto id = request.id;
    const auto target = request.target;
    ++in_flight;
    const auto outcome = co_await client.execute(std::move(request));
    if (walk != nullptr) {
      std::optional<page_records> read;
      if (outcome == core::request_outcome::succeeded) read = read_page(capture.body, *endpoint->pagination);
      walk->on_answer(read, capture.restarted, id, core::to_millis(clock.now() - origin),
                      capture.restarted ? pages->target_for_page(0) : target);
    }
    if (--in_flight == 0 && stopping) io.stop();
  }

  asio::awaitable<void> worker(int index) {
    asio::steady_timer timer(io);
    pull_walk* w = walks.empty() ? nullptr : &walks[static_cast<std::size_t>(index)];
    while (more()) {
      const auto i = next++;
      const auto wait = closed_loop() ? core::duration::zero() : origin + schedule.at(i) - clock.now();
      if (wait > core::duration::zero()) {
        timer.expires_after(scale.to_real(wait));
        co_await timer.async_wait(asio::use_awaitable);
      } else {
        // Behind schedule: yield before the next request all the same. A request can end without
        // suspending (refused by an open breaker, then dead-lettered), and a worker working off a
        // backlog of those would otherwise hold the thread while the answers of the others wait.
        co_await asio::post(io, asio::use_awaitable);
      }
      if (stopping) break;
      co_await send(w);
      while (w != nullptr && w->refetching() && !stopping) {
        ++refetches;
        co_await send(w);
      }
      if (closed_loop() && traffic.think_time > core::duration::zero() && !stopping) {
        timer.expires_after(scale.to_real(traffic.think_time));
        co_await timer.async_wait(asio::use_awaitable);
      }
    }
    if (--running == 0) io.stop();
  }

  // Ends when the provider has delivered or given up every event, checked every few milliseconds
  // of real time (the deliveries run on the mock's thread).
  asio::awaitable<void> until_delivered(const webhook_run& webhooks) {
    asio::steady_timer timer(io);
    while (!webhooks.done() && !stopping) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(asio::use_awaitable);
    }
    if (--running == 0) io.stop();
  }

  // Starts no request any more; the run ends when those in flight have (or sooner, by the caller).
  void stop() {
    stopping = true;
    if (in_flight == 0) io.stop();
  }
};

// `--upstream`: the proxy every failure mode's mock forwards through, and what the client needs to
// reach the real upstream behind it.
struct upstream_setup {
  std::shared_ptr<const mocks::upstream_proxy> proxy;
  mocks::upstream_target target;
  std::string url;           // as reports show it
  std::string token_target;  // oauth2: the token request's target as the client sends it to the mock
};

core::diagnostic_error usage_error(core::source_location where, std::string message) {
  return core::diagnostic_error(core::diagnostic{std::move(where), core::severity::error, std::move(message)});
}

// Throws core::diagnostic_error (a usage error) for a bad URL or CA file, credentials that cannot be
// resolved (a generated stand-in would only be refused by a real system), an mtls certificate that
// cannot be loaded, or a token_url the client could not reach through the proxy.
upstream_setup open_upstream(const plan::integration_plan& plan, const plan::retry_config& retry,
                             const run_options& options, const auth_material& auth) {
  upstream_setup u;
  auto parsed = mocks::parse_upstream_url(options.upstream);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    throw usage_error({"--upstream"}, "'" + options.upstream + "' " + *why +
                                          " (e.g. https://api.sandbox.example or http://127.0.0.1:9000/v2)");
  }
  u.target = std::get<mocks::upstream_target>(parsed);
  u.url = mocks::to_string(u.target);
  constexpr std::string_view real = "--upstream sends to a real system";
  if (auth.generated) {
    throw usage_error(plan.auth.where, "cannot resolve the plan's credentials (" + auth.unresolved + "): " +
                                           std::string(real) + " and needs the real ones, never a generated stand-in");
  }
  mocks::upstream_options o;
  o.body_limit = options.limits.response_body;
  o.header_limit = static_cast<std::uint32_t>(options.limits.response_headers);
  o.target = u.target;
  o.tls.ca_file = options.upstream_ca;  // before the plan's mtls `ca`, which only stands in for it
  o.tls.verify_peer = !options.upstream_insecure;
  // Longer than any attempt of the client may wait, so a slow upstream is the client's timeout to
  // observe, never a proxy failure of its own.
  o.timeout = std::max<core::duration>(std::chrono::seconds(30),
                                       core::time_scale{options.time_scale}.to_real(retry.timeouts.total) +
                                           std::chrono::seconds(1));
  if (plan.auth.method == plan::auth_method::mtls && plan.auth.mtls) {
    if (!u.target.tls) {
      throw usage_error({"--upstream"}, "auth mtls authenticates in the TLS handshake, so the upstream must be "
                                        "https://, not " + u.url);
    }
    if (auto why = use_plan_certificate(*plan.auth.mtls, o.tls, real); !why.empty()) {
      throw usage_error(plan.auth.where, why);
    }
  }
  if (plan.auth.method == plan::auth_method::oauth2_client_credentials && plan.auth.oauth2) {
    // Tokens come through the mock's proxy, which sends everything to --upstream: a token_url that
    // is a path is on it (after its path prefix, as every endpoint path is); an absolute one must be
    // under it.
    const auto& token_url = plan.auth.oauth2->token_url;
    u.token_target = token_path_of(token_url);
    if (token_url.find("://") != std::string::npos) {
      const auto token_host = mocks::parse_upstream_url(token_url.substr(0, token_url.find_first_of("?#")));
      const auto* t = std::get_if<mocks::upstream_target>(&token_host);
      const auto& prefix = u.target.path_prefix;
      if (t == nullptr || t->host != u.target.host || t->port != u.target.port || t->tls != u.target.tls ||
          !u.token_target.starts_with(prefix + "/")) {
        throw usage_error(plan.auth.where, "the plan's token_url " + token_url + " is not under --upstream " + u.url +
                                               ", and the client fetches its tokens through the mock, which forwards "
                                               "to --upstream only");
      }
      u.token_target.erase(0, prefix.size());
    }
  }
  auto made = mocks::upstream_proxy::make(std::move(o));
  if (const auto* why = std::get_if<std::string>(&made)) {
    throw usage_error({options.upstream_ca.empty() ? "--upstream" : "--upstream-ca"},
                      "cannot set up TLS for " + u.url + ": " + *why);
  }
  u.proxy = std::get<std::shared_ptr<mocks::upstream_proxy>>(made);
  return u;
}

// What the mock in front of a real upstream needs to know of the auth: where the token requests go
// (only token_endpoint_down faults apply to them) and which header is a request's credential (a
// rate_limit fault with `key: credential` keys its buckets by it). It checks nothing.
mocks::auth_requirement proxy_requirement(const plan::auth_config& plan_auth, const auth_material& auth,
                                          const upstream_setup& upstream) {
  mocks::auth_requirement r;
  r.header = auth.header.name;
  if (plan_auth.method == plan::auth_method::oauth2_client_credentials) r.header = "Authorization";
  if (plan_auth.method == plan::auth_method::jwt) r.header = plan_auth.header;
  r.token_path = upstream.token_target;
  return r;
}

std::string interrupted_reason(const run_stats& stats, std::uint64_t planned, core::duration elapsed) {
  std::string ids;
  for (const auto id : stats.in_flight_ids(run_stats::max_evidence)) {
    ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  }
  const auto cut = stats.in_flight();
  std::string out = "interrupted: stopped " + core::format_duration(elapsed) + " into the failure mode (plan time); " +
                    std::to_string(stats.submitted) + " of " + std::to_string(planned) + " planned requests sent: " +
                    std::to_string(stats.succeeded) + " succeeded, " + std::to_string(stats.dead_lettered) +
                    " dead-lettered, " + std::to_string(stats.failed) + " failed, " + std::to_string(cut) +
                    " cut in flight";
  if (cut > 0) {
    out += " (request" + std::string(cut == 1 ? " " : "s ") + ids + (cut > run_stats::max_evidence ? ", ...)" : ")");
  }
  return out + "; " + std::to_string(planned - stats.submitted) + " not sent";
}

constexpr std::string_view verbose_artifact = "verbose output (standard error)";

std::uint64_t size_of(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = path.empty() ? 0 : std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

std::string token_name(const std::string& group, std::size_t n) {
  // "OAuth2 tokens the client received" -> "OAuth2 token 3 the client received"
  const auto s = group.find("s ");
  return s == std::string::npos ? group + " " + std::to_string(n)
                                : group.substr(0, s) + " " + std::to_string(n) + group.substr(s + 1);
}


// What the failure mode wrote or kept, read back for no_secret_in_logs: its part of the decision
// log file and of the dead-letter file, and the fields of the mock's request records that reports
// quote (their targets are the wire itself, an api_key in the query included, and are written
// nowhere). Tokens the mock issued but the client never received are searched for too.
void scan_written(secret_scan& scan, const mocks::server& upstream, event_log* log, std::uint64_t log_from,
                  const client::dead_letter_queue& dead_letters, std::uint64_t dead_letters_from, std::string& error) {
  const auto issued = upstream.issued_tokens();
  for (std::size_t i = 0; i < issued.size(); ++i) {
    scan.add_forms(token_name("OAuth2 tokens the mock issued", i + 1), issued[i], "OAuth2 tokens the mock issued");
  }
  if (log != nullptr && !log->path().empty()) {
    log->flush();
    scan.scan_file("decision log " + log->path().string(), log->path(), log_from, error);
  }
  std::string dead_letter_error;
  scan.scan_file("dead-letter file " + dead_letters.path().string(), dead_letters.path(), dead_letters_from,
                 dead_letter_error);
  if (!dead_letter_error.empty()) error += (error.empty() ? "" : "; ") + dead_letter_error;
  std::uint64_t n = 0;
  for (const auto& r : upstream.records()) {
    const std::string fields = r.request_id + ' ' + r.idempotency_key + ' ' + r.endpoint_id + ' ' + r.method + ' ' +
                               r.fault + ' ' + r.tls_error;
    scan.scan_record("mock request records", fields, ++n, 0, core::to_millis(r.at));
  }
}

// The failure mode's texts as the reports print them (redacted): its id and reason, and each
// judged expectation's expected value, note and evidence.
void scan_report_texts(secret_scan& scan, const failure_mode_result& result) {
  const std::string artifact = "report texts";
  std::uint64_t n = 0;
  scan.scan_record(artifact, core::redact(result.id + ' ' + result.reason), ++n);
  for (const auto& r : result.expectations) {
    if (r.name.empty()) continue;  // not judged yet
    scan.scan_record(artifact, core::redact(r.name + ' ' + r.expected + ' ' + r.note), ++n);
    for (const auto& ev : r.evidence) scan.scan_record(artifact, core::redact(ev.what), ++n, ev.request, ev.at_ms);
  }
}

// `upstream`: set = against --upstream, through the mock's proxy. `interrupted` is set when
// options.stop cut the failure mode short.
failure_mode_result run_one(const plan::integration_plan& plan, const plan::failure_mode& mode,
                            const plan::retry_config& retry, const auth_material& auth,
                            const run_options& options, client::dead_letter_queue& dead_letters,
                            std::size_t position, std::size_t count, const upstream_setup* upstream_setup,
                            bool& interrupted) {
  failure_mode_result result;
  result.id = mode.id;
  result.traffic = mode.traffic;
  const bool proxied = upstream_setup != nullptr;
  if (auto why = unsupported_reason(plan, mode, retry, options.tls != nullptr, proxied); !why.empty()) {
    result.outcome = verdict::skipped;
    result.reason = why;
    return result;
  }

  const core::time_scale scale{options.time_scale};
  const auto& traffic = plan.traffic_for(mode);
  const auto* endpoint = plan.find_endpoint(traffic.endpoint);
  const std::string body =
      endpoint->request_example ? plan::json_text(*endpoint->request_example) : std::string();

  core::plan_clock clock(scale);
  const auto origin = clock.now();

  // The mock upstream runs on its own thread, as a real upstream would run in its own process.
  asio::io_context upstream_io(1);
  auto upstream_work = asio::make_work_guard(upstream_io);
  // JWT iat and exp: stamped by the client and checked by the mock on one calendar at plan speed;
  // a real upstream checks them against the wall clock.
  const core::plan_calendar calendar{std::chrono::system_clock::now(), origin, proxied ? scale.factor : 1.0};
  const auto requirement = proxied ? proxy_requirement(plan.auth, auth, *upstream_setup)
                                   : mock_requirement(plan.auth, auth, derive_seed(options.seed, mode.id, 3), calendar);
  // Webhook faults are the provider's, injected by the deliveries below, not by the mock API.
  std::vector<plan::fault> api_faults;
  std::copy_if(mode.inject.begin(), mode.inject.end(), std::back_inserter(api_faults),
               [](const plan::fault& f) { return !mocks::is_webhook_fault(f.kind); });
  mocks::server upstream(upstream_io.get_executor(), clock, origin, scale, mocks::routes_from_plan(plan),
                         requirement, api_faults,
                         {.seed = derive_seed(options.seed, mode.id, 1), .single_threaded_executor = true,
                          .header_limit = static_cast<std::uint32_t>(options.limits.request_headers),
                          .body_limit = options.limits.request_body,
                          .max_connections = static_cast<std::size_t>(options.limits.connections),
                          .upstream = proxied ? upstream_setup->proxy : nullptr,
                          .tls = options.tls ? options.tls->server : nullptr});
  if (auto ec = upstream.listen()) {
    result.outcome = verdict::error;
    result.reason = "could not start the mock upstream on 127.0.0.1: " + ec.message();
    return result;
  }
  if (upstream.ignored_faults() != 0) {
    // A fault the mock cannot carry out must never look like one that was survived.
    result.outcome = verdict::error;
    result.reason = std::to_string(upstream.ignored_faults()) + " fault(s) of this failure mode cannot be injected";
    return result;
  }
  spdlog::debug("{}: mock upstream on {}://127.0.0.1:{}{}", mode.id, options.tls ? "https" : "http", upstream.port(),
                proxied ? " in front of " + upstream_setup->url : std::string());
  std::promise<void> upstream_ran;
  auto upstream_done = upstream_ran.get_future();
  std::thread upstream_thread([&] {
    upstream_io.run();
    upstream_ran.set_value();
  });
  // Inbound webhooks: the mock delivers, as the provider, to the receiver the plan describes.
  std::unique_ptr<webhook_run> webhooks;
  if (auto inbound = webhook_streams(plan, mode); !inbound.streams.empty()) {
    webhooks = std::make_unique<webhook_run>(plan, mode, std::move(inbound.streams), upstream_io.get_executor(), clock,
                                             origin, derive_seed(options.seed, mode.id, 4));
    if (auto why = webhooks->start(); !why.empty()) {
      webhooks->stop();
      upstream.stop();
      upstream_work.reset();
      upstream_thread.join();
      result.outcome = verdict::error;
      result.reason = why;
      return result;
    }
  }

  asio::io_context io(1);
  run_stats stats(origin, traffic.duration);
  std::uint64_t planned = 0;
  std::optional<pull_tally> pulls;  // on a paginated endpoint
  if (const auto end = faults_end(mode.inject)) stats.recovery_from = origin + *end;
  if (options.log != nullptr) options.log->set_context({{"failure_mode", mode.id}}, origin);
  event_tee events(stats, options.log);
  resilience::seeded_random rng(derive_seed(options.seed, mode.id, 2));
  client::client_options copts;
  copts.upstream = {asio::ip::make_address("127.0.0.1"), upstream.port()};
  copts.host = "127.0.0.1:" + std::to_string(upstream.port());
  if (!auth.header.name.empty()) copts.extra_headers.push_back(auth.header);
  if (!auth.query.name.empty()) copts.query_credential = auth.query;
  if (proxied) {
    // The credentials go through the mock to the real upstream, which checks them: a signature
    // covers the Host and target it will see, tokens are fetched through the mock.
    if (!auth.signing_key.empty()) {
      if (const auto scheme = mocks::signature_scheme_from_plan(plan.auth)) {
        auto sign = request_signer(*scheme, auth.signing_key, mocks::host_header(upstream_setup->target));
        copts.signer = [sign = std::move(sign), prefix = upstream_setup->target.path_prefix](
                           std::string_view method, std::string_view target, std::string_view body) {
          return sign(method, prefix + std::string(target), body);
        };
      }
    }
    if (!auth.client_secret.empty()) {
      copts.oauth2 = oauth2_client_options(plan.auth, auth, retry);
      copts.oauth2->token_target = upstream_setup->token_target;
    }
    if (auth.jwt_key) copts.jwt = jwt_client_options(plan.auth, auth, retry, calendar);
  } else {
    if (requirement.hmac) copts.signer = request_signer(*requirement.hmac, requirement.hmac_key, copts.host);
    if (requirement.oauth2) copts.oauth2 = oauth2_client_options(plan.auth, auth, retry);
    if (requirement.jwt) copts.jwt = jwt_client_options(plan.auth, auth, retry, calendar);
  }
  copts.max_idle_connections = static_cast<std::size_t>(traffic.concurrency);
  copts.body_limit = static_cast<std::size_t>(options.limits.response_body);
  copts.header_limit = static_cast<std::uint32_t>(options.limits.response_headers);
  copts.mappings = plan.mapping;
  copts.dead_letter_context = {{"plan", plan.integration.name}, {"failure_mode", mode.id},
                               {"seed", options.seed}};
  if (options.tls) {
    copts.tls = options.tls->client;  // with DIR/client.pem when the mock requires one (auth mtls)
    copts.tls_server_name = std::string(run_tls_host);
  }
  // no_secret_in_logs: where this failure mode's part of the decision log and the dead-letter file
  // starts (both are read back once it has run), and every line `--verbose` prints, scanned as it
  // is written, with the tokens the client held by then.
  const bool scan_secrets = std::any_of(mode.expect.begin(), mode.expect.end(),
                                        [](const auto& e) { return e.name == "no_secret_in_logs"; });
  secret_scan scan(scan_secrets ? secret_forms(auth) : std::vector<secret_form>());
  const std::string token_group =
      plan.auth.method == plan::auth_method::jwt ? "JWTs the client signed" : "OAuth2 tokens the client received";
  event_log* const scanned_log = scan_secrets ? options.log : nullptr;
  std::uint64_t log_from = 0;
  std::uint64_t dead_letters_from = 0;
  if (scan_secrets) {
    if (scanned_log != nullptr) {
      scanned_log->flush();
      log_from = size_of(scanned_log->path());
    }
    dead_letters_from = size_of(dead_letters.path());
  }
  {
    client::http_client client(io.get_executor(), copts, retry, plan.endpoints, clock, scale, events,
                               dead_letters, rng);
    std::size_t tokens_known = 0;
    const auto learn_tokens = [&] {
      const auto& held = client.tokens_held();
      for (; tokens_known < held.size(); ++tokens_known) {
        scan.add_forms(token_name(token_group, tokens_known + 1), held[tokens_known], token_group);
      }
    };
    std::uint64_t text_line = 0;
    std::uint64_t text_offset = 0;
    if (scanned_log != nullptr) {
      scanned_log->set_text_observer([&](std::string_view line) {
        learn_tokens();
        scan.scan_line(std::string(verbose_artifact), line, ++text_line, text_offset);
        text_offset += line.size() + 1;
      });
    }
    // The observer refers to this block's locals: it goes with them, however the block is left.
    const text_observer_reset reset{scanned_log};

    // Against a real upstream every request reads the endpoint's path: its pages are its own.
    traffic_generator generator{io,       client, clock, scale, origin, traffic, plan::arrival_schedule(traffic),
                                endpoint, body,   proxied ? nullptr : mocks::make_collection(plan, *endpoint),
                                static_cast<std::uint32_t>(std::max(1, retry.max_attempts))};
    generator.make_walks();
    const int workers = generator.running;
    if (webhooks) ++generator.running;
    for (int w = 0; w < workers; ++w) asio::co_spawn(io, generator.worker(w), asio::detached);
    if (webhooks) asio::co_spawn(io, generator.until_delivered(*webhooks), asio::detached);

    // A bound on the whole run: the traffic, then time for the last requests to use their whole
    // deadline, then as long again for a backlog. Whatever has not ended by then counts as lost.
    auto bound = traffic.duration * 2 + retry.timeouts.total + std::chrono::seconds(5);
    if (webhooks) bound = std::max(bound, webhooks->bound());
    asio::steady_timer watchdog(io);
    watchdog.expires_after(scale.to_real(bound));
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) {
        spdlog::warn("{}: run bound of {} reached with {} requests in flight", mode.id,
                     core::format_duration(bound), stats.in_flight());
        io.stop();
      }
    });
    // Progress is read on this thread between events, so the counters agree with each other.
    asio::steady_timer ticker(io);
    std::function<void(const boost::system::error_code&)> tick = [&](const boost::system::error_code& ec) {
      if (ec) return;
      options.on_progress(run_progress{mode.id, position, count, clock.now() - origin, traffic.duration,
                                       stats.completed, generator.planned(), stats.dead_lettered + stats.failed,
                                       stats.attempts});
      ticker.expires_after(options.progress_interval);
      ticker.async_wait(tick);
    };
    if (options.on_progress) tick({});
    // Interrupted: nothing new is sent, and the requests in flight get a second (real time) to
    // end before the run is cut; the ones cut are counted and named in the reason.
    asio::steady_timer grace(io);
    const auto interrupt = [&] {
      if (interrupted) return;
      interrupted = true;
      generator.stop();
      grace.expires_after(std::chrono::seconds(1));
      grace.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) io.stop();
      });
    };
    const std::stop_callback on_stop(options.stop, [&] { asio::post(io, interrupt); });
    if (generator.running == 0) io.stop();
    io.run();
    planned = generator.planned();
    if (scan_secrets) learn_tokens();
    generator.finish_pulls();
    if (!generator.walks.empty()) pulls = std::move(generator.pulls);
  }
  if (webhooks) webhooks->stop();
  upstream.stop();
  upstream_work.reset();
  // A forward to a real upstream that does not answer would hold the mock's thread until the
  // proxy's timeout: an interrupted run does not wait for it.
  if (interrupted && upstream_done.wait_for(std::chrono::seconds(1)) != std::future_status::ready) upstream_io.stop();
  upstream_thread.join();

  result.metrics = collect_metrics(stats, planned, upstream, clock.now() - origin);
  result.metrics.fault_windows = fault_windows(mode.inject);
  result.metrics.pull = std::move(pulls);
  if (interrupted) {
    result.outcome = verdict::error;
    result.reason = interrupted_reason(stats, planned, clock.now() - origin);
    result.metrics.lost = stats.in_flight();  // cut: counted here and named in the reason
    return result;
  }
  if (proxied) {
    const auto totals = upstream.metrics();
    const auto failed = totals.by_fate.find(std::string(mocks::to_string(mocks::fate::upstream_failed)));
    if (failed != totals.by_fate.end() && failed->second > 0) {
      // The client then saw the mock's 502 instead of an answer of the upstream's: a verdict would
      // judge the connection to it, not the plan.
      result.outcome = verdict::error;
      result.reason = std::to_string(failed->second) + " of " + std::to_string(totals.requests) +
                      " requests to the mock could not be forwarded to " + upstream_setup->url +
                      " (no connection or no answer within " +
                      core::format_duration(upstream_setup->proxy->options().timeout) +
                      "; the mock answered 502 upstream_unreachable in its place)";
      return result;
    }
  }
  if (webhooks) add_webhooks(result, mode, webhooks->collect());
  result.outcome = verdict::held;
  for (const auto& e : mode.expect) {
    // no_secret_in_logs is judged last, over the other results' texts as well.
    result.expectations.push_back(e.name == "no_secret_in_logs" ? expectation_result{}
                                                                 : evaluate(e, stats, result.metrics));
  }
  if (scan_secrets) {
    std::string error;
    scan_written(scan, upstream, scanned_log, log_from, dead_letters, dead_letters_from, error);
    judge_secrets(mode, scan, error, result);
  }
  for (const auto& r : result.expectations) {
    if (!r.held) result.outcome = verdict::broken;
  }
  return result;
}

}  // namespace

void judge_secrets(const plan::failure_mode& mode, secret_scan& scan, const std::string& error,
                   failure_mode_result& result, std::string_view preface) {
  scan_report_texts(scan, result);
  for (std::size_t i = 0; i < mode.expect.size(); ++i) {
    if (mode.expect[i].name != "no_secret_in_logs") continue;
    auto& r = result.expectations[i];
    r = evaluate(mode.expect[i], scan);
    r.note = std::string(preface) + r.note;
    if (!error.empty()) {
      // What could not be read was not shown to be clean.
      r.observed = nullptr;
      r.held = false;
      r.note = error + "; " + r.note;
    }
  }
}

std::vector<const plan::failure_mode*> select_failure_modes(const plan::integration_plan& plan,
                                                            const run_options& options) {
  std::vector<const plan::failure_mode*> selected;
  const plan::phase* phase = nullptr;
  if (options.phase) {
    phase = plan.find_phase(*options.phase);
    if (phase == nullptr) {
      std::string known;
      for (const auto& p : plan.phases) known += (known.empty() ? "" : ", ") + p.name;
      throw core::diagnostic_error(core::diagnostic{
          {"--phase"}, core::severity::error,
          "no phase '" + *options.phase + "' in the plan" + (known.empty() ? "" : " (phases: " + known + ")")});
    }
  }
  for (const auto& id : options.only) {
    if (plan.find_failure_mode(id) == nullptr) {
      std::string known;
      for (const auto& f : plan.failure_modes) known += (known.empty() ? "" : ", ") + f.id;
      throw core::diagnostic_error(core::diagnostic{
          {"--only"}, core::severity::error, "no failure mode '" + id + "' in the plan (failure modes: " + known + ")"});
    }
  }
  auto in = [](const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  for (const auto& f : plan.failure_modes) {
    if (phase != nullptr && !phase->failure_modes.empty() && !in(phase->failure_modes, f.id)) continue;
    if (!options.only.empty() && !in(options.only, f.id)) continue;
    selected.push_back(&f);
  }
  if (selected.empty()) {
    throw core::diagnostic_error(core::diagnostic{
        {"--only"}, core::severity::error, "the selection contains no failure mode of the phase"});
  }
  return selected;
}

std::string unsupported_reason(const plan::integration_plan& plan, const plan::failure_mode& mode,
                               const plan::retry_config& retry, bool https, bool proxied) {
  std::string out;
  for (const auto& feature : plan::unsupported_features(plan, mode, retry)) out += (out.empty() ? "" : ", ") + feature;
  if (!out.empty()) out = "not yet supported by this version: " + out;
  if (proxied) {
    std::vector<std::string> mock_only;
    auto add = [&](std::string what) {
      if (std::find(mock_only.begin(), mock_only.end(), what) == mock_only.end()) mock_only.push_back(std::move(what));
    };
    for (const auto& f : mode.inject) {
      if (f.kind == "pagination") add("fault 'pagination' (it breaks the mock's own pages)");
      if (f.kind == "auth_expiry" && f.expire_after) {
        add("fault 'auth_expiry' with expire_after (it shortens the mock's own tokens)");
      }
    }
    for (const auto& e : mode.expect) {
      if (e.name == "no_duplicate_effects") {
        add("expectation 'no_duplicate_effects' (only the mock counts side effects)");
      }
    }
    if (!mock_only.empty()) {
      std::string what;
      for (const auto& m : mock_only) what += (what.empty() ? "" : ", ") + m;
      out += (out.empty() ? "" : "; ") + std::string("needs the embedded mock, not --upstream: ") + what;
    }
  }
  std::vector<std::string> needs = https ? std::vector<std::string>() : needs_tls(plan, mode);
  if (proxied) {
    // The mock in front of a real upstream checks no credential; the proxy presents the plan's certificate.
    std::erase(needs, std::string("auth method mtls"));
  }
  if (!needs.empty()) {
    // This version runs them, given the certificates: say how.
    std::string what;
    for (const auto& n : needs) what += (what.empty() ? "" : ", ") + n;
    out += (out.empty() ? "" : "; ") + what + (needs.size() == 1 ? " (needs" : " (need") +
           " run --tls DIR; tools/gen-certs DIR writes one)";
  }
  return out;
}

run_result begin_run(const plan::integration_plan& plan, const run_options& options,
                     std::vector<const plan::failure_mode*>& selected) {
  run_result run;
  run.plan_name = plan.integration.name;
  run.plan_file = plan.file;
  run.phase = options.phase.value_or("");
  run.seed = options.seed;
  run.time_scale = options.time_scale;
  run.retry = plan.retry;
  if (options.phase) {
    if (const auto* p = plan.find_phase(*options.phase); p != nullptr && p->retry_settings) {
      run.retry = *p->retry_settings;
    }
  }
  run.traffic = plan.traffic;
  run.dead_letter_path = run.retry.dead_letter_path;

  selected = select_failure_modes(plan, options);
  if (options.shard) {
    run.shard = shard_info{*options.shard, selected.size()};
    selected = take_shard(selected, *options.shard);
  }
  if (const auto findings = plan::lint(plan); !findings.empty()) {
    const auto errors = std::count_if(findings.begin(), findings.end(),
                                      [](const auto& d) { return d.level == core::severity::error; });
    const auto warnings = static_cast<std::ptrdiff_t>(findings.size()) - errors;
    auto count = [](std::ptrdiff_t n, const char* what) {
      return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
    };
    run.notes.push_back("lint: the plan has " + count(errors, "error") + " and " + count(warnings, "warning") +
                        "; `planproof lint " + plan.file + "` lists them");
  }
  // A cap moved by --limit changes what the mocks and the client accept: the report says so.
  const core::limits defaults;
  for (const auto& info : core::limit_catalog()) {
    const auto value = options.limits.*(info.field);
    if (value == defaults.*(info.field)) continue;
    run.notes.push_back("limit: " + std::string(info.name) + " is " + core::format_limit(info, value) + " (default " +
                        core::format_limit(info, defaults.*(info.field)) + "): " + std::string(info.what));
  }
  std::vector<std::string> defaulted;
  for (const auto* mode : selected) {
    for (auto& id : webhook_streams(plan, *mode).defaulted) {
      if (std::find(defaulted.begin(), defaulted.end(), id) == defaulted.end()) defaulted.push_back(std::move(id));
    }
  }
  for (const auto& id : defaulted) {
    run.notes.push_back("webhooks: traffic.webhooks declares no stream for " + id + ", which webhook faults target; " +
                        "its events are delivered at the traffic's rate (" + core::format_number(plan.traffic.rate) +
                        "/s) for its duration (" + core::format_duration(plan.traffic.duration) + ")");
  }
  return run;
}

void add_webhooks(failure_mode_result& result, const plan::failure_mode& mode, webhook_metrics webhooks) {
  auto& m = result.metrics;
  m.webhooks = std::move(webhooks);
  for (const auto& [kind, n] : m.webhooks.faults_injected) m.faults_injected[kind] += n;
  m.latency_of_deliveries = !mode.inject.empty() &&
                            std::all_of(mode.inject.begin(), mode.inject.end(),
                                        [](const plan::fault& f) { return mocks::is_webhook_fault(f.kind); });
}

run_result run_live(const plan::integration_plan& plan, const run_options& options) {
  std::vector<const plan::failure_mode*> selected;
  auto run = begin_run(plan, options, selected);
  const auto auth = resolve_auth(plan.auth);
  if (!auth.error.empty()) throw core::diagnostic_error(core::diagnostic{plan.auth.where, core::severity::error, auth.error});
  std::optional<upstream_setup> upstream;
  if (!options.upstream.empty()) {
    upstream = open_upstream(plan, run.retry, options, auth);
    run.upstream = upstream->url;
    run.notes.push_back("upstream: the failure modes run against " + upstream->url +
                        " through the mock's proxy: faults answer in its place or break its answers, everything else "
                        "is forwarded, and what it answers is relayed; the client sends the plan's own credentials and "
                        "the upstream checks them");
    if (!upstream->token_target.empty()) {
      run.notes.push_back("auth: OAuth2 tokens are fetched from " + upstream->url + upstream->token_target +
                          " through the mock (only token_endpoint_down faults apply to them)");
    }
    if (const auto* e = plan.find_endpoint(plan.traffic.endpoint); e != nullptr && e->pagination) {
      run.notes.push_back("traffic: every request reads " + e->path + " on the upstream (its first page)");
    }
  } else if (auth.generated) {
    // Against the embedded mocks the secret only has to match on both sides; a generated one
    // keeps the plan's real secret out of the run. Said out loud, never silently.
    run.notes.push_back("auth: " + auth.unresolved + "; the client and the embedded mocks share a generated " +
                        std::string(plan::to_string(plan.auth.method)) + " credential for this run");
  }
  if (options.tls) {
    const auto& pki = options.tls->pki;
    run.notes.push_back("tls: the mocks serve HTTPS with " + pki.server_cert() + "; the client trusts " + pki.ca() +
                        " and checks the name " + std::string(run_tls_host));
    if (options.tls->mtls && plan.auth.mtls) {
      // As with a generated credential: the mocks only need both sides to match, so a stand-in
      // signed by DIR/ca.pem replaces the plan's own certificate. Said out loud, never silently.
      const auto& m = *plan.auth.mtls;
      run.notes.push_back("auth: mtls: the client presents " + pki.client_cert() + " with " + pki.client_key() +
                          " (signed by " + pki.ca() + ", which the mocks require) in place of the plan's " +
                          m.client_cert.str() + " and " + m.client_key.str() + ", which are for the real upstream");
    }
  }
  if (options.on_start) options.on_start(run, selected.size());
  if (selected.empty()) return run;  // a shard with nothing to run: no dead-letter file either
  // Every selected failure mode ends as `outcome` for `reason`, none having run.
  const auto end_all = [&](verdict outcome, const std::string& reason, std::size_t from = 0) {
    for (std::size_t i = from; i < selected.size(); ++i) {
      failure_mode_result r;
      r.id = selected[i]->id;
      r.outcome = outcome;
      r.reason = reason;
      if (options.on_result) options.on_result(r);
      run.failure_modes.push_back(std::move(r));
    }
  };
  client::dead_letter_queue dead_letters(run.retry.dead_letter_path);
  if (auto ec = dead_letters.open()) {
    end_all(verdict::error, "cannot open the dead-letter file " + run.dead_letter_path + ": " + ec.message());
    return run;
  }
  if (upstream) {
    // Nothing to run against: said once for each failure mode, never judged as the plan's fault.
    if (auto why = mocks::probe_upstream(upstream->target, run.retry.timeouts.connect); !why.empty()) {
      end_all(verdict::error, "the upstream cannot be reached: " + why);
      return run;
    }
  }
  for (std::size_t i = 0; i < selected.size(); ++i) {
    if (options.stop.stop_requested()) {
      run.interrupted = true;
      end_all(verdict::skipped, "interrupted: not run", i);
      break;
    }
    failure_mode_result r;
    bool interrupted = false;
    try {
      r = run_one(plan, *selected[i], run.retry, auth, options, dead_letters, i + 1, selected.size(),
                  upstream ? &*upstream : nullptr, interrupted);
    } catch (const std::exception& e) {
      r.id = selected[i]->id;
      r.outcome = verdict::error;
      r.reason = std::string("harness failure: ") + e.what();
    }
    if (interrupted) run.interrupted = true;
    if (options.on_result) options.on_result(r);
    run.failure_modes.push_back(std::move(r));
  }
  if (run.interrupted) {
    run.notes.push_back("interrupted: the run was stopped before its end; the failure mode it was in and those "
                        "after it were not judged");
  }
  return run;
}

}  // namespace planproof::scenario
