// The admin API of `planproof serve`: a small JSON-over-HTTP/1.1 server beside the mock upstream
// that lists its endpoints and faults, turns faults on and off, resets it, and exposes its journal
// and Prometheus metrics. The answers are computed by admin_handler (no socket), served by admin_api.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/units.hpp"
#include "mocks/server.hpp"
#include "mocks/webhook_deliveries.hpp"

namespace planproof::mocks {

using namespace std::chrono_literals;

// What the admin API knows about the plan that the server does not.
struct admin_catalog {
  std::vector<route> routes;                     // as the mock serves them
  std::vector<std::string> fault_failure_modes;  // the failure mode of each fault, by server fault index
  std::vector<std::string> failure_modes;        // every failure mode id of the plan, in plan order
  // The webhook deliveries serve sends to a receiver, when it sends any (it must outlive the API):
  // `/deliveries...` and the webhook faults of each failure mode. Null: those answer 409.
  webhook_deliveries* deliveries = nullptr;
};

struct admin_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string allow;  // with 405: the methods the path takes
};

// The answer to one admin request. Safe from any thread: it only calls the server's thread-safe
// interface. The server must outlive it.
class admin_handler {
 public:
  admin_handler(server& mock, admin_catalog catalog);

  // `target` is the request target as sent (origin form; a query string is ignored but by
  // `POST /deliveries/send?count=N`), `body` the
  // request body (the operations take none; when one is sent it must be a JSON object).
  admin_response handle(std::string_view method, std::string_view target, std::string_view body) const;

  const admin_catalog& catalog() const noexcept { return catalog_; }

 private:
  admin_response faults_of_mode(std::string_view id, std::string_view action) const;
  admin_response fault(std::string_view index_text, std::string_view action) const;
  admin_response webhook_fault(std::string_view index_text, std::string_view action) const;
  admin_response send_deliveries(std::string_view target) const;

  server& mock_;
  admin_catalog catalog_;
};

struct admin_options {
  std::string address = "127.0.0.1";  // loopback unless asked otherwise: the API changes what the mock does
  unsigned short port = 0;            // 0 = ephemeral; port() tells which
  // Small bounds: nothing the API takes needs more, and a client cannot hold it for long.
  std::uint32_t header_limit = 8 * 1024;
  std::uint64_t body_limit = 4 * 1024;
  core::duration read_timeout = 10s;   // from waiting for a request to its last byte (keep-alive idle included)
  core::duration write_timeout = 30s;  // an answer the client does not read (a journal may be large)
  std::size_t max_connections = 64;    // further connections are closed at once
  // Set: every request must carry `Authorization: Bearer <token>` (compared in constant time),
  // else 401. `planproof serve` requires one when the API listens on an address not loopback.
  std::string token;
};

namespace detail {
class admin_state;
}

class admin_api {
 public:
  // Runs on a strand of `ex`. `mock` must outlive this object; after stop() (or the destructor)
  // no handler of this API touches it again.
  admin_api(boost::asio::any_io_executor ex, server& mock, admin_catalog catalog, admin_options options = {});
  ~admin_api();
  admin_api(const admin_api&) = delete;
  admin_api& operator=(const admin_api&) = delete;

  // Binds, listens and starts accepting. Errors (address in use, bad address, called twice) come
  // back as values.
  std::error_code listen();
  unsigned short port() const noexcept;
  // Safe from any thread, idempotent: closes the acceptor and every connection (posted to the
  // executor); once that has run, the API holds no work on the executor.
  void stop();

  const admin_handler& handler() const noexcept;

 private:
  std::shared_ptr<detail::admin_state> state_;
};

}  // namespace planproof::mocks
