#include "client/http_client.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "core/encoding.hpp"
#include "core/logging.hpp"
#include "resilience/idempotency.hpp"
#include "resilience/retry_after.hpp"

namespace planproof::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using core::error_class;

namespace {

constexpr auto nothrow_awaitable = asio::as_tuple(asio::use_awaitable);

// Which part of a round trip failed: before the request left (connect, TLS handshake: nothing
// reached the upstream) or during the exchange (the upstream may have read it), the difference a
// plan's fatal_on can draw.
enum class exchange_phase { connect, handshake, exchange };

// Socket, TLS and protocol failures, as the fine error classes (the plan's umbrellas cover them).
error_class classify_error(const beast::error_code& ec, exchange_phase phase) {
  if (phase == exchange_phase::handshake && ec != beast::error::timeout) return error_class::tls_error;
  // OpenSSL's own errors after the handshake: in TLS 1.3 the client's handshake ends before the
  // server has checked the client certificate, so a refused one arrives as an alert on the
  // first read. A close without close_notify is not one of these (stream_truncated: a reset).
  if (ec.category() == asio::error::get_ssl_category()) return error_class::tls_error;
  const bool connecting = phase == exchange_phase::connect;
  if (ec == beast::error::timeout) return connecting ? error_class::connect_timeout : error_class::read_timeout;
  if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
    // The peer went away before or during the response: a cut connection, not bad bytes.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return error_class::reset;
    return error_class::protocol_error;
  }
  return connecting ? error_class::connect_error : error_class::reset;
}

// RFC 3339 in UTC with milliseconds, e.g. 2026-11-24T06:49:18.153Z.
std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[96];  // sized for any int the compiler can imagine, not just real dates
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

struct http_client::breaker_events final : resilience::breaker_observer {
  explicit breaker_events(http_client& c) : client(c) {}
  void on_transition(const resilience::breaker_transition& t) override {
    client.emit({.kind = core::event_kind::breaker_transition, .at = t.at,
                 .detail = static_cast<std::uint8_t>(t.to)});
  }
  http_client& client;
};

struct http_client::connection {
  connection(asio::any_io_executor ex, asio::ssl::context* tls) {
    if (tls != nullptr) secure.emplace(std::move(ex), *tls);
    else plain.emplace(std::move(ex));
  }
  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};
};

// What one round trip produced: a whole response, or the error that ended it and the phase it
// happened in.
struct http_client::exchange {
  beast::error_code ec;
  exchange_phase failed_in = exchange_phase::exchange;
  http::response<http::string_body> response;
  bool ok() const noexcept { return !ec; }
};

http_client::http_client(asio::any_io_executor ex, client_options options, const plan::retry_config& retry,
                         const std::vector<plan::endpoint>& endpoints, const core::clock& clock,
                         core::time_scale scale, core::event_sink& events, dead_letter_queue& dead_letters,
                         resilience::random_source& rng)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      timeouts_(retry.timeouts),
      clock_(clock),
      scale_(scale),
      events_(events),
      dead_letters_(dead_letters),
      rng_(rng) {
  for (const auto& e : endpoints) {
    policies_.emplace(e.id, resilience::retry_policy(retry, e, options_.oauth2 || options_.jwt));
  }
  if (options_.oauth2) tokens_.emplace(options_.oauth2->lifecycle);
  if (options_.jwt) {
    tokens_.emplace(options_.jwt->lifecycle);
    token_header_ = options_.jwt->header;
  }
  if (retry.retry_budget) budget_.emplace(*retry.retry_budget);
  if (retry.circuit_breaker) {
    breaker_events_ = std::make_unique<breaker_events>(*this);
    for (const auto& e : endpoints) {
      breakers_.emplace(std::piecewise_construct, std::forward_as_tuple(e.id),
                        std::forward_as_tuple(*retry.circuit_breaker, breaker_events_.get()));
    }
  }
  for (const auto& e : endpoints) {
    const plan::data_mapping* mapping = nullptr;
    for (const auto& m : options_.mappings) {
      if (m.endpoint == e.id && m.direction == plan::mapping_direction::response) mapping = &m;
    }
    response_mapper mapper(e, mapping);
    if (mapper.active()) mappers_.emplace(e.id, std::move(mapper));
  }
}

http_client::~http_client() { close(); }

void http_client::close() {
  for (auto& c : idle_) {
    beast::error_code ignored;
    c->tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    c->tcp().close();
  }
  idle_.clear();
}

std::unique_ptr<http_client::connection> http_client::take_idle() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    if (now - c->idle_since < options_.pool_idle_timeout) return c;  // the most recently used first
  }
  return nullptr;
}

void http_client::give_back(std::unique_ptr<connection> c) {
  if (idle_.size() >= options_.max_idle_connections) return;  // closes on destruction
  c->idle_since = std::chrono::steady_clock::now();
  idle_.push_back(std::move(c));
}

void http_client::emit(core::event e) { events_.on_event(e); }

namespace {

template <class Stream>
asio::awaitable<beast::error_code> write_and_read(Stream& stream, beast::flat_buffer& buffer, const std::string& wire,
                                                  http::response_parser<http::string_body>& parser) {
  auto [wec, written] = co_await asio::async_write(stream, asio::buffer(wire), nothrow_awaitable);
  if (wec) co_return wec;
  auto [rec, read] = co_await http::async_read(stream, buffer, parser, nothrow_awaitable);
  co_return rec;
}

// SNI carries a DNS name only (RFC 6066 section 3); an IP literal is left out.
void set_sni(SSL* ssl, const std::string& name) {
  if (name.empty()) return;
  beast::error_code ec;
  asio::ip::make_address(name, ec);
  if (ec) ::SSL_set_tlsext_host_name(ssl, name.c_str());
}

}  // namespace

asio::awaitable<http_client::exchange> http_client::round_trip(const std::string& wire_request,
                                                               core::duration connect_timeout,
                                                               core::duration read_timeout) {
  exchange out;
  auto conn = take_idle();
  if (!conn) {
    conn = std::make_unique<connection>(ex_, options_.tls.get());
    conn->tcp().expires_after(scale_.to_real(connect_timeout));
    auto [ec] = co_await conn->tcp().async_connect(options_.upstream, nothrow_awaitable);
    if (ec) {
      out.ec = ec;
      out.failed_in = exchange_phase::connect;
      co_return out;
    }
    {
      // Over TLS the request follows the handshake's last flight as a second small write, which
      // Nagle would hold until that flight is acknowledged: a delayed ACK on every new connection.
      beast::error_code ignored;
      conn->tcp().socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    if (conn->secure) {
      set_sni(conn->secure->native_handle(), options_.tls_server_name);
      auto [hec] = co_await conn->secure->async_handshake(asio::ssl::stream_base::client, nothrow_awaitable);
      if (hec) {
        out.ec = hec;
        out.failed_in = exchange_phase::handshake;
        co_return out;
      }
    }
  }

  // The read deadline covers sending the request and receiving the whole response.
  conn->tcp().expires_after(scale_.to_real(read_timeout));
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.body_limit);
  parser.header_limit(options_.header_limit);
  // Not a conditional expression: g++ 12 miscompiles co_await in the arms of `?:`.
  if (conn->secure) {
    out.ec = co_await write_and_read(*conn->secure, conn->buffer, wire_request, parser);
  } else {
    out.ec = co_await write_and_read(*conn->plain, conn->buffer, wire_request, parser);
  }
  if (out.ec) co_return out;
  out.response = parser.release();
  if (out.response.keep_alive() && conn->buffer.size() == 0) give_back(std::move(conn));
  co_return out;
}

asio::awaitable<resilience::attempt_result> http_client::attempt(const plan::endpoint& endpoint,
                                                                 const std::string& wire_request,
                                                                 const resilience::attempt_budget& budget,
                                                                 const resilience::retry_state& state,
                                                                 std::string* success_body) {
  resilience::attempt_result result;
  auto ex = co_await round_trip(wire_request, budget.connect_timeout, std::min(budget.read_timeout, state.remaining()));
  if (!ex.ok()) {
    // Even on a reused connection this is an attempt: the upstream may have read the request before
    // it reset or closed (the `reset` and `empty_reply` faults do exactly that), so sending it again
    // silently could apply it twice and would hide an upstream attempt from the verdicts. Whether
    // to retry is the retry policy's decision (connection_error in retry_on).
    result.error = classify_error(ex.ec, ex.failed_in);
    co_return result;
  }

  auto& res = ex.response;
  result.status = static_cast<int>(res.result_int());
  if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
    result.retry_after = resilience::parse_retry_after(ra->value(), std::chrono::system_clock::now());
  }
  const auto& success = endpoint.statuses.success;
  const bool succeeded = std::find(success.begin(), success.end(), result.status) != success.end();
  if (!succeeded) co_return result;
  const auto mapper = mappers_.find(endpoint.id);
  auto checked = check_success_body(endpoint, mapper == mappers_.end() ? nullptr : &mapper->second,
                                    res[http::field::content_type], res.body());
  result.error = checked.error;
  result.records = checked.records;
  result.records_rejected = checked.rejected;
  result.detail = std::move(checked.detail);
  if (success_body != nullptr && result.error == error_class::none) *success_body = std::move(res.body());
  co_return result;
}

void http_client::keep_token(const std::string& token) {
  if (!token.empty() && tokens_held_.size() < max_kept_tokens) tokens_held_.push_back(token);
}

void http_client::wake_token_waiters() {
  for (auto* t : token_waiters_) t->cancel();
  token_waiters_.clear();
}

void http_client::mint_token(std::uint64_t request) {
  const auto& j = *options_.jwt;
  const auto why = static_cast<std::uint8_t>(tokens_->pending_reason());
  const auto now = clock_.now();
  emit({.kind = core::event_kind::token_requested, .at = now, .request = request, .detail = why});
  const auto issued_at = j.calendar.at(now);
  auto token = core::mint_jwt(j.key, j.claims, issued_at, j.lifetime, resilience::make_idempotency_key(rng_));
  if (token.empty()) {
    // No signature: OpenSSL failed. Nothing to send; retried after the fetch backoff.
    const auto wait = tokens_->on_fetch_failed(now, rng_);
    emit({.kind = core::event_kind::token_failed, .at = now, .request = request, .delay = wait, .detail = why, .note = "JWT signing failed"});
  } else {
    access_token_ = std::move(token);
    keep_token(access_token_);
    // Valid until exp as the upstream reads it: iat is whole seconds, so up to a second less
    // than the lifetime from now.
    const auto expires = j.calendar.plan_time(issued_at + j.lifetime);
    tokens_->on_issued(now, std::max(expires - now, core::duration::zero()));
    emit({.kind = core::event_kind::token_issued, .at = now, .request = request,
          .delay = tokens_->expires_at() - now, .detail = why});
  }
  wake_token_waiters();
}

asio::awaitable<void> http_client::fetch_token(std::uint64_t request) {
  if (options_.jwt) {
    mint_token(request);
    co_return;
  }
  const auto& o = *options_.oauth2;
  const auto why = static_cast<std::uint8_t>(tokens_->pending_reason());
  emit({.kind = core::event_kind::token_requested, .at = clock_.now(), .request = request, .detail = why});
  std::string form = "grant_type=client_credentials";
  if (!o.scopes.empty()) {
    std::string scope;
    for (const auto& sc : o.scopes) scope += (scope.empty() ? "" : " ") + sc;
    form += "&scope=" + core::form_encode(scope);
  }
  if (!o.audience.empty()) form += "&audience=" + core::form_encode(o.audience);
  http::request<http::string_body> req{http::verb::post, o.token_target, 11};
  req.set(http::field::host, options_.host);
  req.set(http::field::user_agent, "planproof");
  req.set(http::field::accept, "application/json");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  // RFC 6749 section 2.3.1: both halves form-encoded, then HTTP Basic.
  req.set(http::field::authorization,
          "Basic " + core::base64_encode(core::form_encode(o.client_id) + ":" + core::form_encode(o.client_secret)));
  req.body() = std::move(form);
  req.keep_alive(true);
  req.prepare_payload();
  std::ostringstream wire;
  wire << req;

  // The plan's own timeouts, not a request's remaining deadline: every waiting request depends on it.
  auto ex = co_await round_trip(std::move(wire).str(), timeouts_.connect, timeouts_.read);
  const auto now = clock_.now();
  int status = ex.ok() ? static_cast<int>(ex.response.result_int()) : 0;
  error_class error = ex.ok() ? error_class::none : classify_error(ex.ec, ex.failed_in);
  if (ex.ok() && status == 200) {
    boost::system::error_code jec;
    const auto body = boost::json::parse(ex.response.body(), jec);
    const auto* obj = body.if_object();
    const auto* token = obj != nullptr ? obj->if_contains("access_token") : nullptr;
    if (!jec && token != nullptr && token->is_string() && !token->as_string().empty()) {
      std::optional<core::duration> lifetime;
      if (const auto* e = obj->if_contains("expires_in"); e != nullptr && (e->is_int64() || e->is_uint64())) {
        const auto seconds = e->is_int64() ? e->as_int64() : static_cast<std::int64_t>(e->as_uint64());
        lifetime = std::chrono::seconds(std::clamp<std::int64_t>(seconds, 0, 10LL * 365 * 86400));
      }
      access_token_ = std::string(token->as_string());
      keep_token(access_token_);
      if (const auto* refresh = obj->if_contains("refresh_token"); refresh != nullptr && refresh->is_string()) {
        keep_token(std::string(refresh->as_string()));
      }
      tokens_->on_issued(now, lifetime);
      emit({.kind = core::event_kind::token_issued, .at = now, .request = request, .status = status,
            .delay = tokens_->expires_at() - now, .detail = why});
      wake_token_waiters();
      co_return;
    }
    error = error_class::schema_error;
  }
  const auto wait = tokens_->on_fetch_failed(now, rng_);
  emit({.kind = core::event_kind::token_failed, .at = now, .request = request, .status = status, .error = error,
        .delay = wait, .detail = why});
  wake_token_waiters();
}

asio::awaitable<std::optional<std::uint64_t>> http_client::obtain_token(std::uint64_t request,
                                                                        const resilience::retry_state& state) {
  asio::steady_timer timer(ex_);
  for (;;) {
    const auto now = clock_.now();
    const auto left = state.remaining();
    if (left <= core::duration::zero()) co_return std::nullopt;
    const auto grant = tokens_->acquire(now);
    switch (grant.action) {
      case resilience::token_action::use: co_return grant.generation;
      case resilience::token_action::use_and_refresh:
        // This caller refreshes while the token is still valid; if the refresh fails the old
        // token is still good until it expires.
        co_await fetch_token(request);
        co_return tokens_->generation();
      case resilience::token_action::fetch:
        co_await fetch_token(request);
        continue;
      case resilience::token_action::wait: {
        const auto until = grant.retry_at > now ? std::min(grant.retry_at - now, left) : left;
        timer.expires_after(scale_.to_real(until));
        token_waiters_.push_back(&timer);
        co_await timer.async_wait(nothrow_awaitable);
        std::erase(token_waiters_, &timer);
        continue;
      }
    }
  }
}

asio::awaitable<core::request_outcome> http_client::execute(logical_request request) {
  const auto& endpoint = *request.endpoint;
  const auto& policy = policies_.at(endpoint.id);
  const auto submitted = clock_.now();
  // One id per logical request, reused by every attempt: the idempotency key where the endpoint
  // takes one, and X-Request-Id always, so the upstream (and its logs) can tell a retry from a new
  // request even when the endpoint takes no key. A replayed dead letter brings its original id.
  const std::string request_id =
      request.idempotency_key.empty() ? resilience::make_idempotency_key(rng_) : request.idempotency_key;
  emit({.kind = core::event_kind::request_submitted, .at = submitted, .request = request.id,
        .endpoint = endpoint.id, .correlation_id = request_id});

  // The target as sent: the credential parameter, if the plan puts one in the query, last.
  auto wire_target = [this](std::string_view target) {
    std::string out(target);
    if (const auto& q = options_.query_credential) {
      out += out.find('?') == std::string::npos ? '?' : '&';
      out += core::form_encode(q->name) + "=" + core::form_encode(q->value);
    }
    return out;
  };
  http::request<http::string_body> req{http::string_to_verb(endpoint.method),
                                      wire_target(request.target.empty() ? endpoint.path : request.target), 11};
  req.set(http::field::host, options_.host);
  req.set(http::field::user_agent, "planproof");
  req.set(http::field::accept, "application/json");
  for (const auto& h : options_.extra_headers) req.set(h.name, h.value);
  req.set("X-Request-Id", request_id);
  if (endpoint.idempotency_header) req.set(*endpoint.idempotency_header, request_id);
  if (!request.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = request.body;
  }
  req.keep_alive(true);
  req.prepare_payload();
  // Serialized once per logical request, or once per attempt when each attempt carries its own
  // signature (a fresh timestamp: a retry minutes later must not look stale).
  auto serialize = [&req] {
    std::ostringstream wire;
    wire << req;
    return std::move(wire).str();
  };
  // Per attempt when it carries a signature or a token of its own.
  std::string wire_request = options_.signer || tokens_ ? std::string() : serialize();

  resilience::retry_state state(policy, clock_, rng_, budget_ ? &*budget_ : nullptr);
  state.start();
  const auto breaker_it = breakers_.find(endpoint.id);
  auto* breaker = breaker_it == breakers_.end() ? nullptr : &breaker_it->second;
  resilience::attempt_result last;
  core::end_reason reason = core::end_reason::deadline_exceeded;
  asio::steady_timer backoff_timer(ex_);
  for (;;) {
    std::uint64_t token = 0;
    if (tokens_) {
      const auto got = co_await obtain_token(request.id, state);
      if (!got) {
        reason = core::end_reason::token_unavailable;
        break;
      }
      token = *got;
      if (beast::iequals(token_header_, "Authorization")) {
        req.set(http::field::authorization, "Bearer " + access_token_);
      } else {
        req.set(token_header_, access_token_);
      }
    }
    resilience::breaker_permit permit;
    if (breaker != nullptr) {
      permit = breaker->try_acquire(clock_.now());
      if (!permit) {
        // Fail fast: the breaker is open, so this request ends here without an upstream call.
        emit({.kind = core::event_kind::call_rejected, .at = clock_.now(), .request = request.id,
              .attempt = static_cast<std::uint32_t>(state.attempts() + 1), .delay = permit.retry_in()});
        reason = core::end_reason::breaker_open;
        break;
      }
    }
    const auto budget = state.begin_attempt();
    if (!budget) {
      if (breaker != nullptr) breaker->on_ignored(permit, clock_.now());
      break;
    }
    const auto started = clock_.now();
    emit({.kind = core::event_kind::attempt_started, .at = started, .request = request.id,
          .attempt = static_cast<std::uint32_t>(budget->attempt)});
    if (options_.signer) {
      for (const auto& h : options_.signer(req.method_string(), req.target(), req.body())) req.set(h.name, h.value);
    }
    if (options_.signer || tokens_) wire_request = serialize();
    std::string* keep_body = request.capture == nullptr ? nullptr : &request.capture->body;
    last = co_await attempt(endpoint, wire_request, *budget, state, keep_body);
    const auto finished = clock_.now();
    const auto classified = policy.classifier().classify(last, state.auth_refreshed());
    emit({.kind = core::event_kind::attempt_finished, .at = finished, .request = request.id,
          .attempt = static_cast<std::uint32_t>(budget->attempt), .status = last.status, .error = last.error,
          .retry_after = last.retry_after, .latency = finished - started,
          .detail = static_cast<std::uint8_t>(classified),
          .rejected_records = static_cast<std::uint32_t>(last.records_rejected), .note = last.detail});

    if (breaker != nullptr) {
      switch (resilience::breaker_outcome_for(last, classified)) {
        case resilience::breaker_outcome::success: breaker->on_success(permit, finished, finished - started); break;
        case resilience::breaker_outcome::failure: breaker->on_failure(permit, finished, finished - started); break;
        case resilience::breaker_outcome::ignored: breaker->on_ignored(permit, finished); break;
      }
    }

    if (!request.restart_target.empty() && last.error == error_class::none && last.status >= 400 &&
        last.status < 500 && last.status != 401 && last.status != 403 && last.status != 408 &&
        last.status != 429 && state.attempts() < policy.config().max_attempts) {
      // The cursor was refused (expired, evicted): start the read again from the first page, once.
      emit({.kind = core::event_kind::read_restarted, .at = finished, .request = request.id,
            .attempt = static_cast<std::uint32_t>(state.attempts() + 1), .status = last.status});
      req.target(wire_target(request.restart_target));
      request.restart_target.clear();
      if (request.capture != nullptr) request.capture->restarted = true;
      wire_request = serialize();
      continue;
    }
    const auto decision = state.on_result(last);
    if (decision.what == resilience::retry_decision::action::succeed) {
      if (last.records_rejected != 0) co_await set_aside_records(request, last.detail, last.records_rejected, last.records);
      emit({.kind = core::event_kind::request_completed, .at = finished, .request = request.id,
            .attempt = static_cast<std::uint32_t>(state.attempts()), .status = last.status,
            .latency = finished - submitted, .outcome = core::request_outcome::succeeded,
            .reason = core::end_reason::succeeded});
      co_return core::request_outcome::succeeded;
    }
    if (decision.what == resilience::retry_decision::action::give_up) {
      reason = decision.reason;
      if (reason == core::end_reason::retry_budget_exhausted) {
        emit({.kind = core::event_kind::retry_refused, .at = finished, .request = request.id,
              .attempt = static_cast<std::uint32_t>(state.attempts() + 1)});
      }
      break;
    }
    if (decision.what == resilience::retry_decision::action::refresh_auth_then_retry) {
      // The token was refused (expired early, revoked): drop it — once, however many requests
      // hold it — and send again at once with a new one.
      const bool dropped = tokens_ && tokens_->on_rejected(finished, token);
      emit({.kind = core::event_kind::credential_rejected, .at = finished, .request = request.id,
            .attempt = static_cast<std::uint32_t>(budget->attempt), .status = last.status,
            .detail = static_cast<std::uint8_t>(dropped)});
      continue;
    }
    emit({.kind = core::event_kind::backoff_scheduled, .at = finished, .request = request.id,
          .attempt = static_cast<std::uint32_t>(state.attempts() + 1), .delay = decision.delay});
    backoff_timer.expires_after(scale_.to_real(decision.delay));
    co_await backoff_timer.async_wait(nothrow_awaitable);
  }
  co_return co_await dead_letter(request, request_id, state.attempts(), reason, last, submitted);
}

asio::awaitable<std::error_code> http_client::append_dead_letter(const boost::json::object& record) {
  co_await asio::post(asio::bind_executor(writer_.get_executor(), asio::use_awaitable));
  const auto ec = dead_letters_.append(record);
  co_await asio::post(asio::bind_executor(ex_, asio::use_awaitable));
  co_return ec;
}

asio::awaitable<void> http_client::set_aside_records(const logical_request& request, const std::string& summary,
                                                     std::size_t rejected, std::size_t records) {
  boost::json::object record = options_.dead_letter_context;
  record["kind"] = "rejected_records";
  record["request_id"] = request.id;
  record["endpoint"] = request.endpoint->id;
  if (!request.target.empty()) record["target"] = request.target;
  record["rejected"] = rejected;
  record["records"] = records;
  record["issues"] = summary;
  record["dead_lettered_at"] = utc_timestamp(std::chrono::system_clock::now());
  if (auto ec = co_await append_dead_letter(record)) {
    spdlog::error("request {}: could not set aside {} rejected records in {}: {}", request.id, rejected,
                  dead_letters_.path().string(), ec.message());
  }
}

asio::awaitable<core::request_outcome> http_client::dead_letter(const logical_request& request,
                                                                const std::string& request_key, int attempts,
                                                                core::end_reason reason,
                                                                const resilience::attempt_result& last,
                                                                core::time_point started) {
  const auto& endpoint = *request.endpoint;
  boost::json::object record = options_.dead_letter_context;
  record["request_id"] = request.id;
  record["endpoint"] = endpoint.id;
  record["method"] = endpoint.method;
  record["path"] = endpoint.path;
  record["target"] = request.target.empty() ? endpoint.path : request.target;  // which page, to fetch it again
  if (endpoint.idempotency_header) record["idempotency_key"] = request_key;
  record["correlation_id"] = request_key;  // X-Request-Id: a replay sends it again
  record["attempts"] = attempts;
  record["reason"] = std::string(core::to_string(reason));
  boost::json::object last_error;
  last_error["status"] = last.status;
  last_error["error"] = std::string(core::to_string(last.error));
  auto whole_ms = [](core::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  if (last.retry_after) last_error["retry_after_ms"] = whole_ms(*last.retry_after);
  if (!last.detail.empty()) last_error["detail"] = last.detail;
  record["last_error"] = std::move(last_error);
  const auto elapsed = clock_.now() - started;
  record["elapsed_ms"] = whole_ms(elapsed);  // plan time
  const auto wall_now = std::chrono::system_clock::now();
  record["submitted_at"] = utc_timestamp(
      wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(scale_.to_real(elapsed)));
  record["dead_lettered_at"] = utc_timestamp(wall_now);
  if (!request.body.empty()) {
    // JSON to read, unless writing it back would change a byte (9.99 becomes 9.99E0): then the
    // exact text, since a replay must send the body the upstream may have stored under the key.
    boost::system::error_code ec;
    auto body = boost::json::parse(request.body, ec);
    if (ec || boost::json::serialize(body) != request.body) record["body"] = request.body;
    else record["body"] = std::move(body);
  }

  auto outcome = core::request_outcome::dead_lettered;
  auto final_reason = reason;
  if (auto ec = co_await append_dead_letter(record)) {
    spdlog::error("request {}: could not write dead letter to {}: {}", request.id,
                  dead_letters_.path().string(), ec.message());
    outcome = core::request_outcome::failed;
    final_reason = core::end_reason::dead_letter_failed;
  }
  const auto now = clock_.now();
  emit({.kind = core::event_kind::request_completed, .at = now, .request = request.id,
        .attempt = static_cast<std::uint32_t>(attempts), .status = last.status, .error = last.error,
        .latency = now - started, .outcome = outcome, .reason = final_reason});
  co_return outcome;
}

}  // namespace planproof::client
