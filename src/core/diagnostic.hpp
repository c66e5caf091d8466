// Diagnostics in the `file:line:col: severity: message` form that editors and CI understand.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace planproof::core {

struct source_location {
  std::string file;  // the plan file, or "--set" for values given on the command line
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
};

enum class severity { error, warning, note };

struct diagnostic {
  source_location where;
  severity level = severity::error;
  std::string message;
  std::string rule;  // lint rule id, empty for load errors

  std::string str() const;
};

const char* to_string(severity s) noexcept;

// Thrown while loading input; turned into a printed diagnostic and exit code 2 at the CLI edge.
class diagnostic_error : public std::runtime_error {
 public:
  explicit diagnostic_error(std::vector<diagnostic> diagnostics);
  explicit diagnostic_error(diagnostic d);
  const std::vector<diagnostic>& diagnostics() const noexcept { return diagnostics_; }

 private:
  std::vector<diagnostic> diagnostics_;
};

}  // namespace planproof::core
