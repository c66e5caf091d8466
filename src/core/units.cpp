#include "core/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <utility>

namespace planproof::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "12.5ms" into 12.5 and "ms". Rejects signs, empty numbers and trailing garbage in the number.
std::optional<std::pair<double, std::string_view>> split_number(std::string_view s) {
  std::size_t i = 0;
  bool digits = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.')) {
    digits = digits || s[i] != '.';
    ++i;
  }
  if (!digits) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, value);
  if (ec != std::errc{} || ptr != s.data() + i || !std::isfinite(value)) return std::nullopt;
  return std::pair{value, s.substr(i)};
}

}  // namespace

std::optional<duration> parse_duration(std::string_view text) {
  text = trim(text);
  if (text == "0") return duration::zero();
  // Largest first, each at most once: `1h30m`, `1m41.5s`, as format_duration writes them.
  static constexpr std::pair<std::string_view, double> units[] = {
      {"d", 86400e9}, {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}};
  constexpr std::size_t none = std::size(units);
  std::size_t last = none;
  double ns = 0;
  if (text.empty()) return std::nullopt;
  while (!text.empty()) {
    auto parts = split_number(text);
    if (!parts) return std::nullopt;
    auto [value, rest] = *parts;
    std::size_t n = 0;
    while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n])) != 0) ++n;
    const auto unit = rest.substr(0, n);
    std::size_t i = 0;
    while (i < none && units[i].first != unit) ++i;
    if (i == none || (last != none && i <= last)) return std::nullopt;
    last = i;
    ns += value * units[i].second;
    text = rest.substr(n);
  }
  if (!(ns <= 1e18)) return std::nullopt;  // ~31 years: anything longer is a typo
  return duration{static_cast<duration::rep>(std::llround(ns))};
}

std::optional<double> parse_rate(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto parts = split_number(trim(text.substr(0, slash)));
  if (!parts || !parts->second.empty() || parts->first <= 0) return std::nullopt;
  const auto unit = trim(text.substr(slash + 1));
  if (unit == "s") return parts->first;
  if (unit == "m") return parts->first / 60.0;
  if (unit == "h") return parts->first / 3600.0;
  return std::nullopt;
}

std::optional<double> parse_ratio(std::string_view text) {
  text = trim(text);
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, rest] = *parts;
  if (rest == "%") value /= 100.0;
  else if (!rest.empty()) return std::nullopt;
  if (value < 0 || value > 1) return std::nullopt;
  return value;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string format_duration(duration d) {
  using namespace std::chrono;
  const auto ns = d.count();
  if (ns == 0) return "0s";
  char buf[64];
  auto fmt = [&](double v, const char* unit) {
    std::snprintf(buf, sizeof buf, "%.4g%s", v, unit);
    return std::string(buf);
  };
  const auto abs_ns = ns < 0 ? -ns : ns;
  if (abs_ns < 1'000) return fmt(static_cast<double>(ns), "ns");
  if (abs_ns < 1'000'000) return fmt(static_cast<double>(ns) / 1e3, "us");
  if (abs_ns < 1'000'000'000) return fmt(static_cast<double>(ns) / 1e6, "ms");
  if (abs_ns < 60'000'000'000) return fmt(static_cast<double>(ns) / 1e9, "s");
  if (ns % 1'000'000'000 != 0) {
    // Minutes, then what is left in its own unit: never an exponent, and it reads back.
    const auto minutes = ns / 60'000'000'000;
    return std::to_string(minutes) + "m" + format_duration(duration(ns - minutes * 60'000'000'000));
  }
  const auto s = ns / 1'000'000'000;
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
}

std::string format_number(double value, int significant) {
  char buf[64];
  if (std::abs(value - std::round(value)) < 1e-9 && std::abs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.*g", significant, value);
  }
  return buf;
}

double to_millis(duration d) noexcept { return static_cast<double>(d.count()) / 1e6; }
double to_seconds(duration d) noexcept { return static_cast<double>(d.count()) / 1e9; }

}  // namespace planproof::core
