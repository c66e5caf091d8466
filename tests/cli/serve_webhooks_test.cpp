// End to end: `planproof serve --deliver-to` as a real child process playing the webhook provider
// against a small receiver on loopback in this test, which checks every signature the way a real
// receiver must (core::verify_webhook, constant time) and answers as each case needs.
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

#include "core/webhook_signature.hpp"
#include "mocks/test_client.hpp"
#include "support/child_process.hpp"
#include "support/output.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string fixture = ::planproof::test::source_dir() + "/tests/cli/data/serve-webhooks.plan.yaml";
constexpr auto deadline = 20s;
constexpr std::string_view secret_variable = "PLANPROOF_SERVE_TEST_WHSEC";

const core::webhook_signature_params params{.signature_header = "Acme-Signature", .tolerance = 5min};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One delivery as the receiver got it.
struct received {
  std::string target;
  std::string event_id;
  int attempt = 0;  // Acme-Delivery-Attempt
  std::string body;
  std::vector<core::header_field> headers;
  unsigned answered = 0;
};

// A webhook receiver on 127.0.0.1:0: keeps every request and answers what `answer` says.
class receiver {
 public:
  using policy = std::function<unsigned(const received&)>;

  explicit receiver(policy answer = [](const received&) { return 200u; })
      : answer_(std::move(answer)), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~receiver() {
    io_.stop();
    thread_.join();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // Waits for at least n deliveries, up to the deadline; what arrived either way.
  std::vector<received> wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, deadline, [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, serve(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }

  asio::awaitable<void> serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    stream.expires_after(10s);
    auto [ec, n] = co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    received r;
    r.target = std::string(req.target());
    r.body = req.body();
    for (const auto& f : req) r.headers.push_back({std::string(f.name_string()), std::string(f.value())});
    boost::system::error_code jec;
    const auto v = boost::json::parse(r.body, jec);
    if (!jec && v.is_object() && v.as_object().contains("id")) r.event_id = std::string(v.at("id").as_string());
    r.attempt = std::atoi(std::string(req["Acme-Delivery-Attempt"]).c_str());
    r.answered = answer_(r);
    http::response<http::string_body> res{static_cast<http::status>(r.answered), 11};
    res.keep_alive(false);
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    {
      std::lock_guard lock(mutex_);
      got_.push_back(std::move(r));
    }
    changed_.notify_all();
  }

  policy answer_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<received> got_;
};

core::verify_result verify(const received& r, std::string_view secret) {
  return core::verify_webhook(params, secret, r.headers, r.body, unix_now());
}

struct reply {
  unsigned status = 0;
  std::string body;
};

reply call(unsigned short port, http::verb method, std::string_view target) {
  mocks::testing::test_client client(port);
  http::request<http::string_body> req(method, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (client.send(std::move(req))) return {};
  auto res = client.read();
  if (res.ec) return {};
  return {res.res.result_int(), res.res.body()};
}

class serve_webhooks : public ::testing::Test {
 protected:
  testing::AssertionResult start(std::vector<std::string> args, std::optional<std::string> secret = std::nullopt) {
    test::child_process::options opt;
    opt.cwd = dir_.path().string();
    if (secret) opt.set_env.emplace_back(secret_variable, *secret);
    else opt.unset_env.emplace_back(secret_variable);
    args.insert(args.begin(), {"serve", fixture});
    child_ = std::make_unique<test::child_process>(test::planproof_executable(), args, opt);
    if (!child_->started()) return testing::AssertionFailure() << child_->error();
    const auto mock = child_->read_line(deadline);
    const auto admin = child_->read_line(deadline);
    if (!mock || !admin || !admin->starts_with("admin: http://127.0.0.1:")) {
      return testing::AssertionFailure() << "no address lines\n" << child_->output();
    }
    admin_ = static_cast<unsigned short>(std::stoul(admin->substr(std::string("admin: http://127.0.0.1:").size())));
    while (auto line = child_->read_line(deadline)) {
      banner_ += *line + "\n";
      if (line->starts_with("Stop with")) return testing::AssertionSuccess();
    }
    return testing::AssertionFailure() << "the banner did not end\n" << child_->output();
  }

  std::string printed_secret() const {
    const std::string marker = "with the test secret ";
    const auto at = banner_.find(marker);
    if (at == std::string::npos) return {};
    const auto from = at + marker.size();
    return banner_.substr(from, banner_.find('\n', from) - from);
  }

  std::string stop() {
    if (!child_->signal(SIGTERM)) return "cannot signal";
    const auto code = child_->wait(deadline);
    EXPECT_EQ(code, 0) << child_->output();
    return child_->output();
  }

  test::process_result planproof(const std::string& args) {
    return test::run_shell("cd '" + dir_.path().string() + "' && env -u PLANPROOF_SERVE_TEST_WHSEC " +
                           test::planproof_executable() + " serve '" + fixture + "' " + args + " 2>&1");
  }

  void TearDown() override { child_.reset(); }

  test::temp_dir dir_;
  std::unique_ptr<test::child_process> child_;
  unsigned short admin_ = 0;
  std::string banner_;
};

TEST_F(serve_webhooks, sends_signed_deliveries_the_receiver_verifies_with_the_printed_test_secret) {
  receiver r;
  const auto url = "http://127.0.0.1:" + std::to_string(r.port()) + "/hooks/";
  ASSERT_TRUE(start({"--deliver-to", url, "--deliver-count", "3", "--deliver-rate", "50/s", "--deliveries",
                     "deliveries.jsonl"}));
  EXPECT_NE(banner_.find("order_events: 3 events at 50/s to POST http://127.0.0.1:" + std::to_string(r.port()) +
                         "/hooks/webhooks/orders"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("PLANPROOF_SERVE_TEST_WHSEC is not set"), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("webhook faults enabled: none"), std::string::npos) << banner_;
  const auto secret = printed_secret();
  ASSERT_TRUE(secret.starts_with("pp_test_whsec_")) << banner_;

  const auto got = r.wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> ids;
  for (const auto& d : got) {
    EXPECT_EQ(d.target, "/hooks/webhooks/orders");
    EXPECT_EQ(verify(d, secret), core::verify_result::ok) << d.body;
    EXPECT_EQ(verify(d, "another secret"), core::verify_result::mismatch) << "the check can fail";
    EXPECT_EQ(d.attempt, 1);
    EXPECT_NE(d.body.find(R"("type":"order.paid")"), std::string::npos) << "the plan's example: " << d.body;
    ids.insert(d.event_id);
  }
  EXPECT_EQ(ids, (std::set<std::string>{"evt_000001", "evt_000002", "evt_000003"}));

  // The admin API lists them and counts them.
  const auto listed = call(admin_, http::verb::get, "/deliveries");
  ASSERT_EQ(listed.status, 200u);
  const auto lines = test::json_lines(listed.body);
  ASSERT_EQ(lines.size(), 3u) << listed.body;
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("endpoint").as_string(), "order_events");
    EXPECT_EQ(l.at("status").as_int64(), 200);
    EXPECT_EQ(l.at("outcome").as_string(), "delivered");
    EXPECT_EQ(l.at("attempt").as_int64(), 1);
    EXPECT_TRUE(l.at("faults").as_array().empty());
    EXPECT_TRUE(l.contains("latency_ms"));
  }
  const auto metrics = call(admin_, http::verb::get, "/metrics").body;
  EXPECT_NE(metrics.find("planproof_mock_webhook_deliveries_total{endpoint=\"order_events\",outcome=\"delivered\"} 3\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("planproof_mock_webhook_fault_enabled{index=\"1\",failure_mode=\"forged\",kind=\"bad_signature\"} 0\n"),
            std::string::npos)
      << metrics;

  const auto out = stop();
  EXPECT_NE(out.find("deliveries: 3 events, 3 attempts (3 delivered, 0 given up), 0 webhook faults injected"),
            std::string::npos)
      << out;
  EXPECT_EQ(test::json_lines(test::read_file(dir_ / "deliveries.jsonl")).size(), 3u);
}

TEST_F(serve_webhooks, injects_duplicates_and_bad_signatures_and_redelivers_what_is_not_2xx) {
  const std::string secret = "whsec_resolved_7c1e5a9b3d";
  std::mutex m;
  bool failed_once = false;
  // A receiver as it should be: 401 to a signature that does not verify, and, once, a 500 to a
  // genuine delivery of evt_000002, which the provider must deliver again.
  receiver r([&](const received& d) -> unsigned {
    if (verify(d, secret) != core::verify_result::ok) return 401;
    std::lock_guard lock(m);
    if (d.event_id == "evt_000002" && !failed_once) {
      failed_once = true;
      return 500;
    }
    return 200;
  });
  ASSERT_TRUE(start({"--deliver-to", "http://localhost:" + std::to_string(r.port()), "--deliver-count", "3",
                     "--deliver-rate", "20/s", "--time-scale", "0.05", "--fault", "duplicates", "--fault", "forged"},
                    secret));
  EXPECT_NE(banner_.find("signed hmac-sha256 in Acme-Signature with the secret of env:PLANPROOF_SERVE_TEST_WHSEC"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("[0] duplicates: duplicate_delivery"), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("[1] forged: bad_signature"), std::string::npos) << banner_;

  // 3 events x 2 copies, each copy first badly signed (401) then valid (200), and one more
  // attempt after the 500.
  const auto got = r.wait_for(13);
  ASSERT_EQ(got.size(), 13u);
  std::map<std::string, int> genuine, forged;
  int after_500 = 0;
  for (const auto& d : got) {
    const auto v = verify(d, secret);
    if (v == core::verify_result::ok) {
      ++genuine[d.event_id];
      EXPECT_GE(d.attempt, 2) << "the first attempt of every copy is forged";
      if (d.event_id == "evt_000002" && d.attempt == 3) ++after_500;
    } else {
      EXPECT_EQ(v, core::verify_result::mismatch);
      EXPECT_EQ(d.attempt, 1);
      ++forged[d.event_id];
    }
  }
  for (const auto* id : {"evt_000001", "evt_000002", "evt_000003"}) {
    EXPECT_EQ(forged[id], 2) << id;
    EXPECT_EQ(genuine[id], std::string_view(id) == "evt_000002" ? 3 : 2) << id << ": both copies, once more after the 500";
  }
  EXPECT_EQ(after_500, 1);

  const auto lines = test::json_lines(call(admin_, http::verb::get, "/deliveries").body);
  ASSERT_EQ(lines.size(), 13u);
  int bad = 0, copies = 0, retrying = 0;
  for (const auto& l : lines) {
    for (const auto& f : l.at("faults").as_array()) {
      bad += f.as_string() == "bad_signature";
      copies += f.as_string() == "duplicate_delivery";
    }
    retrying += l.at("outcome").as_string() == "retrying";
  }
  EXPECT_EQ(bad, 6);
  // The second copy of each event, every attempt of it: 6, or 7 when the 500 went to a second copy.
  EXPECT_GE(copies, 6);
  EXPECT_LE(copies, 7);
  EXPECT_EQ(retrying, 7) << "six 401s and one 500";
  const auto faults = boost::json::parse(call(admin_, http::verb::get, "/deliveries/faults").body).as_array();
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[0].at("injected").as_int64(), 3);
  EXPECT_EQ(faults[1].at("injected").as_int64(), 6);

  const auto out = stop();
  EXPECT_EQ(out.find(secret), std::string::npos) << "a resolved secret is never printed\n" << out;
  EXPECT_NE(out.find("9 webhook faults injected (bad_signature: 6, duplicate_delivery: 3)"), std::string::npos) << out;
}

TEST_F(serve_webhooks, the_admin_api_switches_webhook_faults_and_sends_more) {
  const std::string secret = "whsec_admin_test_5b8d2f";
  receiver r([&](const received& d) { return verify(d, secret) == core::verify_result::ok ? 200u : 401u; });
  ASSERT_TRUE(start({"--deliver-to", "http://127.0.0.1:" + std::to_string(r.port()), "--deliver-count", "1",
                     "--time-scale", "0.05"},
                    secret));
  auto got = r.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(verify(got[0], secret), core::verify_result::ok);

  auto mode = boost::json::parse(call(admin_, http::verb::post, "/failure-modes/forged/enable").body);
  EXPECT_TRUE(mode.at("enabled").as_bool()) << mode;
  EXPECT_EQ(mode.at("webhook_faults").as_array().size(), 1u) << mode;
  auto sent = call(admin_, http::verb::post, "/deliveries/send?count=2");
  ASSERT_EQ(sent.status, 202u) << sent.body;
  got = r.wait_for(5);  // two forged first attempts, two genuine redeliveries
  ASSERT_EQ(got.size(), 5u);
  std::set<std::string> forged_ids;
  for (std::size_t i = 1; i < got.size(); ++i) {
    if (verify(got[i], secret) != core::verify_result::ok) forged_ids.insert(got[i].event_id);
  }
  EXPECT_EQ(forged_ids, (std::set<std::string>{"evt_000002", "evt_000003"})) << "ids continue across batches";

  EXPECT_EQ(call(admin_, http::verb::post, "/deliveries/faults/1/disable").status, 200u);
  EXPECT_EQ(call(admin_, http::verb::post, "/deliveries/faults/7/disable").status, 404u);
  EXPECT_EQ(call(admin_, http::verb::post, "/deliveries/send?count=0").status, 400u);
  EXPECT_EQ(call(admin_, http::verb::post, "/deliveries/send?count=99999999").status, 400u);
  EXPECT_EQ(call(admin_, http::verb::post, "/deliveries/send").status, 400u);
  stop();
}

TEST_F(serve_webhooks, without_deliver_to_the_banner_says_how_and_deliveries_are_off) {
  ASSERT_TRUE(start({"--fault", "forged"}));
  EXPECT_NE(banner_.find("note: failure mode forged has only webhook faults, injected into deliveries (--deliver-to URL)"),
            std::string::npos)
      << banner_;
  EXPECT_NE(banner_.find("order_events: POST /webhooks/orders"), std::string::npos) << banner_;
  EXPECT_NE(banner_.find("--deliver-to http://127.0.0.1:PORT"), std::string::npos) << banner_;
  EXPECT_EQ(banner_.find("pp_test_whsec_"), std::string::npos) << "no secret without deliveries";
  EXPECT_EQ(banner_.find("not injected by this version: duplicates"), std::string::npos) << banner_;
  const auto r = call(admin_, http::verb::get, "/deliveries");
  EXPECT_EQ(r.status, 409u);
  EXPECT_NE(r.body.find("--deliver-to"), std::string::npos) << r.body;
  stop();
}

TEST_F(serve_webhooks, bad_delivery_options_exit_2_with_the_reason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--deliver-to nonsense", "--deliver-to: error: 'nonsense' is not an http:// URL"},
      {"--deliver-to https://127.0.0.1:9/x", "plain http:// only"},
      {"--deliver-to http://example.com:80/x", "has no IP address to deliver to"},
      {"--deliver-to http://127.0.0.1:0/x", "has no port from 1 to 65535"},
      {"--deliver-to http://127.0.0.1:99999", "has no port from 1 to 65535"},
      {"--deliver-to 'http://127.0.0.1:9/x?y=1'", "takes no query"},
      {"--deliver-to http://127.0.0.1:9 --deliver-count 0", "--deliver-count: error: '0' is not a number of events"},
      {"--deliver-to http://127.0.0.1:9 --deliver-count 99999999999", "from 1 to 1000000"},
      {"--deliver-to http://127.0.0.1:9 --deliver-count -3", "--deliver-count: error"},
      {"--deliver-to http://127.0.0.1:9 --deliver-rate 0/s", "--deliver-rate: error"},
      {"--deliver-to http://127.0.0.1:9 --deliver-rate fast", "--deliver-rate: error"},
      {"--deliver-to http://127.0.0.1:9 --deliveries no/such/dir/d.jsonl", "--deliveries: error"},
      {"--deliver-count 5", "add --deliver-to URL"},
  };
  for (const auto& [args, says] : cases) {
    const auto r = planproof(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find("mock: "), std::string::npos) << "nothing listens: " << args;
  }
}

}  // namespace
}  // namespace planproof
