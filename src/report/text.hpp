// How the human-readable reports (console, Markdown) write numbers, durations and observations.
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace planproof::report {

// At most 4 significant digits: 0.9875, 12.35.
std::string number(double v);
// A value observed for an expectation: true, 0.9875, 4, read_timeout; "nothing" for null.
std::string observed_text(const boost::json::value& v);
// Milliseconds of plan time as a duration: 250ms, 1.5s.
std::string millis(double ms);

}  // namespace planproof::report
