#include "mocks/proxy.hpp"

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "mocks/tls.hpp"

namespace planproof::mocks {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Headers that belong to one connection, not to the message (RFC 9110 section 7.6.1), plus those a
// Connection header names.
void strip_hop_by_hop(http::fields& h) {
  std::vector<std::string> named;
  for (auto it = h.find(http::field::connection); it != h.end() && it->name() == http::field::connection; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      const auto comma = v.find(',');
      auto token = v.substr(0, comma);
      while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
      while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
      if (!token.empty()) named.emplace_back(token);
      v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    }
  }
  for (const auto& name : named) h.erase(name);
  for (const auto f : {http::field::connection, http::field::keep_alive, http::field::proxy_authenticate,
                       http::field::proxy_authorization, http::field::proxy_connection, http::field::te,
                       http::field::trailer, http::field::transfer_encoding, http::field::upgrade}) {
    h.erase(f);
  }
}

std::string describe(std::string_view step, const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return std::string(step) + ": no answer within the upstream timeout";
  return std::string(step) + ": " + ec.message();
}

template <class Stream>
asio::awaitable<forward_result> exchange(Stream& stream, upstream_request req, const upstream_options& o) {
  forward_result r;
  auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
  if (wec) {
    r.error = describe("sending the request", wec);
    co_return r;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(o.body_limit);
  parser.header_limit(o.header_limit);
  if (req.method() == http::verb::head) parser.skip(true);
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
  if (rec) {
    r.error = describe("reading the answer", rec);
    co_return r;
  }
  r.response = parser.release();
  strip_hop_by_hop(r.response->base());
  r.response->prepare_payload();
  co_return r;
}

}  // namespace

std::variant<upstream_target, std::string> parse_upstream_url(std::string_view url) {
  upstream_target t;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    t.tls = true;
    rest.remove_prefix(8);
  } else {
    return std::string("must start with http:// or https://");
  }
  const auto path_at = rest.find('/');
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
  if (path.find_first_of("?#") != std::string_view::npos) return std::string("cannot have a query or a fragment");
  if (authority.find('@') != std::string_view::npos) {
    return std::string("cannot carry credentials (user@host); the app's own requests carry them");
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::string("has an IPv6 address without its closing ']'");
    t.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return std::string("has something after the IPv6 address");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const auto colon = authority.rfind(':');
    t.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (t.host.empty()) return std::string("has no host");
  for (const char ch : t.host) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' || ch == '_')) {
      return std::string("has a host that is not a name or an address");
    }
  }
  t.port = t.tls ? 443 : 80;
  if (!port_text.empty() || authority.ends_with(':')) {
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return std::string("has no port from 1 to 65535 after ':'");
    }
    t.port = static_cast<std::uint16_t>(port);
  }
  while (path.ends_with('/')) path.remove_suffix(1);
  t.path_prefix = std::string(path);
  return t;
}

std::string host_header(const upstream_target& t) {
  const bool v6 = t.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + t.host + "]" : t.host;
  if (t.port != (t.tls ? 443 : 80)) h += ":" + std::to_string(t.port);
  return h;
}

std::string to_string(const upstream_target& t) {
  std::string url = t.tls ? "https://" : "http://";
  url += host_header(t);
  return url + t.path_prefix;
}

upstream_proxy::upstream_proxy(upstream_options options, std::shared_ptr<void> tls_context)
    : options_(std::move(options)), tls_(std::move(tls_context)) {}

std::variant<std::shared_ptr<upstream_proxy>, std::string> upstream_proxy::make(upstream_options options) {
  std::shared_ptr<void> tls;
  if (options.target.tls) {
    client_tls_config config = options.tls;
    if (config.ca_file.empty()) config.ca_file = options.ca_file;
    config.host = options.target.host;
    auto built = make_client_context(config);
    if (!built) return built.error;
    tls = std::make_shared<asio::ssl::context>(std::move(*built.context));
  } else if (!options.ca_file.empty() || !options.tls.ca_file.empty() || !options.tls.ca_pem.empty()) {
    return std::string("a CA file only applies to an https upstream");
  } else if (!options.tls.cert_file.empty() || !options.tls.cert_pem.empty()) {
    return std::string("a client certificate only applies to an https upstream");
  }
  return std::make_shared<upstream_proxy>(std::move(options), std::move(tls));
}

asio::awaitable<forward_result> upstream_proxy::forward(const upstream_request& in, asio::any_io_executor ex) const {
  const auto& t = options_.target;
  const auto timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.timeout);
  upstream_request req = in;
  strip_hop_by_hop(req.base());
  req.target(t.path_prefix + std::string(in.target()));
  req.set(http::field::host, host_header(t));
  req.keep_alive(false);
  req.prepare_payload();

  forward_result r;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, std::to_string(t.port), use_tuple);
  if (rec) {
    r.error = describe("resolving " + t.host, rec);
    co_return r;
  }
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);  // one deadline for the whole exchange
  auto [cec, connected] = co_await stream.async_connect(endpoints, use_tuple);
  if (cec) {
    r.error = describe("connecting to " + to_string(t), cec);
    co_return r;
  }
  if (!tls_) {
    r = co_await exchange(stream, std::move(req), options_);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return r;
  }
  beast::ssl_stream<beast::tcp_stream&> secure(stream, *static_cast<asio::ssl::context*>(tls_.get()));
  if (!set_server_name(secure.native_handle(), t.host)) {
    r.error = "TLS: the upstream host name cannot be sent as SNI";
    co_return r;
  }
  auto [hec] = co_await secure.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) {
    r.error = describe("TLS handshake with " + to_string(t), hec);
    co_return r;
  }
  r = co_await exchange(secure, std::move(req), options_);
  co_return r;
}

std::string probe_upstream(const upstream_target& target, core::duration deadline, tcp::endpoint* reached) {
  const auto url = to_string(target);
  asio::io_context io(1);
  asio::steady_timer timer(io);
  tcp::resolver resolver(io);
  tcp::socket socket(io);
  std::string error = "no address for " + target.host;
  bool timed_out = false;
  timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline));
  timer.async_wait([&](const boost::system::error_code& ec) {
    if (ec) return;
    timed_out = true;
    resolver.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
  });
  resolver.async_resolve(target.host, std::to_string(target.port), asio::ip::resolver_base::numeric_service,
                         [&](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                           if (ec || results.empty()) {
                             if (ec) error = "cannot resolve " + target.host + ": " + ec.message();
                             timer.cancel();
                             return;
                           }
                           const auto address = results.begin()->endpoint();
                           if (reached != nullptr) *reached = address;
                           socket.async_connect(address, [&](const boost::system::error_code& cec) {
                             error = cec ? "cannot connect to " + url + ": " + cec.message() : std::string();
                             timer.cancel();
                           });
                         });
  io.run();
  if (timed_out) return "no connection to " + url + " within " + core::format_duration(deadline);
  return error;
}

}  // namespace planproof::mocks
