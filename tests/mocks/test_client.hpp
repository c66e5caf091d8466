// A blocking HTTP client for the mock server tests. Every operation runs its own io_context for at
// most a deadline, so a broken server makes a test fail instead of hang.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace planproof::mocks::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

inline constexpr auto default_deadline = std::chrono::seconds(10);

class test_client {
 public:
  using response = http::response<http::string_body>;

  struct result {
    error_code ec;
    response res;
  };

  explicit test_client(unsigned short port) : socket_(ioc_) {
    connect_error_ = run(
        [&](auto handler) {
          socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), handler);
        },
        default_deadline);
  }

  error_code connect_error() const { return connect_error_; }

  error_code send_raw(std::string_view bytes, std::chrono::milliseconds deadline = default_deadline) {
    return run([&](auto handler) { asio::async_write(socket_, asio::buffer(bytes), handler); }, deadline);
  }

  error_code send(http::request<http::string_body> req,
                  std::chrono::milliseconds deadline = default_deadline) {
    req.prepare_payload();
    return run([&](auto handler) { http::async_write(socket_, req, handler); }, deadline);
  }

  result read(std::chrono::milliseconds deadline = default_deadline) {
    result r;
    r.ec = run([&](auto handler) { http::async_read(socket_, buffer_, r.res, handler); }, deadline);
    return r;
  }

  // One request on this connection, HTTP/1.1 keep-alive unless the caller's headers say otherwise.
  using header_list = std::initializer_list<std::pair<std::string_view, std::string_view>>;
  result get(std::string_view target, header_list headers = {}, http::verb method = http::verb::get) {
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (const auto ec = send(std::move(req))) return {ec, {}};
    return read();
  }

  // Raw bytes that arrive within the deadline; `asio::error::timed_out` when none did.
  error_code read_some_raw(std::string& out, std::chrono::milliseconds deadline) {
    char data[4096];
    std::size_t got = 0;
    const auto ec = run(
        [&](auto handler) {
          socket_.async_read_some(asio::buffer(data), [&, handler](error_code e, std::size_t n) mutable {
            got = n;
            handler(e, n);
          });
        },
        deadline);
    out.assign(data, got);
    return ec;
  }

  // Reads and discards until the server closes: eof (or a reset) is what a test expects.
  error_code wait_for_close(std::chrono::milliseconds deadline = default_deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    std::string ignored;
    if (buffer_.size() > 0) buffer_.consume(buffer_.size());
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left <= 0ms) return asio::error::timed_out;
      const auto ec = read_some_raw(ignored, left);
      if (ec) return ec;
    }
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket& socket() { return socket_; }
  beast::flat_buffer& buffer() { return buffer_; }

 private:
  // Starts one operation and runs it to completion or the deadline; a late operation is
  // cancelled and reported as timed_out.
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds deadline) {
    std::optional<error_code> outcome;
    start([&outcome](error_code ec, auto&&...) { outcome = ec; });
    ioc_.restart();
    ioc_.run_for(deadline);
    if (outcome) return *outcome;
    error_code ignored;
    socket_.cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return asio::error::timed_out;
  }

  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  error_code connect_error_;
};

}  // namespace planproof::mocks::testing
