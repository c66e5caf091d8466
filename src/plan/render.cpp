#include "plan/render.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <boost/json/serialize.hpp>

namespace planproof::plan {
namespace {

using core::format_duration;

// Markdown building blocks. Table cells are escaped so that prose with `|` or line breaks cannot
// break the table.
class document {
 public:
  void heading(int level, std::string_view text) {
    blank();
    out_ << std::string(static_cast<std::size_t>(level), '#') << ' ' << text << "\n\n";
  }
  void paragraph(std::string_view text) {
    if (text.empty()) return;
    out_ << text << "\n\n";
  }
  void labelled(std::string_view label, std::string_view text) {
    if (text.empty()) return;
    out_ << "**" << label << ":** " << text << "\n\n";
  }
  void bullets(const std::vector<std::string>& items, std::string_view if_empty = {}) {
    if (items.empty()) {
      if (!if_empty.empty()) out_ << '_' << if_empty << "_\n\n";
      return;
    }
    for (const auto& i : items) out_ << "- " << i << '\n';
    out_ << '\n';
  }
  void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    if (rows.empty()) return;
    row(header);
    out_ << '|';
    for (std::size_t i = 0; i < header.size(); ++i) out_ << "---|";
    out_ << '\n';
    for (const auto& r : rows) row(r);
    out_ << '\n';
  }
  // A two-column "setting | value" table, skipping empty values.
  void settings(const std::vector<std::pair<std::string, std::string>>& kv) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : kv) {
      if (!v.empty()) rows.push_back({k, v});
    }
    table({"Setting", "Value"}, rows);
  }
  void code(std::string_view language, std::string_view text) {
    out_ << "```" << language << '\n' << text;
    if (!text.empty() && text.back() != '\n') out_ << '\n';
    out_ << "```\n\n";
  }
  std::string str() const {
    std::string s = out_.str();
    while (s.size() > 1 && s[s.size() - 1] == '\n' && s[s.size() - 2] == '\n') s.pop_back();
    return s;
  }

 private:
  void blank() {
    const std::string s = out_.str();
    if (!s.empty() && !s.ends_with("\n\n")) out_ << '\n';
  }
  void row(const std::vector<std::string>& cells) {
    out_ << '|';
    for (const auto& c : cells) out_ << ' ' << escape(c) << " |";
    out_ << '\n';
  }
  static std::string escape(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '|') out += "\\|";
      else if (c == '\n') out += "<br>";
      else out += c;
    }
    return out;
  }

  std::ostringstream out_;
};

std::string code_span(std::string_view s) { return s.empty() ? std::string() : "`" + std::string(s) + "`"; }

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += sep;
    out += i;
  }
  return out;
}

template <class T>
std::string join_codes(const std::vector<T>& items) {
  std::vector<std::string> text;
  for (const auto& i : items) {
    if constexpr (std::is_same_v<T, int>) text.push_back(std::to_string(i));
    else text.push_back(std::string(i));
  }
  return join(text);
}

std::string number(double v) { return core::format_number(v); }

std::string percent(double ratio) { return number(ratio * 100.0) + "%"; }
std::string rate(double per_second) { return number(per_second) + "/s"; }
std::string yes_no(bool b) { return b ? "yes" : "no"; }

std::string secret(const core::secret_ref& ref) { return code_span(ref.str()); }
std::string secret(const std::optional<core::secret_ref>& ref) { return ref ? secret(*ref) : std::string(); }
std::string text_or_ref(const text_or_secret& v) { return v.secret ? secret(*v.secret) : v.text; }

std::string conditions(const std::vector<retry_condition>& list) {
  std::vector<std::string> out;
  for (const auto& c : list) {
    if (const int* s = std::get_if<int>(&c)) out.push_back(std::to_string(*s));
    else out.push_back(std::string(core::to_string(std::get<core::error_class>(c))));
  }
  return join(out);
}

std::string scalar_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  return boost::json::serialize(v);
}

void pretty(std::ostringstream& out, const boost::json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  const std::string inner(static_cast<std::size_t>(indent + 1) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out << "{\n";
    bool first = true;
    for (const auto& [k, x] : v.as_object()) {
      if (!first) out << ",\n";
      first = false;
      out << inner << boost::json::serialize(boost::json::value(k)) << ": ";
      pretty(out, x, indent + 1);
    }
    out << '\n' << pad << '}';
  } else if (v.is_array() && !v.as_array().empty()) {
    out << "[\n";
    bool first = true;
    for (const auto& x : v.as_array()) {
      if (!first) out << ",\n";
      first = false;
      out << inner;
      pretty(out, x, indent + 1);
    }
    out << '\n' << pad << ']';
  } else {
    out << boost::json::serialize(v);
  }
}

// --- sections -------------------------------------------------------------------------------------

void render_auth(document& d, const auth_config& a) {
  d.heading(2, "1. Auth Method");
  std::vector<std::pair<std::string, std::string>> kv{{"Method", code_span(to_string(a.method))}};
  switch (a.method) {
    case auth_method::none:
      d.settings(kv);
      d.paragraph("The external system requires no credentials.");
      break;
    case auth_method::api_key:
      if (a.key_in == api_key_location::query) kv.push_back({"Sent in", "query parameter " + code_span(a.query_param)});
      else kv.push_back({"Sent in", "header " + code_span(a.header)});
      kv.push_back({"Key", secret(a.secret)});
      break;
    case auth_method::bearer:
      kv.push_back({"Sent in", "header `Authorization: Bearer <token>`"});
      kv.push_back({"Token", secret(a.secret)});
      break;
    case auth_method::oauth2_client_credentials:
      if (a.oauth2) {
        kv.push_back({"Token URL", code_span(a.oauth2->token_url)});
        kv.push_back({"Client id", text_or_ref(a.oauth2->client_id)});
        kv.push_back({"Client secret", secret(a.secret)});
        kv.push_back({"Scopes", join(a.oauth2->scopes)});
        kv.push_back({"Audience", a.oauth2->audience});
        kv.push_back({"Token lifetime", format_duration(a.oauth2->token_lifetime)});
        kv.push_back({"Refresh", format_duration(a.oauth2->refresh_before_expiry) + " before expiry"});
      }
      break;
    case auth_method::hmac:
      if (a.hmac) {
        kv.push_back({"Algorithm", "HMAC-" + std::string(to_string(a.hmac->algorithm))});
        kv.push_back({"Secret", secret(a.secret)});
        kv.push_back({"Signature header", code_span(a.header)});
        std::vector<std::string> parts;
        for (auto c : a.hmac->signed_components) parts.emplace_back(to_string(c));
        kv.push_back({"Signed components", join(parts, " + ")});
        kv.push_back({"Timestamp header", code_span(a.hmac->timestamp_header)});
        kv.push_back({"Timestamp tolerance", format_duration(a.hmac->tolerance)});
      }
      break;
    case auth_method::mtls:
      if (a.mtls) {
        kv.push_back({"Client certificate", secret(a.mtls->client_cert)});
        kv.push_back({"Client key", secret(a.mtls->client_key)});
        kv.push_back({"CA", a.mtls->ca ? secret(*a.mtls->ca) : "system trust store"});
      }
      break;
    case auth_method::jwt:
      if (a.jwt) {
        kv.push_back({"Algorithm", std::string(to_string(a.jwt->algorithm))});
        kv.push_back({"Signing key", secret(a.secret)});
        kv.push_back({"Header", code_span(a.header)});
        std::vector<std::string> claims;
        for (const auto& [k, v] : a.jwt->claims) claims.push_back(code_span(k) + " = " + v);
        kv.push_back({"Claims", join(claims)});
        kv.push_back({"Token lifetime", format_duration(a.jwt->lifetime)});
      }
      break;
  }
  if (a.method == auth_method::none) return;
  if (a.rotation) kv.push_back({"Rotation", "every " + format_duration(*a.rotation)});
  kv.push_back({"Required scopes / permissions", join(a.required_scopes)});
  d.settings(kv);
  d.paragraph("Secrets are referenced (`env:NAME`, `file:PATH`), never written in the plan.");
  if (!a.security_notes.empty()) {
    d.paragraph("Security notes:");
    d.bullets(a.security_notes);
  }
}

void render_parameters(document& d, std::string_view title, const std::vector<parameter_spec>& params) {
  if (params.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : params) {
    rows.push_back({code_span(p.name), std::string(to_string(p.type)), yes_no(p.required),
                    p.example ? code_span(scalar_text(*p.example)) : std::string(), p.description});
  }
  d.paragraph(std::string(title) + ":");
  d.table({"Name", "Type", "Required", "Example", "Description"}, rows);
}

void render_endpoint(document& d, const endpoint& e) {
  d.heading(3, code_span(e.id) + " — " + e.method + " " + code_span(e.path));
  d.paragraph(e.description);
  std::vector<std::pair<std::string, std::string>> kv{
      {"Direction", e.direction == endpoint_direction::inbound ? "inbound (the external system calls us)"
                                                               : "outbound (we call the external system)"},
      {"Success statuses", join_codes(e.statuses.success)},
      {"Retryable statuses", join_codes(e.statuses.retryable)},
      {"Fatal statuses", join_codes(e.statuses.fatal)},
      {"Idempotency header", e.idempotency_header ? code_span(*e.idempotency_header) : std::string()},
      {"Documented rate limit", e.rate_limit ? rate(*e.rate_limit) : std::string()},
      {"Read timeout override", e.timeout ? format_duration(*e.timeout) : std::string()},
  };
  if (e.versioning) {
    const auto& v = *e.versioning;
    kv.push_back({"API version", std::string(to_string(v.style)) + (v.name.empty() ? "" : " " + code_span(v.name)) +
                                     (v.value.empty() ? "" : " = " + code_span(v.value))});
  }
  if (e.pagination) {
    const auto& p = *e.pagination;
    std::string text = std::string(to_string(p.style));
    if (!p.param.empty()) text += ", parameter " + code_span(p.param);
    if (!p.limit_param.empty()) text += ", page size " + code_span(p.limit_param);
    if (p.max_page_size) text += " (max " + std::to_string(*p.max_page_size) + ")";
    if (!p.items.empty()) text += ", items in " + code_span(p.items);
    if (!p.has_more.empty()) text += ", more pages when " + code_span(p.has_more);
    if (!p.next_cursor.empty()) text += ", next cursor in " + code_span(p.next_cursor);
    if (p.restart_on_invalid_cursor) text += "; a refused cursor restarts the read from the first page";
    if (p.refetch_on_page_shift) {
      text += "; records already read in the pull are dropped, and a short or shifted page is fetched again";
    }
    kv.push_back({"Pagination", text});
  }
  if (e.signature) {
    const auto& s = *e.signature;
    kv.push_back({"Signature", std::string(to_string(s.scheme)) + " in " + code_span(s.header) + ", secret " +
                                   secret(s.secret) + ", tolerance " + format_duration(s.tolerance) +
                                   (s.timestamp_header.empty() ? "" : ", timestamp in " + code_span(s.timestamp_header))});
  }
  if (!e.dedup_key.empty()) kv.push_back({"Deduplication key", code_span(e.dedup_key)});
  d.settings(kv);

  render_parameters(d, "Path parameters", e.path_param_specs);
  render_parameters(d, "Query parameters", e.query);
  if (!e.headers.empty()) {
    std::string block;
    for (const auto& [name, value] : e.headers) block += name + ": " + (value.secret ? value.secret->str() : value.text) + "\n";
    d.paragraph(e.direction == endpoint_direction::inbound ? "Headers expected:" : "Headers sent:");
    d.code("http", block);
  }
  if (e.request_example) {
    d.paragraph("Request example:");
    d.code("json", pretty_json(*e.request_example));
  }
  if (e.request_schema) {
    d.paragraph("Request schema:");
    d.code("json", pretty_json(*e.request_schema));
  }
  if (e.response_example) {
    d.paragraph("Response example (" + std::to_string(e.success_status()) + "):");
    d.code("json", pretty_json(*e.response_example));
  }
  if (e.response_schema) {
    d.paragraph("Response schema:");
    d.code("json", pretty_json(*e.response_schema));
  }
  if (!e.response_headers.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, what] : e.response_headers) rows.push_back({code_span(name), what});
    d.paragraph("Response headers:");
    d.table({"Header", "Carries"}, rows);
  }
}

void render_endpoints(document& d, const integration_plan& p) {
  d.heading(2, "2. Endpoint Specs");
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : p.endpoints) {
    rows.push_back({code_span(e.id), std::string(to_string(e.direction)), e.method, code_span(e.path),
                    join_codes(e.statuses.success), join_codes(e.statuses.retryable), join_codes(e.statuses.fatal)});
  }
  d.table({"Id", "Direction", "Method", "Path", "Success", "Retryable", "Fatal"}, rows);
  for (const auto& e : p.endpoints) render_endpoint(d, e);
}

std::string transform_text(const std::vector<transform_step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) {
    switch (s.kind) {
      case transform_kind::enum_map: {
        std::vector<std::string> pairs;
        for (const auto& [from, to] : s.enum_map) pairs.push_back(from + "→" + to);
        out.push_back("enum map (" + join(pairs) + ")");
        break;
      }
      case transform_kind::scale: out.push_back("scale ×" + number(s.factor)); break;
      case transform_kind::concat: {
        std::vector<std::string> sources;
        for (const auto& src : s.sources) sources.push_back(code_span(src));
        out.push_back("concat " + join(sources) + " with \"" + s.separator + "\"");
        break;
      }
      default: out.emplace_back(to_string(s.kind));
    }
  }
  return join(out, " → ");
}

std::string validation_text(const std::optional<field_validation>& v) {
  if (!v) return {};
  std::vector<std::string> out;
  if (v->min) out.push_back((v->min_exclusive ? "> " : ">= ") + number(*v->min));
  if (v->max) out.push_back((v->max_exclusive ? "< " : "<= ") + number(*v->max));
  if (v->regex) out.push_back("matches " + code_span(*v->regex));
  if (!v->allowed.empty()) {
    std::vector<std::string> values;
    for (const auto& a : v->allowed) values.push_back(scalar_text(a));
    out.push_back("one of " + join(values));
  }
  if (v->min_length) out.push_back("length >= " + std::to_string(*v->min_length));
  if (v->max_length) out.push_back("length <= " + std::to_string(*v->max_length));
  return join(out, "; ");
}

void render_mapping(document& d, const integration_plan& p) {
  d.heading(2, "3. Data Mapping");
  if (p.mapping.empty()) {
    d.paragraph("_No data mapping documented._");
    return;
  }
  for (const auto& m : p.mapping) {
    d.heading(3, code_span(m.endpoint) + " " + std::string(to_string(m.direction)));
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : m.fields) {
      rows.push_back({code_span(f.source), code_span(f.target), std::string(to_string(f.type)), yes_no(f.required),
                      f.default_value ? code_span(scalar_text(*f.default_value)) : std::string(),
                      transform_text(f.transform), validation_text(f.validate)});
    }
    d.table({"Source", "Target", "Type", "Required", "Default", "Transform", "Validation"}, rows);
    std::string unmapped = "Unmapped source fields: " + std::string(to_string(m.unmapped));
    if (m.unmapped == unmapped_policy::preserve) unmapped += " under " + code_span(m.preserve_to);
    d.paragraph(unmapped + ".");
  }
}

std::string backoff_text(const backoff_config& b) {
  std::string text = std::string(to_string(b.strategy)) + " from " + format_duration(b.base);
  if (b.strategy == backoff_strategy::exponential) text += " ×" + number(b.multiplier) + " per retry";
  if (b.strategy == backoff_strategy::linear) text += " +" + format_duration(b.base) + " per retry";
  return text + ", at most " + format_duration(b.max) + ", jitter " + std::string(to_string(b.jitter));
}

std::vector<std::pair<std::string, std::string>> retry_rows(const retry_config& r) {
  std::vector<std::pair<std::string, std::string>> kv{
      {"Max attempts", std::to_string(r.max_attempts) + " (the first included)"},
      {"Backoff", backoff_text(r.backoff)},
      {"Retry on", conditions(r.retry_on)},
      {"Never retry", conditions(r.fatal_on)},
      {"Retry-After", r.retry_after.honor ? "honored, up to " + format_duration(r.retry_after.cap) +
                                                 " (a longer one ends the request)"
                                           : "ignored"},
      {"Timeouts", "connect " + format_duration(r.timeouts.connect) + ", read " + format_duration(r.timeouts.read) +
                       ", total " + format_duration(r.timeouts.total)},
  };
  if (r.retry_budget) {
    kv.push_back({"Retry budget", percent(r.retry_budget->ratio) + " of requests, at least " +
                                      number(r.retry_budget->min_per_second) + "/s, over the last " +
                                      format_duration(r.retry_budget->ttl)});
  }
  if (r.circuit_breaker) {
    const auto& c = *r.circuit_breaker;
    std::string text;
    switch (c.mode) {
      case breaker_mode::failure_rate:
        text = c.window == breaker_window::count ? "last " + std::to_string(c.size) + " calls"
                                                 : "calls of the last " + format_duration(c.time_size);
        text += "; opens at " + percent(c.failure_rate) + " failures with at least " + std::to_string(c.min_calls) +
                " calls";
        if (c.slow_call) {
          text += " or " + percent(c.slow_call->rate) + " slower than " + format_duration(c.slow_call->threshold);
        }
        break;
      case breaker_mode::consecutive_failures:
        text = "opens after " + std::to_string(c.consecutive_failures) + " failures in a row";
        break;
      case breaker_mode::failures_per_interval:
        text = "opens at " + std::to_string(c.failures_per_interval.count) + " failures within " +
               format_duration(c.failures_per_interval.interval);
        break;
    }
    text += "; open for " + format_duration(c.open_for) + ", then " + std::to_string(c.half_open_calls) +
            " trial calls (open again if they have not all reported within " +
            format_duration(c.half_open_max_wait) + ")";
    kv.push_back({"Circuit breaker", text});
  } else {
    kv.push_back({"Circuit breaker", "off"});
  }
  if (r.idempotency) {
    std::string text(to_string(r.idempotency->approach));
    if (!r.idempotency->notes.empty()) text += ": " + r.idempotency->notes;
    kv.push_back({"Idempotency", text});
  }
  kv.push_back({"Dead letters", code_span(r.dead_letter_path)});
  return kv;
}

// The traffic in words: "ramp from 2/s to 20/s over 60s to `create_payment`, at most 8 in flight".
std::string traffic_text(const traffic_config& t) {
  const auto to = " to " + code_span(t.endpoint);
  const auto in_flight = ", at most " + std::to_string(t.concurrency) + " in flight";
  const auto lasting = ", for " + format_duration(t.duration);
  switch (t.profile) {
    case traffic_profile::constant: return rate(t.rate) + to + in_flight + lasting;
    case traffic_profile::ramp:
      return "ramp from " + rate(t.from) + " to " + rate(t.rate) + " over " + format_duration(t.duration) + to +
             in_flight;
    case traffic_profile::burst: {
      const auto& b = t.burst;
      return rate(t.rate) + to + " with bursts of " + rate(b.rate) + " for " + format_duration(b.length) + " every " +
             format_duration(b.every) + " from " + format_duration(b.at) + in_flight + lasting;
    }
    case traffic_profile::closed_loop:
      return "closed loop" + to + ": " + std::to_string(t.concurrency) + " workers, each sending its next request " +
             (t.think_time > duration::zero() ? format_duration(t.think_time) + " after" : "as soon as") +
             " its last has ended" + lasting;
  }
  return {};
}

void render_retry(document& d, const integration_plan& p) {
  d.heading(2, "4. Retry Logic");
  d.settings(retry_rows(p.retry));
  d.paragraph("Planned traffic: " + traffic_text(p.traffic) + ".");
}

std::string latency_text(const latency_spec& l) {
  std::string text;
  switch (l.distribution) {
    case latency_distribution::fixed: text = format_duration(l.value); break;
    case latency_distribution::uniform:
      text = "uniform " + format_duration(l.min) + ".." + format_duration(l.max);
      break;
    case latency_distribution::lognormal:
      text = "lognormal, median " + format_duration(l.median) + ", sigma " + number(l.sigma);
      break;
  }
  if (l.cap) text += ", at most " + format_duration(*l.cap);
  return text;
}

std::string retry_after_text(const fault& f) {
  if (!f.retry_after) return {};
  return " with Retry-After " + format_duration(*f.retry_after) +
         (f.retry_after_as == retry_after_format::http_date ? " (as an HTTP-date)" : "");
}

std::string drift_text(const fault& f) {
  std::vector<std::string> edits;
  for (const auto& d : f.drop) edits.push_back("drop " + code_span(d));
  for (const auto& r : f.rename) edits.push_back("rename " + code_span(r.from) + " to " + code_span(r.to));
  for (const auto& r : f.retype) edits.push_back(code_span(r.field) + " as " + r.type);
  for (const auto& a : f.add) edits.push_back("add " + code_span(a));
  return join(edits);
}

std::string fault_text(const fault& f) {
  std::string text = code_span(f.kind);
  if (f.kind == "status") {
    text += " " + std::to_string(f.status) + retry_after_text(f);
  } else if (f.kind == "latency") {
    text += " " + latency_text(f.latency);
  } else if (f.kind == "malformed") {
    text += " (" + std::string(to_string(f.malformed)) + ")";
  } else if (f.kind == "close") {
    text += f.after_bytes ? " after " + std::to_string(*f.after_bytes) + " body bytes" : " mid-body";
  } else if (f.kind == "slow_body") {
    text += " in " + std::to_string(f.chunks) + " chunks over " + format_duration(f.over);
  } else if (f.kind == "schema_drift") {
    text += " (" + drift_text(f) + ")";
  } else if (f.kind == "rate_limit") {
    text += " " + rate(f.limit) + (f.burst > 0 ? ", burst " + std::to_string(f.burst) : std::string()) + " per " +
            f.limit_key + (f.status != 429 ? ", answering " + std::to_string(f.status) : std::string());
  } else if (f.kind == "outage") {
    text += f.outage == outage_mode::reset ? " (connections reset)" : " (" + std::to_string(f.status) + retry_after_text(f) + ")";
    if (f.up && f.down) text += ", flapping: down " + format_duration(*f.down) + ", up " + format_duration(*f.up);
  } else if (f.kind == "auth_expiry") {
    text += f.expire_after ? " (tokens issued now die after " + format_duration(*f.expire_after) + ")"
                           : " (the credential is revoked)";
  } else if (f.kind == "token_endpoint_down") {
    std::vector<std::string> how;
    if (f.status != 0) how.push_back(std::to_string(f.status) + retry_after_text(f));
    if (f.delay) how.push_back("after " + format_duration(*f.delay));
    text += " (" + join(how, ", ") + ")";
  } else if (f.kind == "pagination") {
    text += " (" + std::string(to_string(f.breakage));
    if (f.breakage == page_breakage::invalid_cursor) {
      text += ", " + std::to_string(f.status) + (f.error_code.empty() ? std::string() : " " + code_span(f.error_code));
    }
    text += ")";
  } else if (f.kind == "tls") {
    text += " (" + std::string(to_string(f.tls)) + ")";
  } else if (!f.params.empty()) {
    std::vector<std::string> params;
    for (const auto& [key, value] : f.params) params.push_back(std::string(key) + " " + scalar_text(value));
    text += " (" + join(params) + ")";
  }
  // A tls fault picks connections (its handshakes), every other kind picks requests.
  const std::string unit = f.kind == "tls" ? "connection" : "request";
  if (f.first) text += ", the first " + std::to_string(*f.first) + " " + unit + "s";
  if (f.every) text += ", every " + std::to_string(*f.every) + "th " + unit;
  if (f.after) text += ", after " + std::to_string(*f.after) + " " + unit + "s";
  if (f.probability < 1.0) text += " on " + percent(f.probability) + " of " + unit + "s";
  std::vector<std::string> windows;
  for (const auto& w : f.during) {
    windows.push_back("from " + format_duration(w.from) + (w.to ? " to " + format_duration(*w.to) : " on"));
  }
  if (!windows.empty()) text += " " + join(windows, " and ");
  if (f.endpoint) text += " on " + code_span(*f.endpoint);
  return text;
}

// `success_rate >= 0.99`, `lost == 0` (implicit), `honors_retry_after: true`.
std::string expectation_text(const expectation& e) {
  std::string text;
  if (e.text == "true" || e.text == "false") text = e.name + ": " + e.text;
  else if (!e.text.empty() && std::string_view("<>=!").find(e.text.front()) != std::string_view::npos) text = e.name + " " + e.text;
  else text = e.name + " " + std::string(to_string(e.op)) + " " + e.text;
  return code_span(text) + (e.implicit ? " (implicit)" : "");
}

void render_failure_modes(document& d, const integration_plan& p) {
  d.heading(2, "5. Failure Modes");
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : p.failure_modes) {
    rows.push_back({code_span(f.id), f.detection, f.response, f.recovery, f.alerting, f.user_impact});
  }
  d.table({"Failure mode", "Detection", "Immediate response", "Recovery", "Alerting", "User impact"}, rows);
  for (const auto& f : p.failure_modes) {
    d.heading(3, code_span(f.id));
    d.paragraph(f.description);
    std::vector<std::string> faults;
    for (const auto& x : f.inject) faults.push_back(fault_text(x));
    d.labelled("Injected by planproof", join(faults, "; "));
    if (f.traffic) d.labelled("Traffic in this failure mode", traffic_text(*f.traffic));
    std::vector<std::string> expects;
    for (const auto& e : f.expect) expects.push_back(expectation_text(e));
    d.labelled("Must hold", join(expects));
    d.labelled("Degradation", f.degradation);
    if (f.observability) {
      const auto& o = *f.observability;
      std::vector<std::string> parts;
      if (!o.logs.empty()) parts.push_back("logs: " + join(o.logs, "; "));
      if (!o.correlation_id.empty()) parts.push_back("correlation id: " + o.correlation_id);
      if (!o.metrics.empty()) parts.push_back("metrics: " + join(o.metrics, "; "));
      d.labelled("Observability", join(parts, ". "));
    }
    d.labelled("Consistency", f.consistency);
    d.labelled("Compensation", f.compensation);
  }
}

void render_phases(document& d, const integration_plan& p) {
  d.heading(2, "6. Phase 1 vs Phase 2 Plan");
  if (p.phases.empty()) {
    d.paragraph("_No phases documented._");
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& ph : p.phases) {
    rows.push_back({ph.name, ph.complexity, std::to_string(ph.deliverables.size()),
                    ph.failure_modes.empty() ? "all" : join(ph.failure_modes)});
  }
  d.table({"Phase", "Complexity", "Deliverables", "Acceptance tests (failure modes that must hold)"}, rows);
  for (const auto& ph : p.phases) {
    d.heading(3, ph.name);
    d.labelled("Complexity", ph.complexity);
    d.paragraph("Deliverables:");
    d.bullets(ph.deliverables, "none listed");
    d.paragraph("Dependencies:");
    d.bullets(ph.dependencies, "none listed");
    d.paragraph("Risks:");
    d.bullets(ph.risks, "none listed");
    d.paragraph("Success criteria:");
    d.bullets(ph.success_criteria, "none listed");
    std::vector<std::string> tests;
    for (const auto& id : ph.failure_modes) tests.push_back(code_span(id));
    d.labelled("Acceptance tests", tests.empty() ? "every failure mode" : join(tests));
    if (!ph.triggers.empty()) {
      d.paragraph("Triggers:");
      d.bullets(ph.triggers);
    }
    if (ph.retry_settings) {
      d.paragraph("Retry settings in this phase:");
      d.settings(retry_rows(*ph.retry_settings));
    }
  }
}

}  // namespace

std::string pretty_json(const boost::json::value& value) {
  std::ostringstream out;
  pretty(out, value, 0);
  out << '\n';
  return out.str();
}

std::string render_markdown(const integration_plan& p) {
  document d;
  const auto& i = p.integration;
  d.heading(1, "Integration plan: " + i.name);
  std::vector<std::pair<std::string, std::string>> kv{{"External system", i.system},
                                                      {"Base URL", code_span(i.base_url)},
                                                      {"Plan file", code_span(std::filesystem::path(p.file).filename().string())}};
  d.settings(kv);
  d.paragraph(i.description);
  d.heading(2, "Assumptions");
  d.bullets(p.assumptions, "none stated");
  render_auth(d, p.auth);
  render_endpoints(d, p);
  render_mapping(d, p);
  render_retry(d, p);
  render_failure_modes(d, p);
  render_phases(d, p);
  if (!p.verification.empty()) {
    d.heading(2, "Verification");
    d.bullets(p.verification);
  }
  return d.str();
}

}  // namespace planproof::plan
