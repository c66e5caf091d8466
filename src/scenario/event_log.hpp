// The client's decisions as JSON lines (`--log FILE`): one line per request submitted, attempt
// started or finished, backoff scheduled and request completed, written through a redacting
// spdlog logger. A sink of the same event stream the verdicts fold, so it logs what was decided.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/json/object.hpp>
#include <spdlog/logger.h>

#include "core/events.hpp"

namespace planproof::scenario {

class event_log final : public core::event_sink {
 public:
  // A log that replaces `path`; nullptr, with why in `error`, when the file cannot be opened.
  static std::unique_ptr<event_log> open(const std::filesystem::path& path, std::string& error);
  // A log into any spdlog sink (tests), or none (nullptr: text lines only, see add_text_output);
  // lines go through the redactor as well.
  explicit event_log(std::shared_ptr<spdlog::sinks::sink> target);
  ~event_log() override;
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  // Also writes every event to `target` as one logfmt line for people (`run --verbose` on standard
  // error): `event=attempt_finished failure_mode=rate_limited at_ms=10069 request=202 ... status=429`,
  // the JSON line's fields but the wall-clock time, in the same order.
  void add_text_output(std::shared_ptr<spdlog::sinks::sink> target);
  // Fields added to every later line (which failure mode is running) and the plan time `at_ms`
  // counts from.
  void set_context(boost::json::object context, core::time_point origin);
  // Not thread-safe: one client's executor calls it.
  void on_event(const core::event& e) override;
  // Flushes and closes the file; later events are dropped.
  void close();
  // Hands what is buffered to the file, so it can be read back (no_secret_in_logs reads it).
  void flush();
  // The file open() writes; empty for a log into another sink.
  const std::filesystem::path& path() const noexcept { return path_; }
  // Called with every text line exactly as written to the text output (redacted, without the
  // newline): what `--verbose` printed, for no_secret_in_logs. Empty to stop.
  void set_text_observer(std::function<void(std::string_view)> observer) { text_observer_ = std::move(observer); }

 private:
  // What later lines of an in-flight request need: who it is, and why a backoff follows.
  struct in_flight {
    std::string endpoint;
    std::string correlation_id;
    int status = 0;
    core::error_class error = core::error_class::none;
    std::optional<core::duration> retry_after;
  };

  std::shared_ptr<spdlog::logger> logger_;       // JSON lines; none when constructed without a target
  std::shared_ptr<spdlog::logger> text_logger_;  // logfmt lines, when asked for
  std::filesystem::path path_;
  std::function<void(std::string_view)> text_observer_;
  boost::json::object context_;
  core::time_point origin_{};
  std::unordered_map<std::uint64_t, in_flight> open_;
};

// Removes a log's text observer when it goes out of scope (the observer refers to the caller's
// locals), however the scope is left. A null log is left alone.
struct text_observer_reset {
  event_log* log;
  ~text_observer_reset() {
    if (log != nullptr) log->set_text_observer({});
  }
};

// Forwards every event to two sinks, in order (the run's fold, then the log).
class event_tee final : public core::event_sink {
 public:
  event_tee(core::event_sink& first, core::event_sink* second) : first_(first), second_(second) {}
  void on_event(const core::event& e) override {
    first_.on_event(e);
    if (second_ != nullptr) second_->on_event(e);
  }

 private:
  core::event_sink& first_;
  core::event_sink* second_;
};

}  // namespace planproof::scenario
