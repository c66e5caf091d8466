// The client's own credentials against the real mock upstream on loopback: OAuth2 client
// credentials (single-flight fetch, refresh after a refusal, a token endpoint that is down) and
// HTTPS / mTLS with certificate and host-name verification. What the client did is checked from
// the upstream's records and the token authority's side, not from the client's word.
#include "client/http_client.hpp"

#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "mocks/server.hpp"
#include "mocks/tls.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof::client {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct event_log final : core::event_sink {
  std::vector<core::event> events;
  void on_event(const core::event& e) override { events.push_back(e); }
  std::size_t count(core::event_kind k) const {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [k](const auto& e) { return e.kind == k; }));
  }
};

constexpr const char* token_path = "/oauth/token";

plan::endpoint orders_endpoint() {
  plan::endpoint e;
  e.id = "list_orders";
  e.method = "GET";
  e.path = "/v1/orders";
  e.response_example = boost::json::parse(R"({"orders":[]})");
  e.statuses.success = {200};
  return e;
}

plan::retry_config retry_settings() {
  plan::retry_config r;
  r.max_attempts = 3;
  r.backoff = {plan::backoff_strategy::exponential, 100ms, 400ms, plan::jitter_kind::none};
  r.retry_on = {503, core::error_class::timeout};
  r.timeouts = {1s, 2s, 6s};
  return r;
}

plan::fault fault_of(std::string kind) {
  plan::fault f;
  f.kind = std::move(kind);
  return f;
}

struct harness {
  core::time_scale scale{test::stretched(0.05)};
  core::plan_clock clock{scale};
  core::time_point origin = clock.now();
  plan::endpoint endpoint = orders_endpoint();
  plan::retry_config retry = retry_settings();
  test::temp_dir dir;
  dead_letter_queue dead_letters{dir / "dl.jsonl"};
  event_log log;
  resilience::seeded_random rng{5};
  asio::io_context upstream_io{1};
  std::unique_ptr<mocks::server> upstream;
  std::thread upstream_thread;
  std::string client_id = "orders-sync";
  std::string client_secret = "cs_test_5ecret+/=";  // characters that must be form-encoded

  harness(std::vector<plan::fault> faults, mocks::server_options options = {}, bool oauth2 = true,
          std::optional<mocks::jwt_requirement> jwt = std::nullopt, std::string query_param = {},
          std::string query_value = {}) {
    mocks::route r{endpoint.id, endpoint.method, endpoint.path, 200, R"({"orders":[]})"};
    mocks::auth_requirement auth;
    auth.query_param = std::move(query_param);
    auth.expected_value = std::move(query_value);
    auth.jwt = std::move(jwt);
    if (auth.jwt) auth.jwt->calendar.origin = origin;  // the caller gives the calendar's wall reading
    if (oauth2) {
      mocks::token_authority_config tc;
      tc.client_id = client_id;
      tc.client_secret = client_secret;
      tc.scopes = {"orders:read"};
      tc.expires_in = 1h;
      auth.oauth2 = tc;
      auth.token_path = token_path;
    }
    options.seed = 7;
    upstream = std::make_unique<mocks::server>(upstream_io.get_executor(), clock, origin, scale,
                                               std::vector<mocks::route>{r}, auth, std::move(faults), options);
    EXPECT_FALSE(upstream->listen());
    upstream_thread = std::thread([this] { upstream_io.run(); });
  }
  ~harness() {
    upstream->stop();
    upstream_thread.join();
  }

  client_options options() const {
    client_options o;
    o.upstream = {asio::ip::make_address("127.0.0.1"), upstream->port()};
    o.host = "127.0.0.1";
    oauth2_options oa;
    oa.token_target = token_path;
    oa.client_id = client_id;
    oa.client_secret = client_secret;
    oa.scopes = {"orders:read"};
    oa.lifecycle.refresh_before_expiry = 60s;
    oa.lifecycle.fetch_backoff = retry.backoff;
    o.oauth2 = oa;
    return o;
  }

  // `n` logical requests at once on one client; their outcomes in order.
  std::vector<core::request_outcome> send(const client_options& o, int n) {
    asio::io_context io(1);
    http_client client(io.get_executor(), o, retry, {endpoint}, clock, scale, log, dead_letters, rng);
    std::vector<std::future<core::request_outcome>> futures;
    for (int i = 0; i < n; ++i) {
      futures.push_back(asio::co_spawn(io, client.execute({static_cast<std::uint64_t>(i + 1), &endpoint, ""}),
                                       asio::use_future));
    }
    io.run();
    std::vector<core::request_outcome> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  std::size_t token_requests() const {
    std::size_t n = 0;
    for (const auto& r : upstream->records()) n += r.target == token_path ? 1 : 0;
    return n;
  }
  std::size_t resource_requests() const {
    std::size_t n = 0;
    for (const auto& r : upstream->records()) n += r.endpoint_id == endpoint.id ? 1 : 0;
    return n;
  }
};

TEST(oauth2_client, concurrent_requests_share_one_token_fetch) {
  harness h({});
  const auto outcomes = h.send(h.options(), 8);
  for (auto o : outcomes) EXPECT_EQ(o, core::request_outcome::succeeded);
  EXPECT_EQ(h.token_requests(), 1u);
  EXPECT_EQ(h.resource_requests(), 8u);
  EXPECT_EQ(h.log.count(core::event_kind::token_issued), 1u);
  for (const auto& r : h.upstream->records()) {
    if (r.endpoint_id == h.endpoint.id) { EXPECT_EQ(r.status, 200); }
  }
}

TEST(oauth2_client, without_a_token_every_request_is_refused) {
  // The same harness with the client's OAuth2 turned off: the mock refuses with 401, so the test
  // above cannot pass by accident.
  harness h({});
  auto o = h.options();
  o.oauth2.reset();
  const auto outcomes = h.send(o, 2);
  for (auto out : outcomes) EXPECT_EQ(out, core::request_outcome::dead_lettered);
  for (const auto& r : h.upstream->records()) EXPECT_EQ(r.status, 401);
}

TEST(oauth2_client, a_revoked_token_is_refreshed_once_and_the_request_retried) {
  auto revoke = fault_of("auth_expiry");
  revoke.first = 1;  // the first resource request after the token is issued finds it revoked
  harness h({revoke});
  const auto outcomes = h.send(h.options(), 4);
  for (auto o : outcomes) EXPECT_EQ(o, core::request_outcome::succeeded);
  EXPECT_EQ(h.token_requests(), 2u);  // the first token, then one refresh however many were refused
  EXPECT_GE(h.log.count(core::event_kind::credential_rejected), 1u);
  bool refreshed = false;
  for (const auto& e : h.log.events) {
    if (e.kind == core::event_kind::token_issued && e.detail == static_cast<std::uint8_t>(resilience::refresh_reason::rejected)) refreshed = true;
  }
  EXPECT_TRUE(refreshed);
}

TEST(oauth2_client, wrong_client_secret_ends_requests_without_a_token_and_backs_off_between_fetches) {
  harness h({});
  auto o = h.options();
  o.oauth2->client_secret = "not-the-secret";
  h.retry.timeouts.total = 2s;
  const auto outcomes = h.send(o, 3);
  for (auto out : outcomes) EXPECT_EQ(out, core::request_outcome::dead_lettered);
  EXPECT_EQ(h.resource_requests(), 0u);  // nothing was sent without a token
  // Backoff 100, 200, 400, 400 ms... within 2 s: a handful of fetches, never one per request per instant.
  const auto fetches = h.token_requests();
  EXPECT_GE(fetches, 3u);
  EXPECT_LE(fetches, 10u);
  std::vector<core::duration> waits;
  for (const auto& e : h.log.events) {
    if (e.kind == core::event_kind::token_failed) {
      EXPECT_EQ(e.status, 401);
      waits.push_back(e.delay);
    }
  }
  ASSERT_GE(waits.size(), 3u);
  EXPECT_EQ(waits[0], 100ms);
  EXPECT_EQ(waits[1], 200ms);
  EXPECT_EQ(waits[2], 400ms);
  for (const auto& e : h.log.events) {
    if (e.kind == core::event_kind::request_completed) { EXPECT_EQ(e.reason, core::end_reason::token_unavailable); }
  }
}

// ---- API key in the query string ---------------------------------------------------------------

TEST(api_key_client, a_key_in_the_query_goes_on_every_target_form_encoded) {
  harness h({}, {}, false, std::nullopt, "api_key", "k+y/= z&x");
  auto o = h.options();
  o.oauth2.reset();
  o.query_credential = header{"api_key", "k+y/= z&x"};
  for (auto out : h.send(o, 3)) EXPECT_EQ(out, core::request_outcome::succeeded);
  for (const auto& r : h.upstream->records()) {
    EXPECT_EQ(r.target, "/v1/orders?api_key=k%2By%2F%3D+z%26x");
    EXPECT_EQ(r.status, 200);
  }
  o.query_credential->value = "another key";
  for (auto out : h.send(o, 1)) EXPECT_EQ(out, core::request_outcome::dead_lettered);
  EXPECT_EQ(h.upstream->records().back().status, 401);
  // The dead letter keeps the target without the credential.
  const auto letters = test::read_file(h.dir / "dl.jsonl");
  EXPECT_EQ(letters.find("api_key"), std::string::npos) << letters;
}

// ---- JWT ---------------------------------------------------------------------------------------

const core::jws_key& signing_key() {
  static const auto key = core::jws_key::generate(core::jws_algorithm::ES256);
  return *key;
}

const std::map<std::string, std::string, std::less<>> jwt_claims{{"iss", "orders-sync"}, {"aud", "https://api.example.com"}};

// The upstream checks tokens against the verifying half of signing_key(), the plan's claims and a
// 5 minute lifetime, on `calendar` (its origin is the harness's).
mocks::jwt_requirement jwt_upstream(const core::plan_calendar& calendar, std::string header = "Authorization") {
  return {signing_key().verifier(), {jwt_claims, 300s, 5s}, std::move(header), calendar};
}

struct jwt_harness : harness {
  core::plan_calendar calendar{std::chrono::system_clock::now(), origin};

  explicit jwt_harness(std::vector<plan::fault> faults = {}, core::duration skew = {}, std::string header = "Authorization")
      : harness(std::move(faults), {}, false,
                jwt_upstream({std::chrono::system_clock::now() +
                                  std::chrono::duration_cast<std::chrono::system_clock::duration>(skew)},
                             std::move(header))) {}

  client_options jwt_options() const {
    client_options o;
    o.upstream = {asio::ip::make_address("127.0.0.1"), upstream->port()};
    o.host = "127.0.0.1";
    client::jwt_options j{.key = signing_key()};
    j.claims = jwt_claims;
    j.lifetime = 300s;
    j.calendar = calendar;
    j.lifecycle.refresh_before_expiry = 30s;
    j.lifecycle.default_lifetime = 300s;
    j.lifecycle.fetch_backoff = retry.backoff;
    o.jwt = std::move(j);
    return o;
  }

  std::vector<int> statuses() const {
    std::vector<int> out;
    for (const auto& r : upstream->records()) out.push_back(r.status);
    return out;
  }
};

TEST(jwt_client, concurrent_requests_share_one_minted_token_the_upstream_accepts) {
  jwt_harness h;
  const auto outcomes = h.send(h.jwt_options(), 8);
  for (auto o : outcomes) EXPECT_EQ(o, core::request_outcome::succeeded);
  EXPECT_EQ(h.statuses(), std::vector<int>(8, 200));
  EXPECT_EQ(h.log.count(core::event_kind::token_issued), 1u);
  // Valid until exp as the upstream reads it: iat is whole seconds, so up to a second under 5 min.
  for (const auto& e : h.log.events) {
    if (e.kind != core::event_kind::token_issued) continue;
    EXPECT_LE(e.delay, 300s);
    EXPECT_GT(e.delay, 299s);
  }
}

TEST(jwt_client, without_a_token_or_with_another_key_every_request_is_refused) {
  jwt_harness h;
  auto none = h.jwt_options();
  none.jwt.reset();
  for (auto o : h.send(none, 2)) EXPECT_EQ(o, core::request_outcome::dead_lettered);

  auto forged = h.jwt_options();
  forged.jwt->key = *core::jws_key::generate(core::jws_algorithm::ES256);
  for (auto o : h.send(forged, 2)) EXPECT_EQ(o, core::request_outcome::dead_lettered);
  // Refused, a new token minted once, refused again: fatal, never a third attempt.
  EXPECT_EQ(h.statuses(), std::vector<int>(2 + 4, 401));
  EXPECT_EQ(h.log.count(core::event_kind::token_issued), 2u);
}

TEST(jwt_client, claims_or_a_lifetime_the_upstream_does_not_accept_are_refused) {
  jwt_harness h;
  auto wrong_issuer = h.jwt_options();
  wrong_issuer.jwt->claims["iss"] = "someone-else";
  for (auto o : h.send(wrong_issuer, 1)) EXPECT_EQ(o, core::request_outcome::dead_lettered);
  auto too_long = h.jwt_options();
  too_long.jwt->lifetime = 3600s;
  for (auto o : h.send(too_long, 1)) EXPECT_EQ(o, core::request_outcome::dead_lettered);
  EXPECT_EQ(h.statuses(), std::vector<int>(4, 401));
}

TEST(jwt_client, a_token_the_upstream_sees_as_expired_is_refused) {
  // The upstream's calendar is 6 minutes ahead: every 5 minute token is already past its exp.
  jwt_harness h({}, 6min);
  for (auto o : h.send(h.jwt_options(), 2)) EXPECT_EQ(o, core::request_outcome::dead_lettered);
  EXPECT_EQ(h.statuses(), std::vector<int>(4, 401));
  jwt_harness in_time({}, 4min);
  for (auto o : in_time.send(in_time.jwt_options(), 2)) EXPECT_EQ(o, core::request_outcome::succeeded);
}

TEST(jwt_client, a_revoked_token_is_replaced_once_and_the_request_retried) {
  auto revoke = fault_of("auth_expiry");
  revoke.first = 1;
  jwt_harness h({revoke});
  for (auto o : h.send(h.jwt_options(), 4)) EXPECT_EQ(o, core::request_outcome::succeeded);
  EXPECT_EQ(h.log.count(core::event_kind::token_issued), 2u);  // the first token, then one replacement
  EXPECT_GE(h.log.count(core::event_kind::credential_rejected), 1u);
}

TEST(jwt_client, a_token_in_its_own_header_goes_without_the_bearer_scheme) {
  jwt_harness h({}, {}, "X-Assertion");
  auto bearer = h.jwt_options();
  for (auto o : h.send(bearer, 1)) EXPECT_EQ(o, core::request_outcome::dead_lettered);
  auto own = h.jwt_options();
  own.jwt->header = "X-Assertion";
  for (auto o : h.send(own, 2)) EXPECT_EQ(o, core::request_outcome::succeeded);
  EXPECT_EQ(h.statuses(), (std::vector<int>{401, 401, 200, 200}));
}

// ---- HTTPS and mTLS ---------------------------------------------------------------------------

const mocks::pki_layout& pki() {
  static const mocks::pki_layout layout = [] {
    if (const char* dir = std::getenv("PLANPROOF_TEST_PKI"); dir != nullptr && *dir != '\0') {
      return mocks::pki_layout{fs::path(dir)};
    }
    static test::temp_dir made;
    test::run_shell(test::source_dir() + "/tools/gen-certs '" + made.path().string() + "'");
    return mocks::pki_layout{made.path()};
  }();
  return layout;
}

mocks::server_options https(bool mtls) {
  mocks::server_options o;
  o.tls = std::make_shared<mocks::server_tls_contexts>();
  EXPECT_EQ(o.tls->load(pki(), mtls), "");
  return o;
}

client_options tls_client(const harness& h, mocks::client_tls_config config) {
  auto o = h.options();
  o.oauth2.reset();
  auto built = mocks::make_client_context(config);
  EXPECT_TRUE(built) << built.error;
  o.tls = std::make_shared<asio::ssl::context>(std::move(*built.context));
  o.tls_server_name = config.host;
  return o;
}

TEST(https_client, verifies_the_server_and_keeps_the_connection_alive) {
  harness h({}, https(false), false);
  const auto outcomes = h.send(tls_client(h, mocks::client_config_for(pki(), "localhost", false)), 1);
  EXPECT_EQ(outcomes[0], core::request_outcome::succeeded);
  h.log.events.clear();
  // Sequential requests on one client reuse the connection: one handshake for several requests.
  asio::io_context io(1);
  http_client client(io.get_executor(), tls_client(h, mocks::client_config_for(pki(), "localhost", false)), h.retry,
                     {h.endpoint}, h.clock, h.scale, h.log, h.dead_letters, h.rng);
  auto run3 = [&]() -> asio::awaitable<int> {
    int ok = 0;
    for (std::uint64_t i = 1; i <= 3; ++i) {
      // Named, not a braced temporary: g++ 12 destroys temporaries inside co_await twice.
      logical_request request{i, &h.endpoint, ""};
      const auto outcome = co_await client.execute(std::move(request));
      ok += outcome == core::request_outcome::succeeded ? 1 : 0;
    }
    co_return ok;
  };
  auto f = asio::co_spawn(io, run3(), asio::use_future);
  io.run();
  EXPECT_EQ(f.get(), 3);
  // Three requests, one pooled connection left open (the first client's has closed): each new
  // connection would have stayed pooled too.
  EXPECT_TRUE(h.upstream->wait_for_open_connections_at_most(1, 5s));
  EXPECT_EQ(h.upstream->open_connections(), 1u);
}

TEST(https_client, an_untrusted_certificate_is_a_tls_error_and_is_not_retried) {
  harness h({}, https(false), false);
  auto config = mocks::client_config_for(pki(), "localhost", false);
  config.ca_file = pki().untrusted_ca();  // the client trusts another CA
  const auto outcomes = h.send(tls_client(h, config), 1);
  EXPECT_EQ(outcomes[0], core::request_outcome::dead_lettered);
  EXPECT_EQ(h.resource_requests(), 0u);
  bool tls_error = false;
  for (const auto& e : h.log.events) {
    if (e.kind == core::event_kind::attempt_finished) tls_error = e.error == core::error_class::tls_error;
  }
  EXPECT_TRUE(tls_error);
}

TEST(https_client, a_wrong_host_name_is_refused) {
  harness h({}, https(false), false);
  const auto outcomes = h.send(tls_client(h, mocks::client_config_for(pki(), "wrong.example", false)), 1);
  EXPECT_EQ(outcomes[0], core::request_outcome::dead_lettered);
  EXPECT_EQ(h.resource_requests(), 0u);
}

// The error classes of a client's attempts, in order.
std::vector<core::error_class> attempt_errors(const event_log& log) {
  std::vector<core::error_class> out;
  for (const auto& e : log.events) {
    if (e.kind == core::event_kind::attempt_finished) out.push_back(e.error);
  }
  return out;
}

// In TLS 1.3 the client's handshake is over before the server checks the client certificate, so
// the refusal comes as an alert on the first read: still a tls_error, not a reset.
TEST(https_client, mtls_presents_the_client_certificate_and_fails_without_one) {
  harness h({}, https(true), false);
  EXPECT_EQ(h.send(tls_client(h, mocks::client_config_for(pki(), "localhost", true)), 1)[0],
            core::request_outcome::succeeded);
  h.log.events.clear();
  EXPECT_EQ(h.send(tls_client(h, mocks::client_config_for(pki(), "localhost", false)), 1)[0],
            core::request_outcome::dead_lettered);
  EXPECT_EQ(attempt_errors(h.log), std::vector<core::error_class>{core::error_class::tls_error});
}

TEST(https_client, a_refused_client_certificate_is_a_tls_error_retried_when_the_plan_says_so) {
  plan::fault refuse = fault_of("tls");
  refuse.tls = plan::handshake_fault::reject_client_certificate;
  refuse.first = 2;  // connections, not requests
  harness h({refuse}, https(true), false);
  h.retry.retry_on.push_back(core::error_class::tls_error);
  EXPECT_EQ(h.send(tls_client(h, mocks::client_config_for(pki(), "localhost", true)), 1)[0],
            core::request_outcome::succeeded);
  EXPECT_EQ(attempt_errors(h.log), (std::vector<core::error_class>{core::error_class::tls_error,
                                                                    core::error_class::tls_error,
                                                                    core::error_class::none}));
  EXPECT_EQ(h.upstream->metrics().by_fault.at("tls"), 2u);
}

}  // namespace
}  // namespace planproof::client
