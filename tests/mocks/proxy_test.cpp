// Proxy mode on real loopback sockets: a mock in front of another server (the "real" upstream here)
// forwards what no fault stops, relays or breaks the answer, and records every request either way.
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mocks/canned_response.hpp"
#include "mocks/proxy.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
using namespace testing;
namespace http = boost::beast::http;
namespace asio = boost::asio;

std::shared_ptr<const upstream_proxy> proxy_to(std::string url, core::duration timeout = 10s) {
  auto target = parse_upstream_url(url);
  EXPECT_TRUE(std::holds_alternative<upstream_target>(target)) << url;
  upstream_options o;
  o.target = std::get<upstream_target>(target);
  o.timeout = timeout;
  auto made = upstream_proxy::make(o);
  EXPECT_TRUE((std::holds_alternative<std::shared_ptr<upstream_proxy>>(made)));
  return std::get<std::shared_ptr<upstream_proxy>>(made);
}

setup proxying(unsigned short upstream_port, std::vector<plan::fault> faults = {}, std::string prefix = "") {
  setup s;
  s.faults = std::move(faults);
  s.options.upstream = proxy_to("http://127.0.0.1:" + std::to_string(upstream_port) + prefix);
  return s;
}

TEST(upstream_url, parses_what_a_user_writes_and_says_what_is_wrong) {
  auto t = std::get<upstream_target>(parse_upstream_url("https://api.sandbox.example/v2/"));
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "api.sandbox.example");
  EXPECT_EQ(t.port, 443);
  EXPECT_EQ(t.path_prefix, "/v2");
  EXPECT_EQ(to_string(t), "https://api.sandbox.example/v2");
  t = std::get<upstream_target>(parse_upstream_url("http://127.0.0.1:9000"));
  EXPECT_FALSE(t.tls);
  EXPECT_EQ(t.port, 9000);
  EXPECT_EQ(t.path_prefix, "");
  t = std::get<upstream_target>(parse_upstream_url("http://[::1]:8080/x"));
  EXPECT_EQ(t.host, "::1");
  EXPECT_EQ(to_string(t), "http://[::1]:8080/x");

  for (const auto& [url, why] : std::vector<std::pair<std::string, std::string>>{
           {"ftp://x", "must start with http:// or https://"},
           {"127.0.0.1:80", "must start with http:// or https://"},
           {"http://", "has no host"},
           {"http://host:0", "has no port from 1 to 65535"},
           {"http://host:99999", "has no port from 1 to 65535"},
           {"http://host:", "has no port from 1 to 65535"},
           {"http://user:pw@host", "cannot carry credentials"},
           {"http://host/x?y=1", "cannot have a query"},
           {"http://[::1", "without its closing"},
           {"http://ho st", "not a name or an address"},
       }) {
    const auto r = parse_upstream_url(url);
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << url;
    EXPECT_NE(std::get<std::string>(r).find(why), std::string::npos) << url << ": " << std::get<std::string>(r);
  }
  upstream_options plain;
  plain.target = std::get<upstream_target>(parse_upstream_url("http://127.0.0.1:1"));
  plain.ca_file = "ca.pem";
  EXPECT_TRUE(std::holds_alternative<std::string>(upstream_proxy::make(plain))) << "a CA file for plain http";
  upstream_options plain_mtls;
  plain_mtls.target = plain.target;
  plain_mtls.tls.cert_file = "client.pem";
  plain_mtls.tls.key_file = "client.key";
  const auto no_tls = upstream_proxy::make(plain_mtls);
  ASSERT_TRUE(std::holds_alternative<std::string>(no_tls)) << "a client certificate for plain http";
  EXPECT_EQ(std::get<std::string>(no_tls), "a client certificate only applies to an https upstream");
  upstream_options missing_ca;
  missing_ca.target = std::get<upstream_target>(parse_upstream_url("https://127.0.0.1:1"));
  missing_ca.ca_file = "/no/such/ca.pem";
  const auto made = upstream_proxy::make(missing_ca);
  ASSERT_TRUE(std::holds_alternative<std::string>(made));
  EXPECT_NE(std::get<std::string>(made).find("/no/such/ca.pem"), std::string::npos) << std::get<std::string>(made);
}

TEST(proxy, relays_the_upstream_answer_and_records_it) {
  running_server upstream({});
  running_server proxy(proxying(upstream.port()));
  test_client c(proxy.port());
  const auto r = c.get("/v1/items");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), items_body);
  // Unknown to the plan, known to the upstream's own routing: its 404 comes back as it is.
  const auto unknown = c.get("/v1/nothing");
  EXPECT_EQ(unknown.res.result_int(), 404);

  const auto seen = upstream.srv().records();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/v1/items");
  const auto records = proxy.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::proxied);
  EXPECT_EQ(records[0].endpoint_id, "items");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[1].outcome, fate::proxied);
  EXPECT_EQ(records[1].endpoint_id, "");
  EXPECT_EQ(records[1].status, 404);
}

TEST(proxy, prefixes_the_target_and_passes_credentials_through) {
  setup real;
  real.routes = {{"items", "GET", "/base/v1/items", 200, std::string(items_body), "application/json", std::nullopt}};
  real.auth.header = "X-Api-Key";
  real.auth.expected_value = "k_live";
  running_server upstream(std::move(real));
  running_server proxy(proxying(upstream.port(), {}, "/base/"));
  test_client c(proxy.port());
  EXPECT_EQ(c.get("/v1/items", {{"X-Api-Key", "k_live"}}).res.result_int(), 200);
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 401) << "the upstream checks, the proxy does not";
  const auto seen = upstream.srv().records();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/base/v1/items");
}

TEST(proxy, faults_that_answer_stand_in_front_of_the_upstream) {
  running_server upstream({});
  auto limited = status_fault(503);
  limited.endpoint = "items";
  running_server proxy(proxying(upstream.port(), {limited, kind_fault("reset")}));
  test_client c(proxy.port());
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 503);
  test_client other(proxy.port());
  EXPECT_EQ(other.get("/v1/charges", {}, http::verb::post).ec, asio::error::connection_reset);
  EXPECT_TRUE(upstream.srv().records().empty()) << "nothing was forwarded";
  const auto records = proxy.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].outcome, fate::fault_status);
  EXPECT_EQ(records[1].outcome, fate::reset);
}

// A POST to the token path (run --upstream, serve --upstream with an OAuth2 plan) meets the faults
// the embedded token endpoint would: token_endpoint_down answers in the upstream's place or delays
// the forward, and the API's faults leave it alone.
TEST(proxy, token_requests_meet_only_the_token_endpoint_faults) {
  setup real;
  real.routes = {{"token", "POST", "/oauth/token", 200, R"({"access_token":"t","expires_in":60})", "application/json",
                  std::nullopt},
                 default_routes()[1]};
  running_server upstream(std::move(real));
  auto down = kind_fault("token_endpoint_down");
  down.status = 503;
  down.first = 1;
  auto slow = kind_fault("token_endpoint_down");
  slow.status = 0;
  slow.delay = 10ms;
  auto s = proxying(upstream.port(), {down, slow, status_fault(500)});
  s.auth.token_path = "/oauth/token";
  running_server proxy(std::move(s));
  test_client c(proxy.port());
  EXPECT_EQ(c.get("/oauth/token", {}, http::verb::post).res.result_int(), 503) << "the first: down";
  const auto token = c.get("/oauth/token?x=1", {}, http::verb::post);
  EXPECT_EQ(token.res.result_int(), 200) << "the next: late, then the upstream's own answer";
  EXPECT_NE(token.res.body().find("access_token"), std::string::npos) << token.res.body();
  EXPECT_EQ(c.get("/v1/items").res.result_int(), 500) << "API requests get the API's faults";
  EXPECT_EQ(upstream.srv().records().size(), 1u) << "only the late token request was forwarded";
  const auto records = proxy.srv().records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].endpoint_id, "(token)");
  EXPECT_EQ(records[0].outcome, fate::fault_status);
  EXPECT_EQ(records[1].endpoint_id, "(token)");
  EXPECT_EQ(records[1].outcome, fate::delayed);
  EXPECT_EQ(records[1].status, 200);
  EXPECT_EQ(records[2].fault, "status");
}

TEST(proxy, body_faults_break_the_upstream_answer) {
  running_server upstream({});
  auto truncated = kind_fault("malformed");
  truncated.malformed = plan::malformation::truncated;
  truncated.first = 1;
  auto drift = kind_fault("schema_drift");
  drift.drop = {"next"};
  running_server proxy(proxying(upstream.port(), {truncated, drift}));
  test_client c(proxy.port());
  const auto broken = c.get("/v1/items");
  EXPECT_EQ(broken.res.result_int(), 200);
  EXPECT_EQ(broken.res.body(), truncate_body(items_body));
  const auto drifted = c.get("/v1/items");
  const auto json = boost::json::parse(drifted.res.body()).as_object();
  EXPECT_FALSE(json.contains("next")) << drifted.res.body();
  EXPECT_TRUE(json.contains("items"));
  EXPECT_EQ(upstream.srv().records().size(), 2u) << "both reached the upstream";
  const auto records = proxy.srv().records();
  EXPECT_EQ(records[0].outcome, fate::malformed);
  EXPECT_EQ(records[0].fault, "malformed");
  EXPECT_EQ(records[1].fault, "schema_drift");
}

TEST(proxy, an_unreachable_or_silent_upstream_is_a_recorded_502) {
  unsigned short closed_port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = a.local_endpoint().port();
  }
  running_server proxy(proxying(closed_port));
  test_client c(proxy.port());
  const auto r = c.get("/v1/items");
  EXPECT_EQ(r.res.result_int(), 502);
  const auto body = boost::json::parse(r.res.body()).as_object();
  EXPECT_EQ(body.at("error").as_string(), "upstream_unreachable");
  EXPECT_NE(std::string(body.at("detail").as_string()).find("connecting to http://127.0.0.1:"), std::string::npos)
      << r.res.body();
  auto records = proxy.srv().records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].outcome, fate::upstream_failed);
  EXPECT_EQ(records[0].status, 502);

  // An upstream that never answers: the proxy gives up at its timeout, not the app's.
  running_server hanging({.faults = {kind_fault("hang")}});
  setup s;
  s.options.upstream = proxy_to("http://127.0.0.1:" + std::to_string(hanging.port()), 300ms);
  running_server impatient(std::move(s));
  test_client d(impatient.port());
  const auto late = d.get("/v1/items");
  EXPECT_EQ(late.res.result_int(), 502);
  EXPECT_NE(late.res.body().find("no answer within the upstream timeout"), std::string::npos) << late.res.body();
  EXPECT_EQ(impatient.srv().records().at(0).outcome, fate::upstream_failed);
}

TEST(proxy, hop_by_hop_headers_stay_on_their_hop) {
  // A hand-written upstream that shows what arrived, to see the headers a mock does not record.
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  http::request<http::string_body> seen;
  std::thread upstream([&] {
    asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);
    boost::beast::flat_buffer buffer;
    http::read(socket, buffer, seen);
    http::response<http::string_body> res(http::status::ok, 11);
    res.set(http::field::content_type, "application/json");
    res.set("Keep-Alive", "timeout=5");
    res.set("X-Upstream", "yes");
    res.body() = "{}";
    res.prepare_payload();
    http::write(socket, res);
  });
  running_server proxy(proxying(acceptor.local_endpoint().port()));
  test_client c(proxy.port());
  const auto r = c.get("/v1/items", {{"Connection", "keep-alive, X-Hop"}, {"X-Hop", "1"}, {"Keep-Alive", "timeout=9"},
                                     {"Authorization", "Bearer t"}, {"X-Request-Id", "req-1"}});
  upstream.join();
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(header(r.res, "X-Upstream"), "yes");
  EXPECT_EQ(header(r.res, "Keep-Alive"), "<absent>");
  EXPECT_EQ(seen.target(), "/v1/items");
  EXPECT_EQ(seen[http::field::host], "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
  EXPECT_EQ(seen["Authorization"], "Bearer t");
  EXPECT_EQ(seen["X-Request-Id"], "req-1");
  EXPECT_EQ(seen.count("X-Hop"), 0u);
  EXPECT_EQ(seen.count("Keep-Alive"), 0u);
  EXPECT_EQ(proxy.srv().records().at(0).request_id, "req-1");
}

}  // namespace
}  // namespace planproof::mocks
