// The mock upstream on a real loopback socket: each fault as a client sees it, the bounds, the
// records, and stopping.
#include "mocks/server.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "server_fixture.hpp"
#include "test_client.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
using testing::test_client;
using namespace testing;
namespace asio = boost::asio;
namespace http = boost::beast::http;


TEST(mock_server, answers_a_route_with_its_status_body_and_content_type) {
  running_server s({});
  test_client c(s.port());
  ASSERT_FALSE(c.connect_error());
  const auto r = c.get("/v1/charges", {}, http::verb::post);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 201);
  EXPECT_EQ(r.res.body(), charge_body);
  EXPECT_EQ(header(r.res, "Content-Type"), "application/json");
  EXPECT_EQ(header(r.res, "Content-Length"), std::to_string(charge_body.size()));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::answered);
  EXPECT_EQ(records[0].status, 201);
}

TEST(mock_server, unknown_route_or_method_is_a_json_404) {
  running_server s({});
  test_client c(s.port());
  auto r = c.get("/v1/nope");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 404);
  EXPECT_TRUE(parses_as_json(r.res.body()));
  r = c.get("/v1/charges");  // right path, wrong method
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 404);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::not_found);
  EXPECT_EQ(records[0].endpoint_id, "");
  EXPECT_EQ(records[1].outcome, fate::not_found);
}

TEST(mock_server, status_fault_sends_retry_after_in_whole_seconds_rounded_up) {
  auto on_items = status_fault(429);
  on_items.retry_after = 2s;
  on_items.endpoint = "items";
  auto on_charge = status_fault(429);
  on_charge.retry_after = 1500ms;
  on_charge.endpoint = "charge";
  auto on_refund = status_fault(503);
  on_refund.endpoint = "refund";
  running_server s({.faults = {on_items, on_charge, on_refund}});
  test_client c(s.port());

  auto r = c.get("/v1/items");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 429);
  EXPECT_EQ(header(r.res, "Retry-After"), "2");
  EXPECT_EQ(r.res.body(), R"({"error":"injected"})");
  EXPECT_EQ(header(r.res, "Content-Type"), "application/json");

  r = c.get("/v1/charges", {}, http::verb::post);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 429);
  EXPECT_EQ(header(r.res, "Retry-After"), "2");

  r = c.get("/v1/refunds", {}, http::verb::post);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 503);
  EXPECT_EQ(header(r.res, "Retry-After"), "<absent>");

  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 3u);
  for (const auto& rec : records) {
    EXPECT_EQ(rec.outcome, fate::fault_status);
    EXPECT_EQ(rec.fault, "status");
  }
  EXPECT_EQ(records[0].status, 429);
  EXPECT_EQ(records[2].status, 503);
}

TEST(mock_server, latency_fault_answers_normally_after_the_scaled_latency) {
  auto slow = kind_fault("latency");
  slow.latency.value = 100ms;
  // Scale 2: the wait must be 200 ms of real time; an unscaled 100 ms wait fails the bound below.
  running_server s({.faults = {slow}, .scale = core::time_scale{2.0}});
  test_client c(s.port());
  const auto started = std::chrono::steady_clock::now();
  const auto r = c.get("/v1/items");
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), items_body);
  EXPECT_GE(elapsed, 200ms);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::delayed);
  EXPECT_EQ(records[0].fault, "latency");
  EXPECT_EQ(records[0].status, 200);
}

TEST(mock_server, hang_never_answers_and_drops_the_connection_once_the_client_closes) {
  running_server s({.faults = {kind_fault("hang")}});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  EXPECT_EQ(c.read_some_raw(got, 300ms), asio::error::timed_out);
  EXPECT_EQ(got, "");

  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::hung);
  EXPECT_EQ(records[0].status, 0);
  EXPECT_EQ(records[0].fault, "hang");
  EXPECT_EQ(records[0].endpoint_id, "items");

  // The hang is capped at 10 minutes: only seeing the client's close can free it this soon.
  EXPECT_EQ(s.srv().open_connections(), 1u);
  c.close();
  EXPECT_TRUE(s.srv().wait_for_open_connections_at_most(0, 10s));
}

TEST(mock_server, hang_is_bounded_by_the_hang_limit) {
  server_options options;
  options.hang_limit = 200ms;
  running_server s({.faults = {kind_fault("hang")}, .options = options});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  EXPECT_EQ(c.read_some_raw(got, 10s), asio::error::eof);
  EXPECT_EQ(got, "");
}

TEST(mock_server, malformed_fault_breaks_the_json_and_keeps_the_connection_usable) {
  auto broken = kind_fault("malformed");
  broken.endpoint = "items";
  running_server s({.faults = {broken}});
  test_client c(s.port());
  auto r = c.get("/v1/items");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_FALSE(parses_as_json(r.res.body())) << r.res.body();
  EXPECT_LT(r.res.body().size(), items_body.size());
  EXPECT_TRUE(items_body.starts_with(r.res.body()));
  EXPECT_EQ(header(r.res, "Content-Length"), std::to_string(r.res.body().size()));

  // Content-Length matched the truncated body, so the next answer on this connection is intact.
  r = c.get("/v1/charges", {}, http::verb::post);
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.body(), charge_body);

  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::malformed);
  EXPECT_EQ(records[0].fault, "malformed");
  EXPECT_EQ(records[1].outcome, fate::answered);
}

TEST(mock_server, probability_zero_never_and_one_always) {
  auto never = status_fault(503, 0.0);
  never.endpoint = "items";
  auto always = status_fault(502, 1.0);
  always.endpoint = "refund";
  running_server s({.faults = {never, always}});
  test_client c(s.port());
  for (int i = 0; i < 20; ++i) {
    auto r = c.get("/v1/items");
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.result_int(), 200);
    r = c.get("/v1/refunds", {}, http::verb::post);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.result_int(), 502);
  }
}

TEST(mock_server, fault_window_follows_the_injected_clock) {
  auto outage = status_fault(503);
  outage.during = {{10s, 20s}};
  running_server s({.faults = {outage}});
  test_client c(s.port());

  auto r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 200);  // before the window
  s.advance(10s, 1);
  r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 503);  // at its start
  s.advance(9s, 2);
  r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 503);
  s.advance(1s, 3);
  r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 200);  // at its end, which is excluded

  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].at, core::duration(0s));
  EXPECT_EQ(records[1].at, core::duration(10s));
  EXPECT_EQ(records[3].at, core::duration(20s));
}

TEST(mock_server, endpoint_filter_limits_the_fault_to_its_endpoint) {
  auto only_charges = status_fault(500);
  only_charges.endpoint = "charge";
  running_server s({.faults = {only_charges}});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/charges", {}, http::verb::post).res.result_int(), 500);
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  EXPECT_EQ(c.get("/v1/refunds", {}, http::verb::post).res.result_int(), 200);
}

std::vector<int> statuses_for_seed(std::uint64_t seed, int requests) {
  server_options options;
  options.seed = seed;
  running_server s({.faults = {status_fault(503, 0.5)}, .options = options});
  test_client c(s.port());
  std::vector<int> out;
  for (int i = 0; i < requests; ++i) out.push_back(c.get("/v1/items").res.result_int());
  return out;
}

TEST(mock_server, same_seed_gives_the_same_fault_sequence) {
  const auto first = statuses_for_seed(7, 50);
  EXPECT_EQ(first, statuses_for_seed(7, 50));
  EXPECT_NE(first, statuses_for_seed(8, 50));
  EXPECT_NE(std::count(first.begin(), first.end(), 503), 0);
  EXPECT_NE(std::count(first.begin(), first.end(), 200), 0);
}

TEST(mock_server, bearer_auth_rejects_missing_and_wrong_tokens_with_a_challenge) {
  running_server s({.auth = {"Authorization", "Bearer s3cret"}});
  test_client c(s.port());

  auto r = c.get("/v1/items");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 401);
  EXPECT_EQ(header(r.res, "WWW-Authenticate"), R"(Bearer error="invalid_token")");
  EXPECT_TRUE(parses_as_json(r.res.body()));

  EXPECT_EQ(c.get("/v1/items", {{"Authorization", "Bearer s3creT"}}).res.result_int(), 401);  // same length
  EXPECT_EQ(c.get("/v1/items", {{"Authorization", "Bearer s3cret2"}}).res.result_int(), 401);
  EXPECT_EQ(c.get("/v1/items", {{"Authorization", ""}}).res.result_int(), 401);
  r = c.get("/v1/items", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), items_body);
  EXPECT_EQ(c.get("/v1/nope").res.result_int(), 404);  // routing comes before auth

  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(records[i].outcome, fate::unauthorized) << i;
  EXPECT_EQ(records[4].outcome, fate::answered);
  EXPECT_EQ(records[5].outcome, fate::not_found);
}

TEST(mock_server, api_key_auth_rejects_without_a_bearer_challenge) {
  running_server s({.auth = {"X-API-Key", "k-1"}});
  test_client c(s.port());
  auto r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 401);
  EXPECT_EQ(header(r.res, "WWW-Authenticate"), "<absent>");
  EXPECT_EQ(c.get("/v1/items", {{"X-API-Key", "k-1"}}).res.result_int(), 200);
}

TEST(mock_server, auth_comes_before_faults) {
  running_server s({.auth = {"X-API-Key", "k-1"}, .faults = {status_fault(503)}});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 401);
  EXPECT_EQ(c.get("/v1/items", {{"X-API-Key", "k-1"}}).res.result_int(), 503);
}

TEST(mock_server, garbage_bytes_get_a_400_and_the_server_keeps_serving) {
  running_server s({});
  {
    test_client c(s.port());
    // Starts like a TLS ClientHello (a client using https against the plain port), NUL included.
    constexpr char garbage[] = "\x16\x03\x01\x02\x00\x01 not http at all\r\n\r\n";
    ASSERT_FALSE(c.send_raw(std::string_view(garbage, sizeof garbage - 1)));
    const auto r = c.read();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400);
    EXPECT_EQ(r.res.body(), R"({"error":"bad_request"})");
    EXPECT_FALSE(r.res.keep_alive());
    EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  }
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[0].status, 400);
  EXPECT_EQ(records[0].endpoint_id, "");

  test_client next(s.port());
  EXPECT_EQ(next.get("/v1/items").res.result_int(), 200);
}

TEST(mock_server, oversized_header_gets_431_and_the_server_keeps_serving) {
  running_server s({});
  {
    test_client c(s.port());
    const std::string big =
        "GET /v1/items HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n";
    ASSERT_FALSE(c.send_raw(big));
    const auto r = c.read();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 431);
    EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  }
  test_client next(s.port());
  EXPECT_EQ(next.get("/v1/items").res.result_int(), 200);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[0].status, 431);
}

TEST(mock_server, header_just_under_the_limit_is_served) {
  running_server s({});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items", {{"X-Big", std::string(15'000, 'a')}}).res.result_int(), 200);
}

TEST(mock_server, oversized_body_gets_413) {
  running_server s({});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("POST /v1/charges HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n{}"));
  const auto r = c.read();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 413);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[0].status, 413);
  EXPECT_EQ(records[0].target, "/v1/charges");
}

TEST(mock_server, body_within_the_limit_is_read) {
  running_server s({});
  test_client c(s.port());
  http::request<http::string_body> req(http::verb::post, "/v1/charges", 11);
  req.body() = std::string(512 * 1024, 'x');
  ASSERT_FALSE(c.send(std::move(req)));
  const auto r = c.read();
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 201);
}

TEST(mock_server, started_request_that_stalls_gets_408) {
  server_options options;
  options.request_timeout = 200ms;
  running_server s({.options = options});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n"));  // no blank line
  const auto r = c.read();
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 408);
  EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[0].status, 408);
}

TEST(mock_server, idle_keep_alive_connection_is_closed_after_the_idle_timeout) {
  server_options options;
  options.idle_timeout = 200ms;
  running_server s({.options = options});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  EXPECT_EQ(s.srv().request_count(), 1u);  // an idle close is not a request
}

TEST(mock_server, connections_beyond_the_limit_are_closed_and_the_others_keep_working) {
  server_options options;
  options.max_connections = 2;
  running_server s({.options = options});
  test_client a(s.port()), b(s.port());
  ASSERT_EQ(a.get("/v1/items").res.result_int(), 200);  // both accepted and registered
  ASSERT_EQ(b.get("/v1/items").res.result_int(), 200);
  test_client over(s.port());
  EXPECT_TRUE(over.get("/v1/items").ec) << "a third connection is closed, not served";
  EXPECT_EQ(a.get("/v1/items").res.result_int(), 200);
  EXPECT_EQ(s.srv().open_connections(), 2u);
}

TEST(mock_server, request_abandoned_midway_is_recorded_once) {
  running_server s({});
  {
    test_client c(s.port());
    ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHo"));
  }
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  ASSERT_TRUE(s.srv().wait_for_open_connections_at_most(0, 10s));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[0].status, 0);
}

TEST(mock_server, keep_alive_serves_several_requests_on_one_connection) {
  running_server s({});
  test_client c(s.port());
  for (int i = 0; i < 5; ++i) {
    const auto r = c.get("/v1/items");
    ASSERT_FALSE(r.ec) << i << ": " << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 200);
    EXPECT_TRUE(r.res.keep_alive());
  }
  EXPECT_EQ(s.srv().open_connections(), 1u);
  EXPECT_EQ(s.srv().request_count(), 5u);
}

TEST(mock_server, connection_close_and_http_1_0_are_honoured) {
  running_server s({});
  {
    test_client c(s.port());
    const auto r = c.get("/v1/items", {{"Connection", "close"}});
    EXPECT_EQ(r.res.result_int(), 200);
    EXPECT_EQ(header(r.res, "Connection"), "close");
    EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  }
  {
    test_client c(s.port());
    ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(c.read().res.result_int(), 200);
    EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  }
  {
    test_client c(s.port());
    ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    const auto r = c.read();
    EXPECT_EQ(r.res.result_int(), 200);
    EXPECT_EQ(header(r.res, "Connection"), "keep-alive");
    ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_EQ(c.read().res.result_int(), 200);
  }
}

TEST(mock_server, pipelined_requests_are_answered_in_order) {
  running_server s({});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"
                          "POST /v1/charges HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                          "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read().res.result_int(), 200);
  EXPECT_EQ(c.read().res.result_int(), 201);
  EXPECT_EQ(c.read().res.result_int(), 404);
}

TEST(mock_server, expect_100_continue_is_answered_before_the_body) {
  running_server s({});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("POST /v1/charges HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                          "Expect: 100-continue\r\n\r\n"));
  std::string interim;
  ASSERT_FALSE(c.read_some_raw(interim, 10s));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_FALSE(c.send_raw("{}"));
  EXPECT_EQ(c.read().res.result_int(), 201);
}

TEST(mock_server, records_carry_endpoint_target_idempotency_key_time_and_fate) {
  running_server s({});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/charges?expand=customer", {{"Idempotency-Key", "key-123"}}, http::verb::post)
                .res.result_int(),
            201);
  s.advance(5s, 1);
  EXPECT_EQ(c.get("/v1/charges", {}, http::verb::post).res.result_int(), 201);
  EXPECT_EQ(c.get("/v1/items", {{"Idempotency-Key", "not-recorded"}}).res.result_int(), 200);
  EXPECT_EQ(c.get("/missing").res.result_int(), 404);

  EXPECT_EQ(s.srv().request_count(), 4u);
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].endpoint_id, "charge");
  EXPECT_EQ(records[0].method, "POST");
  EXPECT_EQ(records[0].target, "/v1/charges?expand=customer");
  EXPECT_EQ(records[0].idempotency_key, "key-123");
  EXPECT_EQ(records[0].status, 201);
  EXPECT_EQ(records[0].fault, "");
  EXPECT_EQ(records[0].outcome, fate::answered);
  EXPECT_EQ(records[0].at, core::duration(0s));
  EXPECT_EQ(records[1].idempotency_key, "");  // header absent
  EXPECT_EQ(records[1].at, core::duration(5s));
  EXPECT_EQ(records[2].endpoint_id, "items");
  EXPECT_EQ(records[2].idempotency_key, "");  // the route records no idempotency header
  EXPECT_EQ(records[3].endpoint_id, "");
  EXPECT_EQ(records[3].method, "GET");
  EXPECT_EQ(records[3].target, "/missing");
  EXPECT_EQ(records[3].outcome, fate::not_found);
  EXPECT_EQ(records[3].status, 404);
}

TEST(mock_server, records_beyond_the_cap_are_counted_not_kept) {
  server_options options;
  options.max_records = 2;
  running_server s({.options = options});
  test_client c(s.port());
  for (int i = 0; i < 4; ++i) EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  EXPECT_EQ(s.srv().records().size(), 2u);
  EXPECT_EQ(s.srv().request_count(), 4u);
  EXPECT_EQ(s.srv().dropped_records(), 2u);
}

TEST(mock_server, stop_closes_a_hung_connection_and_run_returns) {
  running_server s({.faults = {kind_fault("hang")}});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  EXPECT_TRUE(s.stop_and_join());
  EXPECT_EQ(c.wait_for_close(), asio::error::eof);
  EXPECT_EQ(s.srv().open_connections(), 0u);
  s.srv().stop();  // idempotent
}

TEST(mock_server, stop_interrupts_a_latency_wait) {
  auto slow = kind_fault("latency");
  slow.latency.value = 1h;
  running_server s({.faults = {slow}});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));
  EXPECT_TRUE(s.stop_and_join());
  EXPECT_EQ(c.wait_for_close(), asio::error::eof);
}

TEST(mock_server, listen_reports_errors_instead_of_throwing) {
  running_server first({});
  core::manual_clock clock;
  asio::io_context ioc;

  server_options same_port;
  same_port.port = first.port();
  server taken(ioc.get_executor(), clock, clock.now(), {}, default_routes(), {}, {}, same_port);
  const auto ec = taken.listen();
  EXPECT_EQ(ec, std::errc::address_in_use) << ec.message();
  EXPECT_EQ(taken.port(), 0);

  server_options bad_address;
  bad_address.address = "not-an-address";
  server bad(ioc.get_executor(), clock, clock.now(), {}, default_routes(), {}, {}, bad_address);
  EXPECT_TRUE(bad.listen());

  server twice(ioc.get_executor(), clock, clock.now(), {}, default_routes(), {}, {});
  EXPECT_FALSE(twice.listen());
  EXPECT_NE(twice.port(), 0);
  EXPECT_TRUE(twice.listen());
}

TEST(mock_server, faults_it_cannot_carry_out_are_ignored_and_counted) {
  auto informational = status_fault(100);
  running_server s({.faults = {kind_fault("duplicate_delivery"), kind_fault("gremlins"), informational}});
  EXPECT_EQ(s.srv().ignored_faults(), 3u);
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::answered);
}

TEST(mock_server, runs_correctly_on_a_multi_threaded_io_context) {
  running_server s({.faults = {status_fault(503, 0.5)}, .threads = 2});
  constexpr int clients = 4;
  constexpr int per_client = 25;
  std::atomic<int> ok{0}, faulted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      test_client c(s.port());
      for (int i = 0; i < per_client; ++i) {
        const int status = c.get("/v1/items").res.result_int();
        (status == 200 ? ok : status == 503 ? faulted : other)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(s.srv().request_count(), static_cast<std::uint64_t>(clients * per_client));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), static_cast<std::size_t>(clients * per_client));
  const auto recorded_faults = std::count_if(records.begin(), records.end(),
                                             [](const auto& r) { return r.outcome == fate::fault_status; });
  EXPECT_EQ(recorded_faults, faulted.load());
  EXPECT_GT(faulted.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_TRUE(s.stop_and_join());
}

TEST(mock_server, single_threaded_executor_option_serves_faults_and_stops) {
  server_options options;
  options.single_threaded_executor = true;
  auto limited = status_fault(429);
  limited.retry_after = 2s;
  limited.endpoint = "items";
  auto hang = kind_fault("hang");
  hang.endpoint = "refund";
  running_server s({.faults = {limited, hang}, .options = options});
  test_client c(s.port());
  const auto r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 429);
  EXPECT_EQ(header(r.res, "Retry-After"), "2");
  EXPECT_EQ(c.get("/v1/charges", {}, http::verb::post).res.result_int(), 201);

  test_client hung(s.port());
  ASSERT_FALSE(hung.send_raw("POST /v1/refunds HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_TRUE(s.srv().wait_for_requests(3, 10s));
  EXPECT_EQ(s.srv().records().at(2).outcome, fate::hung);
  EXPECT_TRUE(s.stop_and_join());
  EXPECT_EQ(hung.wait_for_close(), asio::error::eof);
}

TEST(routes_from_plan, maps_endpoints_to_routes) {
  plan::integration_plan p;
  plan::endpoint charge;
  charge.id = "charge";
  charge.method = "post";
  charge.path = "/v1/charges";
  charge.response_example = boost::json::parse(R"({"id":"ch_1","amount":1200})");
  charge.statuses.success = {201, 200};
  charge.idempotency_header = "Idempotency-Key";
  plan::endpoint ping;
  ping.id = "ping";
  ping.path = "/ping";
  plan::endpoint accepted;
  accepted.id = "export";
  accepted.path = "/v1/exports";
  accepted.response_status = 202;
  p.endpoints = {charge, ping, accepted};

  const auto routes = routes_from_plan(p);
  ASSERT_EQ(routes.size(), 3u);
  EXPECT_EQ(routes[0].endpoint_id, "charge");
  EXPECT_EQ(routes[0].path, "/v1/charges");
  EXPECT_EQ(routes[0].status, 201);
  EXPECT_EQ(boost::json::parse(routes[0].body), *charge.response_example);
  EXPECT_EQ(routes[0].idempotency_header, std::optional<std::string>("Idempotency-Key"));
  EXPECT_EQ(routes[1].method, "GET");
  EXPECT_EQ(routes[1].status, 200);
  EXPECT_EQ(routes[1].body, "{}");
  EXPECT_EQ(routes[2].status, 202);

  // The plan's lower-case method still matches what clients send.
  running_server s({.routes = routes});
  test_client c(s.port());
  const auto r = c.get("/v1/charges", {}, http::verb::post);
  EXPECT_EQ(r.res.result_int(), 201);
  EXPECT_EQ(boost::json::parse(r.res.body()), *charge.response_example);
  EXPECT_EQ(c.get("/ping").res.body(), "{}");
}

}  // namespace
}  // namespace planproof::mocks
