#include "scenario/replay.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "client/http_client.hpp"
#include "core/file_io.hpp"
#include "core/secret.hpp"
#include "mocks/proxy.hpp"
#include "mocks/tls.hpp"
#include "scenario/auth_material.hpp"

namespace planproof::scenario {

namespace asio = boost::asio;

namespace {

// A request target as the client may put it on the wire: origin form, no bytes that would end
// the request line or start a header.
bool valid_target(std::string_view t) {
  if (t.empty() || t.front() != '/') return false;
  return std::none_of(t.begin(), t.end(), [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

// An id the client may send as a header value (it is one on every attempt).
bool valid_key(std::string_view k) {
  return k.size() <= 200 && std::all_of(k.begin(), k.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

std::string string_field(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

class no_events final : public core::event_sink {
 public:
  void on_event(const core::event&) override {}
};

// The upstream as the client needs it: what Host to send, what to prepend.
struct upstream {
  std::string url;
  std::string host_header;
  std::string path_prefix;
};

// Paced like run's traffic: item i is due at origin + i / rate, and starts then or as soon as one
// of at most `concurrency` workers is free. Workers are member coroutines of this object, which
// outlives them.
struct replay_traffic {
  asio::io_context& io;
  client::http_client& client;
  const core::clock& clock;
  core::time_point origin;
  core::duration interval;
  const std::vector<replay_item>& items;
  const std::string& prefix;
  replay_result& result;
  int marks = -1;  // the progress file; -1: none
  std::size_t next = 0;

  // "s LINE" before a record is sent, "d LINE" once it has ended; false when it cannot be made durable.
  bool mark(char what, std::size_t line) const {
    if (marks < 0) return true;
    const std::string text = std::string(1, what) + " " + std::to_string(line) + "\n";
    return !core::write_all(marks, text) && ::fdatasync(marks) == 0;
  }

  asio::awaitable<void> worker() {
    asio::steady_timer timer(io);
    while (next < items.size()) {
      const auto i = next++;
      const auto& item = items[i];
      const auto wait = origin + interval * static_cast<std::int64_t>(i) - clock.now();
      if (wait > core::duration::zero()) {
        timer.expires_after(wait);
        co_await timer.async_wait(asio::use_awaitable);
      }
      // Named, not a braced temporary: g++ 12 destroys temporaries inside co_await twice.
      client::logical_request request{item.line, item.endpoint, item.body, prefix + item.target};
      request.idempotency_key = item.idempotency_key;
      if (!mark('s', item.line)) {
        // Unmarked, it could be sent again after a crash: not sent at all.
        ++result.failed;
        continue;
      }
      const auto outcome = co_await client.execute(std::move(request));
      (void)mark('d', item.line);
      ++result.replayed;
      switch (outcome) {
        case core::request_outcome::succeeded: ++result.succeeded; break;
        case core::request_outcome::dead_lettered: ++result.dead_lettered; break;
        case core::request_outcome::failed: ++result.failed; break;
      }
    }
  }
};

}  // namespace

replay_selection select_replay(const plan::integration_plan& plan, const client::dead_letter_file& file) {
  replay_selection s;
  s.skipped_count = file.damaged;
  for (const auto line : file.damaged_lines) {
    s.skipped.push_back({line, "not a whole JSON record (torn by a crash, or edited)"});
  }
  auto skip = [&](std::size_t line, std::string why) {
    ++s.skipped_count;
    if (s.skipped.size() < client::max_listed_damaged_lines) s.skipped.push_back({line, std::move(why)});
  };
  std::string known;
  for (const auto& e : plan.endpoints) known += (known.empty() ? "" : ", ") + e.id;

  for (const auto& r : file.records) {
    const auto& o = r.fields;
    const auto at = "line " + std::to_string(r.line) + ": ";
    if (const auto kind = string_field(o, "kind"); !kind.empty()) {
      if (s.other_records.size() < client::max_listed_damaged_lines) s.other_records.push_back({r.line, kind});
      continue;
    }
    const auto id = string_field(o, "endpoint");
    if (id.empty()) {
      skip(r.line, "no \"endpoint\" in the record");
      continue;
    }
    const auto* endpoint = plan.find_endpoint(id);
    if (endpoint == nullptr) {
      s.errors.push_back(at + "no endpoint '" + id + "' in the plan (endpoints: " + known + ")");
      continue;
    }
    if (endpoint->direction == plan::endpoint_direction::inbound) {
      s.errors.push_back(at + "endpoint '" + id + "' is inbound in the plan: the client does not call it");
      continue;
    }
    if (const auto method = string_field(o, "method"); !method.empty() && method != endpoint->method) {
      s.errors.push_back(at + "the record says " + method + " but endpoint '" + id + "' is " + endpoint->method +
                         " in the plan");
      continue;
    }
    replay_item item;
    item.line = r.line;
    item.endpoint = endpoint;
    item.target = string_field(o, "target");
    if (item.target.empty()) item.target = string_field(o, "path");  // records from before `target` was always written
    if (item.target.empty()) item.target = endpoint->path;
    if (!valid_target(item.target)) {
      skip(r.line, "its target is not a path the client can send");
      continue;
    }
    if (const auto* body = o.if_contains("body"); body != nullptr && !body->is_null()) {
      item.body = body->is_string() ? std::string(body->as_string()) : boost::json::serialize(*body);
    }
    item.idempotency_key = string_field(o, "idempotency_key");
    if (item.idempotency_key.empty()) item.idempotency_key = string_field(o, "correlation_id");
    if (!valid_key(item.idempotency_key)) {
      skip(r.line, "its idempotency key is not a header value the client can send");
      continue;
    }
    s.items.push_back(std::move(item));
  }
  std::sort(s.skipped.begin(), s.skipped.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
  return s;
}

replay_result replay(const plan::integration_plan& plan, const std::vector<replay_item>& items,
                     const replay_options& options) {
  replay_result result;
  auto fail = [&](replay_status status, std::string why) {
    result.status = status;
    result.error = std::move(why);
    return result;
  };

  plan::retry_config retry = plan.retry;
  if (options.phase) {
    const auto* p = plan.find_phase(*options.phase);
    if (p == nullptr) {
      std::string known;
      for (const auto& ph : plan.phases) known += (known.empty() ? "" : ", ") + ph.name;
      return fail(replay_status::usage_error, "--phase: no phase '" + *options.phase + "' in the plan" +
                                                  (known.empty() ? "" : " (phases: " + known + ")"));
    }
    if (p->retry_settings) retry = *p->retry_settings;
  }

  // Where to send: --upstream, or the plan's base_url.
  const std::string url = options.upstream.empty() ? plan.integration.base_url : options.upstream;
  const std::string from = options.upstream.empty() ? "the plan's base_url" : "--upstream";
  if (url.empty()) {
    return fail(replay_status::usage_error, "the plan has no integration.base_url: say where to send with --upstream URL");
  }
  auto parsed = mocks::parse_upstream_url(url);
  if (const auto* why = std::get_if<std::string>(&parsed)) {
    return fail(replay_status::usage_error, from + " '" + url + "' " + *why + " (e.g. http://127.0.0.1:8080)");
  }
  const auto& target = std::get<mocks::upstream_target>(parsed);
  const plan::mtls_config* mtls = plan.auth.method == plan::auth_method::mtls && plan.auth.mtls ? &*plan.auth.mtls : nullptr;
  std::shared_ptr<asio::ssl::context> tls;
  if (target.tls) {
    // The server's certificate must chain to a trusted CA and name the host replay connects to.
    mocks::client_tls_config config{.ca_file = options.upstream_ca, .verify_peer = !options.insecure,
                                    .host = target.host};
    if (mtls != nullptr) {
      if (auto why = use_plan_certificate(*mtls, config, "a replay goes to a real upstream"); !why.empty()) {
        return fail(replay_status::usage_error, why);
      }
    }
    auto built = mocks::make_client_context(config);
    if (!built) return fail(replay_status::usage_error, "cannot set up TLS for " + url + ": " + built.error);
    tls = std::make_shared<asio::ssl::context>(std::move(*built.context));
  } else if (!options.upstream_ca.empty()) {
    return fail(replay_status::usage_error, "--upstream-ca applies only to an https:// upstream, not " + url);
  } else if (options.insecure) {
    return fail(replay_status::usage_error, "--insecure applies only to an https:// upstream, not " + url);
  } else if (mtls != nullptr) {
    return fail(replay_status::usage_error, "auth mtls authenticates in the TLS handshake, so " + from + " must be an "
                                            "https:// upstream, not " + url);
  }
  upstream u;
  u.url = mocks::to_string(target);
  u.host_header = mocks::host_header(target);
  u.path_prefix = target.path_prefix;
  result.upstream_url = u.url;

  // Credentials as run resolves them; only the real ones open a real upstream.
  const auto& auth_config = plan.auth;
  if (!plan::is_supported(auth_config.method)) {
    return fail(replay_status::usage_error,
                "this version's client cannot send auth " + std::string(plan::to_string(auth_config.method)) +
                    ", so the upstream would refuse every replayed request");
  }
  const auto auth = resolve_auth(auth_config);
  if (!auth.error.empty()) return fail(replay_status::usage_error, auth.error);
  if (auth.generated) {
    return fail(replay_status::usage_error, "cannot resolve the plan's credentials (" + auth.unresolved +
                                                "): a replay goes to a real upstream and needs the real ones");
  }
  if (auth_config.method == plan::auth_method::oauth2_client_credentials) {
    // The client fetches its tokens from the upstream it sends to (token_url's path on it).
    const auto& token_url = auth_config.oauth2->token_url;
    if (token_url.find("://") != std::string::npos) {
      const auto token_host = mocks::parse_upstream_url(token_url);
      const auto* t = std::get_if<mocks::upstream_target>(&token_host);
      if (t == nullptr || t->host != target.host || t->port != target.port || t->tls != target.tls) {
        return fail(replay_status::usage_error, "the plan's token_url " + token_url + " is not on " + u.url +
                                                    ", and this version's client fetches tokens from the upstream it "
                                                    "sends to");
      }
    }
  }

  asio::ip::tcp::endpoint address;
  if (auto why = mocks::probe_upstream(target, retry.timeouts.connect, &address); !why.empty()) {
    return fail(replay_status::unreachable, why);
  }

  // The marks of a replay that did not finish: what it started is not sent again.
  std::vector<replay_item> pending;
  int marks = -1;
  if (!options.progress.empty()) {
    std::error_code ignored;
    if (options.restart) std::filesystem::remove(options.progress, ignored);
    std::set<std::size_t> started, ended;
    if (std::ifstream in(options.progress); in) {
      char what = 0;
      std::size_t line = 0;
      while (in >> what >> line) (what == 's' ? started : ended).insert(line);
    }
    for (const auto& item : items) {
      if (started.count(item.line) == 0) pending.push_back(item);
      else ++result.resumed;
    }
    for (const auto line : started) {
      if (ended.count(line) == 0) result.in_doubt.push_back(line);
    }
    marks = ::open(options.progress.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (marks < 0) {
      return fail(replay_status::harness_error, "cannot open " + options.progress.string() + " for the replay's marks: " +
                                                    std::generic_category().message(errno));
    }
    (void)core::sync_directory(std::filesystem::absolute(options.progress).parent_path());
  } else {
    pending = items;
  }
  struct closer {
    int fd;
    ~closer() {
      if (fd >= 0) ::close(fd);
    }
  } close_marks{marks};

  std::error_code exists_ec;
  const bool out_existed = std::filesystem::exists(options.out, exists_ec);
  client::dead_letter_queue out(options.out);
  if (auto ec = out.open()) {
    return fail(replay_status::harness_error, "cannot open " + options.out.string() + " for the dead letters: " + ec.message());
  }

  asio::io_context io(1);
  core::plan_clock clock(core::time_scale{1.0});
  resilience::seeded_random rng(std::random_device{}());
  client::client_options copts;
  copts.upstream = address;
  copts.host = u.host_header;
  copts.tls = tls;
  copts.tls_server_name = target.host;
  copts.body_limit = static_cast<std::size_t>(options.limits.response_body);
  copts.header_limit = static_cast<std::uint32_t>(options.limits.response_headers);
  if (!auth.client_secret.empty()) copts.oauth2 = oauth2_client_options(auth_config, auth, retry);
  if (auth.jwt_key) copts.jwt = jwt_client_options(auth_config, auth, retry, {std::chrono::system_clock::now(), clock.now()});
  if (!auth.header.name.empty()) copts.extra_headers.push_back(auth.header);
  if (!auth.query.name.empty()) copts.query_credential = auth.query;
  if (!auth.signing_key.empty()) {
    if (const auto scheme = mocks::signature_scheme_from_plan(auth_config)) {
      copts.signer = request_signer(*scheme, auth.signing_key, copts.host);
    }
  }
  const int concurrency = std::max(1, plan.traffic.concurrency);
  copts.max_idle_connections = static_cast<std::size_t>(concurrency);
  copts.dead_letter_context = options.context;
  copts.dead_letter_context["plan"] = plan.integration.name;

  const double rate = options.rate.value_or(plan.traffic.rate);
  const auto origin = clock.now();
  if (options.log != nullptr) options.log->set_context(options.context, origin);
  no_events none;
  core::event_sink& events = options.log != nullptr ? static_cast<core::event_sink&>(*options.log) : none;
  {
    client::http_client client(io.get_executor(), copts, retry, plan.endpoints, clock, core::time_scale{1.0}, events,
                               out, rng);
    replay_traffic traffic{io, client, clock, origin,
                           core::duration{static_cast<core::duration::rep>(std::llround(1e9 / rate))},
                           pending, u.path_prefix, result, marks};
    const auto workers = std::min<std::size_t>(static_cast<std::size_t>(concurrency), pending.size());
    for (std::size_t w = 0; w < workers; ++w) asio::co_spawn(io, traffic.worker(), asio::detached);
    io.run();
  }
  if (marks >= 0 && result.replayed + result.failed == pending.size() && result.failed == 0) {
    // Every record has ended: a later replay of the file is a new one.
    std::error_code ignored;
    std::filesystem::remove(options.progress, ignored);
  }
  if (out.appended() == 0 && !out_existed) {
    // Nothing failed again: no empty file to suggest otherwise.
    std::error_code ignored;
    std::filesystem::remove(options.out, ignored);
  }
  return result;
}

}  // namespace planproof::scenario
