#include "scenario/event_log.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include <boost/json/serialize.hpp>
#include <spdlog/sinks/basic_file_sink.h>

#include "core/logging.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/token_lifecycle.hpp"

namespace planproof::scenario {
namespace {

// RFC 3339 in UTC with milliseconds, e.g. 2026-11-24T06:49:18.153Z.
std::string utc_now() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

// Whole plan milliseconds: Boost.JSON would print a double as 1.25E2.
std::int64_t whole_ms(core::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// What an attempt ended with, as the report's attempt_results name it: "503", "timeout".
std::string result_of(int status, core::error_class error) {
  if (error != core::error_class::none) return std::string(core::to_string(error));
  return status != 0 ? std::to_string(status) : std::string("none");
}

// The line's fields as `key=value`, without the wall-clock time; a string value is written bare
// when it has no space, quote, `=` or control character, JSON-quoted otherwise.
std::string logfmt(const boost::json::object& line) {
  std::string out;
  for (const auto& [key, value] : line) {
    if (key == "time") continue;
    if (!out.empty()) out += ' ';
    out.append(key.data(), key.size());
    out += '=';
    if (const auto* s = value.if_string()) {
      const bool bare = !s->empty() && std::none_of(s->begin(), s->end(), [](char c) {
        return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
      });
      out += bare ? std::string(*s) : boost::json::serialize(value);
    } else {
      out += boost::json::serialize(value);
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<event_log> event_log::open(const std::filesystem::path& path, std::string& error) {
  try {
    auto log = std::make_unique<event_log>(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path.string(), true));
    log->path_ = path;
    return log;
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}

event_log::event_log(std::shared_ptr<spdlog::sinks::sink> target) {
  if (!target) return;
  logger_ = core::make_redacting_logger("events", std::move(target));
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
}

void event_log::add_text_output(std::shared_ptr<spdlog::sinks::sink> target) {
  text_logger_ = core::make_redacting_logger("events-text", std::move(target));
  text_logger_->set_pattern("%v");
  text_logger_->set_level(spdlog::level::info);
}

event_log::~event_log() { close(); }

void event_log::close() {
  for (auto* logger : {&logger_, &text_logger_}) {
    if (!*logger) continue;
    (*logger)->flush();
    logger->reset();  // the last owner of the sink: the file closes here
  }
  open_.clear();
}

void event_log::flush() {
  if (logger_) logger_->flush();
  if (text_logger_) text_logger_->flush();
}

void event_log::set_context(boost::json::object context, core::time_point origin) {
  context_ = std::move(context);
  origin_ = origin;
}

void event_log::on_event(const core::event& e) {
  if (!logger_ && !text_logger_) return;
  if (e.kind == core::event_kind::request_submitted) {
    open_[e.request] = in_flight{std::string(e.endpoint), std::string(e.correlation_id)};
  }
  const auto it = open_.find(e.request);
  boost::json::object line;
  line["time"] = utc_now();
  line["event"] = core::to_string(e.kind);
  for (const auto& [k, v] : context_) line[k] = v;
  line["at_ms"] = whole_ms(e.at - origin_);
  line["request"] = e.request;
  if (it != open_.end()) {
    line["correlation_id"] = it->second.correlation_id;
    line["endpoint"] = it->second.endpoint;
  }
  switch (e.kind) {
    case core::event_kind::request_submitted:
      break;
    case core::event_kind::attempt_started:
      line["attempt"] = e.attempt;
      break;
    case core::event_kind::attempt_finished:
      line["attempt"] = e.attempt;
      if (e.status != 0) line["status"] = e.status;
      if (e.error != core::error_class::none) line["error"] = core::to_string(e.error);
      line["latency_ms"] = whole_ms(e.latency);
      if (e.retry_after) line["retry_after_ms"] = whole_ms(*e.retry_after);
      if (e.rejected_records != 0) line["rejected_records"] = e.rejected_records;
      if (!e.note.empty()) line["note"] = e.note;  // where the body broke the schema or the mapping
      if (it != open_.end()) {
        it->second.status = e.status;
        it->second.error = e.error;
        it->second.retry_after = e.retry_after;
      }
      break;
    case core::event_kind::backoff_scheduled:
      line["attempt"] = e.attempt;  // the one the backoff leads to
      line["delay_ms"] = whole_ms(e.delay);
      if (it != open_.end()) {
        line["reason"] = result_of(it->second.status, it->second.error);
        if (it->second.retry_after) line["retry_after_ms"] = whole_ms(*it->second.retry_after);
      }
      break;
    case core::event_kind::request_completed:
      line["attempts"] = e.attempt;
      line["outcome"] = core::to_string(e.outcome);
      line["reason"] = core::to_string(e.reason);
      if (e.status != 0) line["status"] = e.status;
      if (e.error != core::error_class::none) line["error"] = core::to_string(e.error);
      line["latency_ms"] = whole_ms(e.latency);
      break;
    // OAuth2 tokens, on behalf of the request that needed one. No token value is in an event.
    case core::event_kind::token_requested:
      line["reason"] = resilience::to_string(static_cast<resilience::refresh_reason>(e.detail));
      break;
    case core::event_kind::token_issued:
      line["reason"] = resilience::to_string(static_cast<resilience::refresh_reason>(e.detail));
      line["status"] = e.status;
      line["lifetime_ms"] = whole_ms(e.delay);
      break;
    case core::event_kind::token_failed:
      line["reason"] = resilience::to_string(static_cast<resilience::refresh_reason>(e.detail));
      if (e.status != 0) line["status"] = e.status;
      if (e.error != core::error_class::none) line["error"] = core::to_string(e.error);
      line["delay_ms"] = whole_ms(e.delay);  // before the next fetch
      break;
    case core::event_kind::credential_rejected:
      line["attempt"] = e.attempt;
      line["status"] = e.status;
      break;
    case core::event_kind::read_restarted:
      line["attempt"] = e.attempt;  // the next one, from the first page
      line["status"] = e.status;    // how the upstream refused the cursor
      break;
    case core::event_kind::breaker_transition:  // the client's, not one request's
      line.erase("request");
      line["state"] = resilience::to_string(static_cast<resilience::breaker_state>(e.detail));
      break;
    case core::event_kind::call_rejected:
      line["attempt"] = e.attempt;
      line["retry_in_ms"] = whole_ms(e.delay);  // until the breaker lets a call through again
      break;
    case core::event_kind::retry_refused:
      line["attempt"] = e.attempt;  // the retry the budget had no room for
      break;
  }
  if (e.kind == core::event_kind::request_completed && it != open_.end()) open_.erase(it);
  if (logger_) {
    const auto text = boost::json::serialize(line);
    logger_->log(spdlog::level::info, spdlog::string_view_t(text.data(), text.size()));
  }
  if (text_logger_) {
    // Redacted here rather than only in the sink, so the observer sees the line as written.
    const auto text = core::redact(logfmt(line));
    if (text_observer_) text_observer_(text);
    text_logger_->log(spdlog::level::info, spdlog::string_view_t(text.data(), text.size()));
  }
}

}  // namespace planproof::scenario
