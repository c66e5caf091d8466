// The mock server on 127.0.0.1:0 with its io_context on its own thread(s) and a manual clock the
// test moves, plus the routes and faults the mock server tests share.
#pragma once

#include <atomic>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "mocks/server.hpp"
#include "test_client.hpp"

namespace planproof::mocks::testing {

using namespace std::chrono_literals;

constexpr std::string_view charge_body = R"({"id":"ch_1","amount":1200,"currency":"eur"})";
constexpr std::string_view items_body = R"({"items":[{"id":1},{"id":2}],"next":null})";

inline std::vector<route> default_routes() {
  return {
      {"charge", "POST", "/v1/charges", 201, std::string(charge_body), "application/json", "Idempotency-Key"},
      {"items", "GET", "/v1/items", 200, std::string(items_body), "application/json", std::nullopt},
      {"refund", "POST", "/v1/refunds", 200, "{}", "application/json", std::nullopt},
  };
}

inline plan::fault status_fault(int status, double probability = 1.0) {
  plan::fault f;
  f.kind = "status";
  f.status = status;
  f.probability = probability;
  return f;
}

inline plan::fault kind_fault(std::string kind) {
  plan::fault f;
  f.kind = std::move(kind);
  return f;
}

inline bool parses_as_json(std::string_view text) {
  boost::system::error_code ec;
  (void)boost::json::parse(text, ec);
  return !ec;
}

struct setup {
  std::vector<route> routes = default_routes();
  auth_requirement auth;
  std::vector<plan::fault> faults;
  server_options options;
  core::time_scale scale{};
  int threads = 1;
};

// A server listening on 127.0.0.1:0 whose io_context runs on its own thread(s), and a manual
// clock the test moves. Only listen() gives the io_context work, so once stop() has done its job
// run() returns by itself: that is what stop_and_join() checks.
class running_server {
 public:
  explicit running_server(setup s)
      : server_(ioc_.get_executor(), clock_, clock_.now(), s.scale, std::move(s.routes), std::move(s.auth),
                std::move(s.faults), std::move(s.options)) {
    listen_error_ = server_.listen();
    EXPECT_FALSE(listen_error_) << listen_error_.message();
    EXPECT_NE(server_.port(), 0);
    running_ = s.threads;
    for (int i = 0; i < s.threads; ++i) {
      threads_.emplace_back([this] {
        ioc_.run();
        if (--running_ == 0) all_returned_.set_value();
      });
    }
  }
  ~running_server() { stop_and_join(); }

  // Stops the server; true when every io_context thread returned from run() within the deadline.
  bool stop_and_join(std::chrono::seconds deadline = 10s) {
    if (joined_) return true;
    server_.stop();
    const bool returned = finished_.wait_for(deadline) == std::future_status::ready;
    if (!returned) ioc_.stop();  // fail, but do not hang the test binary
    for (auto& t : threads_) t.join();
    joined_ = true;
    return returned;
  }

  server& srv() { return server_; }
  core::manual_clock& clock() { return clock_; }
  unsigned short port() const { return server_.port(); }

  // The clock is read by the server thread: move it only after the requests so far were recorded
  // (wait_for_requests takes the server's lock, which orders the two threads).
  void advance(core::duration d, std::uint64_t requests_so_far) {
    ASSERT_TRUE(server_.wait_for_requests(requests_so_far, 10s));
    clock_.advance(d);
  }

 private:
  core::manual_clock clock_{core::time_point{} + 1h};  // plan time is measured from here
  asio::io_context ioc_;
  server server_;
  std::error_code listen_error_;
  std::vector<std::thread> threads_;
  std::atomic<int> running_{0};
  std::promise<void> all_returned_;
  std::future<void> finished_ = all_returned_.get_future();
  bool joined_ = false;
};

inline std::string header(const test_client::response& r, std::string_view name) {
  const auto it = r.find(name);
  return it == r.end() ? std::string("<absent>") : std::string(it->value());
}

}  // namespace planproof::mocks::testing
