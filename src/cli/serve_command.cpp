// `planproof serve PLAN`: the plan's mock upstream on its own, for an application in any language to
// call, with its faults switched on and off through an admin API beside it.
#include <algorithm>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/serve_webhooks.hpp"
#include "core/file_io.hpp"
#include "core/logging.hpp"
#include "core/units.hpp"
#include "core/secret.hpp"
#include "mocks/admin_api.hpp"
#include "mocks/exposition.hpp"
#include "mocks/fault_injector.hpp"
#include "mocks/proxy.hpp"
#include "mocks/server.hpp"
#include "mocks/webhook_deliveries.hpp"
#include "mocks/tls.hpp"
#include "plan/loader.hpp"
#include "scenario/auth_material.hpp"

namespace planproof::cli {
namespace {

namespace asio = boost::asio;

struct serve_args {
  std::string plan;
  std::string listen = "127.0.0.1:0";
  std::string admin = "127.0.0.1:0";
  std::string admin_token;  // a secret reference: env:NAME or file:PATH
  std::vector<std::string> faults;
  std::uint64_t seed = 1;
  double time_scale = 1.0;
  std::vector<std::string> sets;
  std::vector<std::string> limits;  // --limit NAME=VALUE
  std::string journal;
  std::size_t max_records = 100'000;
  std::string upstream;
  std::string upstream_ca;
  bool insecure = false;
  std::string upstream_timeout = "30s";
  deliver_args deliver;  // the provider side: serve_webhooks.cpp
  std::string tls;  // a tools/gen-certs directory: serve HTTPS
  bool mtls = false;
};

struct listen_address {
  std::string host;
  unsigned short port = 0;
  bool loopback = true;
};

// `HOST:PORT`, `:PORT` or `PORT` (host 127.0.0.1); an IPv6 host in brackets (`[::1]:8080`).
// nullopt, after saying why on standard error, when `text` is none of them.
std::optional<listen_address> parse_address(std::string_view option, std::string_view text) {
  auto fail = [&](std::string_view why) -> std::optional<listen_address> {
    std::cerr << option << ": error: '" << text << "' " << why << " (HOST:PORT, :PORT or PORT, e.g. 127.0.0.1:8080)\n";
    return std::nullopt;
  };
  std::string_view host = "127.0.0.1";
  std::string_view port_text = text;
  if (const auto colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.empty()) host = "127.0.0.1";
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host == "localhost") host = "127.0.0.1";
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("has no port from 0 to 65535");
  }
  boost::system::error_code bad;
  const auto address = asio::ip::make_address(std::string(host), bad);
  if (bad) return fail("has no IP address to listen on (an IPv4 or bracketed IPv6 address, or localhost)");
  return listen_address{address.to_string(), static_cast<unsigned short>(port), address.is_loopback()};
}

std::string url_of(const std::string& host, unsigned short port, std::string_view scheme = "http") {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(scheme) + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// One line about a fault for people: what it does, where, when, how often.
std::string describe(const plan::fault& f) {
  std::string out = f.kind;
  if (f.kind == "status" || (f.kind == "outage" && f.outage == plan::outage_mode::status) || f.kind == "rate_limit") {
    out += " " + std::to_string(f.status);
  }
  if (f.kind == "outage" && f.outage == plan::outage_mode::reset) out += " (reset)";
  if (f.kind == "malformed") out += " " + std::string(plan::to_string(f.malformed));
  if (f.kind == "rate_limit") out += " above " + core::format_number(f.limit) + "/s";
  if (f.kind == "tls") out += " " + std::string(plan::to_string(f.tls));
  if (f.retry_after) out += ", Retry-After " + core::format_duration(*f.retry_after);
  // A tls fault picks connections (at their handshake); the others pick requests.
  const bool per_connection = f.kind == "tls";
  out += f.endpoint ? " on " + *f.endpoint : per_connection ? " on new connections" : " on every endpoint";
  if (f.probability < 1) {
    out += ", " + core::format_number(f.probability * 100) + (per_connection ? "% of connections" : "% of requests");
  }
  if (f.first) out += ", first " + std::to_string(*f.first);
  if (f.every) out += ", one in every " + std::to_string(*f.every);
  if (f.after) out += ", after " + std::to_string(*f.after);
  for (std::size_t i = 0; i < f.during.size(); ++i) {
    const auto& w = f.during[i];
    out += (i == 0 ? ", during " : " and ") + core::format_duration(w.from) + ".." +
           (w.to ? core::format_duration(*w.to) : std::string("end"));
  }
  return out;
}

// The plan's faults as the server will hold them: every failure mode's, in plan order, and for
// each the failure mode it belongs to. Faults the mock cannot carry out are left out here rather
// than by the server, so the server's fault indexes and this table stay the same.
struct fault_table {
  std::vector<plan::fault> faults;
  std::vector<std::string> owners;
  std::vector<std::string> skipped;  // a note for each fault left out: which, and why
};

fault_table faults_of(const plan::integration_plan& plan, bool https) {
  fault_table t;
  for (const auto& mode : plan.failure_modes) {
    for (const auto& f : mode.inject) {
      if (f.kind == "tls" && !https) {
        t.skipped.push_back("not injected: " + mode.id + ": tls " + std::string(plan::to_string(f.tls)) +
                            " (a handshake fault needs HTTPS: serve with --tls DIR)");
      } else if (mocks::is_injectable(f)) {
        t.faults.push_back(f);
        t.owners.push_back(mode.id);
      } else if (!mocks::is_webhook_fault(f.kind)) {  // the provider side injects those
        t.skipped.push_back("not injected by this version: " + mode.id + ": " + f.kind);
      }
    }
  }
  return t;
}

// The server contexts for `--tls DIR`: the normal one and one per tls fault the plan injects.
// Empty when they all loaded; otherwise why not, naming the file and OpenSSL's reason.
std::string load_tls(const serve_args& args, const fault_table& table, mocks::server_tls_contexts& contexts) {
  std::error_code ec;
  if (!std::filesystem::is_directory(args.tls, ec)) {
    return "'" + args.tls + "' is not a directory (write one with tools/gen-certs " + args.tls + ")";
  }
  std::vector<mocks::tls_fault> faults;
  for (const auto& f : table.faults) {
    if (f.kind != "tls") continue;
    if (const auto t = mocks::parse_tls_fault(plan::to_string(f.tls))) faults.push_back(*t);
  }
  return contexts.load(mocks::pki_layout{args.tls}, args.mtls, faults);
}

std::string count(std::uint64_t n, std::string_view what) {
  return std::to_string(n) + " " + std::string(what) + (n == 1 ? "" : "s");
}

void print(const core::diagnostic_error& e) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << '\n';
}

// What the app under test must send for the mock to accept it. A throwaway credential generated
// for this process opens nothing but this mock, so it is shown once; a resolved secret never is.
void print_auth(const plan::auth_config& plan_auth, const scenario::auth_material& auth, const serve_args& args) {
  const std::string generated = auth.generated ? "    (" + auth.unresolved +
                                                     "; a test credential generated for this mock, which your app must send)\n"
                                               : std::string();
  auto value = [&](const std::string& v) {
    return auth.generated ? ": " + v : " with the value of " + plan_auth.secret->str();
  };
  switch (plan_auth.method) {
    case plan::auth_method::none:
      return;
    case plan::auth_method::api_key:
    case plan::auth_method::bearer:
      if (!auth.query.name.empty()) {
        std::cout << "  the mock expects query parameter " << auth.query.name << value(auth.query.value)
                  << " (form-encoded) on every request\n"
                  << generated;
        return;
      }
      if (auth.header.name.empty()) break;
      std::cout << "  the mock expects header " << auth.header.name << value(auth.header.value) << '\n' << generated;
      return;
    case plan::auth_method::oauth2_client_credentials: {
      const auto path = scenario::token_path_of(plan_auth.oauth2->token_url);
      std::cout << "  OAuth2 client credentials: POST " << path
                << " (grant_type=client_credentials; client_id and client_secret in the body or in Basic auth)\n"
                << "    client_id: " << (plan_auth.oauth2->client_id.secret && !auth.generated
                                             ? "the value of " + plan_auth.oauth2->client_id.secret->str()
                                             : auth.client_id)
                << "\n    client_secret" << value(auth.client_secret) << '\n'
                << generated << "    then send Authorization: Bearer <access_token>; tokens live "
                << core::format_duration(plan_auth.oauth2->token_lifetime) << '\n';
      return;
    }
    case plan::auth_method::hmac: {
      const auto& h = *plan_auth.hmac;
      std::string parts;
      for (const auto c : h.signed_components) parts += (parts.empty() ? "" : ",") + std::string(plan::to_string(c));
      std::cout << "  requests must be signed: HMAC-" << (h.algorithm == plan::hmac_algorithm::sha512 ? "SHA512" : "SHA256")
                << " over " << parts << ", header " << (plan_auth.header.empty() ? "Signature" : plan_auth.header)
                << ": v1=<hex>, timestamp in " << h.timestamp_header << ", tolerance " << core::format_duration(h.tolerance)
                << " (the format: src/core/request_signature.hpp)\n"
                << "    key" << value(auth.signing_key) << '\n'
                << generated;
      return;
    }
    case plan::auth_method::jwt: {
      if (!auth.jwt_key) break;
      const auto& j = *plan_auth.jwt;
      std::string claims;
      for (const auto& [name, v] : j.claims) claims += (claims.empty() ? "" : ", ") + name + "=" + v;
      const bool bearer = plan_auth.header == "Authorization";
      std::cout << "  requests must carry a JWT signed " << plan::to_string(j.algorithm) << ", in "
                << (bearer ? "Authorization: Bearer <token>" : plan_auth.header + ": <token>")
                << "; exp required, exp - iat at most " << core::format_duration(j.lifetime)
                << (claims.empty() ? "" : "; claims " + claims) << '\n';
      if (!auth.generated) {
        std::cout << "    signed with the key of " << plan_auth.secret->str() << '\n';
      } else if (j.algorithm == plan::jwt_algorithm::HS256) {
        std::cout << "    HS256 secret: " << auth.signing_key << '\n' << generated;
      } else {
        std::cout << generated << "    sign with this private key:\n" << auth.jwt_key->private_pem();
      }
      return;
    }
    case plan::auth_method::mtls:
      if (!args.mtls) break;
      std::cout << "  every client must present a certificate signed by " << args.tls << "/ca.pem (--mtls)\n";
      return;
    default:
      break;
  }
  std::cout << "  note: auth " << plan::to_string(plan_auth.method)
            << " is not checked by this version's mock; every request is accepted without a credential\n";
}

int execute(const serve_args& args) {
  core::setup_logging(core::verbosity::normal);
  const auto load = load_options_from(args.sets, args.limits);
  if (!load) return exit_usage;
  const auto listen = parse_address("--listen", args.listen);
  const auto admin_at = parse_address("--admin", args.admin);
  if (!listen || !admin_at) return exit_usage;
  // Anyone who reaches the admin API can change what the mock does: off loopback it takes a token.
  std::string admin_token;
  if (!args.admin_token.empty()) {
    const auto ref = core::parse_secret_ref(args.admin_token);
    if (!ref) {
      std::cerr << "--admin-token: error: expected env:NAME or file:PATH (the token itself never goes on a command "
                   "line), got '"
                << core::redact(args.admin_token) << "'\n";
      return exit_usage;
    }
    auto resolved = core::resolve_secret(*ref);
    if (!resolved.value) {
      std::cerr << "--admin-token: error: " << resolved.error << '\n';
      return exit_usage;
    }
    admin_token = std::move(*resolved.value);
  } else if (!admin_at->loopback) {
    std::cerr << "--admin: error: the admin API on " << admin_at->host
              << " would let anyone who reaches it change what the mock does; give it a token with --admin-token "
                 "env:NAME (or file:PATH), which clients send as `Authorization: Bearer <token>`\n";
    return exit_usage;
  }
  const auto deliver = parse_deliver_args(args.deliver);
  if (!deliver) return exit_usage;
  if (args.mtls && args.tls.empty()) {
    std::cerr << "--mtls: error: needs --tls DIR (client certificates must be signed by DIR/ca.pem)\n";
    return exit_usage;
  }
  if (!args.journal.empty()) {
    const auto dir = std::filesystem::absolute(args.journal).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      std::cerr << "--journal: error: the directory " << dir.string() << " does not exist\n";
      return exit_usage;
    }
  }

  std::shared_ptr<const mocks::upstream_proxy> upstream;
  if (!args.upstream.empty()) {
    auto target = mocks::parse_upstream_url(args.upstream);
    if (const auto* why = std::get_if<std::string>(&target)) {
      std::cerr << "--upstream: error: '" << args.upstream << "' " << *why
                << " (e.g. https://api.sandbox.example or http://127.0.0.1:9000/v2)\n";
      return exit_usage;
    }
    mocks::upstream_options o;
    o.body_limit = load->limits.response_body;
    o.header_limit = static_cast<std::uint32_t>(load->limits.response_headers);
    o.target = std::get<mocks::upstream_target>(target);
    o.ca_file = args.upstream_ca;
    if (args.insecure) {
      if (!o.target.tls) {
        std::cerr << "--insecure: error: applies only with an https:// --upstream\n";
        return exit_usage;
      }
      o.tls.verify_peer = false;
      std::cerr << "planproof serve: warning: --insecure: the certificate of " << args.upstream
                << " is NOT checked; anyone on the path can read and change the forwarded traffic\n";
    }
    const auto timeout = core::parse_duration(args.upstream_timeout);
    if (!timeout || *timeout <= core::duration::zero()) {
      std::cerr << "--upstream-timeout: error: '" << args.upstream_timeout << "' is not a positive duration (e.g. 30s)\n";
      return exit_usage;
    }
    o.timeout = *timeout;
    auto made = mocks::upstream_proxy::make(std::move(o));
    if (const auto* why = std::get_if<std::string>(&made)) {
      std::cerr << "--upstream: error: " << *why << '\n';
      return exit_usage;
    }
    upstream = std::get<std::shared_ptr<mocks::upstream_proxy>>(made);
  } else if (!args.upstream_ca.empty()) {
    std::cerr << "--upstream-ca: error: applies only with --upstream\n";
    return exit_usage;
  } else if (args.insecure) {
    std::cerr << "--insecure: error: applies only with an https:// --upstream\n";
    return exit_usage;
  }

  plan::integration_plan plan;
  try {
    plan = plan::load_file(args.plan, *load);
  } catch (const core::diagnostic_error& e) {
    print(e);
    return exit_usage;
  }
  std::set<std::string> enabled_modes;
  for (const auto& id : args.faults) {
    if (plan.find_failure_mode(id) == nullptr) {
      std::string known;
      for (const auto& f : plan.failure_modes) known += (known.empty() ? "" : ", ") + f.id;
      std::cerr << "--fault: error: no failure mode '" << id << "' in the plan (failure modes: " << known << ")\n";
      return exit_usage;
    }
    enabled_modes.insert(id);
  }

  const bool https = !args.tls.empty();
  auto table = faults_of(plan, https);
  std::shared_ptr<mocks::server_tls_contexts> tls;
  if (https) {
    tls = std::make_shared<mocks::server_tls_contexts>();
    if (const auto error = load_tls(args, table, *tls); !error.empty()) {
      std::cerr << "--tls: error: " << error << '\n';
      return exit_usage;
    }
  }
  const auto auth = upstream ? scenario::auth_material{} : scenario::resolve_auth(plan.auth, /*for_mock_only=*/true);
  const core::time_scale scale{args.time_scale};
  core::plan_clock clock(scale);  // plan time starts now, like traffic start in a run

  asio::io_context io(1);
  // Installed before anything is printed: a script that reads the address lines may signal at once.
  asio::signal_set signals(io, SIGINT, SIGTERM);

  auto routes = mocks::routes_from_plan(plan);
  mocks::server_options options;
  options.address = listen->host;
  options.port = listen->port;
  options.seed = args.seed;
  options.single_threaded_executor = true;  // the mock, the admin API and the signals share this one thread
  options.max_records = args.max_records;
  options.header_limit = static_cast<std::uint32_t>(load->limits.request_headers);
  options.body_limit = load->limits.request_body;
  options.max_connections = static_cast<std::size_t>(load->limits.connections);
  options.upstream = upstream;
  // In proxy mode the real upstream checks credentials; the mock passes them through untouched.
  options.tls = tls;
  // In proxy mode only the token path is known to the mock: token_endpoint_down faults apply there.
  mocks::auth_requirement proxied;
  if (upstream && plan.auth.method == plan::auth_method::oauth2_client_credentials && plan.auth.oauth2) {
    proxied.token_path = scenario::token_path_of(plan.auth.oauth2->token_url);
  }
  mocks::server mock(io.get_executor(), clock, clock.origin(), scale, routes,
                     upstream ? proxied
                              : scenario::mock_requirement(plan.auth, auth, args.seed,
                                                           {std::chrono::system_clock::now(), clock.origin()}),
                     table.faults, options);
  for (std::size_t i = 0; i < table.owners.size(); ++i) {
    if (!enabled_modes.contains(table.owners[i])) mock.set_fault_enabled(i, false);
  }
  if (auto ec = mock.listen()) {
    std::cerr << "planproof serve: cannot listen on " << url_of(listen->host, listen->port)
              << " for the mock: " << ec.message() << '\n';
    return exit_harness_error;
  }
  std::vector<std::string> mode_ids;
  for (const auto& m : plan.failure_modes) mode_ids.push_back(m.id);
  auto webhooks = make_serve_webhooks(io.get_executor(), clock, plan, deliver, enabled_modes, args.seed, args.max_records);
  mocks::admin_api admin(io.get_executor(), mock, {routes, table.owners, mode_ids, webhooks.deliveries.get()},
                         {.address = admin_at->host, .port = admin_at->port, .token = admin_token});
  if (auto ec = admin.listen()) {
    std::cerr << "planproof serve: cannot listen on " << url_of(admin_at->host, admin_at->port)
              << " for the admin API: " << ec.message() << '\n';
    return exit_harness_error;
  }

  // The two address lines first, alone and flushed: scripts and tests read them.
  const auto admin_url = url_of(admin_at->host, admin.port());
  std::cout << "mock: " << url_of(listen->host, mock.port(), https ? "https" : "http") << '\n'
            << "admin: " << admin_url << '\n' << std::flush;
  if (!listen->loopback) {
    std::cerr << "planproof serve: warning: the mock listens on " << listen->host
              << ", reachable from other machines\n";
  }
  if (webhooks.deliveries && !deliver->loopback) {
    std::cerr << "planproof serve: warning: deliveries go to " << deliver->host << ", another machine than this one\n";
  }
  if (!admin_at->loopback) {
    std::cerr << "planproof serve: warning: the admin API listens on " << admin_at->host
              << ", reachable from other machines, and anyone who reaches it can change what the mock does\n";
  }

  std::cout << "planproof serve " << plan.integration.name << ": " << count(routes.size(), "endpoint") << ", "
            << count(table.faults.size(), "fault") << " in " << count(plan.failure_modes.size(), "failure mode") << ", seed "
            << args.seed << ", time scale " << core::format_number(args.time_scale)
            << " (plan time starts now)\n";
  if (https) {
    const mocks::pki_layout pki{std::filesystem::absolute(args.tls)};
    std::cout << "  HTTPS with " << pki.server_cert() << " (localhost, 127.0.0.1, ::1); clients must trust "
              << pki.ca() << '\n';
    if (args.mtls) {
      std::cout << "  mTLS: clients must present a certificate signed by " << pki.ca() << ", e.g. "
                << pki.client_cert() << " with " << pki.client_key() << '\n';
    }
  }
  if (upstream) {
    std::cout << "  proxy: forwarding every request no fault answers to " << mocks::to_string(upstream->options().target)
              << "; credentials go through untouched and the upstream checks them\n"
              << "  endpoints (their requests get the faults that name them):\n";
    for (const auto& r : routes) std::cout << "    " << r.endpoint_id << ": " << r.method << ' ' << r.path << '\n';
  } else {
    print_auth(plan.auth, auth, args);
    std::cout << "  endpoints:\n";
    for (const auto& r : routes) {
      std::cout << "    " << r.endpoint_id << ": " << r.method << ' ' << r.path << " -> " << r.status << '\n';
    }
  }
  std::size_t enabled = 0;
  for (std::size_t i = 0; i < table.faults.size(); ++i) {
    if (!enabled_modes.contains(table.owners[i])) continue;
    if (enabled++ == 0) std::cout << "  faults enabled:\n";
    std::cout << "    [" << i << "] " << table.owners[i] << ": " << describe(table.faults[i]) << '\n';
  }
  if (enabled == 0) {
    std::cout << "  faults enabled: none (enable a failure mode: curl -X POST " << admin_url
              << "/failure-modes/ID/enable)\n";
  }
  print_webhook_banner(std::cout, webhooks, admin_url);
  for (const auto& id : enabled_modes) {
    const auto& w = webhooks.webhook_modes;
    const bool webhook = std::find(w.begin(), w.end(), id) != w.end();
    if (webhook && webhooks.deliveries) continue;
    if (std::find(table.owners.begin(), table.owners.end(), id) == table.owners.end()) {
      std::cout << "  note: failure mode " << id
                << (webhook ? " has only webhook faults, injected into deliveries (--deliver-to URL)\n"
                            : " has no fault this version can inject\n");
    }
  }
  for (const auto& s : table.skipped) std::cout << "  note: " << s << '\n';
  std::cout << "  failure modes: ";
  for (std::size_t i = 0; i < mode_ids.size(); ++i) std::cout << (i == 0 ? "" : ", ") << mode_ids[i];
  std::cout << "\nStop with Ctrl-C or SIGTERM.\n" << std::flush;
  if (webhooks.deliveries) {
    if (auto why = webhooks.deliveries->start(); !why.empty()) {
      std::cerr << "planproof serve: cannot send deliveries: " << why << '\n';
      return exit_usage;
    }
  }

  int stopped_by = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) stopped_by = signal;
    io.stop();
  });
  io.run();

  // Close both servers and let their handlers finish: whatever was answered is recorded before
  // the journal is read. Bounded, so a stuck handler cannot keep the process from exiting.
  signals.cancel();
  admin.stop();
  mock.stop();
  if (webhooks.deliveries) webhooks.deliveries->stop();
  io.restart();
  io.run_for(std::chrono::seconds(5));

  const auto totals = mock.metrics();
  std::uint64_t injected = 0;
  std::string kinds;
  for (const auto& [kind, count] : totals.by_fault) {
    injected += count;
    kinds += (kinds.empty() ? " (" : ", ") + kind + ": " + std::to_string(count);
  }
  if (!kinds.empty()) kinds += ")";
  std::cout << "planproof serve: stopped" << (stopped_by == SIGINT ? " (SIGINT)" : stopped_by == SIGTERM ? " (SIGTERM)" : "")
            << "; " << count(totals.requests, "request") << ", " << count(injected, "fault") << " injected" << kinds
            << '\n';
  if (!args.journal.empty()) {
    const auto records = mock.records();
    if (auto ec = core::write_file_atomically(args.journal, mocks::journal_text(records), core::file_access::owner_only)) {
      std::cerr << "planproof serve: cannot write the journal to " << args.journal << ": " << ec.message() << '\n';
      return exit_harness_error;
    }
    std::cout << "planproof serve: journal of " << count(records.size(), "request") << " written to " << args.journal;
    if (const auto dropped = mock.dropped_records(); dropped != 0) {
      std::cout << " (" << dropped << " more beyond --max-records not kept)";
    }
    std::cout << '\n';
  }
  if (!finish_serve_webhooks(std::cout, webhooks, deliver)) return exit_harness_error;
  std::cout << std::flush;
  return std::cout ? exit_held : exit_harness_error;
}

}  // namespace

command add_serve_command(CLI::App& app) {
  auto args = std::make_shared<serve_args>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Serve the plan's mock upstream on its own, so an application in any language can be pointed at an\n"
      "upstream that misbehaves as the plan's failure modes say, with an admin API to turn faults on and off,\n"
      "a request journal and Prometheus metrics. Prints `mock: URL` and `admin: URL` first; runs until SIGINT\n"
      "or SIGTERM. Exit 0 when stopped, 2 invalid plan, usage or certificates, 3 an address cannot be bound.");
  cmd->add_option("PLAN", args->plan, "The plan file (YAML or JSON)")->required();
  cmd->add_option("--listen", args->listen,
                  "Where the mock listens: HOST:PORT, :PORT or PORT (port 0 = any free one); a host that is\n"
                  "not loopback makes the mock reachable from other machines")
      ->capture_default_str();
  cmd->add_option("--admin", args->admin, "Where the admin API listens, as --listen")->capture_default_str();
  cmd->add_option("--admin-token", args->admin_token,
                  "The admin API's token, as env:NAME or file:PATH: every admin request must then carry\n"
                  "`Authorization: Bearer <token>` (401 otherwise). Required when --admin is not loopback");
  repeatable(cmd->add_option("--fault", args->faults,
                             "Start with this failure mode's faults enabled (repeatable); the others start disabled"));
  cmd->add_option("--seed", args->seed, "Seed for fault draws")->capture_default_str();
  cmd->add_option("--time-scale", args->time_scale,
                  "Multiply every plan duration by F (fault windows, latencies, Retry-After waits)")
      ->check(CLI::Range(1e-4, 100.0))
      ->capture_default_str();
  repeatable(cmd->add_option("--set", args->sets, "Override a plan value before serving, as with run (repeatable)"));
  add_limit_option(cmd, args->limits);
  cmd->add_option("--journal", args->journal, "On shutdown, write the kept requests to FILE as JSON lines");
  cmd->add_option("--upstream", args->upstream,
                  "Proxy mode: forward every request no fault answers to this real upstream (http:// or https://,\n"
                  "with an optional path prefix) and break its answers as the plan's faults say");
  cmd->add_option("--upstream-ca", args->upstream_ca,
                  "PEM file of the CAs an https upstream's certificate must chain to (default: the system store)");
  cmd->add_flag("--insecure", args->insecure,
                "Do not check the https --upstream's certificate (a warning says so): only for a server known to\n"
                "be misconfigured");
  cmd->add_option("--upstream-timeout", args->upstream_timeout,
                  "Real time one forwarded request may take, connect to last byte; beyond it the app gets a 502")
      ->capture_default_str();
  cmd->add_option("--tls", args->tls,
                  "Serve HTTPS with the certificates tools/gen-certs wrote into DIR: server.pem and server.key\n"
                  "(and the certificates tls faults present); clients must trust DIR/ca.pem")
      ->type_name("DIR");
  cmd->add_flag("--mtls", args->mtls,
                "With --tls: require a client certificate signed by DIR/ca.pem (DIR/client.pem is one)");
  cmd->add_option("--max-records", args->max_records,
                  "Requests kept for the journal and the per-status metrics; later ones are only counted")
      ->capture_default_str();
  add_deliver_options(*cmd, args->deliver);
  return {cmd, [args] { return execute(*args); }};
}

}  // namespace planproof::cli
