// beast_ceiling.cpp — "Beast ceiling" reference server (copied from shared/peer-bench for bench/peers.sh).
//
// The smallest reasonable Boost.Beast HTTP/1.1 keep-alive server: C++20
// coroutines, ONE io_context thread, no logging, no routing table, no config.
// A real mock server built on Beast will do more work per request than this,
// so its throughput here is an upper bound ("ceiling") for such a server on
// the same machine, not a target any full-featured server should expect to hit.
//
// Routes (identical to the stubs configured in every peer under configs/):
//   GET /v1/items   -> 200, application/json, fixed 200-byte JSON body
//   GET /v1/slow    -> same 200 response after a 100 ms asio steady_timer
//   GET /v1/limited -> 429, Retry-After: 2, small JSON body
//   anything else   -> 404
//
// Build:  g++ -std=c++20 -O2 -DNDEBUG -pthread beast_ceiling.cpp -o beast_ceiling
// Run:    ./beast_ceiling [port=18082] [address=127.0.0.1]
#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/version.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

static_assert(BOOST_VERSION >= 108100, "build against Boost >= 1.81 headers");

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Same 200-byte body as every peer config (configs/*). Keep them in sync.
constexpr std::string_view kItemsBody =
    R"({"items":[{"id":1,"name":"alpha","price":9.99,"tags":["a","b"]},{"id":2,"name":"beta","price":19.5,"tags":["c"]},{"id":3,"name":"gamma","price":0.5,"tags":[]}],"total":3,"page":1,"next":"cursor-0001"})";
constexpr std::string_view kLimitedBody = R"({"error":"rate_limited","retry_after_s":2})";
constexpr std::string_view kNotFoundBody = R"({"error":"not_found"})";
static_assert(kItemsBody.size() == 200);

constexpr auto tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

static Response make_response(const Request& req, http::status status, std::string_view body) {
    Response res{status, req.version()};
    res.set(http::field::server, "beast-ceiling");
    res.set(http::field::content_type, "application/json");
    res.body().assign(body.data(), body.size());
    res.keep_alive(req.keep_alive());
    res.prepare_payload();  // sets Content-Length
    return res;
}

static asio::awaitable<void> session(tcp::socket sock) {
    beast::flat_buffer buffer;
    asio::steady_timer timer{sock.get_executor()};
    for (;;) {
        Request req;
        auto [rec, rn] = co_await http::async_read(sock, buffer, req, tuple_awaitable);
        if (rec) break;  // end_of_stream, reset, parse error: drop the connection

        Response res;
        const std::string_view target{req.target().data(), req.target().size()};
        if (req.method() != http::verb::get) {
            res = make_response(req, http::status::method_not_allowed, kNotFoundBody);
        } else if (target == "/v1/items") {
            res = make_response(req, http::status::ok, kItemsBody);
        } else if (target == "/v1/slow") {
            timer.expires_after(std::chrono::milliseconds(100));
            auto [tec] = co_await timer.async_wait(tuple_awaitable);
            if (tec) break;
            res = make_response(req, http::status::ok, kItemsBody);
        } else if (target == "/v1/limited") {
            res = make_response(req, http::status::too_many_requests, kLimitedBody);
            res.set(http::field::retry_after, "2");
        } else {
            res = make_response(req, http::status::not_found, kNotFoundBody);
        }

        const bool close = res.need_eof();
        auto [wec, wn] = co_await http::async_write(sock, res, tuple_awaitable);
        if (wec || close) break;
    }
    beast::error_code ignored;
    sock.shutdown(tcp::socket::shutdown_send, ignored);
}

static asio::awaitable<void> listener(tcp::endpoint ep) {
    auto ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor{ex, ep};  // sets SO_REUSEADDR
    acceptor.listen(asio::socket_base::max_listen_connections);
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept(tuple_awaitable);
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            continue;  // e.g. EMFILE: keep serving existing connections
        }
        sock.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(ex, session(std::move(sock)), asio::detached);
    }
}

int main(int argc, char** argv) {
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 18082);
    const auto addr = asio::ip::make_address(argc > 2 ? argv[2] : "127.0.0.1");

    asio::io_context ioc{1};  // concurrency hint 1: single-threaded, no locking
    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&](auto, int) { ioc.stop(); });
    asio::co_spawn(ioc, listener({addr, port}), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    std::printf("beast-ceiling (Boost %d.%d.%d) listening on %s:%u\n", BOOST_VERSION / 100000,
                BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, addr.to_string().c_str(), port);
    std::fflush(stdout);
    ioc.run();  // the only thread that runs handlers
    return 0;
}
