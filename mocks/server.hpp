// The fault-injecting mock upstream: an HTTP/1.1 server on loopback that answers the plan's
// endpoints with their example bodies and applies the plan's faults (statuses, latency, hangs,
// resets, broken and drifted bodies, rate limits, outages...) in their windows, with a seeded draw
// per request. Every request is recorded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "core/clock.hpp"
#include "core/jwt.hpp"
#include "core/request_signature.hpp"
#include "mocks/token_authority.hpp"
#include "plan/model.hpp"

namespace planproof::mocks {

using namespace std::chrono_literals;

class paged_collection;
class server_tls_contexts;  // mocks/tls.hpp

struct route {
  // Method and path: an exact path match first, then `{name}` segments match any one segment; the
  // query string is ignored except by a paginated route.
  std::string endpoint_id, method, path;
  int status = 200;
  std::string body;  // serialized example body
  std::string content_type = "application/json";
  std::optional<std::string> idempotency_header;  // header whose value is recorded
  // A paginated list endpoint: answers are pages of this collection instead of `body`.
  std::shared_ptr<const paged_collection> pages;
};

// auth: jwt. Every request carries a JWT signed with the key whose verifying half this is,
// unexpired on `calendar`, with the plan's claims and a lifetime no longer than the plan's.
struct jwt_requirement {
  core::jws_key key;
  core::jwt_expectations expect;
  std::string header = "Authorization";  // "Bearer <token>" there; the token alone in any other header
  core::plan_calendar calendar;
};

// How requests prove who they are. At most one of: a credential every request carries (api_key,
// bearer; empty `header` = no check), an OAuth2 client-credentials token endpoint the mock serves
// and whose bearer tokens it checks, HMAC-signed requests, or JWTs.
struct auth_requirement {
  std::string header;
  std::string expected_value;
  // api_key in the query string: the parameter that must carry expected_value (header is empty).
  std::string query_param;
  std::optional<token_authority_config> oauth2;
  std::string token_path;  // where the token endpoint answers (POST), e.g. /oauth/token
  std::optional<core::signature_scheme> hmac;
  std::string hmac_key;
  std::optional<jwt_requirement> jwt;
};

class upstream_proxy;

struct server_options {
  std::string address = "127.0.0.1";  // loopback unless asked otherwise
  unsigned short port = 0;            // 0 = ephemeral; port() tells which
  std::uint64_t seed = 1;             // fault draws
  // Promise that the executor runs on one thread only (the runner's io_context): connections then
  // skip their strands, which costs ~13% of throughput. Wrong if the io_context runs on several.
  bool single_threaded_executor = false;
  // Bounds, all in real time: nothing a client does can hold a connection or memory forever.
  core::duration idle_timeout = 60s;     // keep-alive connection with no request started
  core::duration request_timeout = 30s;  // from a request's first byte to its last (then 408)
  core::duration write_timeout = 30s;    // a response the client does not read
  core::duration hang_limit = 10min;     // a `hang` (and a `latency` longer than this) ends here
  core::duration linger_timeout = 2s;    // draining input after we close, so the answer is not reset
  std::uint32_t header_limit = 16 * 1024;   // request line + headers (431 beyond)
  std::uint64_t body_limit = 1024 * 1024;   // request body (413 beyond)
  std::size_t max_connections = 10'000;     // further connections are closed at once
  std::size_t max_records = 1'000'000;      // records kept; later requests are counted only
  std::size_t max_idempotency_keys = 1'000'000;  // stored answers; the oldest is forgotten beyond
  // Proxy mode: requests no fault stops go to this real upstream, and its answers come back broken
  // the way body faults say. The routes then only name endpoints for faults; the credential checks,
  // the idempotency store and side-effect counting are the real upstream's business.
  std::shared_ptr<const upstream_proxy> upstream;
  // Set = HTTPS: every connection starts with a TLS handshake, whose context is the connection's
  // `tls` fault (when one is selected) or the normal one. Loaded by the caller, which reports
  // unreadable files (server_tls_contexts::load; the normal context is required, a fault's
  // missing context makes that fault a no-op). Unset = plain HTTP, and `tls` faults never apply.
  std::shared_ptr<server_tls_contexts> tls;
  core::duration handshake_timeout = 10s;  // HTTPS: from accept to the end of the handshake
};

// What happened to a request. Every request read (or started) ends in exactly one.
enum class fate : std::uint8_t {
  answered,      // the route's normal answer
  fault_status,  // `status`, `outage` or `pagination` (invalid_cursor) fault: an error status
  delayed,       // `latency` fault: the normal answer, late
  hung,          // `hang` fault: no answer, connection held until the client closes it
  malformed,     // `malformed`, `schema_drift` or `pagination` fault: route status, broken, drifted or off page
  unauthorized,  // 401: credential missing or wrong
  not_found,     // 404: no route
  bad_request,   // not HTTP, too large, too slow (400/413/431/408), a cursor never issued (400), or abandoned (0)
  reset,         // `reset` or `outage` (mode reset): RST after reading the request
  emptied,       // `empty_reply`: FIN after reading the request, no answer
  cut,           // `close`: part of the answer, then FIN
  dribbled,      // `slow_body`: the answer, its body in slow chunks
  rate_limited,  // `rate_limit`: 429 (or the fault's status) with Retry-After
  replayed,      // a repeated Idempotency-Key: the first answer again, no new side effect
  key_conflict,  // a repeated Idempotency-Key with another body (422) or while the first is running (409)
  proxied,       // proxy mode: forwarded, and the real upstream's answer relayed
  upstream_failed,  // proxy mode: the real upstream could not be reached or did not answer (502)
  tls_failed,    // HTTPS: the handshake failed (a `tls` fault, or the client's own), no request read
};
std::string_view to_string(fate f) noexcept;

struct request_record {
  core::duration at{};         // plan time since `origin` when the request was read
  std::string endpoint_id;     // "" when no route matched
  std::string method, target;  // as sent; "" when the request line never arrived
  int status = 0;              // status answered (a `delayed` one after the delay); 0 = none
  std::string fault;           // fault kind applied, "" when none
  std::string idempotency_key; // value of the route's idempotency header, "" if absent
  std::string request_id;      // X-Request-Id, "" if absent: the client's logical request
  fate outcome = fate::answered;
  // The request reached the upstream's "backend" and changed something (a POST or PATCH that was
  // not turned away by a status, rate-limit or outage fault, nor replayed); `duplicate_effect`
  // when the same logical request (its idempotency key, else its X-Request-Id) already had one.
  bool effect = false;
  bool duplicate_effect = false;
  // Real time from the request read to the last byte of the answer written; zero when nothing
  // was answered (hang, reset...) or the answer could not be written.
  core::duration latency{};
  // tls_failed: why, as the server saw it: "unknown CA (tlsv1 alert unknown ca)", "handshake timed out".
  std::string tls_error;
};

// A fault of the server and what it has done (for `planproof serve`'s admin API).
struct fault_state {
  std::size_t index = 0;  // into the faults the server kept, in plan order
  std::string kind;
  std::optional<std::string> endpoint;
  bool enabled = true;
  std::uint64_t injected = 0;
};

// Running totals since the server started (or was reset), kept whatever max_records drops.
struct server_metrics {
  std::uint64_t requests = 0;
  std::map<std::string, std::uint64_t> by_endpoint;  // "" = no route
  std::map<int, std::uint64_t> by_status;            // 0 = nothing answered
  std::map<std::string, std::uint64_t> by_fault;     // fault kind -> requests it hit (tls: connections)
  std::map<std::string, std::uint64_t> by_fate;
  // Answer latency (real seconds) as a cumulative histogram: bucket_counts[i] answers took at most
  // bucket_bounds[i]; answered counts them all, latency_sum adds them up.
  static constexpr std::array<double, 11> bucket_bounds{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<std::uint64_t, 11> bucket_counts{};
  std::uint64_t answered = 0;
  double latency_sum = 0;
  std::uint64_t side_effects = 0;       // see request_record::effect
  std::uint64_t duplicate_effects = 0;  // side effects applied twice (or more) for one logical request
  std::uint64_t replays = 0;            // answers replayed for a repeated Idempotency-Key
};

namespace detail {
class server_state;
}

class server {
 public:
  // All work runs on `ex`; a multi-threaded executor is fine (each connection has its own strand
  // unless options.single_threaded_executor says none is needed).
  // `clock` gives plan time for fault windows and records and must outlive the server; `origin`
  // is plan time zero (traffic start); `scale` turns plan latencies into real waits. Faults the
  // server cannot carry out (see is_injectable) are dropped and counted in ignored_faults().
  server(boost::asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
         core::time_scale scale, std::vector<route> routes, auth_requirement auth,
         std::vector<plan::fault> faults, server_options options = {});
  ~server();  // stop()s; pending handlers only touch state they share ownership of
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds options.address:options.port, listens and starts accepting on the executor. Errors
  // (address in use, bad address, called twice) come back, never as exceptions.
  std::error_code listen();
  unsigned short port() const noexcept;  // the bound port once listen() succeeded, else 0

  // Safe from any thread, idempotent: closes the acceptor and every open connection and cancels
  // their timers. The work is posted to the executor; once it runs, no handler of this server is
  // left, so an io_context with no other work returns from run(). The clock is never read again.
  void stop();

  std::vector<request_record> records() const;  // snapshot, in the order fates were decided
  // The OAuth2 tokens its token endpoint issued and still remembers, oldest first; none without one.
  std::vector<std::string> issued_tokens() const;
  std::uint64_t request_count() const noexcept;  // every request, including unkept records
  std::uint64_t dropped_records() const noexcept;  // requests beyond options.max_records
  std::size_t open_connections() const;
  std::size_t ignored_faults() const noexcept;

  // The faults kept and what each did; turning one off or on takes effect for the next request.
  std::vector<fault_state> faults() const;
  bool set_fault_enabled(std::size_t index, bool enabled);  // false: no such fault
  // Forgets records, totals, selector counts and rate-limit buckets, as if the server had just
  // started; plan time keeps running. Requests in flight finish but are not recorded again.
  void reset();
  server_metrics metrics() const;

  // Block the calling thread (never an executor thread) until the condition holds or `timeout`
  // (real time) passes; true when it holds. For tests and the runner's "upstream saw N requests".
  bool wait_for_requests(std::uint64_t count, core::duration timeout) const;
  bool wait_for_open_connections_at_most(std::size_t count, core::duration timeout) const;
  // Until `count` answers have been written to the end (their latency is then known).
  bool wait_for_answers(std::uint64_t count, core::duration timeout) const;

 private:
  std::shared_ptr<detail::server_state> state_;
};

// The plan's endpoints as routes: body = serialized response example ("{}" when none), status =
// endpoint::success_status(), idempotency header carried over, paginated endpoints with their
// collection (make_collection).
std::vector<route> routes_from_plan(const plan::integration_plan& p);

}  // namespace planproof::mocks
