// End to end: `planproof run` stopped by a signal in the middle of a failure mode. It stops within a
// deadline, counts and names the requests it cut, writes every report it was asked for (marked
// interrupted), exits 3, and leaves nothing listening; a second signal quits at once.
#include <gtest/gtest.h>

#include <array>
#include <csignal>
#include <fstream>
#include <list>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "mocks/test_client.hpp"
#include "payment_endpoint.hpp"
#include "support/child_process.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A minute of traffic at time scale 1: far longer than any test waits. Every request of `hung`
// hangs; `later`'s fault comes only at its end, so its requests go through to the upstream.
const std::string long_plan = test::with_payment_endpoint(R"(planproof: 1
integration: {name: long-run}
auth: {method: none}
)", R"(retry:
  max_attempts: 2
  backoff: {base: 1s, max: 2s}
  retry_on: [503, timeout]
  timeouts: {connect: 1s, read: 20s, total: 60s}
  dead_letter: {path: dead.jsonl}
traffic: {endpoint: create, rate: 20/s, concurrency: 8, duration: 60s}
failure_modes:
  - id: hung
    inject: {fault: hang, probability: 1}
    expect: {success_rate: ">= 0.99"}
  - id: later
    inject: {fault: status, status: 503, during: [50s, 60s]}
    expect: {success_rate: ">= 0.99"}
)");

bool listening(unsigned short port) { return !mocks::testing::test_client(port).connect_error(); }

// An upstream that reads requests and never answers: what is forwarded to it stays in flight, and
// the first request it reads says the run's traffic has started.
class silent_upstream {
 public:
  silent_upstream() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) { accept(); }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  // True once a request's first bytes have arrived; false at the deadline.
  bool wait_for_request(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!got_request_ && io_.run_one_until(until) > 0) {
    }
    return got_request_;
  }

 private:
  struct connection {
    explicit connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::array<char, 1024> buffer{};
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      auto& c = connections_.emplace_back(std::move(socket));
      read(c);
      accept();
    });
  }

  void read(connection& c) {
    c.socket.async_read_some(asio::buffer(c.buffer), [this, &c](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return;
      if (n > 0) got_request_ = true;
      read(c);
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::list<connection> connections_;  // held open, never answered
  bool got_request_ = false;
};

// planproof run in `dir`, its standard error merged into its output (the mock's address is a
// --verbose line there), as a child process of its own (exec: the signals go to planproof).
test::child_process start_run(const test::temp_dir& dir, const std::string& args) {
  {
    std::ofstream plan(dir / "long.plan.yaml");
    plan << long_plan;
  }
  return test::child_process(
      "/bin/sh", {"-c", "exec " + test::planproof_executable() + " run long.plan.yaml --verbose " + args + " 2>&1"},
      {.cwd = dir.path().string()});
}

// Reads lines until the mock of the first failure mode listens; its port, or 0 at the deadline.
unsigned short wait_for_mock(test::child_process& run) {
  const std::string marker = "mock upstream on http://127.0.0.1:";
  while (const auto line = run.read_line(20s)) {
    if (const auto at = line->find(marker); at != std::string::npos) {
      return static_cast<unsigned short>(std::stoul(line->substr(at + marker.size())));
    }
  }
  return 0;
}

// Sends `signal` and waits for the run to exit 3 with its mock (on `port`) gone. The plan would
// take minutes: a deadline of 20s says the signal stopped it.
void stop_with(test::child_process& run, int signal, unsigned short port) {
  ASSERT_TRUE(run.signal(signal));
  const auto code = run.wait(20s);
  ASSERT_TRUE(code.has_value()) << "still running 20s after signal " << signal << "\n" << run.output();
  EXPECT_EQ(*code, 3) << run.output();
  EXPECT_FALSE(listening(port));
}

boost::json::object read_report(const test::temp_dir& dir) {
  return boost::json::parse(test::read_file(dir / "report.json")).as_object();
}

// Through the proxy to an upstream that never answers: when the signal comes, requests are in
// flight for certain, and they are cut after their second of grace.
TEST(cli_run_interrupt, sigint_cuts_the_requests_in_flight_writes_the_reports_and_exits_3) {
  test::temp_dir dir;
  silent_upstream upstream;
  auto run =
      start_run(dir, "--only later --time-scale 1 --json report.json --md summary.md --upstream " + upstream.url());
  ASSERT_TRUE(run.started()) << run.error();
  const auto port = wait_for_mock(run);
  ASSERT_NE(port, 0) << run.output();
  ASSERT_TRUE(upstream.wait_for_request(20s)) << run.output();
  ASSERT_TRUE(listening(port));

  // Stopping takes the second of grace, then a second for the mock's forwards to the upstream that
  // does not answer.
  stop_with(run, SIGINT, port);
  if (HasFatalFailure()) return;

  const auto& out = run.out();
  EXPECT_NE(out.find("SIGINT: stopping the failure mode in progress"), std::string::npos) << out;
  EXPECT_NE(out.find("ERROR    later  interrupted: stopped "), std::string::npos) << out;
  EXPECT_NE(out.find("(INTERRUPTED before the end)"), std::string::npos) << out;

  const auto report = read_report(dir);
  EXPECT_TRUE(report.at("interrupted").as_bool());
  EXPECT_EQ(report.at("upstream").as_string(), upstream.url());
  const auto& modes = report.at("failure_modes").as_array();
  ASSERT_EQ(modes.size(), 1u);
  const auto& later = modes[0].as_object();
  EXPECT_EQ(later.at("verdict").as_string(), "error");
  const std::string reason(later.at("reason").as_string());
  EXPECT_TRUE(reason.starts_with("interrupted: stopped ")) << reason;
  // Nothing was answered, so every request sent was cut: each one counted, the first named.
  const auto sent = later.at("metrics").at("requests").as_int64();
  EXPECT_GT(sent, 0);
  EXPECT_EQ(later.at("metrics").at("succeeded").as_int64(), 0);
  EXPECT_EQ(later.at("metrics").at("lost").as_int64(), sent);
  EXPECT_NE(reason.find(std::to_string(sent) + " cut in flight (request"), std::string::npos) << reason;
  EXPECT_EQ(later.at("expectations").as_array().size(), 0u);  // nothing judged

  const auto md = test::read_file(dir / "summary.md");
  EXPECT_NE(md.find("> interrupted: the run was stopped before its end"), std::string::npos) << md;
  EXPECT_NE(md.find("| later | **ERROR** |"), std::string::npos) << md;
}

// Against the embedded mock, whatever the moment: the failure mode in progress is an error, the
// next one is not run, every request sent is accounted for, and the mock is gone.
TEST(cli_run_interrupt, sigterm_in_a_failure_mode_skips_the_rest_and_stops_the_mock) {
  test::temp_dir dir;
  auto run = start_run(dir, "--time-scale 1 --json report.json");
  ASSERT_TRUE(run.started()) << run.error();
  const auto port = wait_for_mock(run);
  ASSERT_NE(port, 0) << run.output();
  ASSERT_TRUE(listening(port));
  stop_with(run, SIGTERM, port);
  if (HasFatalFailure()) return;
  EXPECT_NE(run.out().find("SKIPPED  later  interrupted: not run"), std::string::npos) << run.output();

  const auto report = read_report(dir);
  EXPECT_TRUE(report.at("interrupted").as_bool());
  EXPECT_TRUE(report.at("upstream").is_null());
  const auto& modes = report.at("failure_modes").as_array();
  ASSERT_EQ(modes.size(), 2u);
  EXPECT_EQ(modes[0].at("verdict").as_string(), "error");
  EXPECT_TRUE(std::string(modes[0].at("reason").as_string()).starts_with("interrupted: ")) << modes[0];
  // Every request hangs: none ended, so each one sent was cut.
  EXPECT_EQ(modes[0].at("metrics").at("lost").as_int64(), modes[0].at("metrics").at("requests").as_int64());
  EXPECT_EQ(modes[1].at("verdict").as_string(), "skipped");
  EXPECT_EQ(modes[1].at("reason").as_string(), "interrupted: not run");
  EXPECT_EQ(report.at("summary").at("held").as_int64(), 0);
}

TEST(cli_run_interrupt, a_second_signal_quits_at_once_without_a_report) {
  test::temp_dir dir;
  silent_upstream upstream;
  auto run = start_run(dir, "--only later --time-scale 1 --json report.json --upstream " + upstream.url());
  ASSERT_TRUE(run.started()) << run.error();
  ASSERT_NE(wait_for_mock(run), 0) << run.output();
  ASSERT_TRUE(upstream.wait_for_request(20s)) << run.output();
  ASSERT_TRUE(run.signal(SIGTERM));
  // The first is being handled (the requests in flight have their second of grace) when the next comes.
  bool stopping = false;
  while (const auto line = run.read_line(20s)) {
    if (line->find("SIGTERM: stopping the failure mode in progress") != std::string::npos) {
      stopping = true;
      break;
    }
  }
  ASSERT_TRUE(stopping) << run.output();
  ASSERT_TRUE(run.signal(SIGINT));
  const auto code = run.wait(20s);
  ASSERT_TRUE(code.has_value()) << run.output();
  EXPECT_EQ(*code, 128 + SIGINT) << run.output();
  EXPECT_NE(run.out().find("a second signal (SIGINT): quitting at once, no report written"), std::string::npos)
      << run.output();
  EXPECT_FALSE(std::filesystem::exists(dir / "report.json"));
}

}  // namespace
}  // namespace planproof
