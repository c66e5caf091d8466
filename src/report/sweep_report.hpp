// What `planproof sweep` writes: a console table sorted by a metric, CSV, JSON, and a chart of a
// metric against the first varied setting (one line per combination of the others) as a
// self-contained HTML page with inline SVG.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>

#include "scenario/sweep.hpp"

namespace planproof::report {

// Indexes of the points, best first by `metric` (a sweep_metrics() index); points that did not
// measure it come last.
std::vector<std::size_t> sweep_order(const scenario::sweep_result& r, std::size_t metric);

void print_sweep_table(std::ostream& out, const scenario::sweep_result& r, std::size_t sort_metric);
std::string sweep_csv(const scenario::sweep_result& r);
std::string sweep_json(const scenario::sweep_result& r);
std::string sweep_chart_html(const scenario::sweep_result& r, std::size_t metric);

}  // namespace planproof::report
