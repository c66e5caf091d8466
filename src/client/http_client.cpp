#include "client/http_client.hpp"

#include <cstdio>
#include <ctime>
#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

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

// Which part of an attempt failed: before the request left (nothing reached the upstream) or during
// the exchange (the upstream may have read it), the difference a plan's fatal_on can draw.
enum class attempt_phase { connect, exchange };

// Socket and protocol failures, as the fine error classes (the plan's umbrellas cover them).
error_class classify_error(const beast::error_code& ec, attempt_phase phase) {
  const bool connecting = phase == attempt_phase::connect;
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

bool is_json_content_type(std::string_view ct) {
  return ct.empty() || ct.find("json") != std::string_view::npos;
}

}  // namespace

struct http_client::connection {
  explicit connection(asio::any_io_executor ex) : stream(std::move(ex)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since{};
};

http_client::http_client(asio::any_io_executor ex, client_options options, const plan::retry_config& retry,
                         const std::vector<plan::endpoint>& endpoints, const core::clock& clock,
                         core::time_scale scale, core::event_sink& events, dead_letter_queue& dead_letters,
                         resilience::random_source& rng)
    : ex_(std::move(ex)),
      options_(std::move(options)),
      clock_(clock),
      scale_(scale),
      events_(events),
      dead_letters_(dead_letters),
      rng_(rng) {
  for (const auto& e : endpoints) policies_.emplace(e.id, resilience::retry_policy(retry, e));
}

http_client::~http_client() { close(); }

void http_client::close() {
  for (auto& c : idle_) {
    beast::error_code ignored;
    c->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    c->stream.close();
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

asio::awaitable<resilience::attempt_result> http_client::attempt(const plan::endpoint& endpoint,
                                                                 const std::string& wire_request,
                                                                 const resilience::attempt_budget& budget,
                                                                 const resilience::retry_state& state) {
  resilience::attempt_result result;
  auto conn = take_idle();
  if (!conn) {
    conn = std::make_unique<connection>(ex_);
    conn->stream.expires_after(scale_.to_real(budget.connect_timeout));
    auto [ec] = co_await conn->stream.async_connect(options_.upstream, nothrow_awaitable);
    if (ec) {
      result.error = classify_error(ec, attempt_phase::connect);
      co_return result;
    }
  }

  // The read deadline covers sending the request and receiving the whole response, bounded by what
  // is left of the request's total deadline after connecting.
  conn->stream.expires_after(scale_.to_real(std::min(budget.read_timeout, state.remaining())));
  auto [wec, written] = co_await asio::async_write(conn->stream, asio::buffer(wire_request), nothrow_awaitable);
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.body_limit);
  beast::error_code rec = wec;
  if (!wec) {
    std::tie(rec, std::ignore) = co_await http::async_read(conn->stream, conn->buffer, parser, nothrow_awaitable);
  }
  if (rec) {
    // Even on a reused connection this is an attempt: the upstream may have read the request before
    // it reset or closed (the `reset` and `empty_reply` faults do exactly that), so sending it again
    // silently could apply it twice and would hide an upstream attempt from the verdicts. Whether
    // to retry is the retry policy's decision (connection_error in retry_on).
    result.error = classify_error(rec, attempt_phase::exchange);
    co_return result;
  }

  auto& res = parser.get();
  result.status = static_cast<int>(res.result_int());
  if (auto ra = res.find(http::field::retry_after); ra != res.end()) {
    result.retry_after = resilience::parse_retry_after(ra->value(), std::chrono::system_clock::now());
  }
  const auto& success = endpoint.statuses.success;
  const bool succeeded = std::find(success.begin(), success.end(), result.status) != success.end();
  if (succeeded && (endpoint.response_example || endpoint.response_schema)) {
    // The endpoint promises a JSON body: a truncated or non-JSON one is a schema error even on 2xx.
    boost::system::error_code jec;
    const auto ct = res[http::field::content_type];
    const auto body = boost::json::parse(res.body(), jec);
    if (jec || !is_json_content_type(ct)) {
      result.error = error_class::schema_error;
    } else if (endpoint.response_schema && !plan::check_against_schema(*endpoint.response_schema, body).empty()) {
      // Valid JSON that breaks the documented schema (a field dropped, renamed, re-typed): the
      // integration cannot use it either.
      result.error = error_class::schema_error;
    }
  }
  if (res.keep_alive() && conn->buffer.size() == 0) {
    give_back(std::move(conn));
  }
  co_return result;
}

asio::awaitable<core::request_outcome> http_client::execute(logical_request request) {
  const auto& endpoint = *request.endpoint;
  const auto& policy = policies_.at(endpoint.id);
  const auto submitted = clock_.now();
  emit({.kind = core::event_kind::request_submitted, .at = submitted, .request = request.id});

  std::string key;
  http::request<http::string_body> req{http::string_to_verb(endpoint.method),
                                      request.target.empty() ? endpoint.path : request.target, 11};
  req.set(http::field::host, options_.host);
  req.set(http::field::user_agent, "planproof");
  req.set(http::field::accept, "application/json");
  for (const auto& h : options_.extra_headers) req.set(h.name, h.value);
  // One id per logical request, reused by every attempt: the idempotency key where the endpoint
  // takes one, and X-Request-Id always, so the upstream (and its logs) can tell a retry from a new
  // request even when the endpoint takes no key.
  const std::string request_id = resilience::make_idempotency_key(rng_);
  req.set("X-Request-Id", request_id);
  if (endpoint.idempotency_header) {
    key = request_id;
    req.set(*endpoint.idempotency_header, key);
  }
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
  std::string wire_request = options_.signer ? std::string() : serialize();

  resilience::retry_state state(policy, clock_, rng_);
  resilience::attempt_result last;
  core::end_reason reason = core::end_reason::deadline_exceeded;
  asio::steady_timer backoff_timer(ex_);
  while (auto budget = state.begin_attempt()) {
    const auto started = clock_.now();
    emit({.kind = core::event_kind::attempt_started, .at = started, .request = request.id,
          .attempt = static_cast<std::uint32_t>(budget->attempt)});
    if (options_.signer) {
      for (const auto& h : options_.signer(req.method_string(), req.target(), req.body())) req.set(h.name, h.value);
      wire_request = serialize();
    }
    last = co_await attempt(endpoint, wire_request, *budget, state);
    const auto finished = clock_.now();
    emit({.kind = core::event_kind::attempt_finished, .at = finished, .request = request.id,
          .attempt = static_cast<std::uint32_t>(budget->attempt), .status = last.status, .error = last.error,
          .retry_after = last.retry_after, .latency = finished - started});

    const auto decision = state.on_result(last);
    if (decision.what == resilience::retry_decision::action::succeed) {
      emit({.kind = core::event_kind::request_completed, .at = finished, .request = request.id,
            .attempt = static_cast<std::uint32_t>(state.attempts()), .status = last.status,
            .latency = finished - submitted, .outcome = core::request_outcome::succeeded,
            .reason = core::end_reason::succeeded});
      co_return core::request_outcome::succeeded;
    }
    if (decision.what == resilience::retry_decision::action::give_up) {
      reason = decision.reason;
      break;
    }
    emit({.kind = core::event_kind::backoff_scheduled, .at = finished, .request = request.id,
          .attempt = static_cast<std::uint32_t>(state.attempts() + 1), .delay = decision.delay});
    backoff_timer.expires_after(scale_.to_real(decision.delay));
    co_await backoff_timer.async_wait(nothrow_awaitable);
  }
  co_return dead_letter(request, key, state.attempts(), reason, last, submitted);
}

core::request_outcome http_client::dead_letter(const logical_request& request, const std::string& idempotency_key,
                                               int attempts, core::end_reason reason,
                                               const resilience::attempt_result& last, core::time_point started) {
  const auto& endpoint = *request.endpoint;
  boost::json::object record = options_.dead_letter_context;
  record["request_id"] = request.id;
  record["endpoint"] = endpoint.id;
  record["method"] = endpoint.method;
  record["path"] = endpoint.path;
  if (!request.target.empty()) record["target"] = request.target;  // which page, to fetch it again
  if (!idempotency_key.empty()) record["idempotency_key"] = idempotency_key;
  record["attempts"] = attempts;
  record["reason"] = std::string(core::to_string(reason));
  boost::json::object last_error;
  last_error["status"] = last.status;
  last_error["error"] = std::string(core::to_string(last.error));
  auto whole_ms = [](core::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  if (last.retry_after) last_error["retry_after_ms"] = whole_ms(*last.retry_after);
  record["last_error"] = std::move(last_error);
  record["elapsed_ms"] = whole_ms(clock_.now() - started);  // plan time
  record["dead_lettered_at"] = utc_timestamp(std::chrono::system_clock::now());
  if (!request.body.empty()) {
    boost::system::error_code ec;
    auto body = boost::json::parse(request.body, ec);
    if (ec) record["body"] = request.body;
    else record["body"] = std::move(body);
  }

  auto outcome = core::request_outcome::dead_lettered;
  auto final_reason = reason;
  if (auto ec = dead_letters_.append(record)) {
    spdlog::error("request {}: could not write dead letter to {}: {}", request.id,
                  dead_letters_.path().string(), ec.message());
    outcome = core::request_outcome::failed;
    final_reason = core::end_reason::dead_letter_failed;
  }
  const auto now = clock_.now();
  emit({.kind = core::event_kind::request_completed, .at = now, .request = request.id,
        .attempt = static_cast<std::uint32_t>(attempts), .status = last.status, .error = last.error,
        .latency = now - started, .outcome = outcome, .reason = final_reason});
  return outcome;
}

}  // namespace planproof::client
