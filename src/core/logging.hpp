// Logging setup (spdlog to stderr) with redaction: every registered secret is replaced by
// `[redacted]` in everything the process logs, and reports and dead letters call `redact` too.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

namespace planproof::core {

class redactor {
 public:
  static redactor& instance();
  void add(std::string secret);
  std::string apply(std::string_view text) const;
  void clear();  // tests only

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;
};

inline std::string redact(std::string_view text) { return redactor::instance().apply(text); }

enum class verbosity { quiet, normal, verbose };

// Installs the default logger: stderr, redacting, level from verbosity.
void setup_logging(verbosity v);
// A logger writing into `out` through the same redaction, for tests.
std::shared_ptr<spdlog::logger> make_redacting_logger(std::string name, std::shared_ptr<spdlog::sinks::sink> target);

}  // namespace planproof::core
