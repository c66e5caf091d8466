// The fault catalog as a client on a real loopback socket sees it: resets are RSTs, empty replies
// and cut bodies are FINs at the wrong moment, slow bodies arrive in pieces, broken bodies are
// broken the way each malformation says, drifted bodies lose or change their fields, rate limits
// answer 429 with the headers a client needs, outages flap.
#include <algorithm>
#include <chrono>
#include <string>

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mocks/canned_response.hpp"
#include "resilience/retry_after.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
using namespace testing;
namespace http = boost::beast::http;
namespace asio = boost::asio;

// Sends GET /v1/items and reads whatever comes back.
test_client::result get_items(test_client& c) { return c.get("/v1/items"); }

TEST(fault_catalog, reset_sends_rst_after_reading_the_request) {
  running_server s({.faults = {kind_fault("reset")}});
  test_client c(s.port());
  const auto r = get_items(c);
  EXPECT_EQ(r.ec, asio::error::connection_reset) << r.ec.message();
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::reset);
  EXPECT_EQ(records[0].fault, "reset");
  EXPECT_EQ(records[0].status, 0);
  EXPECT_EQ(records[0].target, "/v1/items");  // the request was read before the reset
}

TEST(fault_catalog, empty_reply_closes_without_a_byte) {
  running_server s({.faults = {kind_fault("empty_reply")}});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string got;
  EXPECT_EQ(c.read_some_raw(got, 10s), asio::error::eof);
  EXPECT_TRUE(got.empty()) << got;
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::emptied);
}

TEST(fault_catalog, close_cuts_the_body_after_the_headers) {
  auto f = kind_fault("close");
  f.after_bytes = 5;
  running_server s({.faults = {f}});
  test_client c(s.port());
  const auto r = get_items(c);
  EXPECT_EQ(r.ec, http::error::partial_message) << r.ec.message();
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::cut);
  EXPECT_EQ(s.srv().records().at(0).status, 200);

  // Without after_bytes, half the body goes out: still short of its Content-Length.
  running_server half({.faults = {kind_fault("close")}});
  test_client h(half.port());
  ASSERT_FALSE(h.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string all, piece;
  while (!h.read_some_raw(piece, 10s)) all += piece;
  const auto body = all.substr(all.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.size(), items_body.size() / 2) << all;
  EXPECT_NE(all.find("Connection: close"), std::string::npos) << all;
}

TEST(fault_catalog, slow_body_dribbles_the_body_in_chunks) {
  auto f = kind_fault("slow_body");
  f.chunks = 4;
  f.over = 400ms;  // real time at scale 1: 100 ms between pieces, far apart for loopback
  running_server s({.faults = {f}});
  test_client c(s.port());
  ASSERT_FALSE(c.send_raw("GET /v1/items HTTP/1.1\r\nHost: x\r\n\r\n"));
  // The head comes at once; the body arrives in separate reads, and is complete in the end.
  std::string all, piece;
  int reads = 0;
  while (all.find("\r\n\r\n") == std::string::npos || all.size() - all.find("\r\n\r\n") - 4 < items_body.size()) {
    ASSERT_FALSE(c.read_some_raw(piece, 10s));
    all += piece;
    ++reads;
  }
  EXPECT_GE(reads, 4) << "the body came in too few pieces";
  EXPECT_EQ(all.substr(all.find("\r\n\r\n") + 4), items_body);
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::dribbled);
}

TEST(fault_catalog, each_malformation_breaks_the_answer_its_own_way) {
  auto with = [](plan::malformation m) {
    auto f = kind_fault("malformed");
    f.malformed = m;
    return f;
  };
  {
    running_server s({.faults = {with(plan::malformation::invalid_utf8)}});
    test_client c(s.port());
    const auto r = get_items(c);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 200);
    EXPECT_FALSE(parses_as_json(r.res.body())) << "invalid UTF-8 must not parse";
    EXPECT_NE(r.res.body().find("\xC3\x28"), std::string::npos);
  }
  {
    running_server s({.faults = {with(plan::malformation::wrong_content_type)}});
    test_client c(s.port());
    const auto r = get_items(c);
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(header(r.res, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_FALSE(parses_as_json(r.res.body()));
  }
  {
    running_server s({.faults = {with(plan::malformation::wrong_content_length)}});
    test_client c(s.port());
    const auto r = get_items(c);
    // The head promises more than comes, then the connection closes.
    EXPECT_EQ(r.ec, http::error::partial_message) << r.ec.message();
    EXPECT_EQ(s.srv().records().at(0).outcome, fate::malformed);
  }
}

TEST(fault_catalog, schema_drift_drops_renames_retypes_and_adds_fields) {
  auto f = kind_fault("schema_drift");
  f.drop = {"currency"};
  f.rename = {{"id", "charge_id"}};
  f.retype = {{"amount", "string"}};
  f.add = {"livemode"};
  f.endpoint = "charge";
  running_server s({.faults = {f}});
  test_client c(s.port());
  const auto r = c.get("/v1/charges", {}, http::verb::post);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 201);
  const auto body = boost::json::parse(r.res.body()).as_object();
  EXPECT_FALSE(body.contains("currency"));
  EXPECT_FALSE(body.contains("id"));
  EXPECT_EQ(body.at("charge_id").as_string(), "ch_1");
  EXPECT_EQ(body.at("amount").as_string(), "1200");
  EXPECT_EQ(body.at("livemode").as_string(), "added");
  // Other endpoints are untouched; an array on the path edits every element.
  auto g = kind_fault("schema_drift");
  g.drop = {"items.id"};
  running_server t({.faults = {g}});
  test_client d(t.port());
  const auto items = boost::json::parse(get_items(d).res.body()).as_object();
  for (const auto& item : items.at("items").as_array()) EXPECT_FALSE(item.as_object().contains("id")) << item;
}

TEST(fault_catalog, rate_limit_answers_429_with_retry_after_and_ratelimit_fields) {
  auto f = kind_fault("rate_limit");
  f.status = 429;  // what the loader gives a rate_limit fault
  f.limit = 2;     // 2 per second, a bucket of 2
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(get_items(c).res.result_int(), 200);
  EXPECT_EQ(get_items(c).res.result_int(), 200);
  const auto limited = get_items(c);
  ASSERT_EQ(limited.res.result_int(), 429);
  EXPECT_EQ(header(limited.res, "Retry-After"), "1");  // 0.5 s until a token, in whole seconds up
  EXPECT_EQ(header(limited.res, "RateLimit-Policy"), "\"bucket\";q=2;w=1");
  EXPECT_EQ(header(limited.res, "RateLimit"), "\"bucket\";r=0;t=1");
  EXPECT_EQ(s.srv().records().at(2).outcome, fate::rate_limited);
  // Half a second later (plan time) one token is back: one request passes, the next is limited.
  s.advance(500ms, 3);
  EXPECT_EQ(get_items(c).res.result_int(), 200);
  EXPECT_EQ(get_items(c).res.result_int(), 429);
}

TEST(fault_catalog, rate_limit_keys_buckets_by_header) {
  auto f = kind_fault("rate_limit");
  f.status = 429;
  f.limit = 1;
  f.limit_key = "header:X-Tenant";
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items", {{"X-Tenant", "a"}}).res.result_int(), 200);
  EXPECT_EQ(c.get("/v1/items", {{"X-Tenant", "a"}}).res.result_int(), 429);
  EXPECT_EQ(c.get("/v1/items", {{"X-Tenant", "b"}}).res.result_int(), 200);  // its own bucket
}

TEST(fault_catalog, outage_flaps_down_then_up_in_its_window) {
  auto f = kind_fault("outage");
  f.status = 503;
  f.during = {{10s, 20s}};
  f.down = 2s;
  f.up = 3s;
  running_server s({.faults = {f}});
  test_client c(s.port());
  std::uint64_t sent = 0;
  auto status_at = [&](core::duration since_last) {
    s.advance(since_last, sent);
    ++sent;
    return get_items(c).res.result_int();
  };
  EXPECT_EQ(status_at(9s), 200);     // 9 s: before the window
  EXPECT_EQ(status_at(1s), 503);     // 10 s: down
  EXPECT_EQ(status_at(1500ms), 503); // 11.5 s: still down
  EXPECT_EQ(status_at(1s), 200);     // 12.5 s: up
  EXPECT_EQ(status_at(3s), 503);     // 15.5 s: down again
  EXPECT_EQ(status_at(5s), 200);     // 20.5 s: the window is over
}

TEST(fault_catalog, outage_in_reset_mode_resets_connections) {
  auto f = kind_fault("outage");
  f.outage = plan::outage_mode::reset;
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(get_items(c).ec, asio::error::connection_reset);
  EXPECT_EQ(s.srv().records().at(0).outcome, fate::reset);
}

TEST(fault_catalog, retry_after_as_an_http_date) {
  auto f = status_fault(503);
  f.retry_after = 30s;
  f.retry_after_as = plan::retry_after_format::http_date;
  running_server s({.faults = {f}});
  test_client c(s.port());
  const auto before = std::chrono::system_clock::now();
  const auto r = get_items(c);
  ASSERT_EQ(r.res.result_int(), 503);
  const auto value = header(r.res, "Retry-After");
  // An IMF-fixdate (as a client parses it) at least 30 s after the request, rounded up to the next
  // whole second: never earlier than the plan's wait.
  ASSERT_TRUE(value.ends_with(" GMT")) << value;
  const auto wait = resilience::parse_retry_after(value, before);
  ASSERT_TRUE(wait) << value;
  EXPECT_GE(*wait, 30s) << value;
  EXPECT_LE(*wait, 33s) << value;
}

TEST(fault_catalog, first_n_requests_fail_then_the_rest_succeed) {
  auto f = status_fault(503);
  f.first = 2;
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(get_items(c).res.result_int(), 503);
  EXPECT_EQ(get_items(c).res.result_int(), 503);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get_items(c).res.result_int(), 200) << i;
}

}  // namespace
}  // namespace planproof::mocks

namespace planproof::mocks {
namespace {

TEST(mock_admin, faults_can_be_turned_off_and_on_at_run_time) {
  auto f = status_fault(503);
  f.endpoint = "items";
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 503);
  ASSERT_TRUE(s.srv().set_fault_enabled(0, false));
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  ASSERT_TRUE(s.srv().set_fault_enabled(0, true));
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 503);
  EXPECT_FALSE(s.srv().set_fault_enabled(7, false));
  const auto faults = s.srv().faults();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].kind, "status");
  EXPECT_EQ(faults[0].endpoint, "items");
  EXPECT_TRUE(faults[0].enabled);
  EXPECT_EQ(faults[0].injected, 2u);
}

TEST(mock_admin, metrics_count_every_request_and_time_every_answer) {
  auto f = status_fault(503);
  f.every = 2;
  running_server s({.faults = {f}});
  test_client c(s.port());
  for (int i = 0; i < 4; ++i) (void)c.get("/v1/items");
  (void)c.get("/nowhere");
  ASSERT_TRUE(s.srv().wait_for_answers(5, 10s));
  const auto m = s.srv().metrics();
  EXPECT_EQ(m.requests, 5u);
  EXPECT_EQ(m.by_endpoint.at("items"), 4u);
  EXPECT_EQ(m.by_endpoint.at(""), 1u);
  EXPECT_EQ(m.by_status.at(200), 2u);
  EXPECT_EQ(m.by_status.at(503), 2u);
  EXPECT_EQ(m.by_status.at(404), 1u);
  EXPECT_EQ(m.by_fault.at("status"), 2u);
  EXPECT_EQ(m.by_fate.at("not_found"), 1u);
  EXPECT_EQ(m.answered, 5u);
  EXPECT_EQ(m.bucket_counts.back(), 5u) << "every answer took less than 10 s";
  EXPECT_GT(m.latency_sum, 0.0);
  for (const auto& r : s.srv().records()) EXPECT_GT(r.latency, core::duration::zero());
}

TEST(mock_admin, reset_forgets_records_totals_and_fault_state) {
  auto f = status_fault(500);
  f.first = 1;
  running_server s({.faults = {f}});
  test_client c(s.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 500);
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  s.srv().reset();
  EXPECT_TRUE(s.srv().records().empty());
  EXPECT_EQ(s.srv().metrics().requests, 0u);
  EXPECT_EQ(s.srv().request_count(), 0u);
  EXPECT_EQ(s.srv().faults().at(0).injected, 0u);
  // "The first request" again: the selector's count started over.
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 500);
  EXPECT_EQ(s.srv().records().size(), 1u);
}

}  // namespace
}  // namespace planproof::mocks

namespace planproof::mocks {
namespace {

// POST /v1/charges with an idempotency key and/or a request id.
test_client::result charge(test_client& c, std::string_view key, std::string_view body = "{\"amount\":1}",
                           std::string_view request_id = "") {
  http::request<http::string_body> req(http::verb::post, "/v1/charges", 11);
  req.set(http::field::host, "127.0.0.1");
  if (!key.empty()) req.set("Idempotency-Key", key);
  if (!request_id.empty()) req.set("X-Request-Id", request_id);
  req.body() = std::string(body);
  if (const auto ec = c.send(std::move(req))) return {ec, {}};
  return c.read();
}

TEST(mock_idempotency, a_repeated_key_replays_the_first_answer_without_a_second_effect) {
  running_server s({});
  test_client c(s.port());
  const auto first = charge(c, "k1");
  ASSERT_EQ(first.res.result_int(), 201);
  EXPECT_EQ(header(first.res, "Idempotent-Replayed"), "<absent>");
  const auto again = charge(c, "k1");
  ASSERT_EQ(again.res.result_int(), 201);
  EXPECT_EQ(header(again.res, "Idempotent-Replayed"), "true");
  EXPECT_EQ(again.res.body(), first.res.body());
  const auto records = s.srv().records();
  EXPECT_EQ(records[1].outcome, fate::replayed);
  EXPECT_TRUE(records[0].effect);
  EXPECT_FALSE(records[1].effect);
  const auto m = s.srv().metrics();
  EXPECT_EQ(m.side_effects, 1u);
  EXPECT_EQ(m.duplicate_effects, 0u);
  EXPECT_EQ(m.replays, 1u);
}

TEST(mock_idempotency, the_same_key_with_another_body_is_refused) {
  running_server s({});
  test_client c(s.port());
  ASSERT_EQ(charge(c, "k1", "{\"amount\":1}").res.result_int(), 201);
  const auto other = charge(c, "k1", "{\"amount\":2}");
  EXPECT_EQ(other.res.result_int(), 422);
  EXPECT_NE(other.res.body().find("idempotency_key_reused"), std::string::npos);
  EXPECT_EQ(s.srv().records()[1].outcome, fate::key_conflict);
  EXPECT_EQ(s.srv().metrics().side_effects, 1u);
}

TEST(mock_idempotency, a_repeat_while_the_first_is_still_running_gets_409) {
  auto slow = kind_fault("latency");
  slow.latency.value = 300ms;  // real time at scale 1: the first request's backend time
  slow.first = 1;
  running_server s({.faults = {slow}});
  test_client a(s.port());
  http::request<http::string_body> req(http::verb::post, "/v1/charges", 11);
  req.set(http::field::host, "127.0.0.1");
  req.set("Idempotency-Key", "k1");
  req.body() = "{}";
  ASSERT_FALSE(a.send(req));
  ASSERT_TRUE(s.srv().wait_for_requests(1, 10s));  // the first is decided and now waiting
  test_client b(s.port());
  const auto concurrent = charge(b, "k1", "{}");
  EXPECT_EQ(concurrent.res.result_int(), 409);
  EXPECT_EQ(a.read().res.result_int(), 201);
  // Once the first has answered, a repeat is a replay.
  EXPECT_EQ(header(charge(b, "k1", "{}").res, "Idempotent-Replayed"), "true");
  EXPECT_EQ(s.srv().metrics().side_effects, 1u);
}

TEST(mock_idempotency, a_lost_answer_still_applied_the_effect) {
  // The reset comes after the backend acted: retrying with the key replays, retrying without one
  // (same logical request, same X-Request-Id) applies the effect a second time.
  auto reset = kind_fault("reset");
  reset.first = 1;
  {
    running_server s({.faults = {reset}});
    test_client c(s.port());
    EXPECT_TRUE(charge(c, "k1").ec);
    test_client retry(s.port());
    EXPECT_EQ(header(charge(retry, "k1").res, "Idempotent-Replayed"), "true");
    EXPECT_EQ(s.srv().metrics().duplicate_effects, 0u);
  }
  {
    running_server s({.faults = {reset}});
    test_client c(s.port());
    EXPECT_TRUE(charge(c, "", "{}", "req-1").ec);
    test_client retry(s.port());
    EXPECT_EQ(charge(retry, "", "{}", "req-1").res.result_int(), 201);
    const auto m = s.srv().metrics();
    EXPECT_EQ(m.side_effects, 2u);
    EXPECT_EQ(m.duplicate_effects, 1u);
    EXPECT_TRUE(s.srv().records()[1].duplicate_effect);
  }
}

TEST(mock_idempotency, turned_away_requests_and_reads_change_nothing) {
  auto busy = status_fault(503);
  busy.first = 1;
  busy.endpoint = "charge";
  running_server s({.faults = {busy}});
  test_client c(s.port());
  EXPECT_EQ(charge(c, "", "{}", "req-1").res.result_int(), 503);
  EXPECT_EQ(charge(c, "", "{}", "req-1").res.result_int(), 201);
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 200);
  const auto m = s.srv().metrics();
  EXPECT_EQ(m.side_effects, 1u);
  EXPECT_EQ(m.duplicate_effects, 0u);
}

TEST(mock_idempotency, stored_keys_are_bounded) {
  server_options options;
  options.max_idempotency_keys = 2;
  running_server s({.options = options});
  test_client c(s.port());
  for (const char* key : {"a", "b", "c"}) ASSERT_EQ(charge(c, key).res.result_int(), 201);
  // "a" was forgotten: it is applied again, and that is a duplicate effect of its logical request.
  EXPECT_EQ(header(charge(c, "a").res, "Idempotent-Replayed"), "<absent>");
  EXPECT_EQ(s.srv().metrics().duplicate_effects, 1u);
}

}  // namespace
}  // namespace planproof::mocks
