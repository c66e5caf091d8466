// The real client under test: HTTP/1.1 over Asio/Beast with a keep-alive connection pool,
// per-attempt connect/read timeouts, the plan's retry policy, idempotency keys and a dead-letter
// queue. It emits the typed events the verdicts are computed from.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>

#include "client/dead_letter.hpp"
#include "client/response_mapping.hpp"
#include "core/clock.hpp"
#include "core/events.hpp"
#include "core/jwt.hpp"
#include "plan/model.hpp"
#include "resilience/random.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/retry_budget.hpp"
#include "resilience/retry_state.hpp"
#include "resilience/token_lifecycle.hpp"

namespace planproof::client {

struct header {
  std::string name;
  std::string value;  // may be a secret: never logged unredacted
};

// OAuth2 client credentials (RFC 6749 section 4.4): the client fetches its own access tokens from
// the upstream's token endpoint and sends them as `Authorization: Bearer`.
struct oauth2_options {
  std::string token_target;  // the token endpoint's path on the upstream, e.g. /oauth/token
  std::string client_id;
  std::string client_secret;  // sent with HTTP Basic, never logged
  std::vector<std::string> scopes;
  std::string audience;
  resilience::token_lifecycle_config lifecycle;
};

// JWT bearer tokens (auth: jwt, RFC 7519): the client mints its own, signed with the plan's key,
// with the plan's claims plus iat, exp = iat + lifetime and a fresh jti, and mints the next one
// when the current one nears its end or the upstream refuses it.
struct jwt_options {
  core::jws_key key;
  std::map<std::string, std::string, std::less<>> claims;
  std::chrono::seconds lifetime{300};
  // Authorization carries "Bearer <token>"; any other header the token alone.
  std::string header = "Authorization";
  core::plan_calendar calendar;  // iat and exp in the calendar the upstream checks them with
  resilience::token_lifecycle_config lifecycle;
};

struct client_options {
  boost::asio::ip::tcp::endpoint upstream;
  std::string host;                  // Host header
  std::vector<header> extra_headers; // sent on every request (auth)
  // A query parameter added to every request target (api_key `in: query`), form-encoded. Dead
  // letters keep the target without it.
  std::optional<header> query_credential;
  // Headers computed for each attempt from what it sends (a request signature with its
  // timestamp): called with the method, target and body just before the attempt is written.
  std::function<std::vector<header>(std::string_view method, std::string_view target, std::string_view body)> signer;
  std::optional<oauth2_options> oauth2;
  std::optional<jwt_options> jwt;
  // HTTPS: every connection is TLS from this context, which carries the trusted CAs, the client
  // certificate for mTLS and the host-name check. `tls_server_name` goes out as SNI.
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_server_name;
  std::size_t max_idle_connections = 64;
  // A pooled connection idle longer than this (real time) is closed instead of reused: a server
  // closes idle keep-alive connections after some time of its own, and a request sent on one it
  // has just closed fails like any other attempt (it is never silently sent again).
  std::chrono::milliseconds pool_idle_timeout{2000};
  // An answer larger than these fails the attempt (a read error, retried as the plan says).
  std::size_t body_limit = 16u << 20;
  std::uint32_t header_limit = 64u << 10;
  boost::json::object dead_letter_context;  // added to every dead-letter record (failure mode, run)
  // The plan's data mapping: each success response is checked against its endpoint's schema and
  // mapped. A body nothing can be used from fails the attempt as schema_error; single bad records
  // of a list are set aside in the dead-letter file and the rest is used.
  std::vector<plan::data_mapping> mappings;
};

// What a paginated read keeps of its success answer, for the walk to read the page's records.
struct page_capture {
  std::string body;        // the success answer's body
  bool restarted = false;  // the answer is to restart_target (the first page), the cursor having been refused
};

struct logical_request {
  std::uint64_t id = 0;
  const plan::endpoint* endpoint = nullptr;
  std::string body;  // JSON; empty for none
  std::string target;  // the request target (path and query); empty = the endpoint's path
  // A continuation page: when the upstream refuses its cursor (a 4xx other than 401, 403, 408
  // and 429), read again from this target (the first page) instead of failing. Empty = never.
  std::string restart_target;
  // The id sent as X-Request-Id and, where the endpoint takes one, as its idempotency key; empty =
  // a fresh one. A replay passes the original, so an upstream that applied it does not again.
  std::string idempotency_key;
  // Filled when the request succeeds; none = the answer is not kept. Owned by the caller, and must
  // outlive execute().
  page_capture* capture = nullptr;
};

class http_client {
 public:
  // `clock` gives plan time; waits and socket deadlines are converted to real time with `scale`.
  http_client(boost::asio::any_io_executor ex, client_options options, const plan::retry_config& retry,
              const std::vector<plan::endpoint>& endpoints, const core::clock& clock, core::time_scale scale,
              core::event_sink& events, dead_letter_queue& dead_letters, resilience::random_source& rng);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Runs one logical request to its end (succeeded, dead-lettered, or failed when even the dead
  // letter could not be written) and returns that outcome. Never throws for network errors.
  boost::asio::awaitable<core::request_outcome> execute(logical_request request);

  // Closes idle pooled connections.
  void close();

  // Every credential this client was handed or made during its life, oldest first, at most
  // max_kept_tokens of them: OAuth2 access tokens (and a refresh token, should an answer carry
  // one) and the JWTs it signed. What a check for leaked secrets searches the run's output for.
  static constexpr std::size_t max_kept_tokens = 10'000;
  const std::vector<std::string>& tokens_held() const noexcept { return tokens_held_; }

 private:
  struct connection;
  struct exchange;

  // One request/response on a pooled or new connection: connect (and TLS handshake) within
  // `connect_timeout`, then write and read the whole response within `read_timeout`.
  boost::asio::awaitable<exchange> round_trip(const std::string& wire_request, core::duration connect_timeout,
                                              core::duration read_timeout);
  boost::asio::awaitable<resilience::attempt_result> attempt(const plan::endpoint& endpoint,
                                                            const std::string& wire_request,
                                                            const resilience::attempt_budget& budget,
                                                            const resilience::retry_state& state,
                                                            std::string* success_body);
  // The generation of a valid access token (access_token_), fetching or waiting for one as the
  // token lifecycle says; nullopt when none could be had before the request's deadline.
  boost::asio::awaitable<std::optional<std::uint64_t>> obtain_token(std::uint64_t request,
                                                                   const resilience::retry_state& state);
  boost::asio::awaitable<void> fetch_token(std::uint64_t request);
  void mint_token(std::uint64_t request);
  void wake_token_waiters();
  std::unique_ptr<connection> take_idle();
  void give_back(std::unique_ptr<connection> c);
  // Records of a list response the mapping rejected: one durable line, the request still succeeds.
  boost::asio::awaitable<void> set_aside_records(const logical_request& request, const std::string& summary,
                                                 std::size_t rejected, std::size_t records);
  boost::asio::awaitable<core::request_outcome> dead_letter(const logical_request& request,
                                                            const std::string& request_key, int attempts,
                                                            core::end_reason reason,
                                                            const resilience::attempt_result& last,
                                                            core::time_point started);
  // Appends on writer_ and comes back to ex_: durable before the caller goes on, without holding
  // the client's thread (and every other request on it) for the milliseconds an fdatasync takes.
  boost::asio::awaitable<std::error_code> append_dead_letter(const boost::json::object& record);
  void emit(core::event e);

  boost::asio::any_io_executor ex_;
  client_options options_;
  plan::timeout_config timeouts_;  // the plan's, for work outside any one request (token fetches)
  std::map<std::string, resilience::retry_policy, std::less<>> policies_;
  std::map<std::string, response_mapper, std::less<>> mappers_;
  // One breaker per endpoint (the plan's retry.circuit_breaker), every transition an event.
  struct breaker_events;
  std::unique_ptr<breaker_events> breaker_events_;
  std::map<std::string, resilience::circuit_breaker, std::less<>> breakers_;
  std::optional<resilience::retry_budget> budget_;  // shared by every logical request
  const core::clock& clock_;
  core::time_scale scale_;
  core::event_sink& events_;
  dead_letter_queue& dead_letters_;
  resilience::random_source& rng_;
  std::vector<std::unique_ptr<connection>> idle_;
  std::optional<resilience::token_lifecycle> tokens_;
  std::string access_token_;  // of tokens_->generation()
  std::vector<std::string> tokens_held_;
  void keep_token(const std::string& token);
  std::string token_header_ = "Authorization";  // where access_token_ goes
  std::vector<boost::asio::steady_timer*> token_waiters_;
  // The dead-letter file's writes and fdatasyncs, one at a time in order. Last: destroyed (joined)
  // first, while everything a write touches is still there.
  boost::asio::thread_pool writer_{1};
};

}  // namespace planproof::client
