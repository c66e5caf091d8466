// The admin API and the exposition formats on their own: the answers of admin_handler, Prometheus
// text and journal lines from hand-made snapshots, and the HTTP server's bounds on real sockets.
#include <future>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "core/logging.hpp"
#include "mocks/admin_api.hpp"
#include "mocks/exposition.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks::testing {
namespace {

admin_catalog catalog_for(const std::vector<plan::fault>& faults) {
  admin_catalog c;
  c.routes = default_routes();
  for (std::size_t i = 0; i < faults.size(); ++i) c.fault_failure_modes.push_back(i == 0 ? "outage" : "slow");
  c.failure_modes = {"outage", "slow", "nothing_injectable"};
  return c;
}

std::vector<plan::fault> two_modes() {
  auto latency = kind_fault("latency");
  latency.latency.value = 10ms;
  latency.endpoint = "items";
  return {status_fault(503), kind_fault("hang"), latency};
}

boost::json::value body_of(const admin_response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << r.body;
  return v;
}

TEST(admin_handler, answers_each_operation_from_the_server) {
  running_server mock({.faults = two_modes()});
  admin_handler h(mock.srv(), catalog_for(two_modes()));

  auto r = h.handle("GET", "/faults?verbose=1", "");
  ASSERT_EQ(r.status, 200u);
  const auto faults = body_of(r).as_array();
  ASSERT_EQ(faults.size(), 3u);
  EXPECT_EQ(faults[2], boost::json::parse(
                           R"({"index":2,"failure_mode":"slow","kind":"latency","endpoint":"items","enabled":true,"injected":0})"));

  r = h.handle("POST", "/failure-modes/slow/disable/", "");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_FALSE(body_of(r).at("enabled").as_bool());
  const auto states = mock.srv().faults();
  EXPECT_TRUE(states[0].enabled);
  EXPECT_FALSE(states[1].enabled);
  EXPECT_FALSE(states[2].enabled);

  r = h.handle("POST", "/faults/%31/enable", " { } ");  // %31 is "1"
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_TRUE(mock.srv().faults()[1].enabled);
  r = h.handle("GET", "/failure-modes/slow", "");
  EXPECT_FALSE(body_of(r).at("enabled").as_bool()) << "enabled only when every fault of it is";

  r = h.handle("GET", "/failure-modes/nothing_injectable", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_FALSE(body_of(r).at("enabled").as_bool());
  EXPECT_TRUE(body_of(r).at("faults").as_array().empty());

  // One request through the mock: the 503 of the first fault.
  test_client client(mock.port());
  EXPECT_EQ(client.get("/v1/items").res.result_int(), 503);
  ASSERT_TRUE(mock.srv().wait_for_answers(1, 10s));
  EXPECT_EQ(body_of(h.handle("GET", "/faults/0", "")).at("injected").as_int64(), 1);
  r = h.handle("GET", "/journal", "");
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  EXPECT_NE(r.body.find(R"("endpoint":"items","method":"GET","target":"/v1/items","status":503,"fault":"status")"),
            std::string::npos)
      << r.body;
  r = h.handle("GET", "/metrics", "");
  EXPECT_NE(r.body.find("planproof_mock_requests_total{endpoint=\"items\",status=\"503\"} 1\n"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("planproof_mock_failure_mode_faults_injected_total{failure_mode=\"outage\"} 1\n"),
            std::string::npos)
      << r.body;

  EXPECT_EQ(h.handle("POST", "/reset", "").status, 200u);
  EXPECT_TRUE(h.handle("GET", "/journal", "").body.empty());
  EXPECT_EQ(body_of(h.handle("GET", "/faults/0", "")).at("injected").as_int64(), 0);
}

TEST(admin_handler, refuses_what_it_cannot_do_and_changes_nothing) {
  running_server mock({.faults = two_modes()});
  admin_handler h(mock.srv(), catalog_for(two_modes()));
  struct bad {
    std::string_view method, target, body;
    unsigned status;
    std::string_view says;
  };
  for (const auto& b : {
           bad{"GET", "http://127.0.0.1/health", "", 400, "not a path starting with '/'"},
           bad{"GET", "", "", 400, "not a path"},
           bad{"HEAD", "/health", "", 405, "/health takes GET, not 'HEAD'"},
           bad{"PUT", "/faults/0/enable", "", 405, "takes POST"},
           bad{"POST", "/faults/1x/disable", "", 400, "'1x' is not a fault index"},
           bad{"POST", "/faults//disable", "", 400, "'' is not a fault index"},
           bad{"POST", "/faults/3/disable", "", 404, "no fault 3: faults are numbered 0 to 2"},
           bad{"POST", "/faults/0/disable", "{", 400, "not JSON"},
           bad{"POST", "/faults/0/disable", "\"off\"", 400, "must be a JSON object"},
           bad{"POST", "/failure-modes/%ZZ/disable", "", 400, "broken %-escape"},
           bad{"POST", "/failure-modes/%/disable", "", 400, "broken %-escape"},
           bad{"POST", "/failure-modes/out\x01/disable", "", 404, "no failure mode 'out?'"},
           bad{"GET", "/faults/0/1/2", "", 404, "no admin operation"},
       }) {
    const auto r = h.handle(b.method, b.target, b.body);
    EXPECT_EQ(r.status, b.status) << b.method << " " << b.target << ": " << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_NE(r.body.find(b.says), std::string::npos) << r.body;
    if (r.status == 405) {
      EXPECT_FALSE(r.allow.empty());
    }
  }
  for (const auto& f : mock.srv().faults()) EXPECT_TRUE(f.enabled);
}

TEST(exposition, label_values_are_escaped) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");

  metrics_snapshot s;
  request_record r;
  r.endpoint_id = "we\"ird\\id";
  r.status = 200;
  s.records = {r, r};
  s.faults = {{0, "status", std::nullopt, true, 4}};
  s.fault_failure_modes = {"mode\nwith newline"};
  const auto text = prometheus_text(s);
  EXPECT_NE(text.find("planproof_mock_requests_total{endpoint=\"we\\\"ird\\\\id\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("planproof_mock_failure_mode_faults_injected_total{failure_mode=\"mode\\nwith newline\"} 4\n"),
            std::string::npos)
      << text;
  // A kind that was loaded shows at 0 until it is injected.
  EXPECT_NE(text.find("planproof_mock_faults_injected_total{kind=\"status\"} 0\n"), std::string::npos) << text;
}

TEST(exposition, histogram_follows_the_server_totals) {
  metrics_snapshot s;
  s.totals.bucket_counts = {1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4};
  s.totals.answered = 5;  // one beyond the last bound
  s.totals.latency_sum = 12.5;
  s.open_connections = 2;
  s.unrecorded = 7;
  const auto text = prometheus_text(s);
  EXPECT_NE(text.find("# TYPE planproof_mock_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_bucket{le=\"2.5\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_bucket{le=\"10\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_bucket{le=\"+Inf\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_sum 12.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_request_duration_seconds_count 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_open_connections 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("planproof_mock_records_dropped_total 7\n"), std::string::npos) << text;
}

TEST(exposition, journal_lines_are_json_even_for_garbage_and_never_show_a_secret) {
  core::redactor::instance().add("sk_live_journal_secret");
  request_record r;
  r.at = 1500us;
  r.method = "GET";
  r.target = std::string("/v1/items?key=sk_live_journal_secret&x=\xff\xfe\xc3", 42);
  r.idempotency_key = "k\"1";
  r.outcome = fate::not_found;
  r.status = 404;
  r.latency = 250us;
  const auto line = journal_line(r);
  const auto two = journal_text({r, r});
  core::redactor::instance().clear();
  boost::system::error_code ec;
  const auto v = boost::json::parse(line, ec);
  ASSERT_FALSE(ec) << line;
  EXPECT_EQ(line.find("sk_live_journal_secret"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(v.at("at_ms").as_double(), 1.5);
  EXPECT_EQ(v.at("latency_ms").as_double(), 0.25);
  EXPECT_EQ(v.at("idempotency_key").as_string(), "k\"1");
  EXPECT_EQ(v.at("outcome").as_string(), "not_found");
  EXPECT_EQ(v.at("endpoint").as_string(), "");
  const std::string target(v.at("target").as_string());
  EXPECT_TRUE(target.ends_with("&x=\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD")) << target;
  EXPECT_EQ(two, line + "\n" + line + "\n");
}

// The admin API on a real socket, its io_context on its own thread.
class admin_server {
 public:
  explicit admin_server(server& mock, admin_options options = {})
      : api_(ioc_.get_executor(), mock, catalog_for(two_modes()), std::move(options)) {
    listen_error_ = api_.listen();
    thread_ = std::thread([this] {
      ioc_.run();
      returned_.set_value();
    });
  }
  ~admin_server() { EXPECT_TRUE(stop_and_join()); }

  // true when stop() left the io_context with no work, so run() returned by itself.
  bool stop_and_join() {
    if (!thread_.joinable()) return true;
    api_.stop();
    const bool returned = done_.wait_for(10s) == std::future_status::ready;
    if (!returned) ioc_.stop();
    thread_.join();
    return returned;
  }

  std::error_code listen_error() const { return listen_error_; }
  unsigned short port() const { return api_.port(); }
  admin_api& api() { return api_; }

 private:
  asio::io_context ioc_;
  admin_api api_;
  std::error_code listen_error_;
  std::promise<void> returned_;
  std::future<void> done_ = returned_.get_future();
  std::thread thread_;
};

TEST(admin_api, serves_http_and_stops_cleanly) {
  running_server mock({.faults = two_modes()});
  admin_server admin(mock.srv());
  ASSERT_FALSE(admin.listen_error()) << admin.listen_error().message();
  EXPECT_TRUE(admin.api().listen()) << "listening twice is an error";
  test_client client(admin.port());
  auto r = client.get("/health");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(header(r.res, "Content-Type"), "application/json");
  EXPECT_EQ(r.res.body(), "{\"status\":\"ok\"}\n");
  r = client.get("/faults/0/disable", {}, http::verb::post);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_FALSE(mock.srv().faults()[0].enabled);
  // A connection left open does not keep the API from stopping.
  EXPECT_TRUE(admin.stop_and_join());
  EXPECT_NE(client.wait_for_close(), asio::error::timed_out);
}

TEST(admin_api, a_slow_or_idle_client_is_cut_off_at_the_deadline) {
  running_server mock({});
  admin_options o;
  o.read_timeout = 200ms;
  admin_server admin(mock.srv(), o);
  test_client slow(admin.port());
  ASSERT_FALSE(slow.send_raw("GET /health HTTP/1.1\r\nHo"));
  EXPECT_NE(slow.wait_for_close(5s), asio::error::timed_out);
  test_client idle(admin.port());
  EXPECT_EQ(idle.get("/health").res.result_int(), 200);
  EXPECT_NE(idle.wait_for_close(5s), asio::error::timed_out) << "keep-alive ends at the deadline too";
}

TEST(admin_api, connections_beyond_the_limit_are_closed) {
  running_server mock({});
  admin_options o;
  o.max_connections = 1;
  admin_server admin(mock.srv(), o);
  test_client first(admin.port());
  EXPECT_EQ(first.get("/health").res.result_int(), 200);  // accepted and registered
  test_client second(admin.port());
  EXPECT_NE(second.wait_for_close(5s), asio::error::timed_out);
  EXPECT_EQ(first.get("/health").res.result_int(), 200);
}

TEST(admin_api, oversized_and_broken_requests_get_a_400_and_a_close) {
  running_server mock({});
  admin_server admin(mock.srv());
  for (const std::string& bytes : {
           std::string("POST /reset HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n") + std::string(100000, 'x'),
           std::string("GET /health HTTP/1.1\r\nX-Big: ") + std::string(10000, 'y') + "\r\n\r\n",
           std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n", 26),
           std::string("GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
       }) {
    test_client raw(admin.port());
    ASSERT_FALSE(raw.send_raw(bytes));
    const auto r = raw.read();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400);
    EXPECT_EQ(header(r.res, "Connection"), "close");
    boost::system::error_code ec;
    const auto v = boost::json::parse(r.res.body(), ec);
    EXPECT_FALSE(ec);
    EXPECT_TRUE(!ec && v.as_object().contains("error")) << r.res.body();
    EXPECT_NE(raw.wait_for_close(), asio::error::timed_out);
  }
  test_client after(admin.port());
  EXPECT_EQ(after.get("/health").res.result_int(), 200);
}

TEST(admin_api, listen_errors_come_back_as_values) {
  running_server mock({});
  asio::io_context ioc;
  admin_api bad_address(ioc.get_executor(), mock.srv(), {}, {.address = "not-an-address"});
  EXPECT_TRUE(bad_address.listen());
  admin_api first(ioc.get_executor(), mock.srv(), {});
  ASSERT_FALSE(first.listen());
  admin_api second(ioc.get_executor(), mock.srv(), {}, {.port = first.port()});
  EXPECT_EQ(second.listen(), std::errc::address_in_use);
}

}  // namespace
}  // namespace planproof::mocks::testing
