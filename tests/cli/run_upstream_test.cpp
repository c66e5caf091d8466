// End to end: `planproof run --upstream` against a real HTTP server (nginx, started by the test on
// loopback with a configuration of its own): the faults are injected in front of it, what it
// answers is relayed, the plan's real credential reaches it, and the verdicts follow the plan.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "mocks/test_client.hpp"
#include "payment_endpoint.hpp"
#include "support/child_process.hpp"
#include "support/output.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

constexpr std::string_view key_variable = "PLANPROOF_TEST_UPSTREAM_KEY";
constexpr std::string_view real_key = "sk_test_the_real_one_9f3a";

// Every 503 in the window [1s, 2s) is retried without jitter at +200ms, +600ms and +1.4s, so the
// fourth attempt of any request is past the window: with four attempts nothing can fail, with one
// (its weakened twin) some 30% of the window's twenty requests do.
const std::string upstream_plan = test::with_payment_endpoint(R"(planproof: 1
integration: {name: upstream-payments}
auth: {method: api_key, header: X-Api-Key, key: env:PLANPROOF_TEST_UPSTREAM_KEY}
)", R"(retry:
  max_attempts: 4
  backoff: {strategy: exponential, base: 200ms, max: 2s, jitter: none}
  retry_on: [503]
  timeouts: {connect: 1s, read: 2s, total: 5s}
  dead_letter: {path: dead.jsonl}
traffic: {endpoint: create, rate: 20/s, concurrency: 4, duration: 3s}
failure_modes:
  - id: upstream_503_burst
    inject: {fault: status, status: 503, probability: 0.3, during: [1s, 2s]}
    expect: {success_rate: ">= 0.99", max_attempts: "<= 4"}
  - id: duplicate_charges
    inject: {fault: reset, probability: 0.1}
    expect: {no_duplicate_effects: true}
)");

bool listening(unsigned short port) { return !mocks::testing::test_client(port).connect_error(); }

unsigned short free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::string nginx_program() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/nginx"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

// nginx in the foreground, one process, every path in a temp dir: POST /v1/payments answers 201
// with a JSON body when X-Api-Key carries the real key, 401 otherwise; each request is logged.
class nginx_upstream {
 public:
  explicit nginx_upstream(const test::temp_dir& dir) : dir_(dir.path() / "nginx") {
    std::filesystem::create_directories(dir_);
    const auto program = nginx_program();
    if (program.empty()) {
      error_ = "nginx is not installed (tools/bootstrap installs it)";
      return;
    }
    // The port is free when chosen, but another process may take it before nginx binds it: then
    // nginx says so and another one is tried.
    for (int tries = 0; tries < 5 && port_ == 0; ++tries) {
      const auto port = free_port();
      write_config(port);
      child_.emplace(program, std::vector<std::string>{"-p", dir_.string(), "-c", (dir_ / "nginx.conf").string(),
                                                       "-e", "/dev/stdout"});
      if (!child_->started()) {
        error_ = child_->error();
        return;
      }
      // The first notice comes once the listening socket is bound; an emerg line when it cannot be.
      while (const auto line = child_->read_line(10s)) {
        if (line->find("[emerg]") != std::string::npos) {
          error_ = *line;
          break;
        }
        if (line->find("[notice]") != std::string::npos) {
          port_ = port;
          error_.clear();
          break;
        }
      }
      if (port_ == 0) child_.reset();
    }
    if (port_ == 0 && error_.empty()) error_ = "nginx did not start within 10s";
  }

  ~nginx_upstream() { stop(); }

  // SIGTERM, then waits for it to exit, with a deadline; true when it has.
  bool stop() {
    if (!child_ || !child_->running()) return true;
    child_->signal(SIGTERM);
    return child_->wait(10s).has_value();
  }

  unsigned short port() const noexcept { return port_; }
  const std::string& error() const noexcept { return error_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string access_log() const { return test::read_file(dir_ / "access.log"); }

 private:
  void write_config(unsigned short port) {
    const auto d = dir_.string();
    std::ofstream conf(dir_ / "nginx.conf");
    conf << "daemon off;\nmaster_process off;\nworker_processes 1;\npid " << d << "/nginx.pid;\n"
         << "error_log /dev/stdout notice;\nevents { worker_connections 64; }\n"
         << "http {\n"
         << "  access_log " << d << "/access.log;\n"
         << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
         << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
         << "  scgi_temp_path " << d << "/scgi;\n"
         << "  server {\n    listen 127.0.0.1:" << port << ";\n"
         << "    location = /v1/payments {\n      default_type application/json;\n"
         << "      if ($http_x_api_key != \"" << real_key << "\") { return 401 '{\"error\":\"invalid_api_key\"}'; }\n"
         << "      return 201 '{\"id\":\"pay_1\"}';\n    }\n  }\n}\n";
  }

  std::filesystem::path dir_;
  std::optional<test::child_process> child_;
  unsigned short port_ = 0;
  std::string error_;
};

// Runs planproof inside `dir`, with the plan's key set to `key` (unset when empty).
test::process_result planproof(const test::temp_dir& dir, const std::string& args, std::string_view key = real_key) {
  const std::string env = key.empty() ? "env -u " + std::string(key_variable)
                                      : "env " + std::string(key_variable) + "=" + std::string(key);
  return test::run_shell("cd '" + dir.path().string() + "' && " + env + " " + test::planproof_executable() + " " +
                         args);
}

void write_plan(const test::temp_dir& dir) {
  std::ofstream plan(dir / "upstream.plan.yaml");
  plan << upstream_plan;
}

boost::json::object failure_mode(const boost::json::value& report, std::string_view id) {
  for (const auto& f : report.at("failure_modes").as_array()) {
    if (f.at("id").as_string() == id) return f.as_object();
  }
  ADD_FAILURE() << "no failure mode " << id;
  return {};
}

std::int64_t count_of(const boost::json::object& counts, std::string_view key) {
  const auto* v = counts.if_contains(key);
  return v == nullptr ? 0 : v->as_int64();
}

std::int64_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

TEST(cli_run_upstream, faults_in_front_of_a_real_server_hold_and_the_weakened_twin_breaks) {
  test::temp_dir dir;
  write_plan(dir);
  nginx_upstream nginx(dir);
  ASSERT_TRUE(nginx.error().empty()) << nginx.error();
  ASSERT_TRUE(listening(nginx.port()));

  const auto held = planproof(dir, "run upstream.plan.yaml --upstream " + nginx.url() +
                                       " --time-scale 0.25 --json report.json");
  // duplicate_charges needs the mock's count of side effects: skipped, never held, so exit 1.
  ASSERT_EQ(held.exit_code, 1) << held.output;
  EXPECT_NE(held.output.find("live against " + nginx.url()), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("note: upstream: the failure modes run against " + nginx.url()), std::string::npos)
      << held.output;
  EXPECT_NE(held.output.find("held     upstream_503_burst"), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("SKIPPED  duplicate_charges"), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("needs the embedded mock, not --upstream: expectation 'no_duplicate_effects'"),
            std::string::npos)
      << held.output;
  // The key is the plan's own, and nothing planproof printed or wrote shows it.
  EXPECT_EQ(held.output.find(real_key), std::string::npos) << held.output;

  const auto report_text = test::read_file(dir / "report.json");
  EXPECT_EQ(report_text.find(real_key), std::string::npos);
  const auto report = boost::json::parse(report_text);
  EXPECT_EQ(report.at("upstream").as_string(), nginx.url());
  EXPECT_FALSE(report.at("interrupted").as_bool());
  const auto burst = failure_mode(report, "upstream_503_burst");
  EXPECT_EQ(burst.at("verdict").as_string(), "held");
  const auto& metrics = burst.at("metrics").as_object();
  const auto& results = metrics.at("attempt_results").as_object();
  // The mock answered the 503s in nginx's place; every 201 is nginx's, and it was the real key
  // that got them (nginx answers 401 to any other).
  EXPECT_GT(count_of(metrics.at("faults_injected").as_object(), "status"), 0);
  EXPECT_EQ(count_of(results, "503"), count_of(metrics.at("faults_injected").as_object(), "status"));
  EXPECT_EQ(count_of(results, "201"), 60);
  EXPECT_EQ(count_of(results, "401"), 0);
  const auto after_held = nginx.access_log();
  EXPECT_EQ(lines(after_held), 60) << after_held;
  EXPECT_NE(after_held.find("\"POST /v1/payments HTTP/1.1\" 201"), std::string::npos) << after_held;
  EXPECT_EQ(after_held.find("\" 401 "), std::string::npos) << after_held;

  // One attempt: the 503s in the window reach the client's caller.
  const auto broken = planproof(dir, "run upstream.plan.yaml --upstream " + nginx.url() +
                                         " --time-scale 0.25 --only upstream_503_burst --set retry.max_attempts=1"
                                         " --json weak.json");
  ASSERT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("BROKEN   upstream_503_burst"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("FAIL success_rate: expected >= 0.99"), std::string::npos) << broken.output;
  const auto weak = failure_mode(boost::json::parse(test::read_file(dir / "weak.json")), "upstream_503_burst");
  const auto succeeded = weak.at("metrics").at("succeeded").as_int64();
  EXPECT_GT(weak.at("metrics").at("dead_lettered").as_int64(), 0);
  // nginx received exactly the requests no fault stopped.
  EXPECT_EQ(lines(nginx.access_log()) - lines(after_held), succeeded);

  const auto port = nginx.port();
  ASSERT_TRUE(nginx.stop()) << "nginx did not exit within 10s of SIGTERM";
  EXPECT_FALSE(listening(port));
}

// OAuth2 through the proxy: `planproof serve` stands in for the real system (its token endpoint
// issues tokens only for the client secret it was started with, and its API takes only those
// tokens), and run's client, with the plan's own secret, fetches its tokens from it through the
// mock; auth_expiry's 401 in front of it makes the client fetch a new one.
TEST(cli_run_upstream, oauth2_tokens_come_from_the_upstream_for_the_plans_own_secret) {
  test::temp_dir dir;
  const auto plan = test::source_dir() + "/scenarios/salesforce-sync.plan.yaml";
  const std::vector<std::pair<std::string, std::string>> secrets{{"SF_CLIENT_ID", "cid_upstream_test"},
                                                                 {"SF_CLIENT_SECRET", "csec_upstream_test"}};
  test::child_process real(test::planproof_executable(),
                           {"serve", plan, "--listen", "127.0.0.1:0", "--journal", (dir / "journal.jsonl").string()},
                           {.set_env = secrets});
  ASSERT_TRUE(real.started()) << real.error();
  const auto line = real.read_line(20s);
  ASSERT_TRUE(line.has_value()) << real.output();
  const auto port = test::port_of(*line, "mock: ");
  ASSERT_TRUE(port.has_value()) << *line;
  const auto url = "http://127.0.0.1:" + std::to_string(*port);
  const auto held = test::run_shell("cd '" + dir.path().string() +
                                    "' && env SF_CLIENT_ID=cid_upstream_test SF_CLIENT_SECRET=csec_upstream_test " +
                                    test::planproof_executable() + " run " + plan +
                                    " --only token_expired_mid_sync --time-scale 0.02 --upstream " + url);
  EXPECT_EQ(held.exit_code, 0) << held.output;
  EXPECT_NE(held.output.find("note: auth: OAuth2 tokens are fetched from " + url + "/services/oauth2/token"),
            std::string::npos)
      << held.output;
  EXPECT_NE(held.output.find("held     token_expired_mid_sync"), std::string::npos) << held.output;
  EXPECT_EQ(held.output.find("csec_"), std::string::npos) << held.output;

  ASSERT_TRUE(real.signal(SIGINT));
  ASSERT_TRUE(real.wait(20s).has_value()) << real.output();
  int issued = 0, api = 0;
  for (const auto& r : test::json_lines(test::read_file(dir / "journal.jsonl"))) {
    const bool token = r.at("endpoint").as_string() == "(token)";
    EXPECT_EQ(r.at("status").as_int64(), 200) << r;  // every credential it was sent was good
    (token ? issued : api) += 1;
  }
  EXPECT_GE(issued, 2) << "the first token and the one after the 401";
  EXPECT_GE(api, 200);
}

TEST(cli_run_upstream, an_unresolvable_credential_is_exit_2_naming_it_and_nothing_is_sent) {
  test::temp_dir dir;
  write_plan(dir);
  nginx_upstream nginx(dir);
  ASSERT_TRUE(nginx.error().empty()) << nginx.error();
  const auto r = planproof(dir, "run upstream.plan.yaml --upstream " + nginx.url() + " --time-scale 0.1", "");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("upstream.plan.yaml:3:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("environment variable PLANPROOF_TEST_UPSTREAM_KEY is not set"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("never a generated stand-in"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("pp_test_"), std::string::npos) << r.output;
  ASSERT_TRUE(nginx.stop());
  EXPECT_EQ(nginx.access_log(), "");
}

TEST(cli_run_upstream, an_unreachable_upstream_is_a_harness_error_for_every_failure_mode) {
  test::temp_dir dir;
  write_plan(dir);
  const auto port = free_port();  // nothing listens there
  const auto url = "http://127.0.0.1:" + std::to_string(port);
  const auto r = planproof(dir, "run upstream.plan.yaml --upstream " + url + " --time-scale 0.1 --json report.json");
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("ERROR    upstream_503_burst  the upstream cannot be reached: cannot connect to " + url +
                          ": Connection refused"),
            std::string::npos)
      << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  EXPECT_EQ(report.at("upstream").as_string(), url);
  // Said for each failure mode, and none is judged: nothing was sent.
  EXPECT_EQ(report.at("summary").at("error").as_int64(), 2);
  EXPECT_EQ(report.at("summary").at("requests").as_int64(), 0);
}

TEST(cli_run_upstream, bad_upstream_flags_are_usage_errors) {
  test::temp_dir dir;
  write_plan(dir);
  const auto scheme = planproof(dir, "run upstream.plan.yaml --upstream ftp://127.0.0.1:21");
  EXPECT_EQ(scheme.exit_code, 2) << scheme.output;
  EXPECT_NE(scheme.output.find("--upstream: error: 'ftp://127.0.0.1:21' must start with http:// or https://"),
            std::string::npos)
      << scheme.output;
  const auto ca_alone = planproof(dir, "run upstream.plan.yaml --upstream-ca ca.pem");
  EXPECT_EQ(ca_alone.exit_code, 2) << ca_alone.output;
  EXPECT_NE(ca_alone.output.find("--upstream-ca: error: applies only with --upstream"), std::string::npos)
      << ca_alone.output;
  const auto ca_http = planproof(dir, "run upstream.plan.yaml --upstream http://127.0.0.1:1 --upstream-ca ca.pem");
  EXPECT_EQ(ca_http.exit_code, 2) << ca_http.output;
  EXPECT_NE(ca_http.output.find("a CA file only applies to an https upstream"), std::string::npos) << ca_http.output;
  const auto insecure_http = planproof(dir, "run upstream.plan.yaml --upstream http://127.0.0.1:1 --insecure");
  EXPECT_EQ(insecure_http.exit_code, 2) << insecure_http.output;
  EXPECT_NE(insecure_http.output.find("--insecure: error: applies only with an https:// --upstream"), std::string::npos)
      << insecure_http.output;
}

}  // namespace
}  // namespace planproof
