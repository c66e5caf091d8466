#include "core/logging.hpp"

#include <algorithm>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace planproof::core {

redactor& redactor::instance() {
  static redactor r;
  return r;
}

void redactor::add(std::string secret) {
  if (secret.empty()) return;
  std::lock_guard lock(mutex_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) == secrets_.end()) {
    secrets_.push_back(std::move(secret));
    // Longest first, so a secret containing another is replaced whole.
    std::sort(secrets_.begin(), secrets_.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
  }
}

std::string redactor::apply(std::string_view text) const {
  std::string out(text);
  std::lock_guard lock(mutex_);
  for (const auto& s : secrets_) {
    for (auto pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos)) {
      out.replace(pos, s.size(), "[redacted]");
      pos += 10;
    }
  }
  return out;
}

void redactor::clear() {
  std::lock_guard lock(mutex_);
  secrets_.clear();
}

namespace {

// Formats each message, redacts it, and hands the clean text to the wrapped sink.
class redacting_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit redacting_sink(std::shared_ptr<spdlog::sinks::sink> target) : target_(std::move(target)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string clean = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy(msg.time, msg.source, msg.logger_name, msg.level, clean);
    target_->log(copy);
  }
  void flush_() override { target_->flush(); }
  void set_pattern_(const std::string& pattern) override { target_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override { target_->set_formatter(std::move(f)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> target_;
};

}  // namespace

std::shared_ptr<spdlog::logger> make_redacting_logger(std::string name,
                                                      std::shared_ptr<spdlog::sinks::sink> target) {
  auto sink = std::make_shared<redacting_sink>(std::move(target));
  return std::make_shared<spdlog::logger>(std::move(name), std::move(sink));
}

void setup_logging(verbosity v) {
  auto logger = make_redacting_logger("planproof", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_pattern("%^%l%$: %v");
  switch (v) {
    case verbosity::quiet: logger->set_level(spdlog::level::err); break;
    case verbosity::normal: logger->set_level(spdlog::level::warn); break;
    case verbosity::verbose: logger->set_level(spdlog::level::debug); break;
  }
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace planproof::core
