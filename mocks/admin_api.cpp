#include "mocks/admin_api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "core/hmac.hpp"
#include "mocks/exposition.hpp"
#include "mocks/listen.hpp"

namespace planproof::mocks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr std::string_view api_summary =
    "GET /health, /endpoints, /faults, /faults/{index}, /failure-modes, /failure-modes/{id}, /journal, /metrics, "
    "/deliveries, /deliveries/faults, /deliveries/faults/{index}; "
    "POST /faults/{index}/enable|disable, /failure-modes/{id}/enable|disable, /reset, /deliveries/send?count=N, "
    "/deliveries/faults/{index}/enable|disable";

constexpr std::string_view no_deliveries =
    "this mock sends no webhook deliveries: start planproof serve with --deliver-to URL and a plan with inbound "
    "endpoints";

admin_response json_answer(unsigned status, const json::value& v) {
  admin_response r;
  r.status = status;
  r.body = json::serialize(v) + "\n";
  return r;
}

admin_response error_answer(unsigned status, const std::string& message) {
  return json_answer(status, json::object{{"error", message}});
}

// A path segment with its %XX escapes decoded; nullopt when an escape is broken.
std::optional<std::string> decode_segment(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= s.size()) return std::nullopt;
    const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc() || end != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// What a person reading an error needs to see of something a client sent: short, printable.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text.substr(0, 64)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (text.size() > 64) out += "...";
  return out + "'";
}

json::object fault_json(const fault_state& f, const admin_catalog& catalog) {
  json::object o;
  o["index"] = f.index;
  o["failure_mode"] = f.index < catalog.fault_failure_modes.size() ? json::value(catalog.fault_failure_modes[f.index])
                                                                    : json::value(nullptr);
  o["kind"] = f.kind;
  o["endpoint"] = f.endpoint ? json::value(*f.endpoint) : json::value(nullptr);
  o["enabled"] = f.enabled;
  o["injected"] = f.injected;
  return o;
}

json::object webhook_fault_json(const webhook_fault_state& f) {
  json::object o;
  o["index"] = f.index;
  o["failure_mode"] = f.failure_mode;
  o["kind"] = f.kind;
  o["endpoint"] = f.endpoint ? json::value(*f.endpoint) : json::value(nullptr);
  o["enabled"] = f.enabled;
  o["injected"] = f.injected;
  return o;
}

json::object mode_json(std::string_view id, const std::vector<fault_state>& faults,
                       const std::vector<webhook_fault_state>& webhook_faults, const admin_catalog& catalog) {
  json::array list, webhook_list;
  bool all_enabled = true;
  std::uint64_t injected = 0;
  for (const auto& f : faults) {
    if (f.index >= catalog.fault_failure_modes.size() || catalog.fault_failure_modes[f.index] != id) continue;
    all_enabled = all_enabled && f.enabled;
    injected += f.injected;
    list.push_back(fault_json(f, catalog));
  }
  for (const auto& f : webhook_faults) {
    if (f.failure_mode != id) continue;
    all_enabled = all_enabled && f.enabled;
    injected += f.injected;
    webhook_list.push_back(webhook_fault_json(f));
  }
  // A failure mode with no fault the mock can inject is never "enabled": enabling it changes nothing.
  const bool enabled = all_enabled && !(list.empty() && webhook_list.empty());
  json::object o{{"failure_mode", id}, {"enabled", enabled}, {"injected", injected}, {"faults", std::move(list)}};
  if (catalog.deliveries != nullptr) o["webhook_faults"] = std::move(webhook_list);
  return o;
}

std::vector<webhook_fault_state> webhook_faults_of(const admin_catalog& catalog) {
  return catalog.deliveries != nullptr ? catalog.deliveries->faults() : std::vector<webhook_fault_state>{};
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

admin_handler::admin_handler(server& mock, admin_catalog catalog) : mock_(mock), catalog_(std::move(catalog)) {}

admin_response admin_handler::handle(std::string_view method, std::string_view target, std::string_view body) const {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path.front() != '/') {
    return error_answer(400, "the request target " + quoted(target) + " is not a path starting with '/'");
  }
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> segments;
  for (std::size_t at = 1; at <= path.size();) {
    const auto slash = std::min(path.find('/', at), path.size());
    auto decoded = decode_segment(path.substr(at, slash - at));
    if (!decoded) return error_answer(400, "the path " + quoted(path) + " has a broken %-escape");
    segments.push_back(std::move(*decoded));
    at = slash + 1;
  }

  // Which operation the path names and the method it takes; the checks that follow go from the
  // outside in: the path, the method, then the parameters and the body.
  enum class op {
    none, health, endpoints, faults, fault, fault_set, modes, mode, mode_set, reset, journal, metrics,
    deliveries, deliveries_send, webhook_faults, webhook_fault, webhook_fault_set
  };
  op which = op::none;
  const auto n = segments.size();
  const std::string first = n > 0 ? segments[0] : std::string();
  const bool action = n == 3 && (segments[2] == "enable" || segments[2] == "disable");
  if (n == 1 && first == "health") which = op::health;
  else if (n == 1 && first == "endpoints") which = op::endpoints;
  else if (n == 1 && first == "faults") which = op::faults;
  else if (n == 2 && first == "faults") which = op::fault;
  else if (action && first == "faults") which = op::fault_set;
  else if (n == 1 && first == "failure-modes") which = op::modes;
  else if (n == 2 && first == "failure-modes") which = op::mode;
  else if (action && first == "failure-modes") which = op::mode_set;
  else if (n == 1 && first == "reset") which = op::reset;
  else if (n == 1 && first == "journal") which = op::journal;
  else if (n == 1 && first == "metrics") which = op::metrics;
  else if (n == 1 && first == "deliveries") which = op::deliveries;
  else if (n == 2 && first == "deliveries" && segments[1] == "send") which = op::deliveries_send;
  else if (n == 2 && first == "deliveries" && segments[1] == "faults") which = op::webhook_faults;
  else if (n == 3 && first == "deliveries" && segments[1] == "faults") which = op::webhook_fault;
  else if (n == 4 && first == "deliveries" && segments[1] == "faults" &&
           (segments[3] == "enable" || segments[3] == "disable")) which = op::webhook_fault_set;
  if (which == op::none) {
    return error_answer(404, "no admin operation at " + quoted(path) + "; the API has " + std::string(api_summary));
  }
  const bool post = which == op::fault_set || which == op::mode_set || which == op::reset ||
                    which == op::deliveries_send || which == op::webhook_fault_set;
  const std::string_view wanted = post ? "POST" : "GET";
  if (method != wanted) {
    auto r = error_answer(405, std::string(path) + " takes " + std::string(wanted) + ", not " + quoted(method));
    r.allow = std::string(wanted);
    return r;
  }
  if (post && body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    // The operations take no parameters in the body; one that is sent must still make sense, so a
    // client that sent something else by mistake hears about it instead of being ignored.
    error_code ec;
    const auto v = json::parse(body, ec);
    if (ec) return error_answer(400, "the request body is not JSON (" + ec.message() + "); send no body, or {}");
    if (!v.is_object()) return error_answer(400, "the request body must be a JSON object; send no body, or {}");
  }

  switch (which) {
    case op::health:
      return json_answer(200, json::object{{"status", "ok"}});
    case op::endpoints: {
      json::array list;
      for (const auto& r : catalog_.routes) {
        list.push_back(json::object{{"id", r.endpoint_id}, {"method", upper(r.method)}, {"path", r.path},
                                    {"status", r.status}});
      }
      return json_answer(200, list);
    }
    case op::faults: {
      json::array list;
      for (const auto& f : mock_.faults()) list.push_back(fault_json(f, catalog_));
      return json_answer(200, list);
    }
    case op::fault:
      return fault(segments[1], "");
    case op::fault_set:
      return fault(segments[1], segments[2]);
    case op::modes: {
      const auto faults = mock_.faults();
      const auto webhook_faults = webhook_faults_of(catalog_);
      json::array list;
      for (const auto& id : catalog_.failure_modes) list.push_back(mode_json(id, faults, webhook_faults, catalog_));
      return json_answer(200, list);
    }
    case op::mode:
      return faults_of_mode(segments[1], "");
    case op::mode_set:
      return faults_of_mode(segments[1], segments[2]);
    case op::reset:
      mock_.reset();
      return json_answer(200, json::object{{"reset", true}});
    case op::journal: {
      admin_response r;
      r.content_type = "application/x-ndjson";
      r.body = journal_text(mock_.records());
      return r;
    }
    case op::metrics: {
      admin_response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = prometheus_text(snapshot_of(mock_, catalog_.fault_failure_modes));
      if (catalog_.deliveries != nullptr) {
        r.body += webhook_prometheus_text(catalog_.deliveries->totals(), catalog_.deliveries->faults());
      }
      return r;
    }
    case op::deliveries: {
      if (catalog_.deliveries == nullptr) return error_answer(409, std::string(no_deliveries));
      admin_response r;
      r.content_type = "application/x-ndjson";
      r.body = deliveries_text(catalog_.deliveries->records());
      return r;
    }
    case op::deliveries_send:
      return send_deliveries(target);
    case op::webhook_faults: {
      if (catalog_.deliveries == nullptr) return error_answer(409, std::string(no_deliveries));
      json::array list;
      for (const auto& f : catalog_.deliveries->faults()) list.push_back(webhook_fault_json(f));
      return json_answer(200, list);
    }
    case op::webhook_fault:
      return webhook_fault(segments[2], "");
    case op::webhook_fault_set:
      return webhook_fault(segments[2], segments[3]);
    case op::none:
      break;
  }
  return error_answer(500, "unhandled admin operation");
}

admin_response admin_handler::fault(std::string_view index_text, std::string_view action) const {
  const auto count = catalog_.fault_failure_modes.size();
  const std::string range = count == 0 ? std::string("this mock has no faults")
                                       : "faults are numbered 0 to " + std::to_string(count - 1) + " (GET /faults)";
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (index_text.empty() || ec == std::errc::invalid_argument || end != index_text.data() + index_text.size()) {
    return error_answer(400, quoted(index_text) + " is not a fault index: " + range);
  }
  if (ec == std::errc::result_out_of_range || index >= mock_.faults().size()) {
    return error_answer(404, "no fault " + std::string(index_text) + ": " + range);
  }
  if (!action.empty() && !mock_.set_fault_enabled(index, action == "enable")) {
    return error_answer(404, "no fault " + std::string(index_text) + ": " + range);
  }
  const auto faults = mock_.faults();
  return json_answer(200, fault_json(faults.at(index), catalog_));
}

admin_response admin_handler::faults_of_mode(std::string_view id, std::string_view action) const {
  const auto& modes = catalog_.failure_modes;
  if (std::find(modes.begin(), modes.end(), id) == modes.end()) {
    std::string known;
    for (const auto& m : modes) known += (known.empty() ? "" : ", ") + m;
    return error_answer(404, "no failure mode " + quoted(id) + " in the plan" +
                                 (known.empty() ? std::string() : " (failure modes: " + known + ")"));
  }
  if (!action.empty()) {
    for (std::size_t i = 0; i < catalog_.fault_failure_modes.size(); ++i) {
      if (catalog_.fault_failure_modes[i] == id) mock_.set_fault_enabled(i, action == "enable");
    }
    for (const auto& f : webhook_faults_of(catalog_)) {
      if (f.failure_mode == id) catalog_.deliveries->set_fault_enabled(f.index, action == "enable");
    }
  }
  return json_answer(200, mode_json(id, mock_.faults(), webhook_faults_of(catalog_), catalog_));
}

admin_response admin_handler::webhook_fault(std::string_view index_text, std::string_view action) const {
  if (catalog_.deliveries == nullptr) return error_answer(409, std::string(no_deliveries));
  const auto faults = catalog_.deliveries->faults();
  const std::string range = faults.empty() ? std::string("the plan has no webhook faults")
                                           : "webhook faults are numbered 0 to " + std::to_string(faults.size() - 1) +
                                                 " (GET /deliveries/faults)";
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
  if (index_text.empty() || ec == std::errc::invalid_argument || end != index_text.data() + index_text.size()) {
    return error_answer(400, quoted(index_text) + " is not a webhook fault index: " + range);
  }
  if (ec == std::errc::result_out_of_range || index >= faults.size()) {
    return error_answer(404, "no webhook fault " + std::string(index_text) + ": " + range);
  }
  if (!action.empty()) catalog_.deliveries->set_fault_enabled(index, action == "enable");
  return json_answer(200, webhook_fault_json(catalog_.deliveries->faults().at(index)));
}

admin_response admin_handler::send_deliveries(std::string_view target) const {
  if (catalog_.deliveries == nullptr) return error_answer(409, std::string(no_deliveries));
  const auto max = std::to_string(webhook_deliveries::max_send_count);
  std::optional<std::string_view> count_text;
  const auto q = target.find('?');
  for (std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
       !query.empty();) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    if (item.starts_with("count=")) count_text = item.substr(6);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  if (!count_text) return error_answer(400, "say how many events to send: POST /deliveries/send?count=N (1 to " + max + ")");
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(count_text->data(), count_text->data() + count_text->size(), count);
  if (count_text->empty() || ec != std::errc() || end != count_text->data() + count_text->size() || count == 0 ||
      count > webhook_deliveries::max_send_count) {
    return error_answer(400, "count " + quoted(*count_text) + " is not a number of events from 1 to " + max);
  }
  if (auto why = catalog_.deliveries->send(count); !why.empty()) return error_answer(409, why);
  json::array endpoints;
  for (const auto& s : catalog_.deliveries->streams()) endpoints.push_back(json::string(s.endpoint.id));
  return json_answer(202, json::object{{"sending", count},
                                       {"endpoints", std::move(endpoints)},
                                       {"batch", catalog_.deliveries->batches()}});
}

namespace detail {

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void log_escaped(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::warn("admin API: connection dropped: {}", ex.what());
  } catch (...) {
    spdlog::warn("admin API: connection dropped: unknown exception");
  }
}

// Why a request could not be read, for the person who sent it.
std::string read_failure(const error_code& ec, const admin_options& o) {
  if (ec == http::error::body_limit) {
    return "the request body is larger than the admin API accepts (" + std::to_string(o.body_limit) + " bytes)";
  }
  if (ec == http::error::header_limit) {
    return "the request line and headers are larger than the admin API accepts (" + std::to_string(o.header_limit) +
           " bytes)";
  }
  return "the request is not HTTP/1.1 the admin API can read (" + ec.message() + ")";
}

}  // namespace

class admin_state : public std::enable_shared_from_this<admin_state> {
 public:
  admin_state(asio::any_io_executor ex, server& mock, admin_catalog catalog, admin_options options)
      : strand_(asio::make_strand(ex)),
        options_(std::move(options)),
        handler_(mock, std::move(catalog)),
        acceptor_(strand_),
        accept_pause_(strand_) {}

  std::error_code listen() {
    error_code ec;
    const auto address = asio::ip::make_address(options_.address, ec);
    if (ec) return ec;
    if (stopped_.load()) return error_code(asio::error::operation_aborted);
    if (listening_.exchange(true)) return error_code(asio::error::already_open);
    unsigned short bound = 0;
    if (ec = open_and_listen(acceptor_, address, options_.port, bound); ec) {
      listening_ = false;
      return ec;
    }
    port_ = bound;
    asio::co_spawn(strand_, accept_loop(shared_from_this()), log_escaped);
    return {};
  }

  unsigned short port() const noexcept { return port_.load(); }
  const admin_handler& handler() const noexcept { return handler_; }

  void stop() {
    if (stopped_.exchange(true)) return;
    asio::post(strand_, [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->accept_pause_.cancel();
      for (auto& [id, weak] : self->connections_) {
        if (auto c = weak.lock()) c->close();
      }
    });
  }

 private:
  struct connection {
    explicit connection(tcp::socket s) : stream(std::move(s)) {}
    void close() {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream.socket().close(ignored);
    }
    beast::tcp_stream stream;
  };

  static asio::awaitable<void> accept_loop(std::shared_ptr<admin_state> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor_.async_accept(self->strand_, use_tuple);
      if (self->stopped_.load() || !self->acceptor_.is_open()) co_return;
      if (ec) {
        // Out of descriptors and the like: pause rather than spin; a connection closing frees one.
        self->accept_pause_.expires_after(std::chrono::milliseconds(50));
        co_await self->accept_pause_.async_wait(use_tuple);
        continue;
      }
      if (self->connections_.size() >= self->options_.max_connections) {
        error_code ignored;
        socket.close(ignored);
        continue;
      }
      auto c = std::make_shared<connection>(std::move(socket));
      const auto id = self->next_id_++;
      self->connections_.emplace(id, c);
      asio::co_spawn(self->strand_, session(self, c, id), log_escaped);
    }
  }

  static asio::awaitable<void> session(std::shared_ptr<admin_state> self, std::shared_ptr<connection> c,
                                       std::uint64_t id) {
    // However the session ends, the connection is closed and leaves the registry.
    struct cleanup {
      admin_state& state;
      connection& conn;
      std::uint64_t id;
      ~cleanup() {
        conn.close();
        state.connections_.erase(id);
      }
    } guard{*self, *c, id};

    const auto& opt = self->options_;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(opt.header_limit);
      parser.body_limit(opt.body_limit);
      // One deadline from waiting for the request to its last byte: an idle keep-alive connection
      // and a request sent a byte at a time end the same way.
      c->stream.expires_after(opt.read_timeout);
      error_code ec;
      std::tie(ec, std::ignore) = co_await http::async_read_header(c->stream, buffer, parser, use_tuple);
      if (!ec && !parser.is_done()) {
        const auto& head = parser.get();
        if (head.version() >= 11 && beast::iequals(head[http::field::expect], "100-continue")) {
          static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
          std::tie(ec, std::ignore) = co_await asio::async_write(c->stream, asio::buffer(go_on), use_tuple);
        }
        if (!ec) std::tie(ec, std::ignore) = co_await http::async_read(c->stream, buffer, parser, use_tuple);
      }
      if (self->stopped_.load()) co_return;
      if (ec) {
        // A peer that went away or went quiet has nobody to answer (the stream closed itself on
        // the timeout); anything else gets one 400 and the connection closes, since what follows
        // a request that could not be read cannot be trusted to start the next one.
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
            ec == asio::error::connection_reset || ec == asio::error::eof) {
          co_return;
        }
        admin_response answer = error_answer(400, read_failure(ec, opt));
        if (co_await write(*c, answer, 11, false, opt)) co_await linger(*c);
        co_return;
      }
      const auto& req = parser.get();
      const bool keep_alive = req.keep_alive();
      admin_response answer = self->authorized(req)
                                  ? self->handler_.handle(req.method_string(), req.target(), req.body())
                                  : error_answer(401, "this admin API needs the header `Authorization: Bearer "
                                                      "<token>` with the token `serve --admin-token` names");
      if (self->stopped_.load()) co_return;
      if (!co_await write(*c, answer, req.version(), keep_alive, opt) || !keep_alive) co_return;
    }
  }

  bool authorized(const http::request<http::string_body>& req) const {
    if (options_.token.empty()) return true;
    const auto it = req.find(http::field::authorization);
    if (it == req.end()) return false;
    const std::string_view value(it->value().data(), it->value().size());
    constexpr std::string_view scheme = "Bearer ";
    if (value.size() < scheme.size() ||
        !std::equal(scheme.begin(), scheme.end(), value.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
      return false;
    }
    return core::constant_time_equal(value.substr(scheme.size()), options_.token);
  }

  // After answering a request we did not read to its end: closing with unread input would reset
  // the connection and could destroy the answer before the client reads it. So stop sending and
  // drain what the client still sends, for a short while and a bounded amount.
  static asio::awaitable<void> linger(connection& c) {
    error_code ec;
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    c.stream.expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> sink;
    for (std::size_t drained = 0; drained < 1024 * 1024;) {
      auto [e, n] = co_await c.stream.async_read_some(asio::buffer(sink), use_tuple);
      if (e) co_return;
      drained += n;
    }
  }

  static asio::awaitable<bool> write(connection& c, const admin_response& answer, unsigned version, bool keep_alive,
                                     const admin_options& opt) {
    http::response<http::string_body> res{static_cast<http::status>(answer.status), version};
    res.set(http::field::server, "planproof-admin");
    res.set(http::field::content_type, answer.content_type);
    res.set(http::field::cache_control, "no-store");
    if (!answer.allow.empty()) res.set(http::field::allow, answer.allow);
    if (answer.status == 401) res.set(http::field::www_authenticate, "Bearer realm=\"planproof-admin\"");
    res.keep_alive(keep_alive);
    res.body() = answer.body;
    res.prepare_payload();
    c.stream.expires_after(opt.write_timeout);
    auto [ec, n] = co_await http::async_write(c.stream, res, use_tuple);
    co_return !ec;
  }

  const asio::any_io_executor strand_;
  const admin_options options_;
  const admin_handler handler_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> listening_{false};
  std::atomic<unsigned short> port_{0};
  // Touched on strand_ only (and by listen() before the accept loop starts).
  tcp::acceptor acceptor_;
  asio::steady_timer accept_pause_;
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> connections_;
  std::uint64_t next_id_ = 0;
};

}  // namespace detail

admin_api::admin_api(boost::asio::any_io_executor ex, server& mock, admin_catalog catalog, admin_options options)
    : state_(std::make_shared<detail::admin_state>(std::move(ex), mock, std::move(catalog), std::move(options))) {}

admin_api::~admin_api() { state_->stop(); }

std::error_code admin_api::listen() { return state_->listen(); }
unsigned short admin_api::port() const noexcept { return state_->port(); }
void admin_api::stop() { state_->stop(); }
const admin_handler& admin_api::handler() const noexcept { return state_->handler(); }

}  // namespace planproof::mocks
