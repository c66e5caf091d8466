// Dates and timestamps as RFC 3339 writes them, for the schema's `date`/`date-time` formats and the
// data mapping's `date`/`timestamp` types and transforms.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace planproof::core {

// YYYY-MM-DD naming a day that exists (no 2025-02-29).
std::optional<std::chrono::sys_days> parse_date(std::string_view text);

struct instant {
  std::int64_t seconds = 0;  // unix seconds
  std::string fraction;      // of the second, as written without trailing zeros ("" when none)
};

// RFC 3339: 2024-06-20T12:30:00Z, an optional fraction (nanoseconds kept at most), a `Z` or a numeric
// offset `+01:00`. `offset_without_colon` also accepts `+0100`, the form Salesforce and Java
// formatters write.
std::optional<instant> parse_timestamp(std::string_view text, bool offset_without_colon = false);

// The unix instant as RFC 3339 in UTC, YYYY-MM-DDTHH:MM:SS[.fraction]Z; none outside years 0-9999.
std::optional<std::string> format_timestamp(std::int64_t seconds, std::string_view fraction = {});

}  // namespace planproof::core
