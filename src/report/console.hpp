// The console report: a live progress line while a failure mode runs (on a terminal), its lines as
// it finishes (what broke and the evidence), and a table and a summary at the end.
#pragma once

#include <ostream>

#include "scenario/result.hpp"
#include "scenario/runner.hpp"

namespace planproof::report {

struct console_options {
  bool verbose = false;  // expectations and metrics of held failure modes too
  std::size_t id_width = 0;  // failure mode ids are padded to this width
};

// "planproof run PLAN ...: N failure modes, ..." (`command`: "merge" for merged reports), then the notes.
void print_header(std::ostream& out, const scenario::run_result& run, std::size_t selected,
                  std::string_view command = "run");
void print_failure_mode(std::ostream& out, const scenario::failure_mode_result& r, const console_options& options);
void print_summary(std::ostream& out, const scenario::run_result& run);
// One row per failure mode: verdict, requests, succeeded, dead-lettered, lost, p99 and the first
// failed expectation (or why it was skipped or not run). Nothing for a run without failure modes.
void print_table(std::ostream& out, const scenario::run_result& run);

// The progress line of a running failure mode, at most `max_width` bytes, e.g.
// "  [2/6] rate_limited  12.3s of 1m  840/1200 requests  3 failed  902 attempts".
std::string progress_line(const scenario::run_progress& p, std::size_t id_width, std::size_t max_width);

// Draws the progress line in place (a carriage return, the line, spaces over what is left of the
// previous one) and erases it before anything else is printed. Disabled, it prints nothing.
class progress_display {
 public:
  progress_display(std::ostream& out, bool enabled, std::size_t id_width, std::size_t max_width)
      : out_(out), enabled_(enabled), id_width_(id_width), max_width_(max_width) {}
  void update(const scenario::run_progress& p);
  void clear();

 private:
  std::ostream& out_;
  bool enabled_;
  std::size_t id_width_;
  std::size_t max_width_;
  std::size_t shown_ = 0;  // width of the line on screen; 0 when none is
};

}  // namespace planproof::report
