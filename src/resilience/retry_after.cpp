#include "resilience/retry_after.hpp"

#include <cctype>
#include <charconv>
#include <algorithm>
#include <ctime>
#include <limits>
#include <string>

namespace planproof::resilience {

std::optional<core::duration> parse_retry_after(std::string_view value,
                                                std::chrono::system_clock::time_point wall_now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;

  if (std::isdigit(static_cast<unsigned char>(value.front())) != 0) {
    std::uint32_t seconds = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc{} || ptr != value.data() + value.size()) return std::nullopt;
    return std::chrono::seconds(seconds);
  }

  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (the form RFC 9110 requires senders to use).
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  // In seconds: a date centuries ahead (a hostile or broken upstream) does not fit in nanoseconds.
  const std::int64_t at = ::timegm(&tm);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(wall_now.time_since_epoch()).count();
  if (at <= now) return core::duration::zero();
  // As far as the delay-seconds form can say (2^32 - 1 s); the retry policy caps the wait anyway.
  return std::chrono::seconds(std::min<std::int64_t>(at - now, std::numeric_limits<std::uint32_t>::max()));
}

}  // namespace planproof::resilience
