// Retry-After (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "core/units.hpp"

namespace planproof::resilience {

// The wait the header asks for; an HTTP-date is measured from `wall_now` (a date in the past is 0).
// Returns nullopt for a value that is neither form.
std::optional<core::duration> parse_retry_after(std::string_view value,
                                                std::chrono::system_clock::time_point wall_now);

}  // namespace planproof::resilience
