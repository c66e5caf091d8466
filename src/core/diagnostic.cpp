#include "core/diagnostic.hpp"

namespace planproof::core {

const char* to_string(severity s) noexcept {
  switch (s) {
    case severity::error: return "error";
    case severity::warning: return "warning";
    case severity::note: return "note";
  }
  return "error";
}

std::string diagnostic::str() const {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':' + std::to_string(where.line);
    if (where.column > 0) out += ':' + std::to_string(where.column);
  }
  out += ": ";
  out += to_string(level);
  out += ": ";
  out += message;
  if (!rule.empty()) out += " [" + rule + ']';
  return out;
}

namespace {
std::string join(const std::vector<diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) {
    if (!out.empty()) out += '\n';
    out += d.str();
  }
  return out;
}
}  // namespace

diagnostic_error::diagnostic_error(std::vector<diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

diagnostic_error::diagnostic_error(diagnostic d)
    : diagnostic_error(std::vector<diagnostic>{std::move(d)}) {}

}  // namespace planproof::core
