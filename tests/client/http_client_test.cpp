// The real client against the real mock upstream on loopback: each behaviour the plan relies on is
// observed from the upstream's side (its records), not taken from the client's word.
#include "client/http_client.hpp"

#include <atomic>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json/parse.hpp>

#include "mocks/server.hpp"
#include "support/process.hpp"

namespace planproof::client {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using core::duration;

struct event_log final : core::event_sink {
  std::vector<core::event> events;
  void on_event(const core::event& e) override { events.push_back(e); }
  std::vector<core::event> of(core::event_kind k) const {
    std::vector<core::event> out;
    for (const auto& e : events) if (e.kind == k) out.push_back(e);
    return out;
  }
};

plan::endpoint payment_endpoint() {
  plan::endpoint e;
  e.id = "create_payment";
  e.method = "POST";
  e.path = "/v1/payments";
  e.response_status = 201;
  e.response_example = boost::json::parse(R"({"id":"pay_1","status":"succeeded","amount":1999})");
  e.request_example = boost::json::parse(R"({"amount":1999})");
  e.statuses.success = {200, 201};
  e.idempotency_header = "Idempotency-Key";
  return e;
}

plan::retry_config retry_settings() {
  plan::retry_config r;
  r.max_attempts = 3;
  r.backoff = {plan::backoff_strategy::exponential, 100ms, 1s, plan::jitter_kind::full};
  r.retry_on = {429, 503, core::error_class::timeout, core::error_class::schema_error};
  r.retry_after = {true, 30s};
  r.timeouts = {1s, 500ms, 10s};
  return r;
}

plan::fault make_fault(std::string kind) {
  plan::fault f;
  f.kind = std::move(kind);
  return f;
}

// Runs `request` to its end on an io_context of its own, by a client built from `client_args` (all
// but the executor).
template <class... Args>
core::request_outcome execute_one(logical_request request, Args&&... client_args) {
  asio::io_context io(1);
  http_client client(io.get_executor(), std::forward<Args>(client_args)...);
  auto f = asio::co_spawn(io, client.execute(std::move(request)), asio::use_future);
  io.run();
  return f.get();
}

// One mock upstream (own thread) and one client (the test thread), at a time scale that keeps
// plan seconds short in real time (stretched under a sanitizer, where 50 ms is too short a second).
struct harness {
  core::time_scale scale{test::stretched(0.05)};
  core::plan_clock clock{scale};
  core::time_point origin = clock.now();
  plan::endpoint endpoint = payment_endpoint();
  plan::retry_config retry = retry_settings();
  test::temp_dir dir;
  dead_letter_queue dead_letters{dir / "dl.jsonl"};
  event_log log;
  resilience::seeded_random rng{3};
  asio::io_context upstream_io{1};
  std::unique_ptr<mocks::server> upstream;
  std::thread upstream_thread;
  std::string api_key = "sk_client_test_key";

  explicit harness(std::vector<plan::fault> faults) {
    mocks::route r{endpoint.id, endpoint.method, endpoint.path, 201, R"({"id":"pay_1","status":"succeeded","amount":1999})"};
    r.idempotency_header = endpoint.idempotency_header;
    upstream = std::make_unique<mocks::server>(upstream_io.get_executor(), clock, origin, scale,
                                               std::vector<mocks::route>{r},
                                               mocks::auth_requirement{"X-Api-Key", api_key}, std::move(faults),
                                               mocks::server_options{.seed = 11});
    EXPECT_FALSE(upstream->listen());
    upstream_thread = std::thread([this] { upstream_io.run(); });
  }
  ~harness() {
    upstream->stop();
    upstream_thread.join();
  }

  client_options options(unsigned short port, std::optional<std::string> key) const {
    client_options o;
    o.upstream = {asio::ip::make_address("127.0.0.1"), port};
    o.host = "127.0.0.1";
    if (key) o.extra_headers.push_back({"X-Api-Key", *key});
    return o;
  }

  core::request_outcome send(std::uint64_t id, std::string key_header_value = "") {
    return send(logical_request{id, &endpoint, R"({"amount":1999})"}, key_header_value);
  }

  core::request_outcome send(logical_request request, std::string key_header_value = "") {
    const auto o = options(upstream->port(), key_header_value.empty() ? api_key : key_header_value);
    return execute_one(std::move(request), o, retry, std::vector{endpoint}, clock, scale, log, dead_letters, rng);
  }
};

TEST(http_client, success_on_the_first_attempt) {
  harness h({});
  EXPECT_EQ(h.send(1), core::request_outcome::succeeded);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, mocks::fate::answered);
  EXPECT_EQ(records[0].idempotency_key.size(), 36u);
  EXPECT_EQ(h.log.of(core::event_kind::attempt_started).size(), 1u);
}

TEST(http_client, retries_reuse_one_idempotency_key_and_exhaust_into_the_dead_letter_file) {
  auto f = make_fault("status");
  f.status = 503;
  harness h({f});
  EXPECT_EQ(h.send(42), core::request_outcome::dead_lettered);

  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 3u);  // max_attempts
  for (const auto& r : records) {
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.idempotency_key, records[0].idempotency_key);
  }
  const auto letters = test::read_file(h.dir / "dl.jsonl");
  const auto record = boost::json::parse(letters);
  EXPECT_EQ(record.at("request_id").as_int64(), 42);
  EXPECT_EQ(record.at("reason").as_string(), "attempts_exhausted");
  EXPECT_EQ(record.at("attempts").as_int64(), 3);
  EXPECT_EQ(record.at("last_error").at("status").as_int64(), 503);
  EXPECT_EQ(record.at("idempotency_key").as_string(), records[0].idempotency_key);
  EXPECT_EQ(letters.find(h.api_key), std::string::npos);

  const auto ends = h.log.of(core::event_kind::request_completed);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].outcome, core::request_outcome::dead_lettered);
}

// What a replay needs from a dead letter: the endpoint, method, target, body, the ids the
// request carried on the wire, why it ended, and when.
TEST(http_client, the_dead_letter_carries_what_a_replay_needs) {
  auto f = make_fault("status");
  f.status = 503;
  harness h({f});
  h.retry.max_attempts = 2;
  EXPECT_EQ(h.send(logical_request{7, &h.endpoint, R"({"amount":1999})", "/v1/payments?expand=customer"}),
            core::request_outcome::dead_lettered);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 2u);
  const auto record = boost::json::parse(test::read_file(h.dir / "dl.jsonl")).as_object();
  EXPECT_EQ(record.at("endpoint").as_string(), "create_payment");
  EXPECT_EQ(record.at("method").as_string(), "POST");
  EXPECT_EQ(record.at("path").as_string(), "/v1/payments");
  EXPECT_EQ(record.at("target").as_string(), "/v1/payments?expand=customer");
  EXPECT_EQ(record.at("body"), boost::json::parse(R"({"amount":1999})"));
  EXPECT_EQ(record.at("idempotency_key").as_string(), records[0].idempotency_key);
  EXPECT_EQ(record.at("correlation_id").as_string(), records[0].request_id);
  EXPECT_EQ(records[0].request_id, records[1].request_id) << "one X-Request-Id on every attempt";
  EXPECT_EQ(record.at("reason").as_string(), "attempts_exhausted");
  EXPECT_EQ(record.at("attempts").as_int64(), 2);
  EXPECT_EQ(record.at("last_error").at("status").as_int64(), 503);
  // RFC 3339 times of the same length sort as they read: submitted no later than dead-lettered.
  const std::string submitted(record.at("submitted_at").as_string());
  const std::string ended(record.at("dead_lettered_at").as_string());
  EXPECT_EQ(submitted.size(), ended.size());
  EXPECT_LE(submitted, ended);
}

TEST(http_client, request_submitted_names_the_endpoint_and_the_wire_id) {
  struct capture final : core::event_sink {
    std::string endpoint, correlation_id;
    void on_event(const core::event& e) override {
      if (e.kind != core::event_kind::request_submitted) return;
      endpoint = e.endpoint;
      correlation_id = e.correlation_id;
    }
  } seen;
  harness h({});
  EXPECT_EQ(execute_one({1, &h.endpoint, "{}"}, h.options(h.upstream->port(), h.api_key), h.retry,
                        std::vector{h.endpoint}, h.clock, h.scale, seen, h.dead_letters, h.rng),
            core::request_outcome::succeeded);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(seen.endpoint, "create_payment");
  EXPECT_EQ(seen.correlation_id, records[0].request_id);
  EXPECT_EQ(records[0].request_id.size(), 36u);
}

// A replay passes the original key: every attempt carries it, as the idempotency key and as
// X-Request-Id, and a second dead letter keeps it for the next replay.
TEST(http_client, a_given_idempotency_key_is_sent_on_every_attempt) {
  auto f = make_fault("status");
  f.status = 503;
  harness h({f});
  logical_request request{1, &h.endpoint, R"({"amount":1999})"};
  request.idempotency_key = "4b1f0a4e-replayed-key";
  EXPECT_EQ(h.send(std::move(request)), core::request_outcome::dead_lettered);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    EXPECT_EQ(r.idempotency_key, "4b1f0a4e-replayed-key");
    EXPECT_EQ(r.request_id, "4b1f0a4e-replayed-key");
  }
  const auto record = boost::json::parse(test::read_file(h.dir / "dl.jsonl"));
  EXPECT_EQ(record.at("idempotency_key").as_string(), "4b1f0a4e-replayed-key");
  EXPECT_EQ(record.at("correlation_id").as_string(), "4b1f0a4e-replayed-key");
}

// Boost.JSON would write 9.99 back as 9.99E0: a replay must send the bytes the upstream may have
// stored under the key, so such a body is kept as its exact text.
TEST(http_client, a_body_that_would_not_survive_reencoding_is_kept_as_its_exact_text) {
  auto f = make_fault("status");
  f.status = 400;
  harness h({f});
  h.endpoint.statuses.fatal = {400};
  EXPECT_EQ(h.send(logical_request{1, &h.endpoint, R"({"amount":9.99})"}), core::request_outcome::dead_lettered);
  const auto record = boost::json::parse(test::read_file(h.dir / "dl.jsonl"));
  EXPECT_EQ(record.at("body").as_string(), R"({"amount":9.99})");
}

TEST(http_client, each_logical_request_gets_its_own_key) {
  harness h({});
  h.send(1);
  h.send(2);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].idempotency_key, records[1].idempotency_key);
}

TEST(http_client, waits_for_retry_after_as_the_upstream_sees_it) {
  auto f = make_fault("status");
  f.status = 429;
  f.retry_after = 2s;
  f.during = {{0ms, 1500ms}};  // only the first attempt lands in the window
  harness h({f});
  EXPECT_EQ(h.send(1), core::request_outcome::succeeded);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].status, 429);
  EXPECT_EQ(records[1].status, 201);
  EXPECT_GE(records[1].at - records[0].at, duration(2s) - duration(1ms));
}

// The faults below cover only the first attempt: their window ends at 4 s of plan time and the
// retry comes after a fixed 5 s backoff.
constexpr plan::backoff_config fixed_5s{plan::backoff_strategy::constant, 5s, 5s, plan::jitter_kind::none};

TEST(http_client, ignores_retry_after_when_the_plan_says_so) {
  auto f = make_fault("status");
  f.status = 429;
  f.retry_after = 20s;
  f.during = {{0ms, 4s}};
  harness h({f});
  h.retry.retry_after.honor = false;
  h.retry.backoff = fixed_5s;
  EXPECT_EQ(h.send(1), core::request_outcome::succeeded);
  const auto records = h.upstream->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_LT(records[1].at - records[0].at, duration(20s));  // the 5 s backoff instead
}

TEST(http_client, hung_attempt_times_out_and_is_retried) {
  auto f = make_fault("hang");
  f.during = {{0ms, 4s}};
  harness h({f});
  h.retry.backoff = fixed_5s;
  EXPECT_EQ(h.send(1), core::request_outcome::succeeded);
  const auto finished = h.log.of(core::event_kind::attempt_finished);
  ASSERT_GE(finished.size(), 1u);
  // Connected, then no answer: a read timeout, which the plan's `timeout` covers.
  EXPECT_EQ(finished[0].error, core::error_class::read_timeout) << core::to_string(finished[0].error);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_GE(finished[0].latency, duration(500ms));  // the read timeout, in plan time
  EXPECT_EQ(finished[1].status, 201);
}

TEST(http_client, truncated_body_is_a_schema_error) {
  auto f = make_fault("malformed");
  f.during = {{0ms, 4s}};
  harness h({f});
  h.retry.backoff = fixed_5s;
  EXPECT_EQ(h.send(1), core::request_outcome::succeeded);
  const auto finished = h.log.of(core::event_kind::attempt_finished);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[0].status, 201);
  EXPECT_EQ(finished[0].error, core::error_class::schema_error);
}

TEST(http_client, fatal_status_is_not_retried) {
  harness h({});
  // A wrong key: the mock answers 401, which the plan does not retry.
  EXPECT_EQ(h.send(1, "sk_wrong"), core::request_outcome::dead_lettered);
  EXPECT_EQ(h.upstream->records().size(), 1u);
  const auto record = boost::json::parse(test::read_file(h.dir / "dl.jsonl"));
  EXPECT_EQ(record.at("reason").as_string(), "fatal_status");
  EXPECT_EQ(record.at("last_error").at("status").as_int64(), 401);
}

TEST(http_client, connection_refused_is_a_connect_error_under_connection_error) {
  harness h({});
  h.retry.retry_on.push_back(core::error_class::connection_error);
  const auto port = h.upstream->port();
  h.upstream->stop();
  ASSERT_TRUE(h.upstream->wait_for_open_connections_at_most(0, 5s));
  // stop() closes the listening socket on the server's own thread: until it has, the kernel still
  // completes handshakes (and then resets them), which the client rightly calls `reset`. Wait for
  // the refusal itself.
  const auto refused_by = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    asio::io_context probe_io;
    asio::ip::tcp::socket probe(probe_io);
    boost::system::error_code ec;
    probe.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec == asio::error::connection_refused) break;
    ASSERT_LT(std::chrono::steady_clock::now(), refused_by) << "the port still accepts: " << ec.message();
  }
  EXPECT_EQ(execute_one({1, &h.endpoint, "{}"}, h.options(port, std::nullopt), h.retry, std::vector{h.endpoint},
                        h.clock, h.scale, h.log, h.dead_letters, h.rng),
            core::request_outcome::dead_lettered);
  const auto finished = h.log.of(core::event_kind::attempt_finished);
  ASSERT_EQ(finished.size(), 3u);
  // Refused before anything was sent: connect_error, retried because connection_error covers it.
  for (const auto& e : finished) EXPECT_EQ(e.error, core::error_class::connect_error) << core::to_string(e.error);
}

TEST(http_client, keeps_connections_alive_across_requests) {
  harness h({});
  asio::io_context io(1);
  http_client client(io.get_executor(), h.options(h.upstream->port(), h.api_key), h.retry, {h.endpoint}, h.clock, h.scale, h.log, h.dead_letters, h.rng);
  auto f = asio::co_spawn(
      io,
      [&]() -> asio::awaitable<int> {
        int ok = 0;
        for (std::uint64_t i = 1; i <= 5; ++i) {
          logical_request request{i, &h.endpoint, "{}"};  // g++ 12: no braced temporaries in co_await
          ok += (co_await client.execute(std::move(request))) == core::request_outcome::succeeded;
        }
        co_return ok;
      },
      asio::use_future);
  io.run();
  EXPECT_EQ(f.get(), 5);
  EXPECT_EQ(h.upstream->open_connections(), 1u);
}

// ---- Malformed answers from a raw upstream -------------------------------------------------------

// An upstream that answers every connection with the same bytes, whatever they are: it reads the
// request (headers and Content-Length body), writes `reply`, stops sending and waits for the
// client to close, so nothing it wrote is lost to a reset.
class raw_upstream {
 public:
  explicit raw_upstream(std::string reply) : reply_(std::move(reply)) {
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~raw_upstream() {
    stopping_ = true;
    asio::ip::tcp::socket wake(io_);  // unblocks accept()
    boost::system::error_code ec;
    wake.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
  }
  unsigned short port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void serve() {
    for (;;) {
      asio::ip::tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      ++connections_;
      asio::streambuf in;
      const auto header_end = asio::read_until(s, in, "\r\n\r\n", ec);
      if (!ec) {
        const std::string head(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + static_cast<std::ptrdiff_t>(header_end));
        std::size_t length = 0;
        if (const auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
        const auto have = in.size() - header_end;
        if (length > have) asio::read(s, in, asio::transfer_exactly(length - have), ec);
        asio::write(s, asio::buffer(reply_), ec);
        s.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        char sink[4096];
        while (!ec) s.read_some(asio::buffer(sink), ec);  // until the client closes
      }
    }
  }

  std::string reply_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_};
  unsigned short port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// One request of payment_endpoint() to 127.0.0.1:`port`, with these options (their address set here)
// and retry settings, at time scale 0.05 (stretched under a sanitizer); its decisions go to `log`.
core::request_outcome send_one_payment(unsigned short port, const plan::retry_config& retry, client_options o,
                                       event_log& log) {
  core::time_scale scale{test::stretched(0.05)};
  core::plan_clock clock{scale};
  auto endpoint = payment_endpoint();
  test::temp_dir dir;
  dead_letter_queue dead_letters{dir / "dl.jsonl"};
  resilience::seeded_random rng{1};
  o.upstream = {asio::ip::make_address("127.0.0.1"), port};
  o.host = "127.0.0.1";
  return execute_one({1, &endpoint, R"({"amount":1999})"}, o, retry, std::vector{endpoint}, clock, scale, log,
                     dead_letters, rng);
}

struct malformed_case {
  const char* name;
  std::string reply;
  std::optional<core::error_class> expected;  // nullopt: any error class but none
  std::uint32_t header_limit = client_options{}.header_limit;  // --limit response_headers
};

class malformed_answer : public testing::TestWithParam<malformed_case> {};

// Whatever the bytes, each attempt ends with an error class (retried as the plan says: here
// protocol_error and schema_error are retryable, so both attempts are spent) and the request is
// dead-lettered: never a crash, a hang, or a success.
TEST_P(malformed_answer, is_a_classified_error_retried_then_dead_lettered) {
  raw_upstream upstream(GetParam().reply);
  auto retry = retry_settings();
  retry.max_attempts = 2;
  retry.backoff = {plan::backoff_strategy::constant, 100ms, 100ms, plan::jitter_kind::none};
  retry.retry_on = {core::error_class::protocol_error, core::error_class::schema_error, core::error_class::connection_error};
  event_log log;
  client_options o;
  o.body_limit = 64 * 1024;
  o.header_limit = GetParam().header_limit;
  EXPECT_EQ(send_one_payment(upstream.port(), retry, o, log), core::request_outcome::dead_lettered);
  const auto finished = log.of(core::event_kind::attempt_finished);
  ASSERT_EQ(finished.size(), 2u);
  for (const auto& e : finished) {
    EXPECT_NE(e.error, core::error_class::none) << "status " << e.status;
    if (GetParam().expected) {
      EXPECT_EQ(e.error, *GetParam().expected) << core::to_string(e.error);
    }
  }
  EXPECT_EQ(upstream.connections(), 2);  // a broken connection is never reused
  const auto completed = log.of(core::event_kind::request_completed);
  ASSERT_EQ(completed.size(), 1u);
  EXPECT_EQ(completed[0].reason, core::end_reason::attempts_exhausted);
}

INSTANTIATE_TEST_SUITE_P(
    http_client, malformed_answer,
    testing::Values(
        malformed_case{"bad_status_line", "HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n", core::error_class::protocol_error},
        malformed_case{"not_http", "SSH-2.0-OpenSSH_9.2\r\n", core::error_class::protocol_error},
        malformed_case{"huge_headers", "HTTP/1.1 201 Created\r\nX-Fill: " + std::string(200 * 1024, 'x') + "\r\n\r\n",
                       core::error_class::protocol_error},
        malformed_case{"invalid_chunking",
                       "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
                       core::error_class::protocol_error},
        malformed_case{"content_length_longer_than_the_body",
                       "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"pay_1\"}",
                       std::nullopt},
        malformed_case{"not_json",
                       "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
                       core::error_class::schema_error},
        malformed_case{"headers_over_a_lowered_limit",
                       "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Fill: " + std::string(20 * 1024, 'x') +
                           "\r\nContent-Length: 14\r\n\r\n{\"id\":\"pay_1\"}",
                       core::error_class::protocol_error, 16 * 1024},
        malformed_case{"body_over_the_limit",
                       "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n" +
                           std::string(200000, ' '),
                       core::error_class::protocol_error}),
    [](const auto& info) { return std::string(info.param.name); });

// The same 20 KiB header a lowered limit refuses is read under the default (real upstreams send
// large cookies and policy headers).
TEST(http_client_limits, a_large_header_under_the_default_limit_is_read) {
  raw_upstream upstream("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Fill: " +
                        std::string(20 * 1024, 'x') + "\r\nContent-Length: 14\r\n\r\n{\"id\":\"pay_1\"}");
  auto retry = retry_settings();
  retry.max_attempts = 1;
  event_log log;
  EXPECT_EQ(send_one_payment(upstream.port(), retry, {}, log), core::request_outcome::succeeded);
}

}  // namespace
}  // namespace planproof::client
