#include "mocks/server.hpp"
#include "plan/json_text.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <climits>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "mocks/canned_response.hpp"
#include "mocks/fault_injector.hpp"
#include "mocks/listen.hpp"
#include "mocks/proxy.hpp"
#include "mocks/pagination.hpp"
#include "mocks/schema_drift.hpp"
#include "mocks/tls.hpp"

namespace planproof::mocks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;

std::string_view to_string(fate f) noexcept {
  switch (f) {
    case fate::answered: return "answered";
    case fate::fault_status: return "fault_status";
    case fate::delayed: return "delayed";
    case fate::hung: return "hung";
    case fate::malformed: return "malformed";
    case fate::unauthorized: return "unauthorized";
    case fate::not_found: return "not_found";
    case fate::bad_request: return "bad_request";
    case fate::reset: return "reset";
    case fate::emptied: return "emptied";
    case fate::cut: return "cut";
    case fate::dribbled: return "dribbled";
    case fate::rate_limited: return "rate_limited";
    case fate::replayed: return "replayed";
    case fate::key_conflict: return "key_conflict";
    case fate::proxied: return "proxied";
    case fate::upstream_failed: return "upstream_failed";
    case fate::tls_failed: return "tls_failed";
  }
  return "answered";
}

namespace detail {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::string_view crlf = "\r\n";
constexpr std::string_view continue_response = "HTTP/1.1 100 Continue\r\n\r\n";

// A `close` fault's cut in a body of `size` bytes: `after_bytes` (default half), and never the
// whole body, so the answer always ends mid-response.
std::size_t cut_point(std::optional<std::size_t> after_bytes, std::size_t size) {
  const auto at = std::min(after_bytes.value_or(size / 2), size);
  return at == size && size != 0 ? size - 1 : at;
}

enum class fault_kind : std::uint8_t {
  none, status, latency, hang, reset, empty_reply, close, slow_body, malformed, schema_drift, rate_limit, outage,
  auth_expiry, token_endpoint_down, pagination, tls
};

std::string_view to_string(fault_kind k) noexcept {
  switch (k) {
    case fault_kind::none: return "";
    case fault_kind::status: return "status";
    case fault_kind::latency: return "latency";
    case fault_kind::hang: return "hang";
    case fault_kind::reset: return "reset";
    case fault_kind::empty_reply: return "empty_reply";
    case fault_kind::close: return "close";
    case fault_kind::slow_body: return "slow_body";
    case fault_kind::malformed: return "malformed";
    case fault_kind::schema_drift: return "schema_drift";
    case fault_kind::rate_limit: return "rate_limit";
    case fault_kind::outage: return "outage";
    case fault_kind::auth_expiry: return "auth_expiry";
    case fault_kind::token_endpoint_down: return "token_endpoint_down";
    case fault_kind::pagination: return "pagination";
    case fault_kind::tls: return "tls";
  }
  return "";
}

fault_kind kind_of(const plan::fault& f) noexcept {
  for (auto k : {fault_kind::status, fault_kind::latency, fault_kind::hang, fault_kind::reset, fault_kind::empty_reply,
                 fault_kind::close, fault_kind::slow_body, fault_kind::malformed, fault_kind::schema_drift,
                 fault_kind::rate_limit, fault_kind::outage, fault_kind::auth_expiry,
                 fault_kind::token_endpoint_down, fault_kind::pagination,
                 fault_kind::tls}) {
    if (f.kind == to_string(k)) return k;
  }
  return fault_kind::none;  // unreachable: fault_injector keeps injectable kinds only
}

// A route with its answers serialized once: the normal one and each way a fault breaks it.
struct compiled_route {
  route spec;
  canned_response normal;
  canned_response replayed;  // the normal answer marked as a replay of a stored one
  bool unsafe = false;       // a method whose repetition repeats its effect: POST, PATCH
  std::array<canned_response, 4> malformed;  // by plan::malformation
};

// What the session does with a fully read request.
enum class action : std::uint8_t {
  answer,         // write `response` (after `delay`), keep the connection if the client does
  answer_close,   // write `response`, then close (its Content-Length overstates the body)
  hang,           // nothing; hold the connection until the client gives up
  reset,          // RST
  empty_reply,    // FIN without a byte
  cut,            // the head and `cut_at` body bytes, then FIN
  dribble,        // the head, then the body in `chunks` pieces spread over `spread`
};

struct decision {
  const canned_response* response = nullptr;
  std::optional<canned_response> owned;  // a response built for this request (Retry-After as a date...)
  action act = action::answer;
  fate outcome = fate::answered;
  core::duration delay{};                // real time to wait before answering
  std::size_t cut_at = 0;                // cut: body bytes sent
  int chunks = 1;                        // dribble
  core::duration spread{};               // dribble: real time over which the body is sent
  bool stopped = false;                  // the server is stopping: drop the connection
  std::string running_key;               // an Idempotency-Key whose first request this is, until answered
  std::uint64_t generation = 0;          // which records_ the request's record went into...
  std::size_t record = SIZE_MAX;         // ...and where (SIZE_MAX: not kept)
  // Proxy mode: the answer comes from the real upstream; `body_fault` (a fault index, or -1) then
  // breaks it the way a `close`, `slow_body`, `malformed` or `schema_drift` fault does.
  bool forward = false;
  int body_fault = -1;
  // A paginated route's normal answer: the page to build (outside the server's lock), and how a
  // `pagination` fault breaks it.
  const compiled_route* paged = nullptr;
  page_position page;
  std::optional<plan::page_breakage> breakage;

  const canned_response* answer() const noexcept { return owned ? &*owned : response; }
};

// Kept compactly (the method and target share one string) since a run may record many requests.
struct stored_record {
  core::duration at{};
  std::int32_t route = -1;
  std::int16_t status = 0;
  fault_kind fault = fault_kind::none;
  fate outcome = fate::answered;
  std::string request_line;  // "METHOD target"
  std::string idempotency_key;
  std::string request_id;
  core::duration latency{};
  bool effect = false;
  bool duplicate_effect = false;
  std::string tls_error;
};

// One accepted connection. Everything here is touched on its strand only.
struct connection {
  connection(tcp::socket s, std::uint64_t connection_id)
      : strand(s.get_executor()),
        socket(std::move(s)),
        watchdog(strand),
        delay(strand),
        id(connection_id) {}

  // The watchdog is lazy: moving a deadline later costs nothing (it re-arms when it wakes), and
  // only an earlier deadline than the armed one wakes it. In keep-alive steady state the request,
  // write and idle deadlines only move forward, so requests do no timer work at all.
  void set_deadline(core::duration real) {
    timed_out = false;
    deadline = steady::now() + std::chrono::duration_cast<steady::duration>(real);
    if (deadline < armed) watchdog.cancel();
  }
  void clear_deadline() {
    timed_out = false;
    deadline = steady::time_point::max();
  }
  void close() {
    if (closed) return;
    closed = true;
    error_code ignored;
    socket.close(ignored);
    watchdog.cancel();
    delay.cancel();
  }

  const asio::any_io_executor strand;
  tcp::socket socket;
  // HTTPS: the TLS layer over `socket`, made once the connection's context is chosen. Deadlines,
  // resets and closes still act on `socket`, which cancels or ends the TLS operations above it.
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  asio::steady_timer watchdog;
  asio::steady_timer delay;
  steady::time_point deadline = steady::time_point::max();
  steady::time_point armed = steady::time_point::max();
  bool timed_out = false;  // the watchdog cancelled the pending operation
  bool closed = false;
  const std::uint64_t id;
};

void log_escaped(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::warn("mock server: connection dropped: {}", ex.what());
  } catch (...) {
    spdlog::warn("mock server: connection dropped: unknown exception");
  }
}

bool expects_continue(const http::request<http::string_body>& req) {
  return req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue");
}

}  // namespace

class server_state : public std::enable_shared_from_this<server_state> {
 public:
  server_state(asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
               core::time_scale scale, std::vector<route> routes, auth_requirement auth,
               std::vector<plan::fault> faults, server_options options)
      : ex_(std::move(ex)),
        clock_(clock),
        origin_(origin),
        scale_(scale),
        options_(std::move(options)),
        auth_(std::move(auth)),
        injector_(std::move(faults), options_.seed),
        acceptor_strand_(serialized(ex_)),
        acceptor_(acceptor_strand_),
        accept_pause_(acceptor_strand_) {
    for (auto& r : routes) {
      // Methods are case-sensitive on the wire; plans write them in any case.
      std::transform(r.method.begin(), r.method.end(), r.method.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
      compiled_route c;
      c.normal = make_canned_response(r.status, r.content_type, r.body);
      const std::pair<std::string_view, std::string_view> replay_marker[] = {{"Idempotent-Replayed", "true"}};
      c.replayed = make_canned_response(r.status, r.content_type, r.body, replay_marker);
      // PUT and DELETE are idempotent by definition: applying one twice is applying it once.
      c.unsafe = r.method == "POST" || r.method == "PATCH";
      using plan::malformation;
      c.malformed[static_cast<std::size_t>(malformation::truncated)] =
          make_canned_response(r.status, r.content_type, truncate_body(r.body));
      c.malformed[static_cast<std::size_t>(malformation::invalid_utf8)] =
          make_canned_response(r.status, r.content_type, invalid_utf8_body(r.body));
      c.malformed[static_cast<std::size_t>(malformation::wrong_content_type)] =
          make_canned_response(r.status, html_content_type, std::string(html_error_page));
      c.malformed[static_cast<std::size_t>(malformation::wrong_content_length)] = with_overstated_length(c.normal, 64);
      c.spec = std::move(r);
      routes_.push_back(std::move(c));
    }
    for (const auto& f : injector_.faults()) {
      const auto kind = kind_of(f);
      kinds_.push_back(kind);
      const bool error_status = kind == fault_kind::status ||
                                (kind == fault_kind::outage && f.outage == plan::outage_mode::status) ||
                                (kind == fault_kind::token_endpoint_down && f.status != 0);
      if (error_status && f.retry_after && f.retry_after_as == plan::retry_after_format::seconds) {
        const std::string seconds = retry_after_value(*f.retry_after);
        const std::pair<std::string_view, std::string_view> retry_after[] = {{"Retry-After", seconds}};
        fault_responses_.push_back(make_json_error(f.status, "injected", retry_after));
      } else if (error_status) {
        fault_responses_.push_back(make_json_error(f.status, "injected"));  // a date Retry-After is added per request
      } else if (kind == fault_kind::pagination) {
        // invalid_cursor: the error an API gives for an expired or evicted cursor.
        fault_responses_.push_back(make_json_error(f.status, f.error_code.empty() ? "invalid_cursor" : f.error_code));
      } else {
        fault_responses_.emplace_back();  // unused: the other kinds answer with the route's bytes or none
      }
      std::vector<canned_response> drifted;
      if (kind == fault_kind::schema_drift) {
        for (const auto& r : routes_) {
          boost::system::error_code ec;
          const auto example = boost::json::parse(r.spec.body, ec);
          drifted.push_back(ec ? r.normal
                               : make_canned_response(r.spec.status, r.spec.content_type, drifted_body(example, f)));
        }
      }
      drifted_.push_back(std::move(drifted));
    }
    injected_.assign(kinds_.size(), 0);
    if (auth_.oauth2) tokens_ = std::make_unique<token_authority>(*auth_.oauth2, clock_);
    if (beast::iequals(auth_.header, "Authorization") || (auth_.jwt && beast::iequals(auth_.jwt->header, "Authorization"))) {
      const std::pair<std::string_view, std::string_view> challenge[] = {
          {"WWW-Authenticate", auth_.jwt ? R"(Bearer realm="planproof")" : R"(Bearer error="invalid_token")"}};
      unauthorized_ = make_json_error(401, "unauthorized", challenge);
    } else {
      unauthorized_ = make_json_error(401, "unauthorized");
    }
  }

  std::error_code listen() {
    error_code ec;
    const auto address = asio::ip::make_address(options_.address, ec);
    if (ec) return ec;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return error_code(asio::error::operation_aborted);
      if (listening_) return error_code(asio::error::already_open);
      listening_ = true;
    }
    unsigned short bound = 0;
    if (ec = open_and_listen(acceptor_, address, options_.port, bound); ec) {
      std::lock_guard lock(mutex_);
      listening_ = false;
      return ec;
    }
    port_ = bound;
    asio::co_spawn(acceptor_strand_, accept_loop(shared_from_this()), log_escaped);
    return {};
  }

  void stop() {
    std::vector<std::shared_ptr<connection>> open;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      for (auto& [id, weak] : connections_) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
      changed_.notify_all();
    }
    asio::post(acceptor_strand_, [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->accept_pause_.cancel();
    });
    for (auto& c : open) asio::post(c->strand, [c] { c->close(); });
  }

  unsigned short port() const noexcept { return port_.load(); }
  std::uint64_t request_count() const noexcept { return request_count_.load(); }
  std::size_t ignored_faults() const noexcept { return injector_.ignored(); }

  std::uint64_t dropped_records() const noexcept { return dropped_.load(); }

  std::size_t open_connections() const {
    std::lock_guard lock(mutex_);
    return connections_.size();
  }

  std::vector<std::string> issued_tokens() const {
    return tokens_ ? tokens_->issued_tokens() : std::vector<std::string>();
  }

  std::vector<request_record> records() const {
    std::lock_guard lock(mutex_);
    std::vector<request_record> out;
    out.reserve(records_.size());
    for (const auto& s : records_) {
      request_record r;
      r.at = s.at;
      if (s.route >= 0) r.endpoint_id = routes_[static_cast<std::size_t>(s.route)].spec.endpoint_id;
      if (s.route == token_route) r.endpoint_id = "(token)";
      const auto space = s.request_line.find(' ');
      if (space != std::string::npos) {
        r.method = s.request_line.substr(0, space);
        r.target = s.request_line.substr(space + 1);
      }
      r.status = s.status;
      r.fault = std::string(to_string(s.fault));
      r.idempotency_key = s.idempotency_key;
      r.outcome = s.outcome;
      r.latency = s.latency;
      r.request_id = s.request_id;
      r.effect = s.effect;
      r.duplicate_effect = s.duplicate_effect;
      r.tls_error = s.tls_error;
      out.push_back(std::move(r));
    }
    return out;
  }

  template <class Predicate>
  bool wait(core::duration timeout, Predicate done) const {
    std::unique_lock lock(mutex_);
    ++waiters_;
    const bool ok = changed_.wait_for(lock, timeout, [&] { return done(); });
    --waiters_;
    return ok;
  }
  bool requests_at_least(std::uint64_t n) const { return request_count_.load() >= n; }
  bool answers_at_least(std::uint64_t n) const { return metrics_.answered >= n; }  // locked
  bool connections_at_most(std::size_t n) const { return connections_.size() <= n; }  // locked

 private:
  static asio::awaitable<void> accept_loop(std::shared_ptr<server_state> self) {
    for (;;) {
      // Each connection gets its own strand, so a multi-threaded executor never runs two of its
      // handlers (session, watchdog, stop) at once.
      auto [ec, socket] = co_await self->acceptor_.async_accept(self->serialized(self->ex_), use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) co_return;
        // Out of descriptors and the like: pause rather than spin, and keep serving the open
        // connections; one of them closing is what frees the resource.
        self->accept_pause_.expires_after(std::chrono::milliseconds(50));
        co_await self->accept_pause_.async_wait(use_tuple);
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto c = self->add(std::move(socket));
      if (!c) continue;
      asio::co_spawn(c->strand, watchdog(c), log_escaped);
      asio::co_spawn(c->strand, session(self, c), log_escaped);
    }
  }

  // Enforces the connection's deadline: when it passes, cancels the pending operation and flags
  // it, and the session decides what a timeout means where it is (silent close, 408, drop).
  static asio::awaitable<void> watchdog(std::shared_ptr<connection> c) {
    while (!c->closed) {
      if (c->deadline <= steady::now()) {
        c->timed_out = true;
        c->deadline = steady::time_point::max();
        error_code ignored;
        c->socket.cancel(ignored);
      }
      c->armed = c->deadline;
      c->watchdog.expires_at(c->armed);
      co_await c->watchdog.async_wait(use_tuple);
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<server_state> self, std::shared_ptr<connection> c) {
    // However the session ends (return, exception, or its frame destroyed with the io_context),
    // the connection is closed and leaves the registry.
    struct cleanup {
      server_state& state;
      connection& conn;
      ~cleanup() {
        conn.close();
        state.remove(conn.id);
      }
    } guard{*self, *c};

    if (!self->options_.tls) {
      co_await serve(self, c, c->socket);
    } else if (co_await self->handshake(*c)) {
      co_await serve(self, c, *c->tls);
    }
  }

  // --- HTTPS -------------------------------------------------------------------------------------

  struct handshake_decision {
    bool stopped = false;
    std::optional<std::size_t> fault;  // index of the tls fault selected for this connection
    tls_fault tls = tls_fault::none;
  };

  // Which context this connection's handshake uses. Every new connection counts for the tls
  // faults' selectors and takes their draws, before anything is read from it.
  handshake_decision decide_handshake() {
    std::lock_guard lock(mutex_);
    if (stopped_) return {.stopped = true};
    handshake_decision d;
    const auto none = [](std::string_view) { return std::string_view(); };
    if (const auto chosen = injector_.decide(fault_injector::handshake, clock_.now() - origin_, "", none)) {
      d.fault = chosen->index;
      d.tls = parse_tls_fault(plan::to_string(injector_.faults()[chosen->index].tls)).value_or(tls_fault::none);
      ++injected_[chosen->index];
    }
    return d;
  }

  // Runs the server side of the handshake within handshake_timeout. A failed one is recorded (the
  // connection never carried a request) and the connection lingers, so that the alert we sent is
  // read before the close; false then.
  asio::awaitable<bool> handshake(connection& c) {
    const auto d = decide_handshake();
    if (d.stopped) co_return false;
    auto* context = options_.tls->find(d.tls);
    // A fault whose context was not loaded does nothing; the normal context is always there.
    const bool faulted = d.fault && context != nullptr;
    if (context == nullptr) context = options_.tls->find(tls_fault::none);
    if (context == nullptr) {
      record_handshake(false, "no server certificate loaded");
      co_return false;
    }
    c.tls.emplace(c.socket, *context);
    c.set_deadline(options_.handshake_timeout);
    auto [ec] = co_await c.tls->async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (!ec) {
      if (faulted) record_handshake(true, {});
      co_return true;
    }
    if (c.closed) co_return false;
    const bool timed_out = c.timed_out && ec == asio::error::operation_aborted;
    if (!record_handshake(faulted, timed_out ? "handshake timed out" : describe_tls_error(ec, c.tls->native_handle())))
      co_return false;
    if (!timed_out) co_await linger(options_, c, c.socket);
    co_return false;
  }

  // A failed handshake becomes a record (a request that never was); a faulted one that succeeded
  // (no_client_certificate_required, or a client that does not verify) is counted only. False
  // when the server is stopping.
  bool record_handshake(bool faulted, std::string failure) {
    std::lock_guard lock(mutex_);
    if (stopped_) return false;
    if (failure.empty()) {
      if (faulted) ++metrics_.by_fault[std::string(to_string(fault_kind::tls))];
      return true;
    }
    stored_record rec;
    rec.at = clock_.now() - origin_;
    rec.fault = faulted ? fault_kind::tls : fault_kind::none;
    rec.outcome = fate::tls_failed;
    rec.tls_error = std::move(failure);
    append(std::move(rec));
    return true;
  }

  // The connection's requests, one after the other, over plain TCP or TLS.
  template <class Stream>
  static asio::awaitable<void> serve(std::shared_ptr<server_state> self, std::shared_ptr<connection> c, Stream& socket) {
    const auto& opt = self->options_;
    // The parser bounds header and body; this bounds what a client can pipeline ahead of us.
    beast::flat_buffer buffer(std::size_t{opt.header_limit} + 2 * read_chunk);
    for (;;) {
      if (buffer.size() == 0) {
        // Idle: no request started, so a timeout or a close here ends nothing that was asked.
        c->set_deadline(opt.idle_timeout);
        auto [ec, n] = co_await socket.async_read_some(buffer.prepare(beast::read_size(buffer, read_chunk)),
                                                       use_tuple);
        if (ec) co_return;
        buffer.commit(n);
      }

      c->set_deadline(opt.request_timeout);
      http::request_parser<http::string_body> parser;
      parser.header_limit(opt.header_limit);
      parser.body_limit(opt.body_limit);
      error_code ec;
      std::tie(ec, std::ignore) = co_await http::async_read_header(socket, buffer, parser, use_tuple);
      if (!ec && !parser.is_done()) {
        if (expects_continue(parser.get())) {
          std::tie(ec, std::ignore) =
              co_await asio::async_write(socket, asio::buffer(continue_response), use_tuple);
        }
        if (!ec) std::tie(ec, std::ignore) = co_await http::async_read(socket, buffer, parser, use_tuple);
      }

      if (ec) {
        if (c->closed) co_return;
        const canned_response* answer = self->failure_response(ec, c->timed_out);
        // The request line is kept when it was parsed, even if a later header or the body failed.
        std::string request_line;
        const auto& partial = parser.get();
        if (!partial.method_string().empty() || !partial.target().empty()) {
          request_line.append(partial.method_string()).append(" ").append(partial.target());
        }
        if (!self->record_failure(std::move(request_line), answer ? answer->status : 0)) co_return;
        if (answer) {
          c->set_deadline(opt.write_timeout);
          if (co_await write(socket, *answer, "Connection: close\r\n", false)) co_return;
        }
        co_await linger(opt, *c, socket);
        co_return;
      }

      const auto& req = parser.get();
      const auto read_at = steady::now();
      decision d = self->decide(req);
      if (d.stopped) co_return;
      // However this request ends (answered, or the connection gone), its idempotency key stops
      // being "in use" then.
      struct key_release {
        server_state& state;
        const decision& d;
        ~key_release() { state.finish_key_locked(d); }
      } release{*self, d};
      switch (d.act) {
        case action::hang: co_await hold(opt, *c); co_return;
        case action::reset: reset(*c); co_return;
        case action::empty_reply: co_await linger(opt, *c, socket); co_return;
        default: break;
      }
      if (d.delay > core::duration::zero()) {
        if (!co_await pause(*c, d.delay)) co_return;
      }
      std::optional<canned_response> relayed;
      if (d.forward) {
        c->set_deadline(opt.upstream->options().timeout + opt.write_timeout);
        const auto fwd = co_await opt.upstream->forward(req, c->strand);
        relayed = self->relay(fwd, d);
        self->relayed(d, relayed->status);  // recorded even when the app is gone meanwhile
        if (c->closed) co_return;
      }
      const auto& answer = relayed ? *relayed : *d.answer();
      const bool head_only = req.method() == http::verb::head;
      // These faults end the connection, and say so; the others keep it when the client does.
      const bool keep_alive = req.keep_alive() && d.act != action::cut && d.act != action::answer_close;
      const std::string_view connection_header = !keep_alive          ? "Connection: close\r\n"
                                                 : req.version() < 11 ? "Connection: keep-alive\r\n"
                                                                      : "";
      c->set_deadline(opt.write_timeout);
      if (d.act == action::cut) {
        const std::array<asio::const_buffer, 4> buffers{
            asio::buffer(answer.head), asio::buffer(connection_header), asio::buffer(crlf),
            asio::buffer(answer.body.data(), head_only ? 0 : d.cut_at)};
        auto [ec, n] = co_await asio::async_write(socket, buffers, use_tuple);
        if (!ec) co_await linger(opt, *c, socket);
        co_return;
      }
      if (d.act == action::dribble && !head_only) {
        if (co_await dribble(opt, *c, socket, answer, connection_header, d.chunks, d.spread)) co_return;
      } else if (co_await write(socket, answer, connection_header, head_only)) {
        co_return;
      }
      self->answered(d, answer.status, steady::now() - read_at);
      if (!keep_alive) {
        co_await linger(opt, *c, socket);
        co_return;
      }
    }
  }

  // Waits `real` on the connection's timer; false when the connection closed meanwhile.
  static asio::awaitable<bool> pause(connection& c, core::duration real) {
    c.clear_deadline();  // the wait is bounded by itself; no socket operation is pending
    c.delay.expires_after(std::chrono::duration_cast<steady::duration>(real));
    auto [ec] = co_await c.delay.async_wait(use_tuple);
    co_return !ec && !c.closed;
  }

  // The `slow_body` fault: the head at once, then the body in `chunks` pieces, the first after
  // spread/chunks and the last at `spread`. An error ends it like any failed write.
  template <class Stream>
  static asio::awaitable<error_code> dribble(const server_options& opt, connection& c, Stream& stream,
                                             const canned_response& r, std::string_view connection_header, int chunks,
                                             core::duration spread) {
    {
      const std::array<asio::const_buffer, 3> head{asio::buffer(r.head), asio::buffer(connection_header),
                                                   asio::buffer(crlf)};
      auto [ec, n] = co_await asio::async_write(stream, head, use_tuple);
      if (ec) co_return ec;
    }
    const std::size_t pieces = std::max<std::size_t>(1, std::min<std::size_t>(static_cast<std::size_t>(chunks), r.body.size()));
    std::size_t sent = 0;
    for (std::size_t k = 1; k <= pieces; ++k) {
      if (!co_await pause(c, spread / static_cast<long>(pieces))) co_return error_code(asio::error::operation_aborted);
      const std::size_t upto = r.body.size() * k / pieces;
      c.set_deadline(opt.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(r.body.data() + sent, upto - sent), use_tuple);
      if (ec) co_return ec;
      sent = upto;
    }
    co_return error_code();
  }

  // The `reset` fault: with a zero linger time, closing sends RST instead of FIN.
  static void reset(connection& c) {
    error_code ignored;
    c.socket.set_option(asio::socket_base::linger(true, 0), ignored);
    c.close();
  }

  template <class Stream>
  static asio::awaitable<error_code> write(Stream& stream, const canned_response& r,
                                           std::string_view connection_header, bool head_only) {
    const std::array<asio::const_buffer, 4> buffers{
        asio::buffer(r.head), asio::buffer(connection_header), asio::buffer(crlf),
        head_only ? asio::const_buffer() : asio::buffer(r.body)};
    auto [ec, n] = co_await asio::async_write(stream, buffers, use_tuple);
    co_return ec;
  }

  // The `hang` fault: never answer, but keep reading (and discarding) so the client's close is
  // seen and the connection dropped at once; hang_limit bounds a client that never gives up.
  // Requests pipelined behind the hung one are discarded unread, as a stuck upstream would. Over
  // TLS too the raw bytes are read: nothing in them needs decrypting to be thrown away.
  static asio::awaitable<void> hold(const server_options& opt, connection& c) {
    c.set_deadline(opt.hang_limit);
    std::array<char, 2048> sink;
    for (;;) {
      auto [ec, n] = co_await c.socket.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) co_return;
    }
  }

  // Closing a socket with unread input makes the kernel send RST, which can destroy the answer we
  // just wrote before the client reads it. So: send FIN, drain input briefly, then close. Over TLS,
  // close_notify first, so the client reads a clean end of the stream rather than a truncation.
  template <class Stream>
  static asio::awaitable<void> linger(const server_options& opt, connection& c, Stream& stream) {
    if constexpr (!std::is_same_v<Stream, tcp::socket>) {
      c.set_deadline(opt.linger_timeout);
      auto [shutdown_ec] = co_await stream.async_shutdown(use_tuple);
      if (c.closed || c.timed_out) co_return;
    }
    error_code ec;
    c.socket.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    c.set_deadline(opt.linger_timeout);
    std::array<char, 2048> sink;
    for (;;) {
      auto [read_ec, n] = co_await c.socket.async_read_some(asio::buffer(sink), use_tuple);
      if (read_ec) co_return;
    }
  }

  asio::any_io_executor serialized(const asio::any_io_executor& ex) const {
    if (options_.single_threaded_executor) return ex;
    return asio::make_strand(ex);
  }

  const canned_response* failure_response(const error_code& ec, bool timed_out) const {
    if (timed_out && ec == asio::error::operation_aborted) return &request_timeout_;
    if (ec == http::error::header_limit) return &header_too_large_;
    if (ec == http::error::body_limit) return &body_too_large_;
    // The client went away mid-request: nobody to answer.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return nullptr;
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) return &bad_request_;
    return nullptr;  // reset, broken pipe: also gone
  }

  const compiled_route* find_route(std::string_view method, std::string_view path) const noexcept {
    for (const auto& r : routes_) {
      if (r.spec.path == path && r.spec.method == method) return &r;
    }
    for (const auto& r : routes_) {
      if (r.spec.method == method && r.spec.path.find('{') != std::string::npos && match_path(r.spec.path, path)) return &r;
    }
    return nullptr;
  }

  // Whether the request's credential passes; when it does not, `refusal` says how to answer.
  bool authorized(const http::request<http::string_body>& req, decision& refusal) const {
    if (tokens_) {
      const auto access = tokens_->authorize(req);
      if (access.granted()) return true;
      const std::string challenge = bearer_challenge(access);
      const std::pair<std::string_view, std::string_view> headers[] = {{"WWW-Authenticate", challenge}};
      refusal.owned = make_json_error(static_cast<int>(access.status()), to_string(access.verdict), headers);
      return false;
    }
    if (auth_.hmac) {
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      const auto check = verify_signed_request(*auth_.hmac, req, auth_.hmac_key, now);
      if (check.ok()) return true;
      refusal.owned = make_json_error(401, "invalid_signature_" + std::string(core::to_string(check.verdict)));
      return false;
    }
    if (auth_.jwt) return jwt_authorized(req, refusal);
    if (credential_ok(req)) return true;
    refusal.response = &unauthorized_;
    return false;
  }

  // The token a request presents for auth: jwt, or empty: a Bearer credential in Authorization,
  // the whole value of any other header.
  std::string_view presented_jwt(const http::request<http::string_body>& req) const {
    const std::string_view value = req[auth_.jwt->header];
    if (!beast::iequals(auth_.jwt->header, "Authorization")) return value;
    if (value.size() < 7 || !beast::iequals(value.substr(0, 7), "Bearer ")) return {};
    return value.substr(7);
  }

  bool jwt_authorized(const http::request<http::string_body>& req, decision& refusal) const {
    const auto& j = *auth_.jwt;
    const auto token = presented_jwt(req);
    if (token.empty()) {
      refusal.response = &unauthorized_;
      return false;
    }
    const auto check = core::verify_jwt(j.key, token, j.expect, j.calendar.at(clock_.now()));
    std::string why;
    if (!check.ok()) {
      why = std::string(core::to_string(check.verdict)) + (check.claim.empty() ? "" : " (" + check.claim + ")");
    } else if (revoked_jwts_->contains(token.substr(token.rfind('.') + 1))) {
      why = "revoked";
    } else {
      return true;
    }
    const std::string challenge = R"(Bearer error="invalid_token", error_description="The token is )" + why + '"';
    const std::pair<std::string_view, std::string_view> headers[] = {{"WWW-Authenticate", challenge}};
    refusal.owned = make_json_error(401, "invalid_token", headers);
    return false;
  }

  // The static credential a request presents: the api_key/bearer header's value (a view into the
  // request, no copy on this per-request path), or the api_key query parameter's, decoded into
  // `decoded`. Empty when it presents none or the plan has none.
  std::string_view presented_credential(const http::request<http::string_body>& req, std::string& decoded) const {
    if (!auth_.query_param.empty()) {
      const std::string_view target = req.target();
      const auto q = target.find('?');
      if (q == std::string_view::npos) return {};
      decoded = query_param(target.substr(q + 1), auth_.query_param).value_or(std::string());
      return decoded;
    }
    if (auth_.header.empty()) return {};
    return req[auth_.header];
  }

  bool credential_ok(const http::request<http::string_body>& req) const {
    if (auth_.header.empty() && auth_.query_param.empty()) return true;
    std::string decoded;
    const auto value = presented_credential(req, decoded);
    if (value.empty()) return false;
    const auto& expected = auth_.expected_value;
    // Only the length may leak through timing; the bytes are compared in constant time.
    return value.size() == expected.size() && CRYPTO_memcmp(value.data(), expected.data(), value.size()) == 0;
  }

  // The decision, and for a paginated route's normal answer its page, built outside the lock.
  decision decide(const http::request<http::string_body>& req) {
    decision d = decide_request(req);
    if (d.paged != nullptr && d.response == &d.paged->normal && !d.owned) {
      const auto page = d.paged->spec.pages->serve(d.page, d.breakage);
      std::vector<std::pair<std::string_view, std::string_view>> headers;
      if (!page.link.empty()) headers.emplace_back("Link", page.link);
      d.owned = make_canned_response(d.paged->spec.status, d.paged->spec.content_type, page.body, headers);
    }
    return d;
  }

  decision decide_request(const http::request<http::string_body>& req) {
    const std::string_view target(req.target());
    const std::string_view method(req.method_string());
    if (tokens_ && method == "POST" && target.substr(0, target.find('?')) == auth_.token_path) return decide_token(req);
    const auto* r = find_route(method, target.substr(0, target.find('?')));

    decision d;
    stored_record rec;
    rec.request_line.reserve(method.size() + 1 + target.size());
    rec.request_line.append(method).append(" ").append(target);
    if (options_.upstream) return decide_proxied(req, r, std::move(rec));
    if (!r) {
      d.outcome = fate::not_found;
      d.response = &not_found_;
    } else {
      rec.route = static_cast<std::int32_t>(r - routes_.data());
      if (r->spec.idempotency_header) {
        const auto it = req.find(*r->spec.idempotency_header);
        if (it != req.end()) rec.idempotency_key = it->value();
      }
      if (const auto it = req.find("X-Request-Id"); it != req.end() && it->value().size() <= 128) {
        rec.request_id = it->value();
      }
      if (!authorized(req, d)) {
        d.outcome = fate::unauthorized;
      } else {
        d.outcome = fate::answered;
        d.response = &r->normal;
        if (r->spec.pages) locate_page(*r, target, d);
      }
    }

    std::lock_guard lock(mutex_);
    // Checked under the lock stop() takes: once stop() has returned, the clock is never read.
    if (stopped_) return decision{.stopped = true};
    const core::duration elapsed = clock_.now() - origin_;
    if (d.outcome == fate::answered) {
      std::string decoded;
      const std::string_view credential = presented_credential(req, decoded);
      const auto header = [&](std::string_view name) { return std::string_view(req[name]); };
      if (tokens_) current_request_token_ = bearer_token(req);
      if (auth_.jwt) current_request_token_ = presented_jwt(req);
      const page_scope scope{d.paged != nullptr, d.paged != nullptr && d.page.continuation,
                             d.paged != nullptr && d.page.offset > 0};
      if (const auto chosen = injector_.decide(r->spec.endpoint_id, elapsed, credential, header, scope)) {
        apply(*chosen, *r, d);
        rec.fault = kinds_[chosen->index];
        ++injected_[chosen->index];
      }
      if (r->unsafe) account_effect(*r, req.body(), rec, d);
    }
    rec.at = elapsed;
    const auto* answer = d.answer();
    const bool sent = answer != nullptr && d.act != action::hang && d.act != action::reset && d.act != action::empty_reply;
    rec.status = static_cast<std::int16_t>(sent ? answer->status : 0);
    rec.outcome = d.outcome;
    d.generation = generation_;
    d.record = append(std::move(rec));
    return d;
  }

  // Proxy mode: every request goes to the real upstream unless a fault answers in its place. Faults
  // without an endpoint apply to every request, those with one to its route's requests. A request to
  // the token path (auth.token_path, POST) is decided as the embedded token endpoint decides them:
  // only token_endpoint_down faults apply to it.
  decision decide_proxied(const http::request<http::string_body>& req, const compiled_route* r, stored_record rec) {
    decision d;
    d.forward = true;
    d.outcome = fate::proxied;
    const std::string_view target(req.target());
    const bool token_request = !auth_.token_path.empty() && req.method() == http::verb::post &&
                               target.substr(0, target.find('?')) == auth_.token_path;
    if (token_request) {
      r = nullptr;
      rec.route = token_route;
    }
    if (r) rec.route = static_cast<std::int32_t>(r - routes_.data());
    if (const auto it = req.find("X-Request-Id"); it != req.end() && it->value().size() <= 128) {
      rec.request_id = it->value();
    }
    if (r && r->spec.idempotency_header) {
      const auto it = req.find(*r->spec.idempotency_header);
      if (it != req.end()) rec.idempotency_key = it->value();
    }
    std::lock_guard lock(mutex_);
    if (stopped_) return decision{.stopped = true};
    const core::duration elapsed = clock_.now() - origin_;
    const std::string_view credential =
        auth_.header.empty() ? std::string_view() : std::string_view(req[auth_.header]);
    const auto header = [&](std::string_view name) { return std::string_view(req[name]); };
    const std::string_view endpoint = token_request ? fault_injector::token_endpoint
                                      : r               ? std::string_view(r->spec.endpoint_id)
                                                        : std::string_view();
    if (const auto chosen = injector_.decide(endpoint, elapsed, credential, header)) {
      const auto i = chosen->index;
      const auto& f = injector_.faults()[i];
      rec.fault = kinds_[i];
      ++injected_[i];
      switch (kinds_[i]) {
        case fault_kind::token_endpoint_down:
          // Late, or an error status in the token endpoint's place; a late one is then forwarded.
          if (f.delay) d.delay = std::min(scale_.to_real(*f.delay), options_.hang_limit);
          d.outcome = fate::delayed;
          if (f.status != 0) {
            d.forward = false;
            d.outcome = fate::fault_status;
            d.response = &fault_responses_[i];
            if (f.retry_after && f.retry_after_as == plan::retry_after_format::http_date) d.owned = dated_error(f);
          }
          break;
        case fault_kind::latency:
          d.delay = std::min(scale_.to_real(chosen->delay), options_.hang_limit);
          d.outcome = fate::delayed;
          break;
        case fault_kind::close:
        case fault_kind::slow_body:
        case fault_kind::malformed:
        case fault_kind::schema_drift:
          d.body_fault = static_cast<int>(i);
          break;
        case fault_kind::auth_expiry:
          d.forward = false;
          d.outcome = fate::unauthorized;
          d.response = &unauthorized_;
          break;
        default:
          // status, rate_limit, outage, hang, reset, empty_reply: the fault answers (or does not)
          // in the upstream's place, as a broken load balancer in front of it would.
          d.forward = false;
          apply(*chosen, proxy_route_, d);
          break;
      }
    }
    rec.at = elapsed;
    const auto* answer = d.forward ? nullptr : d.answer();
    const bool sent = answer != nullptr && d.act != action::hang && d.act != action::reset && d.act != action::empty_reply;
    rec.status = static_cast<std::int16_t>(sent ? answer->status : 0);
    rec.outcome = d.outcome;
    d.generation = generation_;
    d.record = append(std::move(rec));
    return d;
  }

  // The real upstream's answer to a forwarded request, as bytes to write: relayed as it came, or
  // broken by the request's body fault. Sets how to write it (cut, dribble, close) in `d`.
  canned_response relay(const forward_result& fwd, decision& d) const {
    if (!fwd.response) {
      d.outcome = fate::upstream_failed;
      const boost::json::object body{{"error", "upstream_unreachable"}, {"detail", fwd.error}};
      return make_canned_response(502, "application/json", boost::json::serialize(body));
    }
    auto res = *fwd.response;
    if (d.body_fault < 0) return from_beast(res);
    const auto& f = injector_.faults()[static_cast<std::size_t>(d.body_fault)];
    switch (kinds_[static_cast<std::size_t>(d.body_fault)]) {
      case fault_kind::close: {
        d.outcome = fate::cut;
        d.act = action::cut;
        d.cut_at = cut_point(f.after_bytes, res.body().size());
        return from_beast(res);
      }
      case fault_kind::slow_body:
        d.outcome = fate::dribbled;
        d.act = action::dribble;
        d.chunks = f.chunks;
        d.spread = std::min(scale_.to_real(f.over), options_.hang_limit);
        return from_beast(res);
      case fault_kind::malformed:
        d.outcome = fate::malformed;
        switch (f.malformed) {
          case plan::malformation::truncated: res.body() = truncate_body(res.body()); break;
          case plan::malformation::invalid_utf8: res.body() = invalid_utf8_body(res.body()); break;
          case plan::malformation::wrong_content_type:
            res.set(http::field::content_type, html_content_type);
            res.body() = html_error_page;
            break;
          case plan::malformation::wrong_content_length:
            d.act = action::answer_close;
            return with_overstated_length(from_beast(res), 64);
        }
        res.prepare_payload();
        return from_beast(res);
      case fault_kind::schema_drift: {
        d.outcome = fate::malformed;
        boost::system::error_code ec;
        const auto body = boost::json::parse(res.body(), ec);
        if (!ec) {
          res.body() = drifted_body(body, f);
          res.prepare_payload();
        }
        return from_beast(res);
      }
      default:
        return from_beast(res);
    }
  }

  // A forwarded request's answer is known: its status and fate go into its record.
  void relayed(const decision& d, int status) {
    std::lock_guard lock(mutex_);
    if (d.generation != generation_ || d.record >= records_.size()) return;
    records_[d.record].status = static_cast<std::int16_t>(status);
    records_[d.record].outcome = d.outcome;
  }

  // Which page a request to a paginated route asks for; a cursor the route never issued (or a page
  // or limit that is no number) is a 400 with a JSON error, and no fault applies to it.
  static void locate_page(const compiled_route& r, std::string_view target, decision& d) {
    auto where = r.spec.pages->locate(target);
    if (const auto* error = std::get_if<page_error>(&where)) {
      d.outcome = fate::bad_request;
      d.response = nullptr;
      d.owned = make_canned_response(400, "application/json", error->body());
      return;
    }
    d.paged = &r;
    d.page = std::get<page_position>(where);
  }

  // A request to the OAuth token endpoint: only token_endpoint_down faults apply here (a failing or
  // slow authorization server), and tokens issued while an auth_expiry fault with expire_after is
  // in its window live only that long.
  decision decide_token(const http::request<http::string_body>& req) {
    decision d;
    stored_record rec;
    rec.route = token_route;
    rec.request_line.append(req.method_string()).append(" ").append(req.target());
    bool issue = true;
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return decision{.stopped = true};
      const core::duration elapsed = clock_.now() - origin_;
      rec.at = elapsed;
      tokens_->set_early_expiry(injector_.early_expiry(elapsed));
      if (const auto chosen = injector_.decide(fault_injector::token_endpoint, elapsed, "",
                                               [](std::string_view) { return std::string_view(); })) {
        const auto& f = injector_.faults()[chosen->index];
        rec.fault = kinds_[chosen->index];
        ++injected_[chosen->index];
        if (f.delay) d.delay = std::min(scale_.to_real(*f.delay), options_.hang_limit);
        if (f.status != 0) {
          issue = false;
          d.outcome = fate::fault_status;
          d.response = &fault_responses_[chosen->index];
          if (f.retry_after && f.retry_after_as == plan::retry_after_format::http_date) d.owned = dated_error(f);
        } else {
          d.outcome = fate::delayed;
        }
      }
    }
    // Issued outside the lock: the authority has its own, and a token is never logged.
    if (issue) d.owned = from_beast(tokens_->handle_token_request(req));
    std::lock_guard lock(mutex_);
    if (stopped_) return decision{.stopped = true};
    rec.status = static_cast<std::int16_t>(d.answer()->status);
    rec.outcome = d.outcome == fate::answered && d.answer()->status >= 400 ? fate::unauthorized : d.outcome;
    d.generation = generation_;
    d.record = append(std::move(rec));
    return d;
  }

  // Idempotency and side effects (mutex_ held). A request turned away in front of the backend (a
  // status, rate-limit or outage fault) changes nothing; anything else on an unsafe route reached
  // it, even when its answer was then lost (reset, hang) or broken (malformed, cut): that is the
  // case a retry must not turn into a second payment. With an idempotency key the mock behaves as
  // the big APIs do: the first answer is stored and replayed for the same key and body, another
  // body under the same key is a 422, and a repeat while the first is still running is a 409.
  void account_effect(const compiled_route& r, std::string_view body, stored_record& rec, decision& d) {
    const bool turned_away = d.outcome == fate::fault_status || d.outcome == fate::rate_limited ||
                             d.outcome == fate::unauthorized;
    if (turned_away) return;
    const auto hash = std::hash<std::string_view>{}(body);
    if (!rec.idempotency_key.empty()) {
      auto it = keys_.find(rec.idempotency_key);
      if (it != keys_.end()) {
        if (it->second.body_hash != hash) {
          d = conflict(d, &key_reused_);
        } else if (it->second.running > 0) {
          d = conflict(d, &key_in_flight_);
        } else {
          // The stored answer again; a fault that breaks answers on the wire still breaks it.
          if (d.outcome == fate::answered) {
            d.outcome = fate::replayed;
            d.response = &r.replayed;
          }
          ++metrics_.replays;
        }
        rec.outcome = d.outcome;
        return;
      }
      if (keys_.size() >= options_.max_idempotency_keys && !key_order_.empty()) {
        keys_.erase(key_order_.front());
        key_order_.pop_front();
      }
      // "Still running" is the backend's own time, which a latency fault stands for; a body that
      // is slow on the wire or lost after the fact was processed already.
      const bool running = d.delay > core::duration::zero();
      keys_.emplace(rec.idempotency_key, stored_key{hash, running ? 1 : 0});
      key_order_.push_back(rec.idempotency_key);
      d.running_key = running ? rec.idempotency_key : std::string();
    }
    rec.effect = true;
    ++metrics_.side_effects;
    const std::string& identity = !rec.idempotency_key.empty() ? rec.idempotency_key : rec.request_id;
    if (!identity.empty() && !effects_.emplace(identity).second) {
      rec.duplicate_effect = true;
      ++metrics_.duplicate_effects;
    }
  }

  static decision conflict(const decision& from, const canned_response* answer) {
    decision d;
    d.outcome = fate::key_conflict;
    d.response = answer;
    d.generation = from.generation;
    return d;
  }

  // The answer to a decided request was written: its latency goes into its record and the totals.
  void answered(const decision& d, int status, steady::duration real) {
    const auto latency = std::chrono::duration_cast<core::duration>(real);
    std::lock_guard lock(mutex_);
    if (d.generation != generation_) return;  // reset meanwhile
    if (d.record < records_.size()) records_[d.record].latency = latency;
    const double seconds = core::to_seconds(latency);
    auto& m = metrics_;
    for (std::size_t i = 0; i < m.bucket_bounds.size(); ++i) {
      if (seconds <= m.bucket_bounds[i]) ++m.bucket_counts[i];
    }
    ++m.answered;
    m.latency_sum += seconds;
    (void)status;
    if (waiters_ > 0) changed_.notify_all();
  }

  // --- for server's public interface ---------------------------------------------------------------
 public:
  // The first request of an idempotency key is no longer running (answered, or its connection gone).
  void finish_key(const decision& d) {  // mutex_ held
    if (d.running_key.empty()) return;
    if (auto it = keys_.find(d.running_key); it != keys_.end() && it->second.running > 0) --it->second.running;
  }

  void finish_key_locked(const decision& d) {
    if (d.running_key.empty()) return;
    std::lock_guard lock(mutex_);
    finish_key(d);
  }

  std::vector<fault_state> fault_states() const {
    std::lock_guard lock(mutex_);
    std::vector<fault_state> out;
    const auto faults = injector_.faults();
    for (std::size_t i = 0; i < faults.size(); ++i) {
      out.push_back({i, faults[i].kind, faults[i].endpoint, injector_.enabled(i), injected_[i]});
    }
    return out;
  }

  bool set_fault_enabled(std::size_t index, bool enabled) {
    std::lock_guard lock(mutex_);
    return injector_.set_enabled(index, enabled);
  }

  void reset() {
    std::lock_guard lock(mutex_);
    ++generation_;
    records_.clear();
    metrics_ = server_metrics{};
    keys_.clear();
    key_order_.clear();
    effects_.clear();
    std::fill(injected_.begin(), injected_.end(), 0);
    injector_.reset();
    request_count_.store(0);
    dropped_.store(0);
  }

  server_metrics metrics() const {
    std::lock_guard lock(mutex_);
    return metrics_;
  }

 private:

  // What fault `chosen` does to a request for route `r`.
  static std::string bearer_token(const http::request<http::string_body>& req) {
    const std::string_view value = req[http::field::authorization];
    if (value.size() < 7 || !beast::iequals(value.substr(0, 7), "Bearer ")) return {};
    return std::string(value.substr(7));
  }

  void apply(const fault_decision& chosen, const compiled_route& r, decision& d) {
    const auto& f = injector_.faults()[chosen.index];
    const auto i = chosen.index;
    switch (kinds_[i]) {
      case fault_kind::status:
        d.outcome = fate::fault_status;
        d.response = &fault_responses_[i];
        if (f.retry_after && f.retry_after_as == plan::retry_after_format::http_date) d.owned = dated_error(f);
        break;
      case fault_kind::outage:
        if (f.outage == plan::outage_mode::reset) {
          d.outcome = fate::reset;
          d.act = action::reset;
        } else {
          d.outcome = fate::fault_status;
          d.response = &fault_responses_[i];
          if (f.retry_after && f.retry_after_as == plan::retry_after_format::http_date) d.owned = dated_error(f);
        }
        break;
      case fault_kind::latency:
        d.outcome = fate::delayed;
        d.delay = std::min(scale_.to_real(chosen.delay), options_.hang_limit);
        break;
      case fault_kind::hang:
        d.outcome = fate::hung;
        d.act = action::hang;
        break;
      case fault_kind::reset:
        d.outcome = fate::reset;
        d.act = action::reset;
        break;
      case fault_kind::empty_reply:
        d.outcome = fate::emptied;
        d.act = action::empty_reply;
        break;
      case fault_kind::close:
        d.outcome = fate::cut;
        d.act = action::cut;
        d.cut_at = cut_point(f.after_bytes, r.normal.body.size());
        break;
      case fault_kind::slow_body:
        d.outcome = fate::dribbled;
        d.act = action::dribble;
        d.chunks = f.chunks;
        d.spread = std::min(scale_.to_real(f.over), options_.hang_limit);
        break;
      case fault_kind::malformed:
        d.outcome = fate::malformed;
        d.response = &r.malformed[static_cast<std::size_t>(f.malformed)];
        if (f.malformed == plan::malformation::wrong_content_length) d.act = action::answer_close;
        break;
      case fault_kind::schema_drift:
        d.outcome = fate::malformed;
        d.response = &drifted_[i][static_cast<std::size_t>(&r - routes_.data())];
        break;
      case fault_kind::rate_limit:
        d.outcome = fate::rate_limited;
        d.owned = rate_limited(f, chosen);
        break;
      case fault_kind::auth_expiry:
        d.outcome = fate::unauthorized;
        d.response = &unauthorized_;
        if (tokens_) {
          // The credential dies here: this request and every later one with it get 401 until a
          // new token is fetched.
          const auto presented = current_request_token_;
          tokens_->revoke(presented);
          const std::pair<std::string_view, std::string_view> challenge[] = {
              {"WWW-Authenticate", R"(Bearer error="invalid_token", error_description="The access token was revoked")"}};
          d.response = nullptr;
          d.owned = make_json_error(401, "invalid_token", challenge);
        } else if (auth_.jwt) {
          // The token dies here, as a revoked one would: 401 until the client sends a new one.
          const std::string_view presented = current_request_token_;
          revoked_jwts_->add(presented.substr(presented.rfind('.') + 1), options_.max_records);
          const std::pair<std::string_view, std::string_view> challenge[] = {
              {"WWW-Authenticate", R"(Bearer error="invalid_token", error_description="The token is revoked")"}};
          d.response = nullptr;
          d.owned = make_json_error(401, "invalid_token", challenge);
        }
        break;
      case fault_kind::token_endpoint_down:
        break;  // applies to the token route only (decide_token)
      case fault_kind::pagination:
        if (f.breakage == plan::page_breakage::invalid_cursor) {
          d.outcome = fate::fault_status;
          d.response = &fault_responses_[i];
        } else {
          d.outcome = fate::malformed;  // the route's status, a page whose records are off
          d.breakage = f.breakage;
        }
        break;
      case fault_kind::tls:
        break;  // applies to handshakes only (decide_handshake)
      case fault_kind::none:
        break;
    }
  }

  // An error answer whose Retry-After is a date: now (wall clock) plus the plan's wait, rounded up
  // to the next whole second. The client reads the difference as plan time, like a delay-seconds.
  static canned_response dated_error(const plan::fault& f) {
    const auto when = std::chrono::system_clock::now() +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(*f.retry_after) +
                      std::chrono::seconds(1);
    const std::string date = http_date(when);
    const std::pair<std::string_view, std::string_view> retry_after[] = {{"Retry-After", date}};
    return make_json_error(f.status, "injected", retry_after);
  }

  // 429 with when to come back and the policy, in the IETF RateLimit header fields
  // (draft-ietf-httpapi-ratelimit-headers): quota and window of the bucket, nothing left now.
  static canned_response rate_limited(const plan::fault& f, const fault_decision& chosen) {
    const auto wait = chosen.retry_after.value_or(core::duration::zero());
    const std::string seconds = retry_after_value(wait);
    const auto quota = static_cast<long long>(chosen.bucket_size);
    const std::string window = retry_after_value(chosen.bucket_window);
    const std::string policy = "\"bucket\";q=" + std::to_string(quota) + ";w=" + window;
    const std::string state = "\"bucket\";r=0;t=" + seconds;
    const std::pair<std::string_view, std::string_view> headers[] = {
        {"Retry-After", seconds}, {"RateLimit-Policy", policy}, {"RateLimit", state}};
    return make_json_error(f.status, "rate_limited", headers);
  }

  // A request that never became a complete HTTP request. False when the server is stopping.
  bool record_failure(std::string request_line, int status) {
    stored_record rec;
    rec.request_line = std::move(request_line);
    rec.status = static_cast<std::int16_t>(status);
    rec.outcome = fate::bad_request;
    std::lock_guard lock(mutex_);
    if (stopped_) return false;
    rec.at = clock_.now() - origin_;
    append(std::move(rec));
    return true;
  }

  // Keeps the record (when there is room) and counts it; returns where it went, SIZE_MAX if dropped.
  std::size_t append(stored_record&& rec) {  // mutex_ held
    auto& m = metrics_;
    ++m.requests;
    ++m.by_endpoint[rec.route >= 0                ? routes_[static_cast<std::size_t>(rec.route)].spec.endpoint_id
                    : rec.route == token_route ? std::string("(token)")
                                               : std::string()];
    ++m.by_status[rec.status];
    ++m.by_fate[std::string(to_string(rec.outcome))];
    if (rec.fault != fault_kind::none) ++m.by_fault[std::string(to_string(rec.fault))];
    std::size_t at = SIZE_MAX;
    if (records_.size() < options_.max_records) {
      at = records_.size();
      records_.push_back(std::move(rec));
    } else {
      dropped_.fetch_add(1);
    }
    request_count_.fetch_add(1);
    if (waiters_ > 0) changed_.notify_all();
    return at;
  }

  std::shared_ptr<connection> add(tcp::socket socket) {
    std::lock_guard lock(mutex_);
    if (stopped_ || connections_.size() >= options_.max_connections) {
      error_code ignored;
      socket.close(ignored);
      return nullptr;
    }
    auto c = std::make_shared<connection>(std::move(socket), next_connection_id_++);
    connections_.emplace(c->id, c);
    return c;
  }

  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
    if (waiters_ > 0) changed_.notify_all();
  }

  // Immutable after construction, read by every connection without locking.
  const asio::any_io_executor ex_;
  const core::clock& clock_;
  const core::time_point origin_;
  const core::time_scale scale_;
  const server_options options_;
  const auth_requirement auth_;
  std::unique_ptr<token_authority> tokens_;  // oauth2: the token endpoint and the tokens it issued
  std::string current_request_token_;        // guarded by mutex_: the bearer token or JWT of the request being decided
  // auth: jwt: the signatures of tokens an auth_expiry fault revoked, at most max_records of them.
  struct revoked_set {
    mutable std::mutex mutex;
    std::unordered_set<std::string> signatures;
    std::deque<std::string> order;

    bool contains(std::string_view signature) const {
      std::lock_guard lock(mutex);
      return signatures.contains(std::string(signature));
    }
    void add(std::string_view signature, std::size_t limit) {
      std::lock_guard lock(mutex);
      if (!signatures.emplace(signature).second) return;
      order.emplace_back(signature);
      while (order.size() > std::max<std::size_t>(limit, 1)) {
        signatures.erase(order.front());
        order.pop_front();
      }
    }
  };
  std::unique_ptr<revoked_set> revoked_jwts_ = std::make_unique<revoked_set>();
  static constexpr std::int32_t token_route = -2;  // records: a request to the token endpoint
  std::vector<compiled_route> routes_;
  compiled_route proxy_route_;  // proxy mode: what apply() is given for a fault that answers in the upstream's place
  std::vector<fault_kind> kinds_;                   // parallel to injector_.faults()
  std::vector<canned_response> fault_responses_;    // parallel to injector_.faults()
  std::vector<std::vector<canned_response>> drifted_;  // [fault][route]: schema_drift bodies
  canned_response not_found_ = make_json_error(404, "not_found");
  canned_response unauthorized_;
  canned_response bad_request_ = make_json_error(400, "bad_request");
  canned_response request_timeout_ = make_json_error(408, "request_timeout");
  canned_response body_too_large_ = make_json_error(413, "payload_too_large");
  canned_response header_too_large_ = make_json_error(431, "header_too_large");
  canned_response key_reused_ = make_json_error(422, "idempotency_key_reused");
  canned_response key_in_flight_ = make_json_error(409, "idempotency_key_in_use");

  std::atomic<unsigned short> port_{0};
  std::atomic<std::uint64_t> request_count_{0};
  std::atomic<std::uint64_t> dropped_{0};

  // Guarded by mutex_: the generator and the records (one lock per request keeps the draw order
  // and the record order the same), the stop flag and the connection registry.
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable int waiters_ = 0;
  fault_injector injector_;
  std::deque<stored_record> records_;  // a deque never copies old records while the lock is held
  std::uint64_t generation_ = 0;       // bumped by reset(): decisions made before it are not recorded again
  server_metrics metrics_;
  std::vector<std::uint64_t> injected_;  // parallel to injector_.faults()
  struct stored_key {
    std::size_t body_hash = 0;
    int running = 0;  // 1 while the first request with this key is being answered
  };
  std::unordered_map<std::string, stored_key> keys_;  // idempotency keys seen, bounded...
  std::deque<std::string> key_order_;                  // ...oldest first
  std::unordered_set<std::string> effects_;            // logical requests that had a side effect
  bool stopped_ = false;
  bool listening_ = false;
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> connections_;
  std::uint64_t next_connection_id_ = 0;

  // Touched on acceptor_strand_ only (and by listen() before the accept loop starts).
  const asio::any_io_executor acceptor_strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_pause_;
};

}  // namespace detail

server::server(boost::asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
               core::time_scale scale, std::vector<route> routes, auth_requirement auth,
               std::vector<plan::fault> faults, server_options options)
    : state_(std::make_shared<detail::server_state>(std::move(ex), clock, origin, scale, std::move(routes),
                                                    std::move(auth), std::move(faults),
                                                    std::move(options))) {}

server::~server() { state_->stop(); }

std::error_code server::listen() { return state_->listen(); }
unsigned short server::port() const noexcept { return state_->port(); }
void server::stop() { state_->stop(); }
std::vector<request_record> server::records() const { return state_->records(); }
std::vector<std::string> server::issued_tokens() const { return state_->issued_tokens(); }
std::uint64_t server::request_count() const noexcept { return state_->request_count(); }
std::uint64_t server::dropped_records() const noexcept { return state_->dropped_records(); }
std::size_t server::open_connections() const { return state_->open_connections(); }
std::size_t server::ignored_faults() const noexcept { return state_->ignored_faults(); }
std::vector<fault_state> server::faults() const { return state_->fault_states(); }
bool server::set_fault_enabled(std::size_t index, bool enabled) { return state_->set_fault_enabled(index, enabled); }
void server::reset() { state_->reset(); }
server_metrics server::metrics() const { return state_->metrics(); }

bool server::wait_for_requests(std::uint64_t count, core::duration timeout) const {
  return state_->wait(timeout, [&] { return state_->requests_at_least(count); });
}

bool server::wait_for_answers(std::uint64_t count, core::duration timeout) const {
  return state_->wait(timeout, [&] { return state_->answers_at_least(count); });
}

bool server::wait_for_open_connections_at_most(std::size_t count, core::duration timeout) const {
  return state_->wait(timeout, [&] { return state_->connections_at_most(count); });
}

std::vector<route> routes_from_plan(const plan::integration_plan& p) {
  std::vector<route> routes;
  routes.reserve(p.endpoints.size());
  for (const auto& e : p.endpoints) {
    route r;
    r.endpoint_id = e.id;
    r.method = e.method;
    r.path = e.path;
    r.status = e.success_status();
    r.body = e.response_example ? plan::json_text(*e.response_example) : "{}";
    r.idempotency_header = e.idempotency_header;
    r.pages = make_collection(p, e);
    routes.push_back(std::move(r));
  }
  return routes;
}

}  // namespace planproof::mocks
