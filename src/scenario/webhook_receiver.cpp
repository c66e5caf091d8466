#include "scenario/webhook_receiver.hpp"

#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/logging.hpp"

namespace planproof::scenario {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Real time a connection may take to send its request: a provider that stalls is cut off.
constexpr auto request_deadline = std::chrono::seconds(30);

// The value at a dotted path (`data.id`) as text, or nullopt when the path does not lead to a
// scalar: a string as it is, a number or boolean as JSON writes it.
std::optional<std::string> field_text(const boost::json::value& body, std::string_view path) {
  const boost::json::value* v = &body;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const auto name = path.substr(0, dot);
    const auto* object = v->if_object();
    if (object == nullptr) return std::nullopt;
    const auto it = object->find(name);
    if (it == object->end()) return std::nullopt;
    v = &it->value();
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  if (const auto* s = v->if_string()) return std::string(s->c_str(), s->size());
  if (v->is_number() || v->is_bool()) return boost::json::serialize(*v);
  return std::nullopt;
}

}  // namespace

receiver_core::receiver_core(std::vector<receiver_endpoint> endpoints) : endpoints_(std::move(endpoints)) {
  for (const auto& e : endpoints_) {
    receiver_stats s;
    s.endpoint = e.id;
    stats_.push_back(std::move(s));
  }
  stored_.resize(endpoints_.size());
}

receiver_answer receiver_core::handle(std::string_view method, std::string_view target,
                                      const core::header_lookup& headers, std::string_view body,
                                      std::int64_t unix_now, double plan_ms) {
  const auto answer = [](int status, boost::json::object body) {
    return receiver_answer{status, boost::json::serialize(body)};
  };
  const auto path = target.substr(0, target.find('?'));
  std::size_t index = endpoints_.size();
  for (std::size_t i = 0; i < endpoints_.size(); ++i) {
    if (endpoints_[i].path == path) index = i;
  }
  if (index == endpoints_.size()) return answer(404, {{"error", "no such endpoint"}});
  const auto& e = endpoints_[index];
  if (method != e.method) return answer(405, {{"error", "method not allowed"}});
  std::string event;
  if (const auto id = headers(event_id_header)) event.assign(*id);

  auto& s = stats_[index];
  ++s.requests;
  if (e.signature) {
    const auto verdict = core::verify_webhook(*e.signature, e.secret, headers, body, unix_now);
    if (verdict != core::verify_result::ok) {
      ++s.rejected_signature;
      ++s.signature_failures[std::string(core::to_string(verdict))];
      return answer(401, {{"error", "signature " + std::string(core::to_string(verdict))}});
    }
  }
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  std::string why;
  if (ec) why = "not JSON: " + ec.message();
  else if (e.mapper) {
    const auto mapped = e.mapper->map_value(parsed);
    if (!mapped.ok()) why = mapped.summary();
  }
  std::optional<std::string> key;
  if (why.empty() && !e.dedup_key.empty()) {
    key = field_text(parsed, e.dedup_key);
    if (!key) why = "no " + e.dedup_key + " in the event";
  }
  if (!why.empty()) {
    ++s.rejected_unusable;
    if (s.unusable_evidence.size() < run_stats::max_evidence) {
      s.unusable_evidence.push_back({0, plan_ms, (event.empty() ? "a delivery" : "event " + event) + ": " + why});
    }
    return answer(400, {{"error", "unusable event"}, {"detail", core::redact(why)}});
  }
  if (key && !stored_[index].insert(*key).second) {
    ++s.duplicates;
    return answer(200, {{"received", true}, {"duplicate", true}});
  }
  ++s.processed;
  if (!event.empty()) ++s.processed_events[event];
  return answer(200, {{"received", true}});
}

struct webhook_receiver::state : std::enable_shared_from_this<state> {
  state(asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
        std::vector<receiver_endpoint> endpoints, std::function<std::int64_t()> unix_now)
      : ex(ex), acceptor(ex), clock(clock), origin(origin), receiver(std::move(endpoints)), unix_now(std::move(unix_now)) {}

  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  const core::clock& clock;
  core::time_point origin;
  mutable std::mutex mutex;  // guards receiver: stats() reads from another thread
  receiver_core receiver;
  std::function<std::int64_t()> unix_now;

  http::response<http::string_body> handle(const http::request<http::string_body>& req) {
    const auto lookup = [&req](std::string_view name) -> std::optional<std::string_view> {
      const auto it = req.find(beast::string_view(name.data(), name.size()));
      if (it == req.end()) return std::nullopt;
      return std::string_view(it->value().data(), it->value().size());
    };
    receiver_answer a;
    {
      std::lock_guard lock(mutex);
      a = receiver.handle(std::string_view(req.method_string().data(), req.method_string().size()),
                      std::string_view(req.target().data(), req.target().size()), lookup, req.body(), unix_now(),
                      core::to_millis(clock.now() - origin));
    }
    http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
    res.set(http::field::content_type, "application/json");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(a.body);
    res.prepare_payload();
    return res;
  }

  static asio::awaitable<void> session(std::shared_ptr<state> self, tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(max_body);
      stream.expires_after(request_deadline);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (ec == http::error::body_limit) {
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.keep_alive(false);
        res.prepare_payload();
        co_await http::async_write(stream, res, use_tuple);
        co_return;
      }
      if (ec) co_return;  // closed, timed out or not HTTP: the provider records what it saw
      const auto req = parser.release();
      auto res = self->handle(req);
      const bool keep = res.keep_alive();
      auto [wec, written] = co_await http::async_write(stream, res, use_tuple);
      if (wec || !keep) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<state> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) co_return;
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      asio::co_spawn(self->ex, session(self, std::move(socket)), asio::detached);
    }
  }
};

webhook_receiver::webhook_receiver(asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
                                   std::vector<receiver_endpoint> endpoints, std::function<std::int64_t()> unix_now)
    : state_(std::make_shared<state>(ex, clock, origin, std::move(endpoints), std::move(unix_now))) {}

webhook_receiver::~webhook_receiver() { stop(); }

std::error_code webhook_receiver::listen() {
  boost::system::error_code ec;
  auto& a = state_->acceptor;
  const tcp::endpoint local(asio::ip::make_address_v4("127.0.0.1"), 0);
  if (a.open(local.protocol(), ec); !ec) a.bind(local, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) state_->port = a.local_endpoint(ec).port();
  if (ec) {
    boost::system::error_code ignored;
    a.close(ignored);
    return ec;
  }
  asio::co_spawn(state_->ex, state::accept_loop(state_), asio::detached);
  return {};
}

unsigned short webhook_receiver::port() const noexcept { return state_->port; }

void webhook_receiver::stop() {
  asio::post(state_->ex, [s = state_] {
    boost::system::error_code ignored;
    s->acceptor.close(ignored);
  });
}

std::vector<receiver_stats> webhook_receiver::stats() const {
  std::lock_guard lock(state_->mutex);
  return state_->receiver.stats();
}

}  // namespace planproof::scenario
