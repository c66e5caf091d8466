#include "report/text.hpp"

#include <cmath>

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

}  // namespace planproof::report
