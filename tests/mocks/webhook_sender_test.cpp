// The webhook sender against a real receiver on loopback: signatures as a receiver verifies them,
// each fault as a receiver sees it, provider redelivery, bounds and stopping. The fault planner and
// the plan mapping are tested without sockets first.
#include "mocks/webhook_sender.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "support/time_stretch.hpp"

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using steady = std::chrono::steady_clock;

constexpr std::int64_t fixed_unix = 1'700'000'000;
constexpr std::string_view test_secret = "whsec_test";
constexpr auto test_deadline = 10s;  // real time; every test finishes far sooner

// --- a receiver under test ---------------------------------------------------------------------------

struct received {
  std::string event_id;
  std::uint64_t sequence = 0;  // from the event id
  core::verify_result verdict = core::verify_result::missing;
  std::string attempt;  // the Delivery-Attempt header
  int answered = 0;     // 0: never answered
  steady::time_point at;
};

// Decides the status for a delivery; 0 = read it and never answer.
using answer_fn = std::function<int(const received&)>;

int accept_valid(const received& r) { return r.verdict == core::verify_result::ok ? 200 : 401; }

// A small HTTP receiver on 127.0.0.1:0 that verifies each delivery like an application would and
// records it. Its io_context runs on its own thread; the destructor stops it whatever is pending.
class test_receiver {
 public:
  test_receiver(core::webhook_signature_params params, answer_fn answer = accept_valid)
      : params_(std::move(params)), answer_(std::move(answer)), acceptor_(ioc_) {
    const tcp::endpoint at(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(at.protocol());
    acceptor_.bind(at);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~test_receiver() {
    ioc_.stop();
    thread_.join();
  }

  unsigned short port() const { return port_; }

  std::vector<received> got() const {
    std::lock_guard lock(mutex_);
    return got_;
  }

  bool wait_for(std::size_t count, std::chrono::milliseconds timeout = test_deadline) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return got_.size() >= count; });
  }

 private:
  static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    auto [ec, n] = co_await http::async_read(socket, buffer, req, use_tuple);
    if (ec) co_return;

    received r;
    r.at = steady::now();
    std::vector<core::header_field> headers;
    for (const auto& f : req) headers.push_back({std::string(f.name_string()), std::string(f.value())});
    r.verdict = core::verify_webhook(params_, test_secret, headers, req.body(), fixed_unix);
    if (const auto it = req.find("Delivery-Attempt"); it != req.end()) r.attempt = std::string(it->value());
    error_code jec;
    const auto body = json::parse(req.body(), jec);
    if (!jec && body.is_object()) {
      if (const auto* id = body.as_object().if_contains("id"); id && id->is_string()) {
        r.event_id = std::string(id->get_string());
        r.sequence = std::stoull(r.event_id.substr(4));
      }
    }
    r.answered = answer_(r);
    {
      std::lock_guard lock(mutex_);
      got_.push_back(r);
    }
    changed_.notify_all();

    if (r.answered == 0) {
      // Hold the connection until the sender gives up and closes it.
      char sink[512];
      for (;;) {
        auto [rec, m] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
        if (rec) co_return;
      }
    }
    http::response<http::string_body> res{static_cast<http::status>(r.answered), 11};
    res.set(http::field::connection, "close");
    res.set(http::field::content_type, "application/json");
    if (r.answered != 204) res.body() = "{}";  // a 204 carries no body
    res.prepare_payload();
    co_await http::async_write(socket, res, use_tuple);
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  const core::webhook_signature_params params_;
  const answer_fn answer_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<received> got_;
};

// --- the sender under test ---------------------------------------------------------------------------

plan::endpoint tracking_endpoint() {
  plan::endpoint e;
  e.id = "tracking_events";
  e.direction = plan::endpoint_direction::inbound;
  e.method = "POST";
  e.path = "/webhooks/tracking";
  plan::signature_config s;
  s.header = "Webhook-Signature";
  s.secret = core::secret_ref{core::secret_ref::source::env, "WEBHOOK_SECRET"};
  s.tolerance = 5min;
  e.signature = s;
  e.request_example = json::parse(R"({"id":"evt_example","type":"tracker.updated","data":{"status":"in_transit"}})");
  e.dedup_key = "id";
  return e;
}

webhook_sender_config base_config(unsigned short port) {
  webhook_sender_config c;
  c.target.port = port;
  c.target.attempt_header = "Delivery-Attempt";
  c.endpoint = tracking_endpoint();
  c.secret = std::string(test_secret);
  c.traffic = {.rate = 20, .duration = 1s, .max_in_flight = 4};
  c.retry = {.max_attempts = 3, .base = 1s, .multiplier = 2.0, .max = 1h};
  // Generous in plan time: at the scales below they are still a few hundred real milliseconds, so
  // a loaded machine does not turn a slow answer into a redelivery the test did not ask for.
  c.timeouts = {.connect = 30s, .read = 60s};
  c.unix_now = [] { return fixed_unix; };
  return c;
}

core::webhook_signature_params params_of(const webhook_sender_config& c) {
  return signature_params(*c.endpoint.signature);
}

// A sender on its own io_context thread, with a plan clock at `scale` (stretched under a sanitizer).
// Only the sender gives the io_context work, so run() returns once it is done or stopped: join()
// checks that.
class running_sender {
 public:
  running_sender(webhook_sender_config config, double scale, int threads = 1)
      : clock_(core::time_scale{test::stretched(scale)}),
        sender_(ioc_.get_executor(), clock_, clock_.now(), clock_.scale(), std::move(config)) {
    start_error_ = sender_.start();
    running_ = threads;
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        ioc_.run();
        if (--running_ == 0) returned_.set_value();
      });
    }
  }
  ~running_sender() { join(); }

  // Stops the sender; true when the io_context returned within the deadline.
  bool join(std::chrono::seconds deadline = 10s) {
    if (joined_) return true;
    sender_.stop();
    const bool ok = finished_.wait_for(deadline) == std::future_status::ready;
    if (!ok) ioc_.stop();  // fail, but never hang the test binary
    for (auto& t : threads_) t.join();
    joined_ = true;
    return ok;
  }

  webhook_sender& sender() { return sender_; }
  std::error_code start_error() const { return start_error_; }

 private:
  core::plan_clock clock_;
  asio::io_context ioc_;
  webhook_sender sender_;
  std::error_code start_error_;
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::promise<void> returned_;
  std::future<void> finished_ = returned_.get_future();
  bool joined_ = false;
};

std::vector<delivery_record> run_to_completion(webhook_sender_config config, double scale,
                                               webhook_sender_counters* counters = nullptr, int threads = 1) {
  running_sender s(std::move(config), scale, threads);
  EXPECT_FALSE(s.start_error()) << s.sender().start_error();
  EXPECT_TRUE(s.sender().wait_until_done(test_deadline));
  if (counters) *counters = s.sender().counters();
  auto records = s.sender().records();
  EXPECT_TRUE(s.join());
  return records;
}

plan::fault plan_fault(std::string kind, json::object params, double probability = 1.0) {
  plan::fault f;
  f.kind = std::move(kind);
  f.params = std::move(params);
  f.probability = probability;
  return f;
}

// --- mapping the plan's faults -----------------------------------------------------------------------

TEST(webhook_faults_from_plan, maps_the_shipping_plan_faults) {
  auto burst = plan_fault("burst", {{"rate", "200/s"}, {"count", 6000}});
  burst.endpoint = "tracking_events";
  auto other_endpoint = plan_fault("duplicate_delivery", {{"copies", 5}});
  other_endpoint.endpoint = "another_hook";
  const std::vector<plan::fault> faults{
      plan_fault("duplicate_delivery", {{"copies", 2}, {"delay", "30s"}}, 0.1),
      plan_fault("out_of_order", {{"window", "2m"}}, 0.2),
      plan_fault("bad_signature", {{"kind", "wrong_secret"}}, 0.02),
      plan_fault("bad_signature", {{"kind", "stale_timestamp"}, {"age", "10m"}}, 0.02),
      plan_fault("bad_signature", {{"kind", "missing"}}, 0.01),
      burst,
      other_endpoint,
      plan_fault("status", {}),  // the outbound mock's
  };
  const auto w = faults_from_plan(faults, "tracking_events");
  EXPECT_TRUE(w.errors.empty());
  ASSERT_EQ(w.duplicates.size(), 1u);
  EXPECT_EQ(w.duplicates[0].copies, 2);
  EXPECT_EQ(w.duplicates[0].delay, 30s);
  EXPECT_DOUBLE_EQ(w.duplicates[0].scope.probability, 0.1);
  ASSERT_EQ(w.out_of_order.size(), 1u);
  EXPECT_EQ(w.out_of_order[0].window, 2min);
  ASSERT_EQ(w.bad_signatures.size(), 3u);
  EXPECT_EQ(w.bad_signatures[0].kind, signature_kind::wrong_secret);
  EXPECT_EQ(w.bad_signatures[1].kind, signature_kind::stale_timestamp);
  EXPECT_EQ(w.bad_signatures[1].age, std::optional<core::duration>(10min));
  EXPECT_EQ(w.bad_signatures[2].kind, signature_kind::missing);
  ASSERT_EQ(w.bursts.size(), 1u);
  EXPECT_EQ(w.bursts[0].count, 6000u);
  EXPECT_DOUBLE_EQ(w.bursts[0].rate, 200.0);
  EXPECT_EQ(w.bursts[0].at, 0s);

  // Without an endpoint filter the other endpoint's duplicate fault is kept too.
  EXPECT_EQ(faults_from_plan(faults).duplicates.size(), 2u);
}

TEST(webhook_faults_from_plan, burst_starts_at_its_window_or_at) {
  auto windowed = plan_fault("burst", {{"count", 10}});
  windowed.during = {plan::time_window{20s, 40s}};
  const auto w = faults_from_plan({windowed, plan_fault("burst", {{"count", "3"}, {"at", "5s"}, {"rate", 50}})});
  ASSERT_TRUE(w.errors.empty());
  ASSERT_EQ(w.bursts.size(), 2u);
  EXPECT_EQ(w.bursts[0].at, 20s);
  EXPECT_EQ(w.bursts[0].rate, 0.0);
  EXPECT_EQ(w.bursts[1].at, 5s);
  EXPECT_EQ(w.bursts[1].count, 3u);
  EXPECT_DOUBLE_EQ(w.bursts[1].rate, 50.0);
}

TEST(webhook_faults_from_plan, reports_unusable_values_and_drops_the_fault) {
  const std::vector<plan::fault> faults{
      plan_fault("duplicate_delivery", {{"copies", 1}}),
      plan_fault("duplicate_delivery", {{"copies", "two"}}),
      plan_fault("duplicate_delivery", {{"copies", 2.5}}),
      plan_fault("duplicate_delivery", {{"delay", "soon"}}),
      plan_fault("duplicate_delivery", {{"delay", 30}}),
      plan_fault("duplicate_delivery", {{"copies", 2}, {"copise", 3}}),
      plan_fault("out_of_order", {{"window", "0s"}}),
      plan_fault("bad_signature", {{"kind", "forged"}}),
      plan_fault("bad_signature", {{"kind", 3}}),
      plan_fault("bad_signature", {{"kind", "missing"}, {"age", "10m"}}),
      plan_fault("burst", {{"rate", "200/s"}}),
      plan_fault("burst", {{"count", 0}}),
      plan_fault("burst", {{"count", 10}, {"rate", "fast"}}),
      plan_fault("burst", {{"count", 10}, {"rate", -1}}),
  };
  const auto w = faults_from_plan(faults);
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.errors.size(), faults.size());
  for (const auto& e : w.errors) EXPECT_NE(e.message.find("fault '"), std::string::npos) << e.message;
  // Zero is a duration without a unit; defaults fill what the plan leaves out.
  const auto ok = faults_from_plan({plan_fault("duplicate_delivery", {{"delay", 0}}), plan_fault("out_of_order", {})});
  EXPECT_TRUE(ok.errors.empty());
  ASSERT_EQ(ok.duplicates.size(), 1u);
  EXPECT_EQ(ok.duplicates[0].copies, 2);
  ASSERT_EQ(ok.out_of_order.size(), 1u);
  EXPECT_EQ(ok.out_of_order[0].window, 30s);
}

// --- pure pieces -------------------------------------------------------------------------------------

TEST(webhook_event, body_sets_the_dedup_key_path_and_creates_objects) {
  EXPECT_EQ(event_id(1), "evt_000001");
  EXPECT_EQ(event_id(1234567), "evt_1234567");
  const std::optional<json::value> example = json::parse(R"({"id":"x","data":{"a":1}})");
  EXPECT_EQ(event_body(example, "id", "evt_000001"), R"({"id":"evt_000001","data":{"a":1}})");
  EXPECT_EQ(event_body(example, "", "evt_000002"), R"({"id":"evt_000002","data":{"a":1}})");
  EXPECT_EQ(event_body(example, "data.event.id", "evt_3"), R"({"id":"x","data":{"a":1,"event":{"id":"evt_3"}}})");
  EXPECT_EQ(event_body(std::nullopt, "meta.id", "evt_4"), R"({"meta":{"id":"evt_4"}})");
  EXPECT_EQ(event_body(example, "data.a.id", "evt_5"), std::nullopt);  // through a number
  EXPECT_EQ(event_body(json::parse("[1]"), "id", "evt_6"), std::nullopt);
  EXPECT_EQ(event_body(example, "data..id", "evt_7"), std::nullopt);
}

TEST(webhook_event, each_signature_kind_is_judged_as_intended) {
  for (const auto& ts_header : {std::string(), std::string("Webhook-Timestamp")}) {
    core::webhook_signature_params p{.signature_header = "Webhook-Signature", .timestamp_header = ts_header};
    const std::string body = R"({"id":"evt_000001"})";
    auto judge = [&](signature_kind k) {
      const auto h = sign_delivery(p, test_secret, fixed_unix, body, k, 10min);
      return core::verify_webhook(p, test_secret, h, body, fixed_unix);
    };
    SCOPED_TRACE(ts_header);
    EXPECT_EQ(judge(signature_kind::valid), core::verify_result::ok);
    EXPECT_EQ(judge(signature_kind::wrong_secret), core::verify_result::mismatch);
    EXPECT_EQ(judge(signature_kind::stale_timestamp), core::verify_result::stale);
    EXPECT_EQ(judge(signature_kind::missing), core::verify_result::missing);
    EXPECT_EQ(judge(signature_kind::malformed), core::verify_result::malformed);
    EXPECT_TRUE(sign_delivery(p, test_secret, fixed_unix, body, signature_kind::none, 0s).empty());
  }
}

TEST(webhook_planner, same_seed_same_decisions_and_another_seed_differs) {
  webhook_faults f;
  f.duplicates.push_back({.scope = {.probability = 0.3}, .copies = 3, .delay = 1s});
  f.out_of_order.push_back({.scope = {.probability = 0.3}, .window = 10s});
  f.bad_signatures.push_back({.scope = {.probability = 0.2}, .kind = signature_kind::missing});
  f.bad_signatures.push_back({.scope = {.probability = 0.2}, .kind = signature_kind::stale_timestamp});
  f.bursts.push_back({.scope = {.probability = 0.5}, .at = 3s, .count = 20, .rate = 10});
  auto run = [&](std::uint64_t seed) {
    webhook_fault_planner p(f, seed);
    const auto s = p.schedule({.rate = 10, .duration = 10s});
    std::vector<event_decision> d;
    for (const auto& e : s.events) d.push_back(p.decide(e.at));
    return std::pair(s.events.size(), d);
  };
  const auto a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.second, c.second);
  int duplicated = 0, held = 0, bad = 0;
  for (const auto& d : a.second) {
    duplicated += d.copies > 1;
    held += d.hold > 0s;
    EXPECT_LE(d.hold, 10s);
    EXPECT_EQ(d.signatures.size(), static_cast<std::size_t>(d.copies));
    for (const auto k : d.signatures) bad += k != signature_kind::valid;
  }
  // Roughly the probabilities asked for (100 or 120 events): a broken draw would be far off.
  EXPECT_GT(duplicated, 10);
  EXPECT_LT(duplicated, 60);
  EXPECT_GT(held, 10);
  EXPECT_LT(held, 60);
  EXPECT_GT(bad, 20);
}

TEST(webhook_planner, windows_and_selectors_pick_events) {
  webhook_faults f;
  // Events 4, 6 and 8: after the first 2, every 2nd, the first 3 of those.
  f.duplicates.push_back({.scope = {.first = 3, .every = 2, .after = 2}, .copies = 2});
  // Only events created in [1s, 2s).
  f.out_of_order.push_back({.scope = {.during = {plan::time_window{1s, 2s}}}, .window = 1s});
  webhook_fault_planner p(f, 1);
  const auto s = p.schedule({.rate = 10, .duration = 3s});
  ASSERT_EQ(s.events.size(), 30u);
  std::vector<std::size_t> duplicated, held;
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto d = p.decide(s.events[i].at);
    if (d.copies > 1) duplicated.push_back(i + 1);
    if (d.hold > 0s) held.push_back(i + 1);
  }
  EXPECT_EQ(duplicated, (std::vector<std::size_t>{4, 6, 8}));
  ASSERT_EQ(held.size(), 10u);
  EXPECT_EQ(held.front(), 11u);
  EXPECT_EQ(held.back(), 20u);
}

TEST(webhook_planner, schedule_merges_bursts_and_bounds_the_total) {
  webhook_faults f;
  f.bursts.push_back({.at = 500ms, .count = 5, .rate = 100});
  f.bursts.push_back({.at = 2s, .count = 3});  // at once
  webhook_fault_planner p(f, 1);
  const auto s = p.schedule({.rate = 2, .duration = 1s});
  // Base at 0 and 0.5s, burst at 0.5 .. 0.54s: the base event first on the tie.
  ASSERT_EQ(s.events.size(), 10u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_EQ(s.events[0].at, 0s);
  EXPECT_FALSE(s.events[1].burst);
  EXPECT_EQ(s.events[1].at, 500ms);
  EXPECT_TRUE(s.events[2].burst);
  EXPECT_EQ(s.events[2].at, 500ms);
  EXPECT_EQ(s.events[6].at, 540ms);
  for (std::size_t i = 7; i < 10; ++i) EXPECT_EQ(s.events[i].at, 2s);

  webhook_fault_planner bounded(f, 1);
  const auto b = bounded.schedule({.rate = 1000, .duration = 1h, .max_events = 50});
  EXPECT_EQ(b.events.size(), 50u);
  EXPECT_EQ(b.dropped, 3'600'000u + 8u - 50u);
}

TEST(webhook_planner, a_disabled_fault_does_not_apply_but_still_takes_its_draw) {
  // Two bad_signature faults: the first that applies wins. With source 4 disabled, every event it
  // would not have picked gets exactly the decision it got with 4 enabled: 4's draws were taken.
  webhook_faults f;
  f.bad_signatures.push_back({.scope = {.probability = 0.5, .source = 4}, .kind = signature_kind::wrong_secret});
  f.bad_signatures.push_back({.scope = {.probability = 0.5, .source = 7}, .kind = signature_kind::missing});
  webhook_fault_planner all(f, 3), without_4(f, 3);
  const std::vector<std::size_t> disabled{4};
  int picked_by_4 = 0, compared = 0;
  for (int i = 0; i < 60; ++i) {
    const auto at = i * 100ms;
    const auto a = all.decide(at);
    const auto b = without_4.decide(at, disabled);
    EXPECT_NE(b.signatures.front(), signature_kind::wrong_secret) << i;
    EXPECT_EQ(std::count(b.applied.begin(), b.applied.end(), 4u), 0) << i;
    if (std::count(a.applied.begin(), a.applied.end(), 4u) != 0) {
      ++picked_by_4;
      continue;
    }
    ++compared;
    EXPECT_EQ(a, b) << i;
    EXPECT_EQ(std::count(b.applied.begin(), b.applied.end(), 7u), b.signatures.front() == signature_kind::missing ? 1 : 0);
  }
  EXPECT_GT(picked_by_4, 10);
  EXPECT_GT(compared, 10);
}

TEST(webhook_faults_from_plan, each_fault_names_its_place_in_the_list) {
  const auto f = faults_from_plan({plan_fault("status", {}), plan_fault("duplicate_delivery", {}),
                                   plan_fault("burst", {{"count", 2}}), plan_fault("bad_signature", {})});
  ASSERT_EQ(f.duplicates.size(), 1u);
  EXPECT_EQ(f.duplicates[0].scope.source, 1u);
  ASSERT_EQ(f.bursts.size(), 1u);
  EXPECT_EQ(f.bursts[0].scope.source, 2u);
  ASSERT_EQ(f.bad_signatures.size(), 1u);
  EXPECT_EQ(f.bad_signatures[0].scope.source, 3u);
}

// --- on the wire ---------------------------------------------------------------------------------------

// --- the sans-io core ---------------------------------------------------------------------------------

std::string_view header(const delivery_attempt& a, std::string_view name) {
  for (const auto& h : a.headers) {
    if (h.name == name) return h.value;
  }
  return {};
}

TEST(delivery_core, hands_out_due_attempts_up_to_the_in_flight_limit) {
  auto c = base_config(1);
  c.traffic = {.rate = 10, .duration = 1s, .max_in_flight = 2};  // events at 0, 100ms, ... 900ms
  delivery_core core(c);
  ASSERT_EQ(core.start(), "");
  EXPECT_EQ(core.next_due(), core::duration::zero());
  core.create_due(250ms, {});
  EXPECT_EQ(core.counters().events, 3u);
  auto first = core.take_due(250ms, fixed_unix);
  auto second = core.take_due(250ms, fixed_unix);
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(core.take_due(250ms, fixed_unix)) << "two in flight already";
  EXPECT_EQ(core.next_due(), 300ms) << "the next creation; no slot for the due delivery";
  EXPECT_EQ(first->sequence, 1u);
  EXPECT_EQ(second->sequence, 2u);
  EXPECT_EQ(header(*first, event_id_header), "evt_000001");
  EXPECT_EQ(header(*first, "Delivery-Attempt"), "1");
  EXPECT_EQ(first->method, "POST");
  EXPECT_EQ(first->target, "/webhooks/tracking");
  EXPECT_EQ(core::verify_webhook(params_of(c), test_secret, first->headers, first->body, fixed_unix),
            core::verify_result::ok);
  const auto& rec = core.finish(*first, 250ms, 260ms, 200, delivery_error::none);
  EXPECT_EQ(rec.outcome, delivery_outcome::delivered);
  EXPECT_EQ(rec.latency, 10ms);
  const auto third = core.take_due(260ms, fixed_unix);
  ASSERT_TRUE(third) << "a slot is free again";
  EXPECT_EQ(third->sequence, 3u);
  core.abandon();
  EXPECT_EQ(core.counters().in_flight, 1u);
  EXPECT_FALSE(core.finished());
}

TEST(delivery_core, a_refused_attempt_is_redelivered_after_the_backoff_signed_validly_until_given_up) {
  auto c = base_config(1);
  c.traffic = {.rate = 1, .duration = 500ms, .max_in_flight = 1};  // one event
  c.faults.bad_signatures.push_back({.kind = signature_kind::wrong_secret});
  c.retry = {.max_attempts = 3, .base = 1s, .multiplier = 2.0, .max = 1h};
  delivery_core core(c);
  ASSERT_EQ(core.start(), "");
  core.create_due(0s, {});
  auto a = core.take_due(0s, fixed_unix);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->signature, signature_kind::wrong_secret);
  EXPECT_EQ(core::verify_webhook(params_of(c), test_secret, a->headers, a->body, fixed_unix),
            core::verify_result::mismatch);
  EXPECT_EQ(core.finish(*a, 0s, 5ms, 401, delivery_error::none).outcome, delivery_outcome::retrying);
  EXPECT_EQ(core.next_due(), 1005ms) << "finished + base";
  EXPECT_FALSE(core.take_due(1s, fixed_unix));
  a = core.take_due(1005ms, fixed_unix + 1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->attempt, 2);
  EXPECT_EQ(header(*a, "Delivery-Attempt"), "2");
  EXPECT_EQ(core::verify_webhook(params_of(c), test_secret, a->headers, a->body, fixed_unix + 1),
            core::verify_result::ok);
  EXPECT_EQ(core.finish(*a, 1005ms, 1010ms, 0, delivery_error::read_timeout).outcome, delivery_outcome::retrying);
  EXPECT_EQ(core.next_due(), 3010ms) << "finished + base * multiplier";
  a = core.take_due(3010ms, fixed_unix + 3);
  ASSERT_TRUE(a);
  EXPECT_EQ(core.finish(*a, 3010ms, 3020ms, 500, delivery_error::none).outcome, delivery_outcome::gave_up);
  EXPECT_TRUE(core.finished());
  EXPECT_EQ(core.next_due(), std::nullopt);
  const auto& n = core.counters();
  EXPECT_EQ(n.attempts, 3u);
  EXPECT_EQ(n.redeliveries, 2u);
  EXPECT_EQ(n.bad_signatures, 1u);
  EXPECT_EQ(n.errors, 1u);
  EXPECT_EQ(n.given_up, 1u);
  ASSERT_EQ(core.records().size(), 3u);
  EXPECT_EQ(core.records()[1].error, delivery_error::read_timeout);
}

TEST(delivery_core, duplicates_and_holds_are_due_at_their_own_times) {
  auto c = base_config(1);
  c.traffic = {.rate = 1, .duration = 500ms, .max_in_flight = 8};
  c.faults.duplicates.push_back({.copies = 3, .delay = 2s});
  c.faults.out_of_order.push_back({.window = 5s});
  delivery_core core(c);
  ASSERT_EQ(core.start(), "");
  core.create_due(0s, {});
  const auto first = core.next_due();
  ASSERT_TRUE(first);
  EXPECT_GT(*first, 0s);
  EXPECT_LE(*first, 5s);
  std::vector<core::duration> due;
  for (auto t = *first; due.size() < 3; t += 1ms) {
    while (auto a = core.take_due(t, fixed_unix)) {
      EXPECT_EQ(header(*a, event_id_header), "evt_000001") << "every copy names the same event";
      due.push_back(t);
      core.finish(*a, t, t, 200, delivery_error::none);
    }
    ASSERT_LT(t, 20s);
  }
  EXPECT_EQ(due[1] - due[0], 2s);
  EXPECT_EQ(due[2] - due[1], 2s);
  EXPECT_TRUE(core.finished());
  EXPECT_EQ(core.counters().duplicated_events, 1u);
  EXPECT_EQ(core.counters().held_back_events, 1u);
}

TEST(delivery_core, refuses_a_configuration_the_sender_refuses) {
  auto c = base_config(0);
  delivery_core core(c);
  EXPECT_EQ(core.start(), "target.port: required");
}

TEST(webhook_sender, valid_signatures_verify_in_every_layout) {
  for (const auto& [digest, ts_header] : {std::pair{plan::signature_scheme::hmac_sha256, std::string()},
                                          std::pair{plan::signature_scheme::hmac_sha256, std::string("Webhook-Timestamp")},
                                          std::pair{plan::signature_scheme::hmac_sha512, std::string()}}) {
    auto config = base_config(0);
    config.endpoint.signature->scheme = digest;
    config.endpoint.signature->timestamp_header = ts_header;
    test_receiver receiver(params_of(config));
    config.target.port = receiver.port();
    webhook_sender_counters counters;
    const auto records = run_to_completion(config, 0.01, &counters);
    const auto got = receiver.got();
    ASSERT_EQ(got.size(), 20u);
    std::set<std::string> ids;
    for (const auto& r : got) {
      EXPECT_EQ(r.verdict, core::verify_result::ok) << to_string(r.verdict);
      EXPECT_EQ(r.attempt, "1");
      ids.insert(r.event_id);
    }
    EXPECT_EQ(ids.size(), 20u);
    EXPECT_TRUE(ids.contains("evt_000001"));
    EXPECT_TRUE(ids.contains("evt_000020"));
    EXPECT_EQ(counters.events, 20u);
    EXPECT_EQ(counters.attempts, 20u);
    EXPECT_EQ(counters.delivered, 20u);
    EXPECT_EQ(counters.bad_signatures, 0u);
    ASSERT_EQ(records.size(), 20u);
    for (const auto& r : records) {
      EXPECT_EQ(r.status, 200);
      EXPECT_EQ(r.signature, signature_kind::valid);
      EXPECT_EQ(r.outcome, delivery_outcome::delivered);
      EXPECT_EQ(r.event_id, event_id(r.sequence));
    }
  }
}

TEST(webhook_sender, each_bad_signature_kind_is_rejected_then_redelivered_valid) {
  for (const auto kind : {signature_kind::wrong_secret, signature_kind::stale_timestamp, signature_kind::missing,
                          signature_kind::malformed}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    auto config = base_config(0);
    config.endpoint.signature->timestamp_header = "Webhook-Timestamp";
    config.traffic = {.rate = 10, .duration = 500ms};
    config.retry = {.max_attempts = 2, .base = 100ms};
    config.faults.bad_signatures.push_back({.kind = kind, .age = 10min});
    test_receiver receiver(params_of(config));
    config.target.port = receiver.port();
    webhook_sender_counters counters;
    const auto records = run_to_completion(config, 0.01, &counters);

    const std::map<signature_kind, core::verify_result> expected{
        {signature_kind::wrong_secret, core::verify_result::mismatch},
        {signature_kind::stale_timestamp, core::verify_result::stale},
        {signature_kind::missing, core::verify_result::missing},
        {signature_kind::malformed, core::verify_result::malformed}};
    const auto got = receiver.got();
    ASSERT_EQ(got.size(), 10u);  // 5 events, each rejected once then accepted
    for (const auto& r : got) {
      if (r.attempt == "1") {
        EXPECT_EQ(r.verdict, expected.at(kind)) << to_string(r.verdict);
        EXPECT_EQ(r.answered, 401);
      } else {
        EXPECT_EQ(r.attempt, "2");
        EXPECT_EQ(r.verdict, core::verify_result::ok);
      }
    }
    EXPECT_EQ(counters.bad_signatures, 5u);
    EXPECT_EQ(counters.delivered, 5u);
    EXPECT_EQ(counters.redeliveries, 5u);
    for (const auto& r : records) {
      EXPECT_EQ(r.signature, r.attempt == 1 ? kind : signature_kind::valid);
      EXPECT_EQ(r.status, r.attempt == 1 ? 401 : 200);
    }
  }
}

TEST(webhook_sender, duplicates_arrive_the_configured_number_of_times) {
  auto config = base_config(0);
  config.traffic = {.rate = 10, .duration = 1s, .max_in_flight = 8};
  config.faults.duplicates.push_back({.copies = 3, .delay = 500ms});
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.01, &counters);

  std::map<std::string, int> arrivals;
  for (const auto& r : receiver.got()) {
    EXPECT_EQ(r.verdict, core::verify_result::ok);
    ++arrivals[r.event_id];
  }
  ASSERT_EQ(arrivals.size(), 10u);
  for (const auto& [id, n] : arrivals) EXPECT_EQ(n, 3) << id;
  EXPECT_EQ(counters.events, 10u);
  EXPECT_EQ(counters.copies, 30u);
  ASSERT_EQ(records.size(), 30u);
  std::map<std::uint64_t, std::set<int>> copies;
  for (const auto& r : records) {
    copies[r.sequence].insert(r.copy);
    EXPECT_EQ(r.duplicate, r.copy > 0);
    EXPECT_FALSE(r.redelivery);
    // Never before the event's creation plus the copy's delay.
    EXPECT_GE(r.sent_at, (static_cast<int>(r.sequence) - 1) * 100ms + r.copy * 500ms);
  }
  for (const auto& [seq, c] : copies) EXPECT_EQ(c, (std::set<int>{0, 1, 2})) << seq;
}

// With one delivery in flight, arrival order is dispatch order, so any inversion is the sender's.
std::vector<std::uint64_t> arrival_order(double probability, std::vector<delivery_record>* records = nullptr) {
  auto config = base_config(0);
  config.traffic = {.rate = 50, .duration = 1s, .max_in_flight = 1};
  config.faults.out_of_order.push_back({.scope = {.probability = probability}, .window = 500ms});
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  auto r = run_to_completion(config, 0.02);
  if (records) *records = r;
  std::vector<std::uint64_t> order;
  for (const auto& g : receiver.got()) order.push_back(g.sequence);
  return order;
}

TEST(webhook_sender, out_of_order_events_are_overtaken_by_later_ones) {
  const auto in_order = arrival_order(0.0);
  ASSERT_EQ(in_order.size(), 50u);
  EXPECT_TRUE(std::is_sorted(in_order.begin(), in_order.end()));

  std::vector<delivery_record> records;
  const auto order = arrival_order(0.3, &records);
  ASSERT_EQ(order.size(), 50u);
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  std::set<std::uint64_t> held;
  for (const auto& r : records) {
    if (r.held_back) held.insert(r.sequence);
  }
  EXPECT_GE(held.size(), 5u);
  EXPECT_LE(held.size(), 30u);
  // Every event that arrives after a later one was either held back itself, or overtook one.
  std::size_t overtaken = 0;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const bool late = std::any_of(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(i),
                                  [&](std::uint64_t s) { return s > order[i]; });
    if (late) {
      EXPECT_TRUE(held.contains(order[i])) << "event " << order[i] << " arrived late without being held";
      ++overtaken;
    }
  }
  // Holds are drawn in (0, 500ms] against 20ms between events: nearly every held event is overtaken.
  EXPECT_GE(overtaken * 2, held.size());
}

TEST(webhook_sender, failing_receiver_gets_redeliveries_with_growing_gaps_then_gives_up) {
  auto config = base_config(0);
  config.traffic = {.rate = 10, .duration = 200ms};  // 2 events
  config.retry = {.max_attempts = 4, .base = 1s, .multiplier = 2.0, .max = 1h};
  test_receiver receiver(params_of(config), [](const received&) { return 500; });
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.05, &counters);

  EXPECT_EQ(receiver.got().size(), 8u);
  EXPECT_EQ(counters.given_up, 2u);
  EXPECT_EQ(counters.delivered, 0u);
  EXPECT_EQ(counters.redeliveries, 6u);
  for (const std::uint64_t seq : {1u, 2u}) {
    std::vector<delivery_record> attempts;
    for (const auto& r : records) {
      if (r.sequence == seq) attempts.push_back(r);
    }
    ASSERT_EQ(attempts.size(), 4u);
    std::sort(attempts.begin(), attempts.end(), [](const auto& a, const auto& b) { return a.attempt < b.attempt; });
    core::duration previous_gap{};
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      EXPECT_EQ(attempts[i].attempt, static_cast<int>(i + 1));
      EXPECT_EQ(attempts[i].status, 500);
      EXPECT_EQ(attempts[i].redelivery, i > 0);
      EXPECT_EQ(attempts[i].outcome, i == 3 ? delivery_outcome::gave_up : delivery_outcome::retrying);
      if (i == 0) continue;
      // The wait after the answer is at least the backoff: 1s, 2s, 4s of plan time.
      const auto answered = attempts[i - 1].sent_at + attempts[i - 1].latency;
      EXPECT_GE(attempts[i].sent_at - answered, std::chrono::seconds(1 << (i - 1)));
      const auto gap = attempts[i].sent_at - attempts[i - 1].sent_at;
      EXPECT_GT(gap, previous_gap);
      previous_gap = gap;
    }
  }
}

TEST(webhook_sender, burst_adds_its_count_at_its_rate) {
  auto config = base_config(0);
  config.traffic = {.rate = 10, .duration = 1s, .max_in_flight = 16};
  config.faults.bursts.push_back({.at = 500ms, .count = 40, .rate = 100});
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.1, &counters);

  EXPECT_EQ(counters.events, 50u);
  EXPECT_EQ(receiver.got().size(), 50u);
  std::vector<delivery_record> burst;
  for (const auto& r : records) {
    if (r.burst) burst.push_back(r);
  }
  ASSERT_EQ(burst.size(), 40u);
  std::sort(burst.begin(), burst.end(), [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  // Paced, not all at once: the kth burst event is never sent before 500ms + k * 10ms...
  for (std::size_t k = 0; k < burst.size(); ++k) {
    EXPECT_GE(burst[k].sent_at, 500ms + static_cast<int>(k) * 10ms) << k;
  }
  // ...and not throttled to the base rate either (40 events at 10/s would take 3.9 s).
  const auto [first, last] = std::minmax_element(burst.begin(), burst.end(),
                                                 [](const auto& a, const auto& b) { return a.sent_at < b.sent_at; });
  EXPECT_LT(last->sent_at - first->sent_at, 3s);
}

TEST(webhook_sender, a_burst_disabled_before_it_comes_due_is_skipped_and_ids_continue) {
  auto config = base_config(0);
  config.traffic = {.rate = 10, .duration = 300ms, .max_in_flight = 16};
  config.faults.bursts.push_back({.scope = {.source = 5}, .at = 100ms, .count = 20, .rate = 1000});
  config.disabled_faults = {5};
  config.first_sequence = 41;
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.1, &counters);
  EXPECT_EQ(counters.events, 3u);
  EXPECT_EQ(counters.skipped_burst_events, 20u);
  EXPECT_EQ(counters.burst_events, 0u);
  EXPECT_TRUE(counters.injected.empty());
  ASSERT_EQ(records.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : records) {
    ids.insert(r.event_id);
    EXPECT_FALSE(r.burst);
  }
  EXPECT_EQ(ids, (std::set<std::string>{"evt_000041", "evt_000042", "evt_000043"})) << "no gap, from first_sequence";

  // The same burst enabled: its events go out and are counted as its doing.
  auto enabled = base_config(0);
  enabled.traffic = config.traffic;
  enabled.faults = config.faults;
  test_receiver again(params_of(enabled));
  enabled.target.port = again.port();
  const auto all = run_to_completion(enabled, 0.1, &counters);
  EXPECT_EQ(all.size(), 23u);
  EXPECT_EQ(counters.burst_events, 20u);
  EXPECT_EQ(counters.injected[5], 20u);
}

TEST(webhook_sender, totals_match_what_the_receiver_saw) {
  auto config = base_config(0);
  config.traffic = {.rate = 40, .duration = 1s, .max_in_flight = 6};
  config.retry = {.max_attempts = 3, .base = 200ms};
  config.faults.duplicates.push_back({.scope = {.probability = 0.2}, .copies = 2, .delay = 100ms});
  config.faults.out_of_order.push_back({.scope = {.probability = 0.2}, .window = 300ms});
  config.faults.bad_signatures.push_back({.scope = {.probability = 0.1}, .kind = signature_kind::wrong_secret});
  std::atomic<int> n{0};
  // Every 7th request fails whatever it carries, on top of the bad signatures.
  test_receiver receiver(params_of(config), [&n](const received& r) {
    if (++n % 7 == 0) return 503;
    return accept_valid(r);
  });
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.01, &counters);
  const auto got = receiver.got();

  EXPECT_EQ(counters.attempts, got.size());
  EXPECT_EQ(records.size(), got.size());
  const auto answered_2xx = std::count_if(got.begin(), got.end(), [](const auto& r) { return r.answered == 200; });
  EXPECT_EQ(counters.delivered, static_cast<std::uint64_t>(answered_2xx));
  EXPECT_EQ(counters.delivered + counters.given_up, counters.copies);
  const auto rejected = std::count_if(got.begin(), got.end(),
                                      [](const auto& r) { return r.verdict != core::verify_result::ok; });
  EXPECT_EQ(counters.bad_signatures, static_cast<std::uint64_t>(rejected));
  std::set<std::string> ids;
  for (const auto& r : got) ids.insert(r.event_id);
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(counters.errors, 0u);
  EXPECT_EQ(counters.in_flight, 0u);
}

TEST(webhook_sender, runs_the_same_on_a_multi_threaded_executor) {
  auto config = base_config(0);
  config.traffic = {.rate = 100, .duration = 1s, .max_in_flight = 16};
  config.faults.duplicates.push_back({.scope = {.probability = 0.5}, .copies = 2});
  std::atomic<int> n{0};
  test_receiver receiver(params_of(config), [&n](const received&) { return ++n % 5 == 0 ? 500 : 200; });
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.01, &counters, 4);
  EXPECT_EQ(counters.events, 100u);
  EXPECT_EQ(records.size(), receiver.got().size());
  EXPECT_EQ(counters.delivered + counters.given_up, counters.copies);
  EXPECT_GT(counters.redeliveries, 0u);
  EXPECT_EQ(counters.in_flight, 0u);
}

TEST(webhook_sender, plan_time_runs_at_the_time_scale) {
  auto config = base_config(0);
  config.traffic = {.rate = 5, .duration = 10s};
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  const auto started = steady::now();
  const auto records = run_to_completion(config, 0.01);
  const auto wall = steady::now() - started;
  ASSERT_EQ(records.size(), 50u);
  core::duration last{};
  for (const auto& r : records) last = std::max(last, r.sent_at);
  EXPECT_GE(last, 9800ms);  // the 50th event is created 9.8 s of plan time in
  EXPECT_GE(wall, 98ms);    // which is 98 ms of real time at 0.01
  EXPECT_LT(wall, 5s);      // and not 10 s
}

TEST(webhook_sender, receiver_that_never_answers_times_out_and_is_recorded) {
  auto config = base_config(0);
  config.traffic = {.rate = 10, .duration = 300ms};  // 3 events
  config.timeouts = {.connect = 1s, .read = 1s};
  config.retry = {.max_attempts = 2, .base = 500ms};
  test_receiver receiver(params_of(config), [](const received&) { return 0; });
  config.target.port = receiver.port();
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.01, &counters);
  EXPECT_TRUE(receiver.wait_for(6));  // it reads each request before the sender gives up on it
  ASSERT_EQ(records.size(), 6u);
  for (const auto& r : records) {
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.error, delivery_error::read_timeout) << to_string(r.error);
    EXPECT_GE(r.latency, 1s);
  }
  EXPECT_EQ(counters.given_up, 3u);
  EXPECT_EQ(counters.errors, 6u);
  EXPECT_EQ(receiver.got().size(), 6u);
}

TEST(webhook_sender, refused_connections_are_recorded_and_given_up) {
  unsigned short closed_port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = a.local_endpoint().port();
  }
  auto config = base_config(closed_port);
  config.traffic = {.rate = 10, .duration = 200ms};
  config.retry = {.max_attempts = 2, .base = 100ms};
  webhook_sender_counters counters;
  const auto records = run_to_completion(config, 0.01, &counters);
  ASSERT_EQ(records.size(), 4u);
  for (const auto& r : records) EXPECT_EQ(r.error, delivery_error::connection_refused) << to_string(r.error);
  EXPECT_EQ(counters.given_up, 2u);
}

TEST(webhook_sender, same_seed_same_fault_decisions_on_the_wire) {
  auto decisions = [](std::uint64_t seed) {
    auto config = base_config(0);
    config.seed = seed;
    config.traffic = {.rate = 40, .duration = 1s, .max_in_flight = 8};
    config.faults.duplicates.push_back({.scope = {.probability = 0.3}, .copies = 2, .delay = 50ms});
    config.faults.out_of_order.push_back({.scope = {.probability = 0.3}, .window = 200ms});
    config.faults.bad_signatures.push_back({.scope = {.probability = 0.2}, .kind = signature_kind::missing});
    config.faults.bad_signatures.push_back({.scope = {.probability = 0.2}, .kind = signature_kind::malformed});
    test_receiver receiver(params_of(config));
    config.target.port = receiver.port();
    // sequence -> (held back, copy -> first signature)
    std::map<std::uint64_t, std::pair<bool, std::map<int, signature_kind>>> out;
    for (const auto& r : run_to_completion(config, 0.01)) {
      auto& e = out[r.sequence];
      e.first = r.held_back;
      if (r.attempt == 1) e.second[r.copy] = r.signature;
    }
    return out;
  };
  const auto a = decisions(42);
  const auto b = decisions(42);
  const auto c = decisions(43);
  EXPECT_EQ(a.size(), 40u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(webhook_sender, stop_ends_a_long_run_promptly) {
  auto config = base_config(0);
  config.traffic = {.rate = 50, .duration = 1h};
  test_receiver receiver(params_of(config));
  config.target.port = receiver.port();
  running_sender s(config, 1.0);
  ASSERT_FALSE(s.start_error());
  ASSERT_TRUE(receiver.wait_for(3));
  s.sender().stop();
  EXPECT_FALSE(s.sender().wait_until_done(10s));  // returns at once: stopped, not done
  EXPECT_FALSE(s.sender().done());
  EXPECT_TRUE(s.join());
  const auto c = s.sender().counters();
  EXPECT_LT(c.events, 1000u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST(webhook_sender, start_rejects_unusable_configurations) {
  auto check = [](webhook_sender_config config, std::string_view says) {
    asio::io_context ioc;
    core::manual_clock clock;
    webhook_sender s(ioc.get_executor(), clock, clock.now(), {}, std::move(config));
    EXPECT_EQ(s.start(), std::make_error_code(std::errc::invalid_argument));
    EXPECT_NE(s.start_error().find(says), std::string::npos) << s.start_error();
    EXPECT_EQ(s.start(), std::make_error_code(std::errc::operation_in_progress));
  };
  check(base_config(0), "target.port");
  auto c = base_config(1);
  c.target.host = "localhost";
  check(c, "target.host");
  c = base_config(1);
  c.endpoint.direction = plan::endpoint_direction::outbound;
  check(c, "not inbound");
  c = base_config(1);
  c.faults.bad_signatures.push_back({.kind = signature_kind::stale_timestamp, .age = 5min});
  check(c, "within the tolerance");
  c = base_config(1);
  c.endpoint.dedup_key = "type.id";
  check(c, "dedup_key");
  c = base_config(1);
  c.secret.clear();
  check(c, "secret");
  c = base_config(1);
  c.target.headers.push_back({"X-Injected", "a\r\nb"});
  check(c, "target.headers");
  c = base_config(1);
  c.endpoint.signature.reset();
  c.faults.bad_signatures.push_back({});
  check(c, "no signature");
}

TEST(webhook_sender, unsigned_endpoint_sends_no_signature) {
  auto config = base_config(0);
  config.endpoint.signature.reset();
  config.secret.clear();
  config.traffic = {.rate = 10, .duration = 300ms};
  core::webhook_signature_params p{.signature_header = "Webhook-Signature"};
  test_receiver receiver(p, [](const received&) { return 204; });
  config.target.port = receiver.port();
  const auto records = run_to_completion(config, 0.01);
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    EXPECT_EQ(r.signature, signature_kind::none);
    EXPECT_EQ(r.outcome, delivery_outcome::delivered);
  }
  for (const auto& r : receiver.got()) EXPECT_EQ(r.verdict, core::verify_result::missing);
}

}  // namespace
}  // namespace planproof::mocks
