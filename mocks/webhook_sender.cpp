#include "mocks/webhook_sender.hpp"
#include "plan/json_text.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <queue>
#include <tuple>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

namespace planproof::mocks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;

// --- names -------------------------------------------------------------------------------------------

std::string_view to_string(signature_kind k) noexcept {
  switch (k) {
    case signature_kind::valid: return "valid";
    case signature_kind::wrong_secret: return "wrong_secret";
    case signature_kind::stale_timestamp: return "stale_timestamp";
    case signature_kind::missing: return "missing";
    case signature_kind::malformed: return "malformed";
    case signature_kind::none: return "none";
  }
  return "valid";
}

std::optional<signature_kind> parse_bad_signature_kind(std::string_view s) noexcept {
  if (s == "wrong_secret") return signature_kind::wrong_secret;
  if (s == "stale_timestamp") return signature_kind::stale_timestamp;
  if (s == "missing") return signature_kind::missing;
  if (s == "malformed") return signature_kind::malformed;
  return std::nullopt;
}

std::string_view to_string(delivery_error e) noexcept {
  switch (e) {
    case delivery_error::none: return "none";
    case delivery_error::connect_timeout: return "connect_timeout";
    case delivery_error::connection_refused: return "connection_refused";
    case delivery_error::read_timeout: return "read_timeout";
    case delivery_error::connection_reset: return "connection_reset";
    case delivery_error::connection_closed: return "connection_closed";
    case delivery_error::protocol_error: return "protocol_error";
    case delivery_error::other: return "other";
  }
  return "other";
}

std::string_view to_string(delivery_outcome o) noexcept {
  switch (o) {
    case delivery_outcome::delivered: return "delivered";
    case delivery_outcome::retrying: return "retrying";
    case delivery_outcome::gave_up: return "gave_up";
  }
  return "gave_up";
}

// --- faults_from_plan --------------------------------------------------------------------------------

namespace {

constexpr int max_copies = 100;
constexpr std::uint64_t max_burst_count = 1'000'000;

// Reads one fault's `params`, collecting what is wrong instead of stopping at the first problem.
class param_reader {
 public:
  param_reader(const plan::fault& f, std::vector<webhook_fault_error>& errors) : f_(f), errors_(errors) {}

  bool failed() const noexcept { return failed_; }

  void error(const std::string& message) {
    errors_.push_back({f_.where, "fault '" + f_.kind + "': " + message});
    failed_ = true;
  }

  void allow_only(std::initializer_list<std::string_view> keys) {
    for (const auto& kv : f_.params) {
      if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) == keys.end()) {
        std::string list;
        for (const auto k : keys) list.append(list.empty() ? "" : ", ").append(k);
        error("unknown key '" + std::string(kv.key()) + "' (expected " + (list.empty() ? "none" : list) + ")");
      }
    }
  }

  const json::value* find(std::string_view key) const {
    const auto it = f_.params.find(key);
    return it == f_.params.end() ? nullptr : &it->value();
  }

  std::optional<core::duration> duration(std::string_view key) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_string()) {
      if (auto d = core::parse_duration(v->get_string())) return d;
    } else if ((v->is_int64() && v->get_int64() == 0) || (v->is_uint64() && v->get_uint64() == 0) ||
               (v->is_double() && v->get_double() == 0.0)) {
      return core::duration::zero();
    }
    error(std::string(key) + ": expected " + std::string(core::duration_syntax) + ", got " + json::serialize(*v));
    return std::nullopt;
  }

  std::optional<std::uint64_t> integer(std::string_view key, std::uint64_t min, std::uint64_t max) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    std::optional<double> number;
    if (v->is_int64()) number = static_cast<double>(v->get_int64());
    if (v->is_uint64()) number = static_cast<double>(v->get_uint64());
    if (v->is_double()) number = v->get_double();
    if (v->is_string()) number = core::parse_number(v->get_string());
    if (number && std::isfinite(*number) && std::floor(*number) == *number && *number >= static_cast<double>(min) &&
        *number <= static_cast<double>(max)) {
      return static_cast<std::uint64_t>(*number);
    }
    error(std::string(key) + ": expected an integer in " + std::to_string(min) + ".." + std::to_string(max) +
          ", got " + json::serialize(*v));
    return std::nullopt;
  }

  std::optional<double> rate(std::string_view key) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    std::optional<double> r;
    if (v->is_string()) r = core::parse_rate(v->get_string());
    if (v->is_int64()) r = static_cast<double>(v->get_int64());
    if (v->is_uint64()) r = static_cast<double>(v->get_uint64());
    if (v->is_double()) r = v->get_double();
    if (r && std::isfinite(*r) && *r > 0) return r;
    error(std::string(key) + ": expected " + std::string(core::rate_syntax) + ", got " + json::serialize(*v));
    return std::nullopt;
  }

  std::optional<std::string> text(std::string_view key) {
    const auto* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_string()) return std::string(v->get_string());
    error(std::string(key) + ": expected a string, got " + json::serialize(*v));
    return std::nullopt;
  }

 private:
  const plan::fault& f_;
  std::vector<webhook_fault_error>& errors_;
  bool failed_ = false;
};

webhook_fault_scope scope_of(const plan::fault& f, std::size_t source) {
  return {.probability = f.probability, .during = f.during, .first = f.first, .every = f.every, .after = f.after,
          .source = source};
}

}  // namespace

webhook_faults faults_from_plan(const std::vector<plan::fault>& faults, std::string_view endpoint_id) {
  webhook_faults out;
  for (std::size_t source = 0; source < faults.size(); ++source) {
    const auto& f = faults[source];
    if (!endpoint_id.empty() && f.endpoint && *f.endpoint != endpoint_id) continue;
    param_reader p(f, out.errors);
    if (f.kind == "duplicate_delivery") {
      p.allow_only({"copies", "delay"});
      duplicate_fault d{.scope = scope_of(f, source)};
      if (auto c = p.integer("copies", 2, max_copies)) d.copies = static_cast<int>(*c);
      if (auto delay = p.duration("delay")) d.delay = *delay;
      if (!p.failed()) out.duplicates.push_back(std::move(d));
    } else if (f.kind == "out_of_order") {
      p.allow_only({"window"});
      out_of_order_fault o{.scope = scope_of(f, source)};
      if (auto w = p.duration("window")) {
        if (*w <= core::duration::zero()) p.error("window: must be longer than 0");
        o.window = *w;
      }
      if (!p.failed()) out.out_of_order.push_back(std::move(o));
    } else if (f.kind == "bad_signature") {
      p.allow_only({"kind", "age"});
      bad_signature_fault b{.scope = scope_of(f, source)};
      if (auto k = p.text("kind")) {
        if (auto parsed = parse_bad_signature_kind(*k)) {
          b.kind = *parsed;
        } else {
          p.error("kind: expected wrong_secret, stale_timestamp, missing or malformed, got '" + *k + "'");
        }
      }
      if (auto age = p.duration("age")) {
        if (*age <= core::duration::zero()) p.error("age: must be longer than 0");
        if (b.kind != signature_kind::stale_timestamp) p.error("age applies to kind stale_timestamp only");
        b.age = *age;
      }
      if (!p.failed()) out.bad_signatures.push_back(std::move(b));
    } else if (f.kind == "burst") {
      p.allow_only({"count", "rate", "at"});
      if (f.first || f.every || f.after) p.error("first, every and after do not apply to a burst");
      burst_fault b{.scope = scope_of(f, source), .at = f.starts_at()};
      if (auto c = p.integer("count", 1, max_burst_count)) {
        b.count = *c;
      } else if (!p.find("count")) {
        p.error("count is required (the events the burst adds)");
      }
      if (auto r = p.rate("rate")) b.rate = *r;
      if (auto at = p.duration("at")) b.at = *at;
      if (!p.failed()) out.bursts.push_back(std::move(b));
    }
  }
  return out;
}

// --- pure helpers ------------------------------------------------------------------------------------

core::webhook_signature_params signature_params(const plan::signature_config& s) {
  return {.digest = s.scheme == plan::signature_scheme::hmac_sha512 ? core::hmac_digest::sha512
                                                                     : core::hmac_digest::sha256,
          .signature_header = s.header,
          .timestamp_header = s.timestamp_header,
          .tolerance = s.tolerance};
}

core::signed_headers sign_delivery(const core::webhook_signature_params& params, std::string_view secret,
                                   std::int64_t unix_now, std::string_view body, signature_kind kind,
                                   core::duration stale_age) {
  switch (kind) {
    case signature_kind::none: return {};
    case signature_kind::valid: return core::sign_webhook(params, secret, unix_now, body);
    case signature_kind::wrong_secret: {
      // Any other key will do; deriving it from the real one keeps it different for every secret.
      const std::string wrong = "planproof-wrong-secret:" + std::string(secret);
      return core::sign_webhook(params, wrong, unix_now, body);
    }
    case signature_kind::stale_timestamp: {
      // Rounded up so that `age: 5m1s` against a 5m tolerance is stale by at least a second.
      const auto age = std::chrono::ceil<std::chrono::seconds>(stale_age).count();
      return core::sign_webhook(params, secret, std::max<std::int64_t>(0, unix_now - age), body);
    }
    case signature_kind::missing: {
      auto h = core::sign_webhook(params, secret, unix_now, body);
      std::erase_if(h, [&](const auto& f) { return f.name == params.signature_header; });
      return h;
    }
    case signature_kind::malformed: {
      auto h = core::sign_webhook(params, secret, unix_now, body);
      for (auto& f : h) {
        if (f.name != params.signature_header) continue;
        f.value = params.timestamp_header.empty() ? "t=" + std::to_string(unix_now) + ",v1=not-a-signature"
                                                  : "v1=not-a-signature";
      }
      return h;
    }
  }
  return {};
}

std::string event_id(std::uint64_t sequence) {
  std::string digits = std::to_string(sequence);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return "evt_" + digits;
}

std::optional<std::string> event_body(const std::optional<boost::json::value>& example, std::string_view dedup_key,
                                      std::string_view event_id) {
  json::value body = example ? *example : json::value(json::object());
  json::value* at = &body;
  std::string_view rest = dedup_key.empty() ? std::string_view("id") : dedup_key;
  for (;;) {
    const auto dot = rest.find('.');
    const std::string_view key = rest.substr(0, dot);
    if (key.empty() || !at->is_object()) return std::nullopt;
    auto& obj = at->as_object();
    if (dot == std::string_view::npos) {
      obj[key] = event_id;
      break;
    }
    auto it = obj.find(key);
    if (it == obj.end()) it = obj.emplace(key, json::object()).first;
    at = &it->value();
    rest = rest.substr(dot + 1);
  }
  return plan::json_text(body);
}

// --- the planner -------------------------------------------------------------------------------------

webhook_fault_planner::webhook_fault_planner(webhook_faults faults, std::uint64_t seed, bool signed_endpoint,
                                             core::duration default_stale_age)
    : faults_(std::move(faults)),
      rng_(seed),
      signed_(signed_endpoint),
      default_stale_age_(default_stale_age),
      duplicate_seen_(faults_.duplicates.size()),
      out_of_order_seen_(faults_.out_of_order.size()),
      bad_signature_seen_(faults_.bad_signatures.size()) {}

// 53 random bits as a double in [0, 1): the same on every standard library (fault_injector does the
// same), unlike std::uniform_real_distribution.
double webhook_fault_planner::draw() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

bool webhook_fault_planner::applies(const webhook_fault_scope& scope, std::uint64_t& seen, core::duration t,
                                    bool enabled) {
  const bool in_window = scope.during.empty() ||
                         std::any_of(scope.during.begin(), scope.during.end(),
                                     [&](const plan::time_window& w) { return w.contains(t); });
  if (!in_window) return false;
  const std::uint64_t n = ++seen;
  bool selected = true;
  if (scope.after && n <= *scope.after) {
    selected = false;
  } else {
    const std::uint64_t m = n - scope.after.value_or(0);
    const std::uint64_t every = std::max<std::uint64_t>(1, scope.every.value_or(1));
    if (m % every != 0) {
      selected = false;
    } else if (scope.first && m / every > *scope.first) {
      selected = false;
    }
  }
  // Drawn whether or not the selectors picked this event, so they never shift later draws.
  const double d = draw();
  return enabled && selected && d < scope.probability;
}

event_schedule webhook_fault_planner::schedule(const webhook_traffic& traffic) {
  event_schedule s;
  const std::uint64_t cap = traffic.max_events;
  std::uint64_t wanted = 0;
  // Only the first `cap` events of each source can be among the first `cap` overall.
  auto add_series = [&](core::duration start, std::uint64_t count, double rate, bool burst, std::size_t source) {
    wanted += count;
    const std::uint64_t n = std::min(count, cap);
    for (std::uint64_t i = 0; i < n; ++i) {
      const double offset_ns = rate > 0 ? static_cast<double>(i) * 1e9 / rate : 0.0;
      s.events.push_back(
          {start + core::duration(static_cast<core::duration::rep>(std::llround(offset_ns))), burst, source});
    }
  };
  if (traffic.rate > 0 && traffic.duration > core::duration::zero()) {
    const double n = std::ceil(traffic.rate * core::to_seconds(traffic.duration) - 1e-9);
    const double bounded = std::min(n, static_cast<double>(std::numeric_limits<std::uint32_t>::max()));
    add_series(core::duration::zero(), static_cast<std::uint64_t>(std::max(0.0, bounded)), traffic.rate, false, 0);
  }
  for (const auto& b : faults_.bursts) {
    if (draw() < b.scope.probability) add_series(b.at, b.count, b.rate, true, b.scope.source);
  }
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const scheduled_event& a, const scheduled_event& b) { return a.at < b.at; });
  if (s.events.size() > cap) s.events.resize(cap);
  s.dropped = wanted - s.events.size();
  return s;
}

event_decision webhook_fault_planner::decide(core::duration created_at, std::span<const std::size_t> disabled) {
  auto on = [&](const webhook_fault_scope& scope) {
    return std::find(disabled.begin(), disabled.end(), scope.source) == disabled.end();
  };
  event_decision d;
  std::optional<std::size_t> dup;
  for (std::size_t i = 0; i < faults_.duplicates.size(); ++i) {
    const auto& scope = faults_.duplicates[i].scope;
    if (applies(scope, duplicate_seen_[i], created_at, on(scope)) && !dup) dup = i;
  }
  if (dup) {
    d.copies = faults_.duplicates[*dup].copies;
    d.copy_delay = faults_.duplicates[*dup].delay;
    d.applied.push_back(faults_.duplicates[*dup].scope.source);
  }
  std::optional<std::size_t> held;
  for (std::size_t i = 0; i < faults_.out_of_order.size(); ++i) {
    const auto& scope = faults_.out_of_order[i].scope;
    if (applies(scope, out_of_order_seen_[i], created_at, on(scope)) && !held) held = i;
  }
  if (held) {
    d.applied.push_back(faults_.out_of_order[*held].scope.source);
    // In (0, window]: a zero hold would not be a hold at all.
    const double window_ns = static_cast<double>(faults_.out_of_order[*held].window.count());
    d.hold = std::max(core::duration(1),
                      core::duration(static_cast<core::duration::rep>(std::ceil(window_ns * (1.0 - draw())))));
  }
  for (int c = 0; c < d.copies; ++c) {
    signature_kind kind = signed_ ? signature_kind::valid : signature_kind::none;
    core::duration age = default_stale_age_;
    if (signed_) {
      bool chosen = false;
      for (std::size_t i = 0; i < faults_.bad_signatures.size(); ++i) {
        const auto& f = faults_.bad_signatures[i];
        if (applies(f.scope, bad_signature_seen_[i], created_at, on(f.scope)) && !chosen) {
          chosen = true;
          kind = f.kind;
          age = f.age.value_or(default_stale_age_);
          d.applied.push_back(f.scope.source);
        }
      }
    }
    d.signatures.push_back(kind);
    d.stale_ages.push_back(kind == signature_kind::stale_timestamp ? age : core::duration::zero());
  }
  return d;
}

// --- validation --------------------------------------------------------------------------------------

namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
  });
}

bool is_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

core::duration default_stale_age(const plan::endpoint& e) {
  return (e.signature ? e.signature->tolerance : core::duration::zero()) + 1min;
}

std::string effective_method(const plan::endpoint& e) { return e.method.empty() ? "POST" : e.method; }
std::string effective_path(const webhook_sender_config& c) {
  return c.target.path.empty() ? c.endpoint.path : c.target.path;
}

}  // namespace

std::string validate(const webhook_sender_config& c) {
  error_code ec;
  (void)asio::ip::make_address(c.target.host, ec);
  if (ec) return "target.host: '" + c.target.host + "' is not an IP address";
  if (c.target.port == 0) return "target.port: required";
  const std::string path = effective_path(c);
  if (path.empty() || path.front() != '/' || !is_field_value(path) || path.find(' ') != std::string::npos) {
    return "path: '" + path + "' is not an absolute request path";
  }
  for (const auto& h : c.target.headers) {
    if (!is_token(h.name) || !is_field_value(h.value)) return "target.headers: invalid header '" + h.name + "'";
  }
  if (!c.target.attempt_header.empty() && !is_token(c.target.attempt_header)) {
    return "target.attempt_header: invalid header name '" + c.target.attempt_header + "'";
  }
  if (c.endpoint.direction != plan::endpoint_direction::inbound) {
    return "endpoint '" + c.endpoint.id + "' is not inbound";
  }
  if (http::string_to_verb(effective_method(c.endpoint)) == http::verb::unknown) {
    return "endpoint method '" + c.endpoint.method + "' is not an HTTP method";
  }
  if (c.endpoint.signature) {
    const auto p = signature_params(*c.endpoint.signature);
    if (!is_token(p.signature_header)) return "signature.header: invalid header name '" + p.signature_header + "'";
    if (!p.timestamp_header.empty() && !is_token(p.timestamp_header)) {
      return "signature.timestamp_header: invalid header name '" + p.timestamp_header + "'";
    }
    if (c.secret.empty()) return "secret: required for a signed endpoint";
  }
  if (!event_body(c.endpoint.request_example, c.endpoint.dedup_key, event_id(1))) {
    return "dedup_key '" + c.endpoint.dedup_key + "' cannot be set in the request example (not an object on the way)";
  }
  const auto& t = c.traffic;
  if (!std::isfinite(t.rate) || t.rate < 0) return "traffic.rate: must be >= 0";
  if (t.duration < core::duration::zero()) return "traffic.duration: must be >= 0";
  if (t.max_in_flight == 0) return "traffic.max_in_flight: must be >= 1";
  if (t.max_events == 0) return "traffic.max_events: must be >= 1";
  if (c.first_sequence == 0) return "first_sequence: must be >= 1";
  const auto& r = c.retry;
  if (r.max_attempts < 1 || r.max_attempts > 100) return "retry.max_attempts: must be in 1..100";
  if (r.base < core::duration::zero() || r.max < core::duration::zero()) return "retry: waits must be >= 0";
  if (!std::isfinite(r.multiplier) || r.multiplier < 1) return "retry.multiplier: must be >= 1";
  if (c.timeouts.connect <= core::duration::zero() || c.timeouts.read <= core::duration::zero()) {
    return "timeouts: must be longer than 0";
  }
  const auto& f = c.faults;
  for (const auto& d : f.duplicates) {
    if (d.copies < 2 || d.copies > max_copies) return "duplicate_delivery: copies must be in 2..100";
    if (d.delay < core::duration::zero()) return "duplicate_delivery: delay must be >= 0";
  }
  for (const auto& o : f.out_of_order) {
    if (o.window <= core::duration::zero()) return "out_of_order: window must be longer than 0";
  }
  for (const auto& b : f.bad_signatures) {
    if (!c.endpoint.signature) return "bad_signature: endpoint '" + c.endpoint.id + "' has no signature to spoil";
    if (b.kind == signature_kind::valid || b.kind == signature_kind::none) return "bad_signature: kind must be a bad one";
    if (b.kind == signature_kind::stale_timestamp) {
      const auto age = b.age.value_or(default_stale_age(c.endpoint));
      // Not stale at all otherwise: the fault would test nothing while reported as injected.
      if (age <= c.endpoint.signature->tolerance && !c.send_stale_within_tolerance) {
        return "bad_signature: age " + core::format_duration(age) + " is within the tolerance of " +
               core::format_duration(c.endpoint.signature->tolerance);
      }
    }
  }
  for (const auto& b : f.bursts) {
    if (b.count == 0) return "burst: count must be >= 1";
    if (!std::isfinite(b.rate) || b.rate < 0) return "burst: rate must be >= 0";
    if (b.at < core::duration::zero()) return "burst: at must be >= 0";
  }
  return {};
}

// --- the sans-io provider ------------------------------------------------------------------------------

delivery_core::delivery_core(webhook_sender_config config) : config_(std::move(config)) {}

std::string delivery_core::start() {
  if (auto why = validate(config_); !why.empty()) return why;
  if (config_.endpoint.signature) params_ = signature_params(*config_.endpoint.signature);
  method_ = effective_method(config_.endpoint);
  target_ = effective_path(config_);
  planner_.emplace(config_.faults, config_.seed, config_.endpoint.signature.has_value(),
                   default_stale_age(config_.endpoint));
  schedule_ = planner_->schedule(config_.traffic);
  counters_.dropped_events = schedule_.dropped;
  return {};
}

core::duration delivery_core::backoff(int attempt) const {
  const auto& r = config_.retry;
  const double ns = static_cast<double>(r.base.count()) * std::pow(r.multiplier, attempt - 1);
  if (!std::isfinite(ns) || ns >= static_cast<double>(r.max.count())) return r.max;
  return core::duration(static_cast<core::duration::rep>(ns));
}

void delivery_core::create_due(core::duration now, std::span<const std::size_t> disabled) {
  // The decisions are taken here, in creation order, so the seed fixes them.
  for (; next_event_ < schedule_.events.size() && schedule_.events[next_event_].at <= now; ++next_event_) {
    const auto& planned = schedule_.events[next_event_];
    const std::uint64_t sequence = next_event_ + 1;
    event_state ev;
    if (planned.burst && std::find(disabled.begin(), disabled.end(), planned.burst_source) != disabled.end()) {
      // Kept as an empty slot so that events_ stays indexed by sequence; its id is never sent.
      ++counters_.skipped_burst_events;
      events_.push_back(std::move(ev));
      continue;
    }
    // Numbered among the events sent, so a skipped burst leaves no gap in the ids.
    ev.number = config_.first_sequence + created_++;
    ev.id = event_id(ev.number);
    ev.body = event_body(config_.endpoint.request_example, config_.endpoint.dedup_key, ev.id).value_or("{}");
    ev.decision = planner_->decide(planned.at, disabled);
    ev.burst = planned.burst;
    ev.copies_open = ev.decision.copies;
    for (int c = 0; c < ev.decision.copies; ++c) {
      pending_.push({planned.at + ev.decision.hold + c * ev.decision.copy_delay, sequence, c, 1});
    }
    ++counters_.events;
    counters_.copies += static_cast<std::uint64_t>(ev.decision.copies);
    if (ev.decision.hold > core::duration::zero()) ++counters_.held_back_events;
    if (ev.decision.copies > 1) ++counters_.duplicated_events;
    if (ev.burst) {
      ++counters_.burst_events;
      ++counters_.injected[planned.burst_source];
    }
    for (const auto source : ev.decision.applied) ++counters_.injected[source];
    events_.push_back(std::move(ev));
  }
}

std::optional<delivery_attempt> delivery_core::take_due(core::duration now, std::int64_t unix_now) {
  if (pending_.empty() || pending_.top().due > now || counters_.in_flight >= config_.traffic.max_in_flight) {
    return std::nullopt;
  }
  const pending_delivery d = pending_.top();
  pending_.pop();
  ++counters_.in_flight;
  const auto& ev = events_[d.sequence - 1];
  const auto copy = static_cast<std::size_t>(d.copy);
  delivery_attempt a;
  a.sequence = d.sequence;
  a.copy = d.copy;
  a.attempt = d.attempt;
  a.signature = d.attempt == 1 ? ev.decision.signatures[copy]
                : config_.endpoint.signature ? signature_kind::valid
                                             : signature_kind::none;
  a.method = method_;
  a.target = target_;
  a.headers = config_.target.headers;
  if (!config_.target.attempt_header.empty()) {
    a.headers.push_back({config_.target.attempt_header, std::to_string(d.attempt)});
  }
  // The event's id on every copy and redelivery, as providers name their events in a header
  // (Standard Webhooks' webhook-id): a receiver can tell a redelivery from a new event.
  a.headers.push_back({std::string(event_id_header), ev.id});
  for (auto& h : sign_delivery(params_, config_.secret, unix_now, ev.body, a.signature, ev.decision.stale_ages[copy])) {
    a.headers.push_back(std::move(h));
  }
  a.body = ev.body;
  return a;
}

const delivery_record& delivery_core::finish(const delivery_attempt& a, core::duration started,
                                             core::duration finished, int status, delivery_error error) {
  --counters_.in_flight;
  auto& ev = events_[a.sequence - 1];
  const bool ok = status >= 200 && status < 300;
  const bool last = a.attempt >= config_.retry.max_attempts;
  delivery_record rec;
  rec.event_id = ev.id;
  rec.sequence = ev.number;
  rec.copy = a.copy;
  rec.attempt = a.attempt;
  rec.duplicate = a.copy > 0;
  rec.redelivery = a.attempt > 1;
  rec.held_back = ev.decision.hold > core::duration::zero();
  rec.burst = ev.burst;
  rec.signature = a.signature;
  rec.sent_at = started;
  rec.status = status;
  rec.error = error;
  rec.latency = finished - started;
  rec.outcome = ok ? delivery_outcome::delivered : last ? delivery_outcome::gave_up : delivery_outcome::retrying;

  if (rec.outcome == delivery_outcome::retrying) {
    pending_.push({finished + backoff(a.attempt), a.sequence, a.copy, a.attempt + 1});
  } else if (--ev.copies_open == 0) {
    ev.body = std::string();  // every copy is settled: the body is not sent again
  }
  ++counters_.attempts;
  if (rec.redelivery) ++counters_.redeliveries;
  if (a.signature != signature_kind::valid && a.signature != signature_kind::none) ++counters_.bad_signatures;
  if (status == 0) ++counters_.errors;
  if (rec.outcome == delivery_outcome::delivered) ++counters_.delivered;
  if (rec.outcome == delivery_outcome::gave_up) ++counters_.given_up;
  if (records_.size() < config_.max_records) {
    records_.push_back(std::move(rec));
    return records_.back();
  }
  ++counters_.dropped_records;
  dropped_ = std::move(rec);
  return dropped_;
}

void delivery_core::abandon() { --counters_.in_flight; }

std::optional<core::duration> delivery_core::next_due() const {
  std::optional<core::duration> next;
  if (next_event_ < schedule_.events.size()) next = schedule_.events[next_event_].at;
  if (!pending_.empty() && counters_.in_flight < config_.traffic.max_in_flight) {
    next = next ? std::min(*next, pending_.top().due) : pending_.top().due;
  }
  return next;
}

bool delivery_core::finished() const noexcept {
  return next_event_ == schedule_.events.size() && pending_.empty() && counters_.in_flight == 0;
}

// --- the sender --------------------------------------------------------------------------------------

namespace detail {
namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

delivery_error classify(const error_code& ec, bool connecting) {
  if (ec == beast::error::timeout) return connecting ? delivery_error::connect_timeout : delivery_error::read_timeout;
  if (ec == asio::error::connection_refused) return delivery_error::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return delivery_error::connection_reset;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof) {
    return delivery_error::connection_closed;
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) return delivery_error::protocol_error;
  return delivery_error::other;
}

void log_escaped(std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("webhook sender: {} failed: {}", what, ex.what());
  } catch (...) {
    spdlog::error("webhook sender: {} failed: unknown exception", what);
  }
}

}  // namespace

// The Asio driver of delivery_core: one connection per attempt, real waits for plan time.
class webhook_sender_state : public std::enable_shared_from_this<webhook_sender_state> {
 public:
  webhook_sender_state(asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
                       core::time_scale scale, webhook_sender_config config)
      : strand_(asio::make_strand(ex)),
        clock_(clock),
        origin_(origin),
        scale_(scale),
        wake_(strand_),
        core_(std::move(config)),
        disabled_(core_.config().disabled_faults) {}

  std::error_code start() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return make_error_code(std::errc::operation_canceled);
      if (started_) return make_error_code(std::errc::operation_in_progress);
      started_ = true;
      start_error_ = core_.start();
    }
    if (!start_error_.empty()) {
      spdlog::error("webhook sender: {}", start_error_);
      return make_error_code(std::errc::invalid_argument);
    }
    const auto& config = core_.config();
    method_ = http::string_to_verb(effective_method(config.endpoint));
    host_header_ = config.target.host + ":" + std::to_string(config.target.port);
    remote_ = tcp::endpoint(asio::ip::make_address(config.target.host), config.target.port);
    if (const auto dropped = core_.counters().dropped_events; dropped > 0) {
      spdlog::warn("webhook sender: {} events beyond the limit of {} are not sent", dropped,
                   config.traffic.max_events);
    }
    auto self = shared_from_this();
    asio::co_spawn(strand_, dispatch(self), [self](std::exception_ptr e) {
      if (!e) return;
      log_escaped("dispatcher", e);
      self->stop();  // nothing would create or redeliver events any more: release the waiters
    });
    return {};
  }

  const std::string& start_error() const noexcept { return start_error_; }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
    }
    changed_.notify_all();
    asio::post(strand_, [self = shared_from_this()] {
      self->wake_.cancel();
      for (auto& [id, stream] : self->active_) {
        error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream->socket().close(ignored);
      }
    });
  }

  void set_fault_enabled(std::size_t source, bool enabled) {
    std::lock_guard lock(mutex_);
    const auto it = std::find(disabled_.begin(), disabled_.end(), source);
    if (enabled && it != disabled_.end()) disabled_.erase(it);
    if (!enabled && it == disabled_.end()) disabled_.push_back(source);
  }

  std::vector<delivery_record> records() const {
    std::lock_guard lock(mutex_);
    return {core_.records().begin(), core_.records().end()};
  }

  webhook_sender_counters counters() const {
    std::lock_guard lock(mutex_);
    return core_.counters();
  }

  bool done() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }

  bool wait_until_done(core::duration timeout) const {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return finished_ || stopped_; });
    return finished_;
  }

 private:
  // Plan time since origin; nullopt once stopped (checked under the lock stop() takes, so the clock
  // is never read after stop() has returned).
  std::optional<core::duration> plan_now() const {
    std::lock_guard lock(mutex_);
    if (stopped_) return std::nullopt;
    return clock_.now() - origin_;
  }

  std::int64_t unix_now() const {
    if (core_.config().unix_now) return core_.config().unix_now();
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  steady::duration real_wait(core::duration plan) const {
    if (plan <= core::duration::zero()) return steady::duration::zero();
    return std::chrono::duration_cast<steady::duration>(scale_.to_real(plan));
  }

  static asio::awaitable<void> dispatch(std::shared_ptr<webhook_sender_state> self) {
    auto& s = *self;
    for (;;) {
      const auto now = s.plan_now();
      if (!now) co_return;
      std::optional<core::duration> next;
      std::vector<delivery_attempt> due;
      {
        std::lock_guard lock(s.mutex_);
        s.core_.create_due(*now, s.disabled_);
        while (auto a = s.core_.take_due(*now, s.unix_now())) due.push_back(std::move(*a));
        if (s.core_.finished()) s.finished_ = true;
        next = s.core_.next_due();
      }
      // Spawned with the lock released: a coroutine spawned on the strand we are on starts inline.
      for (auto& a : due) {
        asio::co_spawn(s.strand_, deliver(self, std::move(a)), [](std::exception_ptr e) { log_escaped("delivery", e); });
      }
      if (s.done()) {
        s.changed_.notify_all();
        co_return;
      }
      // Sleep until the next creation or due delivery; a finished delivery wakes us earlier (it
      // frees a slot or schedules a redelivery).
      if (next) {
        s.wake_.expires_after(s.real_wait(*next - *now));
      } else {
        s.wake_.expires_at(steady::time_point::max());
      }
      co_await s.wake_.async_wait(use_tuple);
    }
  }

  // One attempt of one copy, on the strand.
  static asio::awaitable<void> deliver(std::shared_ptr<webhook_sender_state> self, delivery_attempt a) {
    auto& s = *self;
    // However the attempt ends, its slot is freed and the dispatcher re-evaluates.
    struct slot_guard {
      webhook_sender_state& state;
      bool settled = false;
      ~slot_guard() {
        if (!settled) {
          std::lock_guard lock(state.mutex_);
          state.core_.abandon();
        }
        state.wake_.cancel();
      }
    } guard{s};

    const auto started = s.plan_now();
    if (!started) co_return;

    http::request<http::string_body> req{s.method_, a.target, 11};
    req.set(http::field::host, s.host_header_);
    req.set(http::field::user_agent, "planproof-webhooks");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::connection, "close");
    for (const auto& h : a.headers) req.set(h.name, h.value);
    req.body() = a.body;
    req.prepare_payload();

    // One connection per attempt, as providers deliver: nothing a previous answer did can leak
    // into the next attempt.
    beast::tcp_stream stream(s.strand_);
    const std::uint64_t stream_id = s.next_stream_id_++;
    s.active_.emplace(stream_id, &stream);
    struct unregister {
      webhook_sender_state& state;
      std::uint64_t id;
      ~unregister() { state.active_.erase(id); }
    } registered{s, stream_id};

    int status = 0;
    delivery_error error = delivery_error::none;
    const auto& timeouts = s.core_.config().timeouts;
    stream.expires_after(s.real_wait(timeouts.connect));
    auto [cec] = co_await stream.async_connect(s.remote_, use_tuple);
    if (cec) {
      error = classify(cec, true);
    } else {
      stream.expires_after(s.real_wait(timeouts.read));
      auto [wec, written] = co_await http::async_write(stream, req, use_tuple);
      error_code rec = wec;
      beast::flat_buffer buffer;
      http::response_parser<http::string_body> parser;
      parser.body_limit(s.core_.config().response_body_limit);
      if (!wec) std::tie(rec, std::ignore) = co_await http::async_read(stream, buffer, parser, use_tuple);
      if (rec) {
        error = classify(rec, false);
      } else {
        status = parser.get().result_int();
      }
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);

    const auto finished = s.plan_now();
    if (!finished) co_return;  // stopped: the attempt was cut short, not answered
    std::lock_guard lock(s.mutex_);
    s.core_.finish(a, *started, *finished, status, error);
    guard.settled = true;
  }

  // Immutable once start() has run.
  const asio::any_io_executor strand_;
  const core::clock& clock_;
  const core::time_point origin_;
  const core::time_scale scale_;
  std::string start_error_;
  http::verb method_ = http::verb::post;
  std::string host_header_;
  tcp::endpoint remote_;

  // Touched on the strand only.
  asio::steady_timer wake_;
  std::unordered_map<std::uint64_t, beast::tcp_stream*> active_;
  std::uint64_t next_stream_id_ = 0;

  // Guarded by mutex_ (the core's counters and records are read from other threads).
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  delivery_core core_;
  bool started_ = false;
  bool stopped_ = false;
  bool finished_ = false;
  std::vector<std::size_t> disabled_;  // scope.source of the faults turned off
};

}  // namespace detail

webhook_sender::webhook_sender(boost::asio::any_io_executor ex, const core::clock& clock, core::time_point origin,
                               core::time_scale scale, webhook_sender_config config)
    : state_(std::make_shared<detail::webhook_sender_state>(std::move(ex), clock, origin, scale,
                                                            std::move(config))) {}

webhook_sender::~webhook_sender() { state_->stop(); }

std::error_code webhook_sender::start() { return state_->start(); }
const std::string& webhook_sender::start_error() const noexcept { return state_->start_error(); }
void webhook_sender::stop() { state_->stop(); }
std::vector<delivery_record> webhook_sender::records() const { return state_->records(); }
webhook_sender_counters webhook_sender::counters() const { return state_->counters(); }
bool webhook_sender::done() const { return state_->done(); }
void webhook_sender::set_fault_enabled(std::size_t source, bool enabled) {
  state_->set_fault_enabled(source, enabled);
}
bool webhook_sender::wait_until_done(core::duration timeout) const { return state_->wait_until_done(timeout); }

}  // namespace planproof::mocks
