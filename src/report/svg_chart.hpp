// The charts of the HTML report, as inline SVG: what a failure mode's run did over plan time and
// how long its requests took. Plain markup (no script, no external resource), sized by the bounded
// series of scenario::timeline, so a chart stays small however long the run was.
#pragma once

#include <string>
#include <string_view>

#include "scenario/result.hpp"

namespace planproof::report {

// Text for HTML or SVG markup: redacted, then & < > " ' written as entities; bytes that are not
// valid UTF-8 and characters XML does not allow (controls other than tab and newlines) become
// U+FFFD, so the page parses as XML as well as HTML.
std::string markup_text(std::string_view text);

// Each chart is a <figure>: the SVG (with <title> and <desc>), an HTML legend and a caption.
// `id` is unique in the page and prefixes the ids the chart uses.

// Attempts per bucket of plan time, stacked by what came of them (and calls the breaker refused),
// over the fault windows shaded, with the buckets where the mock injected faults marked on top.
std::string attempts_chart(const scenario::run_metrics& m, std::string_view id);
// Attempts sent per second over plan time.
std::string rate_chart(const scenario::run_metrics& m, std::string_view id);
// The circuit breaker's state over plan time: closed, open and half-open bands.
std::string breaker_chart(const scenario::run_metrics& m, std::string_view id);
// Token renewals and failed fetches, marked over plan time.
std::string token_chart(const scenario::run_metrics& m, std::string_view id);
// How many logical requests took how long, on a logarithmic axis, with p50 and p99 marked.
std::string latency_chart(const scenario::run_metrics& m, std::string_view id);

}  // namespace planproof::report
