// The console report: one line per failure mode as it finishes, what broke and the evidence for it.
#pragma once

#include <ostream>

#include "scenario/result.hpp"

namespace planproof::report {

struct console_options {
  bool verbose = false;  // expectations and metrics of held failure modes too
  std::size_t id_width = 0;  // failure mode ids are padded to this width
};

void print_header(std::ostream& out, const scenario::run_result& run, std::size_t selected);
void print_failure_mode(std::ostream& out, const scenario::failure_mode_result& r, const console_options& options);
void print_summary(std::ostream& out, const scenario::run_result& run);

}  // namespace planproof::report
