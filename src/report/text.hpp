// How the human-readable reports (console, Markdown) write numbers, durations and observations.
#pragma once

#include <string>

#include <boost/json/value.hpp>

#include "scenario/result.hpp"

namespace planproof::report {

// At most 4 significant digits: 0.9875, 12.35.
std::string number(double v);
// A value observed for an expectation: true, 0.9875, 4, read_timeout; "nothing" for null.
std::string observed_text(const boost::json::value& v);
// Milliseconds of plan time as a duration: 250ms, 1.5s.
std::string millis(double ms);
// "success_rate: expected >= 0.99, observed 0.9483" ("nothing observed" when nothing was).
std::string expectation_text(const scenario::expectation_result& e);
// "request 401 at 20.02s: dead_lettered (...)", redacted; request 0 (what the upstream saw, named by
// the ids the client sent) and time 0 are left out, and so is the colon when both are.
std::string evidence_text(const scenario::evidence_item& ev);

}  // namespace planproof::report
