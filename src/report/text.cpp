#include "report/text.hpp"

#include <cmath>

#include "core/logging.hpp"
#include "core/units.hpp"

namespace planproof::report {

std::string number(double v) { return core::format_number(v, 4); }

std::string observed_text(const boost::json::value& v) {
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_double()) return number(v.as_double());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_string()) return std::string(v.as_string());
  return "nothing";
}

std::string millis(double ms) {
  return core::format_duration(core::duration{static_cast<core::duration::rep>(std::llround(ms * 1e6))});
}

std::string expectation_text(const scenario::expectation_result& e) {
  return e.name + ": expected " + e.expected + ", " +
         (e.observed.is_null() ? std::string("nothing observed") : "observed " + observed_text(e.observed));
}

std::string evidence_text(const scenario::evidence_item& ev) {
  std::string out = ev.request > 0 ? "request " + std::to_string(ev.request) : std::string();
  if (ev.at_ms > 0) out += (out.empty() ? "at " : " at ") + millis(ev.at_ms);
  return out.empty() ? core::redact(ev.what) : out + ": " + core::redact(ev.what);
}

}  // namespace planproof::report
