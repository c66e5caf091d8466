// The plan's units: durations (`250ms`, `2s`, `1m`, `90d`), rates (`20/s`) and ratios (`0.99`, `99%`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace planproof::core {

using duration = std::chrono::nanoseconds;

// Non-negative duration: a decimal number followed by ns, us, ms, s, m, h or d, or several such
// parts largest unit first (`1h30m`, `1m41.5s`); a bare `0` is zero. What format_duration writes
// reads back.
std::optional<duration> parse_duration(std::string_view text);
// Events per second from `N/s`, `N/m` or `N/h`; N > 0.
std::optional<double> parse_rate(std::string_view text);
// A ratio in [0, 1], written `0.99` or `99%`.
std::optional<double> parse_ratio(std::string_view text);
// A plain decimal number (no unit), e.g. `0.5`, `-3`, `1e3`.
std::optional<double> parse_number(std::string_view text);

// Shortest readable form: 250ms, 2s, 1.5s, 1m30s, 36h, 90d.
std::string format_duration(duration d);
// A number for people: whole values without a decimal point, others to `significant` digits.
std::string format_number(double value, int significant = 6);
double to_millis(duration d) noexcept;
double to_seconds(duration d) noexcept;

inline constexpr std::string_view duration_syntax = "a duration such as 250ms, 2s or 1m";
inline constexpr std::string_view rate_syntax = "a rate such as 20/s or 600/m";
inline constexpr std::string_view ratio_syntax = "a ratio such as 0.99 or 99%";

}  // namespace planproof::core
