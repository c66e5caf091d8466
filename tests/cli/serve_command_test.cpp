// End to end: `planproof serve` as a real child process on loopback. Requests to the mock, every
// admin operation and error, the metrics and journal formats, shutdown by signal, bad usage.
#include <fstream>

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <regex>
#include <sstream>

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "core/jwt.hpp"
#include "core/request_signature.hpp"
#include "mocks/https_client.hpp"
#include "mocks/test_client.hpp"
#include "mocks/tls.hpp"
#include "support/child_process.hpp"
#include "support/output.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
using mocks::testing::test_client;

const std::string fixture = ::planproof::test::source_dir() + "/tests/cli/data/serve.plan.yaml";
const std::string tls_fixture = ::planproof::test::source_dir() + "/tests/cli/data/serve-tls.plan.yaml";
constexpr auto startup_deadline = 20s;
constexpr auto exit_deadline = 20s;
constexpr std::string_view key_variable = "PLANPROOF_SERVE_TEST_KEY";

struct reply {
  bool ok = false;  // an answer arrived
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string allow;
  std::string www_authenticate;
};

reply call(unsigned short port, http::verb method, std::string_view target, std::string body = {},
           std::vector<std::pair<std::string, std::string>> headers = {}) {
  test_client client(port);
  reply r;
  if (client.connect_error()) return r;
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = std::move(body);
  if (client.send(std::move(req))) return r;
  auto res = client.read();
  if (res.ec) return r;
  r.ok = true;
  r.status = res.res.result_int();
  r.body = res.res.body();
  r.content_type = std::string(res.res[http::field::content_type]);
  r.allow = std::string(res.res[http::field::allow]);
  r.www_authenticate = std::string(res.res[http::field::www_authenticate]);
  return r;
}

reply get(unsigned short port, std::string_view target) { return call(port, http::verb::get, target); }
reply post(unsigned short port, std::string_view target, std::string body = {}) {
  return call(port, http::verb::post, target, std::move(body));
}

boost::json::value json_of(const reply& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  EXPECT_FALSE(ec) << "not JSON: " << r.body;
  return v;
}

// Checks the text exposition format 0.0.4 line by line: comments are HELP or TYPE, every sample
// is `name{labels} value` with well-formed, escaped labels, and every family is typed before its
// samples. The samples come back keyed by `name{labels}` as written.
testing::AssertionResult parse_prometheus(const std::string& text, std::map<std::string, double>& samples) {
  static const std::regex help(R"re(# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*)re");
  static const std::regex type(R"re(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))re");
  static const std::regex sample(
      R"re(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*")*\})? ([-+]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|Inf|NaN)))re");
  if (text.empty() || text.back() != '\n') return testing::AssertionFailure() << "does not end in a newline";
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (line.starts_with("#")) {
      if (std::regex_match(line, m, type)) {
        if (!types.emplace(m[1], m[2]).second) return testing::AssertionFailure() << "typed twice: " << line;
      } else if (!std::regex_match(line, help)) {
        return testing::AssertionFailure() << "not a HELP or TYPE comment: " << line;
      }
      continue;
    }
    if (!std::regex_match(line, m, sample)) return testing::AssertionFailure() << "not a sample line: " << line;
    std::string family = m[1];
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (family.ends_with(suffix) && types.contains(family.substr(0, family.size() - suffix.size()))) {
        family.resize(family.size() - suffix.size());
      }
    }
    if (!types.contains(family)) return testing::AssertionFailure() << "sample before its TYPE: " << line;
    samples[std::string(m[1]) + std::string(m[2])] = std::stod(m[3]);
  }
  return testing::AssertionSuccess();
}

// The histogram's buckets in order of their bounds: cumulative, ending at +Inf == _count.
testing::AssertionResult histogram_is_cumulative(const std::string& text, std::string_view name) {
  const std::regex bucket(std::string(name) + R"re(_bucket\{le="([^"]+)"\} ([0-9.eE+]+))re");
  double last_bound = -1, last_count = -1, inf = -1, count = -1;
  std::istringstream in(text);
  std::string line;
  int buckets = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, bucket)) {
      ++buckets;
      const double value = std::stod(m[2]);
      if (value < last_count) return testing::AssertionFailure() << "bucket count goes down: " << line;
      last_count = value;
      if (m[1] == "+Inf") {
        inf = value;
        continue;
      }
      const double bound = std::stod(m[1]);
      if (inf >= 0 || bound <= last_bound) return testing::AssertionFailure() << "bucket out of order: " << line;
      last_bound = bound;
    } else if (line.starts_with(std::string(name) + "_count ")) {
      count = std::stod(line.substr(name.size() + 7));
    }
  }
  if (buckets < 2) return testing::AssertionFailure() << "no buckets";
  if (inf < 0 || inf != count) return testing::AssertionFailure() << "+Inf bucket " << inf << " is not _count " << count;
  return testing::AssertionSuccess();
}

std::vector<boost::json::object> journal_of(const std::string& text) {
  std::vector<boost::json::object> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    EXPECT_FALSE(ec) << "journal line is not JSON: " << line;
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    for (const char* field : {"at_ms", "endpoint", "method", "target", "status", "fault", "idempotency_key", "outcome",
                              "latency_ms"}) {
      EXPECT_TRUE(o.contains(field)) << field << " missing in " << line;
    }
    lines.push_back(o);
  }
  return lines;
}

// The checkers above must be able to fail, or the metrics tests below prove nothing.
TEST(serve_metrics_checker, rejects_what_is_not_the_format) {
  std::map<std::string, double> s;
  EXPECT_TRUE(parse_prometheus("# HELP a b\n# TYPE a counter\na{b=\"c\\\"d\"} 1\n", s));
  EXPECT_FALSE(parse_prometheus("a 1\n", s)) << "no TYPE";
  EXPECT_FALSE(parse_prometheus("# TYPE a counter\na{b=\"c} 1\n", s)) << "unterminated label";
  EXPECT_FALSE(parse_prometheus("# TYPE a counter\na{b=\"x\"y\"} 1\n", s)) << "unescaped quote";
  EXPECT_FALSE(parse_prometheus("# TYPE a counter\na one\n", s)) << "not a number";
  EXPECT_FALSE(parse_prometheus("# TYPE a counter\na 1", s)) << "no final newline";
  EXPECT_FALSE(parse_prometheus("# a comment\n", s)) << "neither HELP nor TYPE";
  EXPECT_TRUE(histogram_is_cumulative("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "h"));
  EXPECT_FALSE(histogram_is_cumulative("h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "h"));
  EXPECT_FALSE(histogram_is_cumulative("h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n", "h"));
  EXPECT_FALSE(histogram_is_cumulative("h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "h"));
}

class serve_command : public ::testing::Test {
 protected:
  // Starts `planproof serve ARGS` and reads the two address lines and the banner after them.
  // The plan's secret is unset unless `key` is given.
  testing::AssertionResult start(std::vector<std::string> args, std::optional<std::string> key = std::nullopt) {
    test::child_process::options opt;
    opt.cwd = dir_.path().string();
    if (key) opt.set_env.emplace_back(key_variable, *key);
    else opt.unset_env.emplace_back(key_variable);
    args.insert(args.begin(), "serve");
    child_ = std::make_unique<test::child_process>(test::planproof_executable(), args, opt);
    if (!child_->started()) return testing::AssertionFailure() << child_->error();
    const auto mock = child_->read_line(startup_deadline);
    const auto admin = child_->read_line(startup_deadline);
    if (!mock || !admin) return testing::AssertionFailure() << "no address lines\n" << child_->output();
    const auto mock_port = test::port_of(*mock, "mock: ");
    const auto admin_port = test::port_of(*admin, "admin: ");
    if (!mock_port || !admin_port) {
      return testing::AssertionFailure() << "bad address lines: '" << *mock << "', '" << *admin << "'";
    }
    mock_ = *mock_port;
    admin_ = *admin_port;
    mock_line_ = *mock;
    while (auto line = child_->read_line(startup_deadline)) {
      banner_ += *line + "\n";
      if (line->starts_with("Stop with")) return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "the banner did not end\n" << child_->output();
  }

  // The throwaway credential serve printed.
  std::string printed_key() const { return printed("the mock expects header X-Api-Key: "); }

  // The rest of the banner line after `marker`; empty when there is none.
  std::string printed(const std::string& marker) const {
    const auto at = banner_.find(marker);
    if (at == std::string::npos) return {};
    const auto from = at + marker.size();
    return banner_.substr(from, banner_.find('\n', from) - from);
  }

  // Runs planproof to completion for the usage errors.
  test::process_result planproof(const std::string& args) {
    return test::run_shell("cd '" + dir_.path().string() + "' && " + test::planproof_executable() + " " + args);
  }

  void TearDown() override { child_.reset(); }  // kills the child if a test left it running

  test::temp_dir dir_;
  std::unique_ptr<test::child_process> child_;
  unsigned short mock_ = 0, admin_ = 0;
  std::string mock_line_;
  std::string banner_;
};

TEST_F(serve_command, serves_the_plan_with_the_faults_asked_for) {
  ASSERT_TRUE(start({fixture, "--fault", "orders_down", "--journal", "journal.jsonl", "--seed", "3"}));
  EXPECT_NE(banner_.find("create_order: POST /v1/orders -> 201"), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("[0] orders_down: status 503 on create_order"), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("failure modes: orders_down, broken_list, throttled, redeliveries"), std::string::npos)
      << banner_;
  const auto key = printed_key();
  ASSERT_TRUE(key.starts_with("pp_test_")) << banner_;
  const std::vector<std::pair<std::string, std::string>> auth{{"X-Api-Key", key}};

  // The enabled failure mode shows; the others do not.
  auto created = call(mock_, http::verb::post, "/v1/orders", R"({"sku":"A-1","quantity":2})",
                      {{"X-Api-Key", key}, {"Idempotency-Key", "key-1"}});
  ASSERT_TRUE(created.ok);
  EXPECT_EQ(created.status, 503u) << created.body;
  auto listed = call(mock_, http::verb::get, "/v1/orders", {}, auth);
  EXPECT_EQ(listed.status, 200u);
  EXPECT_EQ(listed.body, R"({"data":[{"id":"ord_1"},{"id":"ord_2"}],"has_more":false})");
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders").status, 401u) << "no credential, no answer";
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders", {}, {{"X-Api-Key", "wrong"}}).status, 401u);

  // Turning faults on and off through the admin API changes the next request.
  auto faults = json_of(get(admin_, "/faults")).as_array();
  ASSERT_EQ(faults.size(), 4u);
  EXPECT_EQ(faults[0].at("failure_mode").as_string(), "orders_down");
  EXPECT_EQ(faults[0].at("kind").as_string(), "status");
  EXPECT_EQ(faults[0].at("endpoint").as_string(), "create_order");
  EXPECT_TRUE(faults[0].at("enabled").as_bool());
  EXPECT_EQ(faults[0].at("injected").as_int64(), 1);
  EXPECT_EQ(faults[1].at("failure_mode").as_string(), "broken_list");
  EXPECT_FALSE(faults[1].at("enabled").as_bool());
  EXPECT_EQ(faults[3].at("failure_mode").as_string(), "throttled");
  EXPECT_TRUE(faults[3].at("endpoint").is_null());

  auto mode = json_of(post(admin_, "/failure-modes/broken_list/enable"));
  EXPECT_TRUE(mode.at("enabled").as_bool());
  EXPECT_EQ(mode.at("faults").as_array().size(), 2u);
  listed = call(mock_, http::verb::get, "/v1/orders", {}, auth);
  EXPECT_EQ(listed.status, 200u);
  EXPECT_LT(listed.body.size(), std::string(R"({"data":[{"id":"ord_1"},{"id":"ord_2"}],"has_more":false})").size())
      << "truncated: " << listed.body;
  mode = json_of(post(admin_, "/failure-modes/broken_list/disable", "{}"));
  EXPECT_FALSE(mode.at("enabled").as_bool());

  auto fault = json_of(post(admin_, "/faults/0/disable"));
  EXPECT_EQ(fault.at("index").as_int64(), 0);
  EXPECT_FALSE(fault.at("enabled").as_bool());
  created = call(mock_, http::verb::post, "/v1/orders", R"({"sku":"A-1"})", auth);
  EXPECT_EQ(created.status, 201u) << created.body;
  fault = json_of(post(admin_, "/faults/3/enable"));
  EXPECT_TRUE(fault.at("enabled").as_bool());
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders", {}, auth).status, 429u);
  EXPECT_EQ(json_of(get(admin_, "/faults/3")).at("injected").as_int64(), 1);

  // Health, endpoints, failure modes.
  auto health = get(admin_, "/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.content_type, "application/json");
  EXPECT_EQ(json_of(health), boost::json::parse(R"({"status":"ok"})"));
  const auto endpoints = json_of(get(admin_, "/endpoints")).as_array();
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0], boost::json::parse(R"({"id":"create_order","method":"POST","path":"/v1/orders","status":201})"));
  const auto modes = json_of(get(admin_, "/failure-modes")).as_array();
  ASSERT_EQ(modes.size(), 4u);
  EXPECT_EQ(modes[3].at("failure_mode").as_string(), "redeliveries");
  EXPECT_FALSE(modes[3].at("enabled").as_bool()) << "nothing to inject is never enabled";

  // Metrics: well-formed exposition, and the numbers of what happened above.
  const auto metrics = get(admin_, "/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, double> samples;
  ASSERT_TRUE(parse_prometheus(metrics.body, samples)) << metrics.body;
  EXPECT_TRUE(histogram_is_cumulative(metrics.body, "planproof_mock_request_duration_seconds")) << metrics.body;
  EXPECT_EQ(samples[R"(planproof_mock_requests_total{endpoint="create_order",status="503"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_requests_total{endpoint="create_order",status="201"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_requests_total{endpoint="list_orders",status="401"})"], 2);
  EXPECT_EQ(samples[R"(planproof_mock_requests_total{endpoint="list_orders",status="429"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_faults_injected_total{kind="status"})"], 2);
  EXPECT_EQ(samples[R"(planproof_mock_faults_injected_total{kind="malformed"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_failure_mode_faults_injected_total{failure_mode="orders_down"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_failure_mode_faults_injected_total{failure_mode="broken_list"})"], 1);
  EXPECT_EQ(samples[R"(planproof_mock_fault_enabled{index="3",failure_mode="throttled",kind="status"})"], 1);
  EXPECT_EQ(samples["planproof_mock_request_duration_seconds_count"], 7);
  EXPECT_TRUE(samples.contains("planproof_mock_open_connections"));

  // The journal: one JSON line per request, in order, with the fault each got.
  const auto journal = get(admin_, "/journal");
  EXPECT_EQ(journal.status, 200u);
  EXPECT_EQ(journal.content_type, "application/x-ndjson");
  const auto lines = journal_of(journal.body);
  ASSERT_EQ(lines.size(), 7u) << journal.body;
  EXPECT_EQ(lines[0].at("endpoint").as_string(), "create_order");
  EXPECT_EQ(lines[0].at("method").as_string(), "POST");
  EXPECT_EQ(lines[0].at("target").as_string(), "/v1/orders");
  EXPECT_EQ(lines[0].at("status").as_int64(), 503);
  EXPECT_EQ(lines[0].at("fault").as_string(), "status");
  EXPECT_EQ(lines[0].at("idempotency_key").as_string(), "key-1");
  EXPECT_EQ(lines[0].at("outcome").as_string(), "fault_status");
  EXPECT_EQ(lines[2].at("outcome").as_string(), "unauthorized");
  EXPECT_EQ(lines[4].at("fault").as_string(), "malformed");
  EXPECT_LE(lines[0].at("at_ms").to_number<double>(), lines[6].at("at_ms").to_number<double>());

  // Reset forgets what happened, not how the faults are set.
  EXPECT_EQ(json_of(post(admin_, "/reset")), boost::json::parse(R"({"reset":true})"));
  EXPECT_TRUE(get(admin_, "/journal").body.empty());
  faults = json_of(get(admin_, "/faults")).as_array();
  EXPECT_EQ(faults[3].at("injected").as_int64(), 0);
  EXPECT_TRUE(faults[3].at("enabled").as_bool());
  samples.clear();
  ASSERT_TRUE(parse_prometheus(get(admin_, "/metrics").body, samples));
  EXPECT_EQ(samples["planproof_mock_request_duration_seconds_count"], 0);
  EXPECT_EQ(samples[R"(planproof_mock_faults_injected_total{kind="status"})"], 0);

  // One more request after the reset, then SIGTERM: a clean exit and the journal on disk.
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/orders", R"({"sku":"A-1"})", auth).status, 429u);
  ASSERT_TRUE(child_->signal(SIGTERM));
  const auto code = child_->wait(exit_deadline);
  ASSERT_TRUE(code.has_value()) << "still running after SIGTERM\n" << child_->output();
  EXPECT_EQ(*code, 0) << child_->output();
  EXPECT_NE(child_->out().find("stopped (SIGTERM); 1 request, 1 fault injected (status: 1)"), std::string::npos)
      << child_->output();
  const auto written = journal_of(test::read_file(dir_ / "journal.jsonl"));
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].at("status").as_int64(), 429);
  EXPECT_EQ(written[0].at("fault").as_string(), "status");
}

// With a token, every admin request must carry it; off loopback the API refuses to start without one.
TEST_F(serve_command, the_admin_api_takes_a_token_and_requires_one_off_loopback) {
  const auto off_loopback = planproof("serve '" + fixture + "' --admin 0.0.0.0:0");
  EXPECT_EQ(off_loopback.exit_code, 2) << off_loopback.output;
  EXPECT_NE(off_loopback.output.find("--admin: error: the admin API on 0.0.0.0 would let anyone who reaches it"),
            std::string::npos)
      << off_loopback.output;
  const auto inline_token = planproof("serve '" + fixture + "' --admin-token s3cr3t-admin-token");
  EXPECT_EQ(inline_token.exit_code, 2) << inline_token.output;
  EXPECT_NE(inline_token.output.find("expected env:NAME or file:PATH"), std::string::npos) << inline_token.output;

  const auto token_file = dir_.path() / "admin.token";
  {
    std::ofstream(token_file) << "adm_7f3c2a9e41\n";
  }
  std::filesystem::permissions(token_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_TRUE(start({fixture, "--admin-token", "file:" + token_file.string()}));
  const auto none = get(admin_, "/faults");
  EXPECT_EQ(none.status, 401u) << none.body;
  EXPECT_EQ(none.www_authenticate, "Bearer realm=\"planproof-admin\"");
  EXPECT_NE(none.body.find("Authorization: Bearer <token>"), std::string::npos) << none.body;
  EXPECT_EQ(none.body.find("adm_7f3c2a9e41"), std::string::npos) << "the answer never shows the token";
  EXPECT_EQ(call(admin_, http::verb::get, "/faults", {}, {{"Authorization", "Bearer adm_7f3c2a9e4"}}).status, 401u);
  EXPECT_EQ(call(admin_, http::verb::get, "/faults", {}, {{"Authorization", "Basic adm_7f3c2a9e41"}}).status, 401u);
  const auto ok = call(admin_, http::verb::get, "/faults", {}, {{"Authorization", "Bearer adm_7f3c2a9e41"}});
  EXPECT_EQ(ok.status, 200u) << ok.body;
  const auto lower = call(admin_, http::verb::post, "/reset", {}, {{"Authorization", "bearer adm_7f3c2a9e41"}});
  EXPECT_EQ(lower.status, 200u) << lower.body;
  EXPECT_EQ(child_->output().find("adm_7f3c2a9e41"), std::string::npos) << child_->output();
}

TEST_F(serve_command, admin_errors_say_what_is_wrong) {
  ASSERT_TRUE(start({fixture}));
  auto expect_error = [&](const reply& r, unsigned status, std::string_view says) {
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(r.content_type, "application/json");
    const auto v = json_of(r);
    ASSERT_TRUE(v.is_object() && v.as_object().contains("error")) << r.body;
    EXPECT_NE(std::string(v.at("error").as_string()).find(says), std::string::npos) << r.body;
  };
  expect_error(get(admin_, "/nope"), 404, "no admin operation at '/nope'");
  expect_error(get(admin_, "/faults/0/explode"), 404, "no admin operation");
  auto wrong_method = post(admin_, "/health");
  expect_error(wrong_method, 405, "/health takes GET");
  EXPECT_EQ(wrong_method.allow, "GET");
  wrong_method = get(admin_, "/reset");
  expect_error(wrong_method, 405, "/reset takes POST");
  EXPECT_EQ(wrong_method.allow, "POST");
  expect_error(call(admin_, http::verb::delete_, "/faults/0/enable"), 405, "takes POST");
  expect_error(post(admin_, "/faults/abc/enable"), 400, "'abc' is not a fault index: faults are numbered 0 to 3");
  expect_error(post(admin_, "/faults/-1/enable"), 400, "is not a fault index");
  expect_error(post(admin_, "/faults/99999999999999999999999/enable"), 404, "no fault");
  expect_error(post(admin_, "/faults/4/enable"), 404, "no fault 4: faults are numbered 0 to 3");
  expect_error(post(admin_, "/failure-modes/nope/enable"), 404,
               "no failure mode 'nope' in the plan (failure modes: orders_down, broken_list, throttled, redeliveries)");
  expect_error(post(admin_, "/faults/0/enable", "enable please"), 400, "the request body is not JSON");
  expect_error(post(admin_, "/faults/0/enable", "[1]"), 400, "must be a JSON object");
  expect_error(post(admin_, "/reset", std::string(64 * 1024, '{')), 400, "larger than the admin API accepts");
  expect_error(get(admin_, "/faults/%zz"), 400, "broken %-escape");
  EXPECT_FALSE(json_of(get(admin_, "/faults/0")).at("enabled").as_bool()) << "no error changed anything";

  // Garbage bytes get a 400 and a closed connection; the API keeps serving.
  {
    test_client raw(admin_);
    ASSERT_FALSE(raw.connect_error());
    ASSERT_FALSE(raw.send_raw(std::string("\x00\x01\xff garbage \r\n\r\n", 16)));
    const auto r = raw.read();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400);
    EXPECT_NE(r.res.body().find("not HTTP/1.1"), std::string::npos) << r.res.body();
    EXPECT_NE(raw.wait_for_close(), boost::asio::error::timed_out);
  }
  {
    test_client raw(admin_);
    ASSERT_FALSE(raw.send_raw("GET /" + std::string(20 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto r = raw.read();
    ASSERT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(r.res.result_int(), 400);
  }
  EXPECT_EQ(get(admin_, "/health").status, 200u);
  // Keep-alive: several requests on one connection.
  {
    test_client keep(admin_);
    EXPECT_EQ(keep.get("/health").res.result_int(), 200);
    EXPECT_EQ(keep.get("/faults/1").res.result_int(), 200);
    EXPECT_EQ(keep.get("/nope").res.result_int(), 404);
  }

  ASSERT_TRUE(child_->signal(SIGINT));
  const auto code = child_->wait(exit_deadline);
  ASSERT_TRUE(code.has_value()) << child_->output();
  EXPECT_EQ(*code, 0) << child_->output();
  EXPECT_NE(child_->out().find("stopped (SIGINT)"), std::string::npos) << child_->output();
}

TEST_F(serve_command, a_resolvable_secret_is_never_printed) {
  const std::string secret = "sk_test_serve_9f8e7d6c5b4a";
  ASSERT_TRUE(start({fixture, "--listen", ":0", "--admin", "0"}, secret));
  EXPECT_NE(banner_.find("the mock expects header X-Api-Key with the value of env:PLANPROOF_SERVE_TEST_KEY"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("faults enabled: none"), std::string::npos) << banner_;
  const auto r = call(mock_, http::verb::post, "/v1/orders?api_key=" + secret, "{}", {{"X-Api-Key", secret}});
  EXPECT_EQ(r.status, 201u) << r.body;
  const auto journal = get(admin_, "/journal").body;
  EXPECT_EQ(journal.find(secret), std::string::npos) << "the journal redacts what it recognises: " << journal;
  EXPECT_NE(journal.find("/v1/orders?api_key=[redacted]"), std::string::npos) << journal;
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  EXPECT_EQ(child_->output().find(secret), std::string::npos) << child_->output();
}

TEST_F(serve_command, plays_the_oauth2_token_endpoint) {
  const std::string plan = ::planproof::test::source_dir() + "/tests/cli/data/serve_oauth2.plan.yaml";
  ASSERT_TRUE(start({plan}));
  EXPECT_NE(banner_.find("OAuth2 client credentials: POST /oauth/token"), std::string::npos) << banner_;
  EXPECT_EQ(printed("    client_id: "), "crm-sync") << banner_;
  const auto secret = printed("    client_secret: ");
  ASSERT_TRUE(secret.starts_with("pp_test_")) << banner_;

  auto token_request = [&](const std::string& client_secret) {
    return call(mock_, http::verb::post, "/oauth/token",
                "grant_type=client_credentials&client_id=crm-sync&client_secret=" + client_secret,
                {{"Content-Type", "application/x-www-form-urlencoded"}});
  };
  const auto refused = token_request("wrong");
  EXPECT_EQ(refused.status, 401u) << refused.body;
  EXPECT_NE(refused.body.find("invalid_client"), std::string::npos) << refused.body;
  const auto issued = token_request(secret);
  ASSERT_EQ(issued.status, 200u) << issued.body;
  const auto token = json_of(issued);
  EXPECT_EQ(token.at("expires_in").as_int64(), 600);
  EXPECT_EQ(token.at("scope").as_string(), "contacts:read");
  const std::string bearer = "Bearer " + std::string(token.at("access_token").as_string());

  EXPECT_EQ(call(mock_, http::verb::get, "/v1/contacts").status, 401u) << "no token, no answer";
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/contacts", {}, {{"Authorization", bearer}}).status, 200u);
  // Revocation: the token that was hit is dead from then on, and a new one works.
  EXPECT_EQ(post(admin_, "/failure-modes/revoked/enable").status, 200u);
  auto revoked = call(mock_, http::verb::get, "/v1/contacts", {}, {{"Authorization", bearer}});
  EXPECT_EQ(revoked.status, 401u) << revoked.body;
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/contacts", {}, {{"Authorization", bearer}}).status, 401u);
  const auto fresh = json_of(token_request(secret));
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/contacts", {},
                 {{"Authorization", "Bearer " + std::string(fresh.at("access_token").as_string())}})
                .status,
            200u);
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
}

TEST_F(serve_command, verifies_hmac_request_signatures) {
  const std::string plan = ::planproof::test::source_dir() + "/tests/cli/data/serve_hmac.plan.yaml";
  const std::string key = "hmac-key-for-the-serve-test";
  ASSERT_TRUE(start({plan}, key));
  EXPECT_NE(banner_.find("requests must be signed: HMAC-SHA256 over method,path,timestamp,body, header X-Signature"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("key with the value of env:PLANPROOF_SERVE_TEST_KEY"), std::string::npos) << banner_;

  core::signature_scheme scheme;
  scheme.signature_header = "X-Signature";
  const std::string body = R"({"parcel":"p_1"})";
  auto signed_with = [&](const std::string& k) {
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    auto headers = core::sign_request(scheme, {.method = "POST", .target = "/v1/labels", .body = body}, k, now);
    headers.emplace_back("Content-Type", "application/json");
    return headers;
  };
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/labels", body, signed_with(key)).status, 201u);
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/labels", body, signed_with("another key")).status, 401u);
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/labels", body).status, 401u) << "unsigned";
  auto tampered = signed_with(key);
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/labels", R"({"parcel":"p_2"})", tampered).status, 401u);
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  EXPECT_EQ(child_->output().find(key), std::string::npos) << child_->output();
}

TEST_F(serve_command, verifies_jwts_signature_claims_and_lifetime) {
  const std::string plan = ::planproof::test::source_dir() + "/tests/cli/data/serve_jwt.plan.yaml";
  const std::string key = "jwt-hs256-key-for-the-serve-test-0123456789";
  ASSERT_TRUE(start({plan}, key));
  EXPECT_NE(banner_.find("requests must carry a JWT signed HS256, in Authorization: Bearer <token>; exp required, "
                         "exp - iat at most 2m; claims aud=https://ledger.example, iss=ledger-sync"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("signed with the key of env:PLANPROOF_SERVE_TEST_KEY"), std::string::npos) << banner_;

  const auto signing = core::jws_key::from_secret(core::jws_algorithm::HS256, key).key;
  ASSERT_TRUE(signing);
  const std::map<std::string, std::string, std::less<>> claims{{"iss", "ledger-sync"}, {"aud", "https://ledger.example"}};
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto bearer = [](const std::string& token) {
    return std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + token}};
  };
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/entries", {}, bearer(core::mint_jwt(*signing, claims, now, 60s, "a"))).status, 200u);
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/entries").status, 401u) << "no token";
  const auto other = core::jws_key::from_secret(core::jws_algorithm::HS256, std::string(40, 'x')).key;
  auto refused = call(mock_, http::verb::get, "/v1/entries", {}, bearer(core::mint_jwt(*other, claims, now, 60s, "b")));
  EXPECT_EQ(refused.status, 401u);
  EXPECT_NE(refused.www_authenticate.find("bad_signature"), std::string::npos) << refused.www_authenticate;
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/entries", {}, bearer(core::mint_jwt(*signing, claims, now - 2min, 60s, "c"))).status,
            401u) << "expired";
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/entries", {}, bearer(core::mint_jwt(*signing, claims, now, 10min, "d"))).status,
            401u) << "longer than the plan's lifetime";
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/entries", {}, bearer(core::mint_jwt(*signing, {{"iss", "ledger-sync"}}, now, 60s, "e"))).status,
            401u) << "no aud";
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  EXPECT_EQ(child_->output().find(key), std::string::npos) << child_->output();
}

TEST_F(serve_command, proxies_to_a_real_upstream_with_the_faults_in_front) {
  // The "real" upstream is another serve, without faults, holding the credential.
  const std::string key = "k_upstream_only";
  test::child_process::options opt;
  opt.cwd = dir_.path().string();
  opt.set_env.emplace_back(key_variable, key);
  test::child_process real(test::planproof_executable(), {"serve", fixture}, opt);
  ASSERT_TRUE(real.started()) << real.error();
  const auto real_line = real.read_line(startup_deadline);
  ASSERT_TRUE(real_line) << real.output();
  const auto real_port = test::port_of(*real_line, "mock: ");
  ASSERT_TRUE(real_port) << *real_line;

  const std::string upstream = "http://127.0.0.1:" + std::to_string(*real_port);
  ASSERT_TRUE(start({fixture, "--upstream", upstream, "--fault", "broken_list"}));
  EXPECT_NE(banner_.find("proxy: forwarding every request no fault answers to " + upstream), std::string::npos)
      << banner_;
  EXPECT_EQ(banner_.find("the mock expects header"), std::string::npos) << "the upstream checks credentials";
  const std::vector<std::pair<std::string, std::string>> auth{{"X-Api-Key", key}};
  const std::string full = R"({"data":[{"id":"ord_1"},{"id":"ord_2"}],"has_more":false})";

  auto listed = call(mock_, http::verb::get, "/v1/orders", {}, auth);
  EXPECT_EQ(listed.status, 200u);
  EXPECT_LT(listed.body.size(), full.size()) << "the upstream's answer, truncated: " << listed.body;
  EXPECT_EQ(post(admin_, "/failure-modes/broken_list/disable").status, 200u);
  listed = call(mock_, http::verb::get, "/v1/orders", {}, auth);
  EXPECT_EQ(listed.body, full);
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders").status, 401u) << "the upstream's own refusal, relayed";
  EXPECT_EQ(post(admin_, "/failure-modes/throttled/enable").status, 200u);
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders", {}, auth).status, 429u);

  const auto journal = journal_of(get(admin_, "/journal").body);
  ASSERT_EQ(journal.size(), 4u);
  EXPECT_EQ(journal[0].at("outcome").as_string(), "malformed");
  EXPECT_EQ(journal[1].at("outcome").as_string(), "proxied");
  EXPECT_EQ(journal[2].at("status").as_int64(), 401);
  EXPECT_EQ(journal[3].at("outcome").as_string(), "fault_status");
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  ASSERT_TRUE(real.signal(SIGTERM));
  ASSERT_EQ(real.wait(exit_deadline), 0) << real.output();
  EXPECT_NE(real.out().find("stopped (SIGTERM); 3 requests"), std::string::npos) << "the 429 never reached it\n"
                                                                                  << real.output();
}

TEST_F(serve_command, deliver_to_without_inbound_endpoints_says_nothing_is_delivered) {
  ASSERT_TRUE(start({fixture, "--deliver-to", "http://127.0.0.1:9"}));
  EXPECT_NE(banner_.find("note: --deliver-to: the plan has no inbound endpoint, so nothing is delivered"),
            std::string::npos)
      << banner_;
  EXPECT_EQ(get(admin_, "/deliveries").status, 409u);
  ASSERT_TRUE(child_->signal(SIGTERM));
  EXPECT_EQ(child_->wait(exit_deadline), 0) << child_->output();
}

TEST_F(serve_command, a_busy_port_is_a_harness_error) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor busy(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(busy.local_endpoint().port());
  auto r = planproof("serve " + fixture + " --listen 127.0.0.1:" + port + " 2>&1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot listen on http://127.0.0.1:" + port + " for the mock"), std::string::npos) << r.output;
  r = planproof("serve " + fixture + " --admin " + port + " 2>&1");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("for the admin API"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("mock: "), std::string::npos) << "no address line before both are bound";
}

// A throwaway PKI from the real tools/gen-certs, in the test's directory.
testing::AssertionResult make_pki(const std::filesystem::path& dir) {
  const auto r = test::run_shell(test::source_dir() + "/tools/gen-certs '" + dir.string() + "' 2>&1");
  if (r.exit_code != 0) return testing::AssertionFailure() << "tools/gen-certs: " << r.output;
  return testing::AssertionSuccess();
}

boost::asio::ssl::context client_context(const std::filesystem::path& pki, bool with_certificate) {
  auto r = mocks::make_client_context(mocks::client_config_for(mocks::pki_layout{pki}, "localhost", with_certificate));
  if (!r) {
    ADD_FAILURE() << r.error;
    return boost::asio::ssl::context(boost::asio::ssl::context::tls);
  }
  return std::move(*r.context);
}

TEST_F(serve_command, serves_https_with_the_handshake_faults_asked_for) {
  const auto pki = dir_ / "pki";
  ASSERT_TRUE(make_pki(pki));
  ASSERT_TRUE(start({tls_fixture, "--tls", pki.string(), "--fault", "expired_first", "--journal", "journal.jsonl"}));
  EXPECT_TRUE(mock_line_.starts_with("mock: https://127.0.0.1:")) << mock_line_;
  EXPECT_NE(banner_.find("clients must trust " + (pki / "ca.pem").string()), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("[0] expired_first: tls expired_certificate on new connections, first 1"), std::string::npos)
      << banner_;
  auto trusting = client_context(pki, false);
  // `first: 1` counts connections: the first handshake fails, the next connection is served.
  const auto failed = mocks::testing::https_call(mock_, trusting, 1, "/v1/orders");
  EXPECT_EQ(failed.failure, mocks::tls_failure::certificate_expired) << failed.description;
  const auto served = mocks::testing::https_call(mock_, trusting, 2, "/v1/orders");
  EXPECT_FALSE(served.error) << served.description;
  EXPECT_EQ(served.statuses, (std::vector<int>{200, 200}));
  // Plain HTTP on the HTTPS port is refused.
  EXPECT_FALSE(get(mock_, "/v1/orders").ok);
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  const auto journal = test::read_file(dir_ / "journal.jsonl");
  EXPECT_NE(journal.find(R"("fault":"tls")"), std::string::npos) << journal;
  EXPECT_NE(journal.find(R"("outcome":"tls_failed","latency_ms":0.000,"tls_error":"certificate expired)"),
            std::string::npos)
      << journal;
  EXPECT_NE(child_->output().find("1 fault injected (tls: 1)"), std::string::npos) << child_->output();
}

TEST_F(serve_command, mtls_requires_a_client_certificate) {
  const auto pki = dir_ / "pki";
  ASSERT_TRUE(make_pki(pki));
  ASSERT_TRUE(start({tls_fixture, "--tls", pki.string(), "--mtls"}));
  EXPECT_NE(banner_.find("mTLS: clients must present a certificate signed by " + (pki / "ca.pem").string() + ", e.g. " +
                         (pki / "client.pem").string() + " with " + (pki / "client.key").string()),
            std::string::npos)
      << banner_;
  auto anonymous = client_context(pki, false);
  const auto refused = mocks::testing::https_call(mock_, anonymous, 1, "/v1/orders");
  EXPECT_TRUE(refused.certificate_requested);
  EXPECT_EQ(refused.failure, mocks::tls_failure::certificate_required) << refused.description;
  auto identified = client_context(pki, true);
  const auto served = mocks::testing::https_call(mock_, identified, 1, "/v1/orders");
  EXPECT_EQ(served.statuses, std::vector<int>{200}) << served.description;
}

TEST_F(serve_command, tls_faults_are_not_injected_over_plain_http) {
  ASSERT_TRUE(start({tls_fixture, "--fault", "expired_first"}));
  EXPECT_TRUE(mock_line_.starts_with("mock: http://127.0.0.1:")) << mock_line_;
  EXPECT_NE(banner_.find("note: not injected: expired_first: tls expired_certificate (a handshake fault needs HTTPS: "
                         "serve with --tls DIR)"),
            std::string::npos)
      << banner_;
  EXPECT_EQ(get(mock_, "/v1/orders").status, 200u);
}

TEST_F(serve_command, bad_certificates_exit_2_naming_the_file) {
  const auto pki = dir_ / "pki";
  ASSERT_TRUE(make_pki(pki));
  std::filesystem::remove(pki / "server.key");
  auto r = planproof("serve " + tls_fixture + " --tls pki 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--tls: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("server.key"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No such file"), std::string::npos) << "OpenSSL's reason: " << r.output;
  EXPECT_EQ(r.output.find("mock: "), std::string::npos) << r.output;

  std::ofstream(pki / "server.key") << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  r = planproof("serve " + tls_fixture + " --tls pki 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("server.key"), std::string::npos) << r.output;

  r = planproof("serve " + tls_fixture + " --tls no-such-dir 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--tls: error: 'no-such-dir' is not a directory (write one with tools/gen-certs"),
            std::string::npos)
      << r.output;

  r = planproof("serve " + tls_fixture + " --mtls 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--mtls: error: needs --tls DIR"), std::string::npos) << r.output;
}

TEST_F(serve_command, bad_usage_exits_2_with_the_reason) {
  auto r = planproof("serve " + fixture + " --fault nope 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--fault: error: no failure mode 'nope' in the plan (failure modes: orders_down, "
                          "broken_list, throttled, redeliveries)"),
            std::string::npos)
      << r.output;

  for (const std::string listen : {"nonsense", "127.0.0.1:99999", "example.com:80", "127.0.0.1:", "1.2.3:80"}) {
    r = planproof("serve " + fixture + " --listen '" + listen + "' 2>&1");
    EXPECT_EQ(r.exit_code, 2) << listen << "\n" << r.output;
    EXPECT_NE(r.output.find("--listen: error: '" + listen + "'"), std::string::npos) << r.output;
  }
  r = planproof("serve " + fixture + " --admin 'x:1' 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--admin: error:"), std::string::npos) << r.output;

  for (const std::string upstream : {"ftp://x", "http://", "https://h:0", "http://u:p@h"}) {
    r = planproof("serve " + fixture + " --upstream '" + upstream + "' 2>&1");
    EXPECT_EQ(r.exit_code, 2) << upstream << "\n" << r.output;
    EXPECT_NE(r.output.find("--upstream: error: '" + upstream + "'"), std::string::npos) << r.output;
  }
  r = planproof("serve " + fixture + " --upstream https://127.0.0.1:1 --upstream-ca no-such-ca.pem 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no-such-ca.pem"), std::string::npos) << r.output;
  r = planproof("serve " + fixture + " --upstream-ca ca.pem 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--upstream-ca: error: applies only with --upstream"), std::string::npos) << r.output;
  r = planproof("serve " + fixture + " --insecure 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--insecure: error: applies only with an https:// --upstream"), std::string::npos) << r.output;
  r = planproof("serve " + fixture + " --upstream http://127.0.0.1:1 --upstream-timeout soon 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--upstream-timeout: error: 'soon'"), std::string::npos) << r.output;

  r = planproof("serve " + fixture + " --journal no/such/dir/journal.jsonl 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--journal: error:"), std::string::npos) << r.output;

  r = planproof("serve " + fixture + " --set retry.max_attempts=lots 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--set: error"), std::string::npos) << r.output;

  std::ofstream(dir_ / "broken.plan.yaml") << "planproof: 1\nintegration: {name: x}\nretry: {max_attempts: many}\n";
  r = planproof("serve broken.plan.yaml 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("broken.plan.yaml:3:"), std::string::npos) << r.output;

  r = planproof("serve 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

// `--limit`: the mock's caps on request headers, bodies and open connections are the flags' values,
// with the statuses a client can act on (413, 431) and the others kept serving.
TEST_F(serve_command, limit_sets_the_mocks_caps) {
  ASSERT_TRUE(start({fixture, "--limit", "request_body=1KiB", "--limit", "request_headers=2KiB", "--limit",
                     "connections=3"},
                    "sk_limits_test"));
  const std::vector<std::pair<std::string, std::string>> key{{"X-Api-Key", "sk_limits_test"}};
  const std::string small = R"({"sku":"A-1","quantity":2})";
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/orders", small, key).status, 201u);
  const std::string large = R"({"sku":")" + std::string(1100, 'A') + R"(","quantity":2})";
  EXPECT_EQ(call(mock_, http::verb::post, "/v1/orders", large, key).status, 413u);
  auto headers = key;
  headers.emplace_back("X-Fill", std::string(1500, 'x'));
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders", {}, headers).status, 200u);
  headers.back().second = std::string(3000, 'x');
  EXPECT_EQ(call(mock_, http::verb::get, "/v1/orders", {}, headers).status, 431u);

  // Three connections held open (each served once, so accepted and counted); a fourth is closed.
  std::vector<std::unique_ptr<test_client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<test_client>(mock_));
    ASSERT_EQ(held.back()->get("/v1/orders", {{"X-Api-Key", "sk_limits_test"}}).res.result_int(), 200);
  }
  test_client over(mock_);
  EXPECT_TRUE(over.get("/v1/orders", {{"X-Api-Key", "sk_limits_test"}}).ec) << "a fourth connection is served";
  // One closed: within a deadline, a new connection is served again.
  held.pop_back();
  bool served = false;
  for (const auto until = std::chrono::steady_clock::now() + 10s; !served && std::chrono::steady_clock::now() < until;) {
    served = call(mock_, http::verb::get, "/v1/orders", {}, key).status == 200;
  }
  EXPECT_TRUE(served) << "no connection served after one of the three closed";

  auto r = planproof("serve " + fixture + " --limit connections=lots 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--limit: error: connections: 'lots' is not a whole number such as 500"), std::string::npos)
      << r.output;
  r = planproof("serve " + fixture + " --limit bodies=1MiB 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--limit: error: unknown limit 'bodies'; the limits are plan_size,"), std::string::npos)
      << r.output;
}

// Proxying to an https upstream: its certificate is checked (a CA the proxy does not trust is a 502
// upstream_unreachable), unless --insecure says not to, loudly.
TEST_F(serve_command, an_https_upstream_is_checked_unless_insecure) {
  const auto pki = dir_ / "pki";
  ASSERT_TRUE(make_pki(pki));
  test::child_process::options opt;
  opt.cwd = dir_.path().string();
  test::child_process real(test::planproof_executable(), {"serve", tls_fixture, "--tls", pki.string()}, opt);
  ASSERT_TRUE(real.started()) << real.error();
  const auto real_line = real.read_line(startup_deadline);
  ASSERT_TRUE(real_line) << real.output();
  const auto real_port = test::port_of(*real_line, "mock: ");
  ASSERT_TRUE(real_port) << *real_line;
  const std::string upstream = "https://127.0.0.1:" + std::to_string(*real_port);

  ASSERT_TRUE(start({fixture, "--upstream", upstream, "--upstream-timeout", "5s"}));
  const auto refused = get(mock_, "/v1/orders");
  EXPECT_EQ(refused.status, 502u) << refused.body;
  EXPECT_NE(refused.body.find("upstream_unreachable"), std::string::npos) << refused.body;
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();

  ASSERT_TRUE(start({fixture, "--upstream", upstream, "--insecure"}));
  EXPECT_NE(child_->output().find("warning: --insecure: the certificate of " + upstream + " is NOT checked"),
            std::string::npos)
      << child_->output();
  const auto relayed = get(mock_, "/v1/orders");
  EXPECT_EQ(relayed.status, 200u) << relayed.body;
  EXPECT_NE(relayed.body.find("ord_1"), std::string::npos) << relayed.body;
  ASSERT_TRUE(child_->signal(SIGTERM));
  ASSERT_EQ(child_->wait(exit_deadline), 0) << child_->output();
  ASSERT_TRUE(real.signal(SIGTERM));
  ASSERT_TRUE(real.wait(exit_deadline));
}

}  // namespace
}  // namespace planproof
