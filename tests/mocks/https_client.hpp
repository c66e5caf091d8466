// A blocking HTTPS client for the mock server tests: one connection, its handshake, then keep-alive
// GETs, with what the client saw at each step. Every operation has a deadline, so a broken server
// makes a test fail instead of hang.
#pragma once

#include <chrono>
#include <exception>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gtest/gtest.h>

#include "mocks/tls.hpp"

namespace planproof::mocks::testing {

struct https_result {
  bool finished = false;
  boost::system::error_code connect;
  boost::system::error_code handshake;
  boost::system::error_code error;  // the first error after connecting (handshake, write or read)
  tls_failure failure = tls_failure::none;
  std::string description;
  bool certificate_requested = false;
  std::vector<int> statuses;  // one per answer read
  std::vector<std::string> bodies;
};

namespace detail {

inline constexpr auto https_operation_deadline = std::chrono::seconds(5);

inline boost::asio::awaitable<void> https_exchange(unsigned short port, boost::asio::ssl::context& ctx, int requests,
                                                   std::string target, https_result& out) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
  SSL* ssl = stream.native_handle();
  auto fail = [&](const boost::system::error_code& ec) {
    out.error = ec;
    out.failure = classify_tls_error(ec, ssl);
    out.description = describe_tls_error(ec, ssl);
    out.finished = true;
  };
  EXPECT_TRUE(set_server_name(ssl, "localhost"));
  stream.next_layer().expires_after(https_operation_deadline);
  auto [connect_ec] = co_await stream.next_layer().async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), use_tuple);
  if (connect_ec) {
    out.connect = connect_ec;
    out.finished = true;
    co_return;
  }
  stream.next_layer().expires_after(https_operation_deadline);
  auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  out.handshake = hs;
  out.certificate_requested = client_certificate_requested(ssl);
  if (hs) co_return fail(hs);
  beast::flat_buffer buffer;
  for (int i = 0; i < requests; ++i) {
    http::request<http::string_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "localhost");
    stream.next_layer().expires_after(https_operation_deadline);
    if (auto [ec, n] = co_await http::async_write(stream, req, use_tuple); ec) co_return fail(ec);
    http::response<http::string_body> res;
    stream.next_layer().expires_after(https_operation_deadline);
    if (auto [ec, n] = co_await http::async_read(stream, buffer, res, use_tuple); ec) co_return fail(ec);
    out.statuses.push_back(res.result_int());
    out.bodies.push_back(res.body());
  }
  out.finished = true;
}

}  // namespace detail

// One connection to 127.0.0.1:port with SNI localhost, then `requests` keep-alive GETs of `target`.
inline https_result https_call(unsigned short port, boost::asio::ssl::context& ctx, int requests = 1,
                               std::string target = "/") {
  https_result r;
  boost::asio::io_context ioc;
  boost::asio::co_spawn(ioc, detail::https_exchange(port, ctx, requests, std::move(target), r),
                        [](std::exception_ptr e) {
                          if (e) ADD_FAILURE() << "the HTTPS client coroutine threw";
                        });
  ioc.run_for(std::chrono::seconds(20));  // each operation has its own deadline; this is a backstop
  EXPECT_TRUE(r.finished) << "the HTTPS client did not finish";
  return r;
}

}  // namespace planproof::mocks::testing
