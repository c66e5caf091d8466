// Proxy mode: the mock forwards what no fault stops to a real upstream (a sandbox API, a staging
// service) and breaks its answers the way the plan's faults say, so a plan can be tried against the
// real system plus chaos.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/clock.hpp"
#include "mocks/tls.hpp"

namespace planproof::mocks {

struct upstream_target {
  bool tls = false;
  std::string host;         // as written (a name, an IPv4 address, or an IPv6 address without brackets)
  std::uint16_t port = 0;   // the scheme's default when the URL gives none
  std::string path_prefix;  // prepended to every forwarded target; "" or "/base" (no trailing slash)
};

// `http://HOST[:PORT][/PREFIX]` or `https://...`; an error message saying what is wrong otherwise.
std::variant<upstream_target, std::string> parse_upstream_url(std::string_view url);
std::string to_string(const upstream_target& t);  // back to a URL
std::string host_header(const upstream_target& t);  // what goes in Host: the host, and the port unless the scheme's

struct upstream_options {
  upstream_target target;
  std::string ca_file;  // https: CAs the upstream's certificate must chain to; empty = the system store
  // https: more of what the proxy's handshakes use: a client certificate to present (the plan's own
  // under auth mtls) and CAs as PEM text. Its `host` is ignored (the target's is checked).
  client_tls_config tls;
  core::duration timeout = std::chrono::seconds(30);  // real time for one forward: connect, send, answer
  std::uint64_t body_limit = 16 * 1024 * 1024;         // an upstream answer larger than this is a failure
  std::uint32_t header_limit = 64 * 1024;              // its status line and headers, likewise
};

using upstream_request = boost::beast::http::request<boost::beast::http::string_body>;
using upstream_response = boost::beast::http::response<boost::beast::http::string_body>;

struct forward_result {
  std::optional<upstream_response> response;  // set when the upstream answered
  std::string error;                           // why not: "connect: Connection refused"
};

// Forwards requests, one upstream connection each (no pooling: each forward stands alone, as a
// request through a fault does). Thread-safe: forward() may run on any executor.
class upstream_proxy {
 public:
  // An error when the TLS context cannot be built (bad CA file...).
  static std::variant<std::shared_ptr<upstream_proxy>, std::string> make(upstream_options options);

  // The request as the app sent it, with the target prefixed, Host set to the upstream's, and the
  // hop-by-hop headers (RFC 9110 section 7.6.1) removed; the answer likewise without them.
  boost::asio::awaitable<forward_result> forward(const upstream_request& req, boost::asio::any_io_executor ex) const;

  const upstream_options& options() const noexcept { return options_; }

  upstream_proxy(upstream_options options, std::shared_ptr<void> tls_context);

 private:
  upstream_options options_;
  std::shared_ptr<void> tls_;  // boost::asio::ssl::context when the upstream is https
};

// Resolves the target's host and opens one TCP connection within `deadline` (real time): whether
// there is anything to send to at all. Empty when there is, why not otherwise ("cannot connect to
// http://127.0.0.1:9: Connection refused"); `reached` gets the address connected to.
std::string probe_upstream(const upstream_target& target, core::duration deadline,
                           boost::asio::ip::tcp::endpoint* reached = nullptr);

}  // namespace planproof::mocks
