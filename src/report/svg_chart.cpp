#include "report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/logging.hpp"
#include "report/text.hpp"

namespace planproof::report {
namespace {

using scenario::series;

constexpr double chart_width = 720;
constexpr double left = 60;    // room for the y axis labels
constexpr double right = 16;
constexpr double bottom = 40;  // x tick labels and the axis label
constexpr double plot_width = chart_width - left - right;

// A coordinate with at most one decimal: charts stay small.
std::string c(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.size() > 2 && s.ends_with(".0")) s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

// A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `target` parts.
double tick_step(double span, int target) {
  if (!(span > 0)) return 1;
  const double raw = span / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string seconds(double ms) { return number(ms / 1000) + " s"; }

// A chart over plan time: [0, end_ms] across, [0, y_max] up, the plot from `top` down `height`.
struct time_frame {
  double end_ms = 1;
  double top = 20;
  double height = 180;
  double y_max = 1;

  double x(double ms) const { return left + plot_width * std::clamp(ms / end_ms, 0.0, 1.0); }
  double y(double v) const { return top + height - height * std::clamp(v / y_max, 0.0, 1.0); }
  double total_height() const { return top + height + bottom; }
};

// How far the time axis of a failure mode reaches: the run, or its last bucket if that ends later;
// at least a second, so a run that took no time still gets a readable axis.
double end_of(const scenario::run_metrics& m) {
  const double buckets = core::to_millis(m.over_time.bucket_width()) * static_cast<double>(m.over_time.size());
  return std::max({m.duration_ms, buckets, 1000.0});
}

std::string open_svg(std::string_view id, double height, std::string_view title, std::string_view desc) {
  const std::string i(id);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"" + c(chart_width) + "\" height=\"" +
         c(height) + "\" viewBox=\"0 0 " + c(chart_width) + " " + c(height) + "\" role=\"img\" aria-labelledby=\"" + i +
         "-title " + i + "-desc\">\n<title id=\"" + i + "-title\">" + markup_text(title) + "</title>\n<desc id=\"" + i +
         "-desc\">" + markup_text(desc) + "</desc>\n";
}

std::string figure(std::string svg, std::string_view legend, std::string_view caption) {
  return "<figure>\n" + svg + "</svg>\n" + std::string(legend) + "<figcaption>" + markup_text(caption) +
         "</figcaption>\n</figure>\n";
}

// One legend entry: a swatch in the series' class, and what it means.
std::string key(std::string_view css_class, std::string_view label) {
  return "<li><span class=\"key " + std::string(css_class) + "\"></span>" + markup_text(label) + "</li>";
}

std::string legend(const std::string& items) { return "<ul class=\"legend\">" + items + "</ul>\n"; }

// The time axis under the plot, in seconds of plan time, and a faint grid.
std::string time_axis(const time_frame& f) {
  std::string out;
  const double base = f.top + f.height;
  out += "<line class=\"axis\" x1=\"" + c(left) + "\" y1=\"" + c(base) + "\" x2=\"" + c(left + plot_width) +
         "\" y2=\"" + c(base) + "\"/>\n";
  const double step = tick_step(f.end_ms, 8);
  for (double t = 0; t <= f.end_ms + step * 1e-9; t += step) {
    const double x = f.x(t);
    out += "<line class=\"tick\" x1=\"" + c(x) + "\" y1=\"" + c(base) + "\" x2=\"" + c(x) + "\" y2=\"" + c(base + 4) +
           "\"/><text class=\"tl\" x=\"" + c(x) + "\" y=\"" + c(base + 16) + "\">" + number(t / 1000) + "</text>\n";
  }
  out += "<text class=\"label\" x=\"" + c(left + plot_width / 2) + "\" y=\"" + c(base + 34) + "\">plan time (s)</text>\n";
  return out;
}

// The value axis left of the plot, with grid lines, and its label written upwards.
std::string value_axis(const time_frame& f, std::string_view label) {
  std::string out;
  out += "<line class=\"axis\" x1=\"" + c(left) + "\" y1=\"" + c(f.top) + "\" x2=\"" + c(left) + "\" y2=\"" +
         c(f.top + f.height) + "\"/>\n";
  const double step = tick_step(f.y_max, 4);
  for (double v = 0; v <= f.y_max + step * 1e-9; v += step) {
    const double y = f.y(v);
    if (v > 0) {
      out += "<line class=\"grid\" x1=\"" + c(left) + "\" y1=\"" + c(y) + "\" x2=\"" + c(left + plot_width) +
             "\" y2=\"" + c(y) + "\"/>";
    }
    out += "<text class=\"vl\" x=\"" + c(left - 6) + "\" y=\"" + c(y + 4) + "\">" + number(v) + "</text>\n";
  }
  const double mid = f.top + f.height / 2;
  out += "<text class=\"label\" transform=\"translate(14 " + c(mid) + ") rotate(-90)\">" + markup_text(label) +
         "</text>\n";
  return out;
}

// The fault windows of the failure mode, shaded across the whole plot height.
std::string fault_windows(const scenario::run_metrics& m, const time_frame& f) {
  std::string out;
  for (const auto& w : m.fault_windows) {
    const double to = w.to_ms.value_or(f.end_ms);
    if (!(to > w.from_ms) || w.from_ms >= f.end_ms) continue;
    out += "<rect class=\"win\" x=\"" + c(f.x(w.from_ms)) + "\" y=\"" + c(f.top) + "\" width=\"" +
           c(f.x(to) - f.x(w.from_ms)) + "\" height=\"" + c(f.height) + "\"><title>" +
           markup_text("fault window: " + w.fault + ", " + seconds(w.from_ms) + " to " +
                       (w.to_ms ? seconds(*w.to_ms) : std::string("the end"))) +
           "</title></rect>\n";
  }
  return out;
}

std::string no_data(const time_frame& f, std::string_view what) {
  return "<text class=\"empty\" x=\"" + c(left + plot_width / 2) + "\" y=\"" + c(f.top + f.height / 2) + "\">" +
         markup_text(what) + "</text>\n";
}

std::string plural(std::uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

struct stacked {
  series s;
  const char* css;
  const char* label;  // in the legend
  const char* one;    // counted in a bucket's title
  const char* many;
};
constexpr stacked stack[] = {
    {series::succeeded, "s-ok", "succeeded", "succeeded", "succeeded"},
    {series::retryable, "s-retry", "retryable failure", "retryable failure", "retryable failures"},
    {series::fatal, "s-fatal", "fatal failure", "fatal failure", "fatal failures"},
    {series::errors, "s-error", "error class (timeout, reset, bad body...)", "error class", "error classes"},
    {series::rejected, "s-rejected", "refused by the breaker (no upstream call)", "call refused by the breaker",
     "calls refused by the breaker"},
};

}  // namespace

std::string markup_text(std::string_view raw) {
  const std::string text = core::redact(raw);
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      switch (b) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        case '\t':
        case '\n':
        case '\r': out += static_cast<char>(b); break;
        default:
          if (b < 0x20) out += replacement;
          else out += static_cast<char>(b);
      }
      ++i;
      continue;
    }
    // A multi-byte sequence: its length from the lead byte, then continuation bytes, no overlong
    // form, no surrogate, nothing above U+10FFFF, and not U+FFFE or U+FFFF (not XML characters).
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (b >= 0xC2 && b <= 0xDF) len = 2, cp = b & 0x1Fu;
    else if (b >= 0xE0 && b <= 0xEF) len = 3, cp = b & 0x0Fu;
    else if (b >= 0xF0 && b <= 0xF4) len = 4, cp = b & 0x07u;
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0u) == 0x80u;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    if (ok) {
      ok = !(len == 3 && cp < 0x800) && !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) &&
           !(cp >= 0xD800 && cp <= 0xDFFF) && cp != 0xFFFE && cp != 0xFFFF;
    }
    if (ok) {
      out.append(text, i, len);
      i += len;
    } else {
      out += replacement;
      ++i;
    }
  }
  return out;
}

std::string attempts_chart(const scenario::run_metrics& m, std::string_view id) {
  const auto& t = m.over_time;
  const double width_ms = core::to_millis(t.bucket_width());
  time_frame f{.end_ms = end_of(m), .top = 26, .height = 180};
  std::uint64_t peak = 0, faults_peak = 0;
  for (std::size_t b = 0; b < t.size(); ++b) {
    std::uint64_t sum = 0;
    for (const auto& s : stack) sum += t.at(b, s.s);
    peak = std::max(peak, sum);
    faults_peak = std::max(faults_peak, t.at(b, series::faults));
  }
  f.y_max = std::max<double>(static_cast<double>(peak), 1);
  f.y_max = std::ceil(f.y_max / tick_step(f.y_max, 4)) * tick_step(f.y_max, 4);

  const std::string per = "per " + millis(width_ms);
  std::string desc = "Attempts " + per + " of plan time, by what came of them: " +
                     std::to_string(t.total(series::succeeded)) + " succeeded, " +
                     std::to_string(t.total(series::retryable)) + " retryable failures, " +
                     std::to_string(t.total(series::fatal)) + " fatal failures, " +
                     std::to_string(t.total(series::errors)) + " error classes";
  if (t.total(series::rejected) != 0) desc += ", " + std::to_string(t.total(series::rejected)) + " calls refused by the breaker";
  desc += "; " + plural(t.total(series::faults), "fault", "faults") + " injected by the mock upstream";
  if (!m.fault_windows.empty()) {
    desc += " in the fault windows";
    for (const auto& w : m.fault_windows) {
      desc += " " + w.fault + " " + seconds(w.from_ms) + " to " + (w.to_ms ? seconds(*w.to_ms) : std::string("the end")) + ";";
    }
    desc.pop_back();
  }
  desc += ".";
  std::string svg = open_svg(id, f.total_height(), "Attempts over plan time", desc);
  svg += fault_windows(m, f);
  svg += value_axis(f, "attempts " + per);
  for (std::size_t b = 0; b < t.size(); ++b) {
    std::uint64_t sum = 0;
    std::string what;
    for (const auto& s : stack) {
      if (const auto n = t.at(b, s.s); n != 0) {
        sum += n;
        what += (what.empty() ? "" : ", ") + plural(n, s.one, s.many);
      }
    }
    const auto faults = t.at(b, series::faults);
    if (sum == 0 && faults == 0) continue;
    const double from = width_ms * static_cast<double>(b);
    const double x0 = f.x(from);
    const double x1 = f.x(from + width_ms);
    const double w = std::max(x1 - x0 - (x1 - x0 > 3 ? 1 : 0), 0.5);
    svg += "<g><title>" + markup_text(seconds(from) + " to " + seconds(from + width_ms) + ": " +
                                      (what.empty() ? std::string("no attempt") : what) +
                                      (faults != 0 ? "; " + plural(faults, "fault", "faults") + " injected" : "")) +
           "</title>";
    double level = 0;
    for (const auto& s : stack) {
      const auto n = static_cast<double>(t.at(b, s.s));
      if (n == 0) continue;
      svg += "<rect class=\"" + std::string(s.css) + "\" x=\"" + c(x0) + "\" y=\"" + c(f.y(level + n)) + "\" width=\"" +
             c(w) + "\" height=\"" + c(f.y(level) - f.y(level + n)) + "\"/>";
      level += n;
    }
    if (faults != 0) {
      // A marker above the plot, darker where more faults were injected.
      const double mid = x0 + w / 2;
      const double strength = 0.35 + 0.65 * static_cast<double>(faults) / static_cast<double>(faults_peak);
      svg += "<path class=\"fault\" fill-opacity=\"" + c(strength) + "\" d=\"M" + c(mid - 4) + " 8H" + c(mid + 4) +
             "L" + c(mid) + " 18Z\"/>";
    }
    svg += "</g>\n";
  }
  if (peak == 0) svg += no_data(f, "no attempt was made");
  svg += time_axis(f);

  std::string keys;
  for (const auto& s : stack) {
    if (s.s != series::rejected || t.total(series::rejected) != 0) keys += key(s.css, s.label);
  }
  if (!m.fault_windows.empty()) keys += key("win", "fault window (plan's inject.during)");
  keys += key("fault", "faults injected in the bucket (darker: more)");
  return figure(std::move(svg), legend(keys),
                "Attempts " + per + " of plan time, stacked by result. " + plural(t.total(series::faults), "fault was", "faults were") +
                    " injected.");
}

std::string rate_chart(const scenario::run_metrics& m, std::string_view id) {
  const auto& t = m.over_time;
  const double width_ms = core::to_millis(t.bucket_width());
  time_frame f{.end_ms = end_of(m), .top = 14, .height = 140};
  std::vector<double> rates;
  double peak = 0;
  for (std::size_t b = 0; b < t.size(); ++b) {
    // The last bucket may reach past the end of the run: divide by the time it covered.
    const double from = width_ms * static_cast<double>(b);
    double span = std::min(width_ms, m.duration_ms - from);
    if (!(span > 0)) span = width_ms;
    rates.push_back(static_cast<double>(t.at(b, series::attempts)) / (span / 1000));
    peak = std::max(peak, rates.back());
  }
  f.y_max = std::max(peak, 1.0);
  f.y_max = std::ceil(f.y_max / tick_step(f.y_max, 4)) * tick_step(f.y_max, 4);
  const auto attempts = t.total(series::attempts);
  std::string svg = open_svg(id, f.total_height(), "Upstream request rate over plan time",
                             "Attempts sent upstream per second, averaged over " + millis(width_ms) +
                                 " buckets: peak " + number(peak) + " per second, " +
                                 plural(attempts, "attempt", "attempts") + " in all.");
  svg += fault_windows(m, f);
  svg += value_axis(f, "attempts per second");
  if (!rates.empty()) {
    std::string d = "M" + c(f.x(0)) + " " + c(f.y(rates[0]));
    for (std::size_t b = 0; b < rates.size(); ++b) {
      if (b > 0) d += "V" + c(f.y(rates[b]));
      d += "H" + c(f.x(width_ms * static_cast<double>(b + 1)));
    }
    svg += "<path class=\"rate\" d=\"" + d + "\"><title>" + markup_text("peak " + number(peak) + " attempts per second") +
           "</title></path>\n";
  } else {
    svg += no_data(f, "no attempt was made");
  }
  svg += time_axis(f);
  std::string keys = key("rate", "attempts sent per second");
  if (!m.fault_windows.empty()) keys += key("win", "fault window");
  return figure(std::move(svg), legend(keys),
                "Upstream request rate: attempts per second over " + millis(width_ms) + " buckets; peak " +
                    number(peak) + "/s.");
}

std::string breaker_chart(const scenario::run_metrics& m, std::string_view id) {
  time_frame f{.end_ms = end_of(m), .top = 10, .height = 28};
  auto css = [](resilience::breaker_state s) {
    switch (s) {
      case resilience::breaker_state::closed: return "b-closed";
      case resilience::breaker_state::open: return "b-open";
      case resilience::breaker_state::half_open: return "b-half";
    }
    return "b-closed";
  };
  auto name = [](resilience::breaker_state s) {
    return s == resilience::breaker_state::half_open ? std::string("half-open") : std::string(resilience::to_string(s));
  };
  const bool truncated = m.breaker_transitions > m.breaker_marks.size();
  std::string bands;
  std::string desc;
  std::uint64_t opened = 0;
  auto band = [&](double from, double to, const char* cls, const std::string& label) {
    if (!(to > from)) return;
    bands += "<rect class=\"" + std::string(cls) + "\" x=\"" + c(f.x(from)) + "\" y=\"" + c(f.top) + "\" width=\"" +
             c(std::max(f.x(to) - f.x(from), 0.5)) + "\" height=\"" + c(f.height) + "\"><title>" +
             markup_text(label + " " + seconds(from) + " to " + seconds(to)) + "</title></rect>\n";
  };
  double since = 0;
  auto state = resilience::breaker_state::closed;
  for (const auto& mark : m.breaker_marks) {
    band(since, mark.at_ms, css(state), name(state));
    since = mark.at_ms;
    state = mark.state;
    if (state == resilience::breaker_state::open) ++opened;
  }
  if (truncated) band(since, f.end_ms, "b-unknown", "not recorded (later transitions)");
  else band(since, f.end_ms, css(state), name(state));
  desc = "Circuit breaker state over plan time: " + plural(m.breaker_transitions, "transition", "transitions") +
         ", opened " + plural(opened, "time", "times") + (truncated ? " in the first " + std::to_string(m.breaker_marks.size()) + " transitions" : "") +
         "; " + (m.breaker_marks.empty() ? std::string("closed throughout.") : "ended " + (truncated ? std::string("not recorded.") : name(state) + "."));
  std::string svg = open_svg(id, f.total_height(), "Circuit breaker state over plan time", desc);
  svg += bands;
  svg += fault_windows(m, f);
  svg += time_axis(f);
  std::string keys = key("b-closed", "closed") + key("b-open", "open (calls refused)") + key("b-half", "half-open (trial calls)");
  if (truncated) keys += key("b-unknown", "not recorded");
  if (!m.fault_windows.empty()) keys += key("win", "fault window");
  return figure(std::move(svg), legend(keys), desc);
}

std::string token_chart(const scenario::run_metrics& m, std::string_view id) {
  time_frame f{.end_ms = end_of(m), .top = 10, .height = 30};
  const bool truncated = m.token_refreshes + m.token_failures > m.token_marks.size();
  std::string marks;
  for (const auto& k : m.token_marks) {
    const double x = f.x(k.at_ms);
    const double y = f.top + f.height / 2;
    const std::string why(resilience::to_string(k.reason));
    if (k.failed) {
      marks += "<path class=\"tok-f\" d=\"M" + c(x - 5) + " " + c(y - 5) + "L" + c(x + 5) + " " + c(y + 5) + "M" +
               c(x - 5) + " " + c(y + 5) + "L" + c(x + 5) + " " + c(y - 5) + "\"><title>" +
               markup_text("token fetch failed at " + seconds(k.at_ms) + " (fetching: " + why + ")") + "</title></path>\n";
    } else {
      marks += "<circle class=\"" + std::string(k.reason == resilience::refresh_reason::scheduled ? "tok-s" : "tok-r") +
               "\" cx=\"" + c(x) + "\" cy=\"" + c(y) + "\" r=\"5\"><title>" +
               markup_text("token renewed at " + seconds(k.at_ms) + " (" + why + ")") + "</title></circle>\n";
    }
  }
  const std::string desc = "Access tokens over plan time: " + plural(m.tokens_issued, "token", "tokens") + " issued, " +
                           std::to_string(m.token_refreshes) + " renewed, " +
                           plural(m.token_failures, "fetch", "fetches") + " failed" +
                           (truncated ? "; the first " + std::to_string(m.token_marks.size()) + " are marked" : "") + ".";
  std::string svg = open_svg(id, f.total_height(), "Token renewals over plan time", desc);
  svg += fault_windows(m, f);
  svg += "<line class=\"grid\" x1=\"" + c(left) + "\" y1=\"" + c(f.top + f.height / 2) + "\" x2=\"" + c(left + plot_width) +
         "\" y2=\"" + c(f.top + f.height / 2) + "\"/>\n";
  svg += marks;
  if (m.token_marks.empty()) svg += no_data(f, "no token was renewed and no fetch failed");
  svg += time_axis(f);
  std::string keys = key("tok-s", "renewed before expiry (scheduled)") + key("tok-r", "renewed after a refusal or expiry") +
                     key("tok-f", "token fetch failed");
  if (!m.fault_windows.empty()) keys += key("win", "fault window");
  return figure(std::move(svg), legend(keys), desc);
}

std::string latency_chart(const scenario::run_metrics& m, std::string_view id) {
  const auto& bins = m.latency_bins;
  constexpr double top = 30;
  constexpr double height = 150;
  std::uint64_t peak = 0, requests = 0;
  for (const auto& b : bins) {
    peak = std::max(peak, b.count);
    requests += b.count;
  }
  time_frame f{.end_ms = 1, .top = top, .height = height, .y_max = std::max<double>(static_cast<double>(peak), 1)};
  f.y_max = std::ceil(f.y_max / tick_step(f.y_max, 4)) * tick_step(f.y_max, 4);
  const std::string desc = "Latency of " + plural(requests, "logical request", "logical requests") +
                           " (first attempt to the end, retries and backoff included), on a logarithmic axis: p50 " +
                           millis(m.p50_latency_ms) + ", p99 " + millis(m.p99_latency_ms) + ", max " +
                           millis(m.max_latency_ms) + ".";
  std::string svg = open_svg(id, f.total_height(), "Latency of logical requests", desc);
  svg += value_axis(f, "requests");
  const double base = top + height;
  svg += "<line class=\"axis\" x1=\"" + c(left) + "\" y1=\"" + c(base) + "\" x2=\"" + c(left + plot_width) + "\" y2=\"" +
         c(base) + "\"/>\n";
  if (bins.empty()) {
    svg += no_data(f, "no request completed");
  } else {
    const double lo = bins.front().lower > 0 ? bins.front().lower : bins.front().upper / 2;
    const double hi = std::max(bins.back().upper, lo * 2);
    const double span = std::log(hi / lo);
    auto lx = [&](double v) { return left + plot_width * std::clamp(std::log(std::max(v, lo) / lo) / span, 0.0, 1.0); };
    for (const auto& b : bins) {
      if (b.count == 0) continue;
      const double x0 = lx(std::max(b.lower, lo));
      const double x1 = lx(b.upper);
      svg += "<rect class=\"lat\" x=\"" + c(x0) + "\" y=\"" + c(f.y(static_cast<double>(b.count))) + "\" width=\"" +
             c(std::max(x1 - x0 - 0.5, 0.5)) + "\" height=\"" + c(base - f.y(static_cast<double>(b.count))) +
             "\"><title>" + markup_text(millis(b.lower) + " to " + millis(b.upper) + ": " + plural(b.count, "request", "requests")) +
             "</title></rect>\n";
    }
    // Ticks at 1, 2 and 5 times powers of ten; only powers of ten when the axis spans many.
    const bool dense = span / std::log(10.0) < 3;
    for (double decade = std::pow(10.0, std::floor(std::log10(lo))); decade <= hi; decade *= 10) {
      for (const double k : {1.0, 2.0, 5.0}) {
        const double v = decade * k;
        if ((k != 1 && !dense) || v < lo || v > hi) continue;
        const double x = lx(v);
        svg += "<line class=\"tick\" x1=\"" + c(x) + "\" y1=\"" + c(base) + "\" x2=\"" + c(x) + "\" y2=\"" + c(base + 4) +
               "\"/><text class=\"tl\" x=\"" + c(x) + "\" y=\"" + c(base + 16) + "\">" + markup_text(millis(v)) +
               "</text>\n";
      }
    }
    auto percentile = [&](double v, std::string_view name, double label_y) {
      const double x = lx(v);
      const std::string label = std::string(name) + " " + millis(v);
      // Right of the line, or left of it where the label would run off the chart (about 6.5 px a character).
      const bool flip = x + 3 + 6.5 * static_cast<double>(label.size()) > chart_width;
      svg += "<line class=\"pct\" x1=\"" + c(x) + "\" y1=\"" + c(top - 4) + "\" x2=\"" + c(x) + "\" y2=\"" + c(base) +
             "\"/><text class=\"pl" + (flip ? " end" : "") + "\" x=\"" + c(flip ? x - 3 : x + 3) + "\" y=\"" +
             c(label_y) + "\">" + markup_text(label) + "</text>\n";
    };
    percentile(m.p50_latency_ms, "p50", 12);
    percentile(m.p99_latency_ms, "p99", 24);
  }
  svg += "<text class=\"label\" x=\"" + c(left + plot_width / 2) + "\" y=\"" + c(base + 34) +
         "\">latency of logical requests (log scale)</text>\n";
  return figure(std::move(svg), legend(key("lat", "logical requests in the latency range") + key("pct", "p50 and p99")), desc);
}

}  // namespace planproof::report
