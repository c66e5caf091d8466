#include "core/rfc3339.hpp"

#include <algorithm>
#include <cstdio>

namespace planproof::core {
namespace {

bool digits(std::string_view s, std::size_t from, std::size_t count) {
  if (from + count > s.size()) return false;
  for (std::size_t i = from; i < from + count; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int number_at(std::string_view s, std::size_t from, std::size_t count) {
  int n = 0;
  for (std::size_t i = from; i < from + count; ++i) n = n * 10 + (s[i] - '0');
  return n;
}

}  // namespace

std::optional<std::chrono::sys_days> parse_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{number_at(s, 0, 4)},
                                        std::chrono::month{static_cast<unsigned>(number_at(s, 5, 2))},
                                        std::chrono::day{static_cast<unsigned>(number_at(s, 8, 2))}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::optional<instant> parse_timestamp(std::string_view s, bool offset_without_colon) {
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't')) return std::nullopt;
  const auto day = parse_date(s.substr(0, 10));
  if (!day || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return std::nullopt;
  const int hour = number_at(s, 11, 2), minute = number_at(s, 14, 2), second = number_at(s, 17, 2);
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: a leap second
  instant out;
  std::size_t i = 19;
  if (s[i] == '.') {
    const std::size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::nullopt;
    std::string_view fraction = s.substr(start, std::min<std::size_t>(i - start, 9));  // nanoseconds at most
    while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
    out.fraction = std::string(fraction);
  }
  if (i == s.size()) return std::nullopt;
  int offset = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    if (i + 1 != s.size()) return std::nullopt;
  } else if (s[i] == '+' || s[i] == '-') {
    const std::string_view tail = s.substr(i + 1);
    const bool colon = tail.size() == 5 && digits(tail, 0, 2) && tail[2] == ':' && digits(tail, 3, 2);
    const bool bare = offset_without_colon && tail.size() == 4 && digits(tail, 0, 4);
    if (!colon && !bare) return std::nullopt;
    const int oh = number_at(tail, 0, 2), om = number_at(tail, colon ? 3 : 2, 2);
    if (oh > 23 || om > 59) return std::nullopt;
    offset = (s[i] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  out.seconds =
      static_cast<std::int64_t>(day->time_since_epoch().count()) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return out;
}

std::optional<std::string> format_timestamp(std::int64_t seconds, std::string_view fraction) {
  constexpr std::int64_t first = -62167219200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t last = 253402300799;   // 9999-12-31T23:59:59Z
  if (seconds < first || seconds > last) return std::nullopt;
  const std::int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
  const std::int64_t in_day = seconds - days * 86400;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[64];
  const int n =
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                    static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
  std::string out(buf, static_cast<std::size_t>(std::max(n, 0)));
  if (!fraction.empty()) out.append(".").append(fraction);
  out += 'Z';
  return out;
}

}  // namespace planproof::core
