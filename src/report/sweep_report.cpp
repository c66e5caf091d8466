#include "report/sweep_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "report/svg_chart.hpp"

namespace planproof::report {
namespace {

using scenario::sweep_metrics;

std::string fixed(double v, int digits) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int digits_for(std::string_view metric) { return metric == "success_rate" ? 4 : (metric == "amplification" ? 3 : 1); }

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::vector<std::size_t> sweep_order(const scenario::sweep_result& r, std::size_t metric) {
  std::vector<std::size_t> order(r.points.size());
  std::iota(order.begin(), order.end(), 0);
  const bool lower = sweep_metrics()[metric].lower_is_better;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const double x = r.points[a].metrics[metric].mean, y = r.points[b].metrics[metric].mean;
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return lower ? x < y : x > y;
  });
  return order;
}

void print_sweep_table(std::ostream& out, const scenario::sweep_result& r, std::size_t sort_metric) {
  const auto& metrics = sweep_metrics();
  std::vector<std::string> header;
  for (const auto& a : r.axes) header.push_back(a.key);
  for (const auto& m : metrics) header.emplace_back(m.name);
  header.emplace_back("held");
  std::vector<std::vector<std::string>> rows;
  for (const auto i : sweep_order(r, sort_metric)) {
    const auto& p = r.points[i];
    std::vector<std::string> row = p.values;
    for (std::size_t k = 0; k < metrics.size(); ++k) {
      const auto& s = p.metrics[k];
      auto cell = fixed(s.mean, digits_for(metrics[k].name));
      if (r.repeat > 1 && s.samples > 1) cell += " ±" + fixed(s.sd, digits_for(metrics[k].name));
      row.push_back(cell);
    }
    row.push_back(std::to_string(p.held) + "/" + std::to_string(r.repeat));
    rows.push_back(std::move(row));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    out << ' ';
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool text = c < r.axes.size();
      const auto pad = std::string(width[c] - cells[c].size(), ' ');
      out << ' ' << (text ? cells[c] + pad : pad + cells[c]);
    }
    out << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  out << "  sorted by " << metrics[sort_metric].name << " (" << metrics[sort_metric].description << "), "
      << (metrics[sort_metric].lower_is_better ? "lowest" : "highest") << " first";
  if (r.repeat > 1) out << "; mean ± standard deviation over " << r.repeat << " seeds from " << r.seed;
  out << '\n';
}

std::string sweep_csv(const scenario::sweep_result& r) {
  const auto& metrics = sweep_metrics();
  std::string out;
  for (const auto& a : r.axes) out += csv_field(a.key) + ",";
  for (const auto& m : metrics) {
    out += std::string(m.name) + "_mean," + std::string(m.name) + "_sd," + std::string(m.name) + "_min," +
           std::string(m.name) + "_max,";
  }
  out += "held,repeats\n";
  for (const auto& p : r.points) {
    for (const auto& v : p.values) out += csv_field(v) + ",";
    for (const auto& s : p.metrics) {
      const bool none = s.samples == 0;
      out += (none ? "" : fixed(s.mean, 6)) + "," + (none ? "" : fixed(s.sd, 6)) + "," + (none ? "" : fixed(s.min, 6)) +
             "," + (none ? "" : fixed(s.max, 6)) + ",";
    }
    out += std::to_string(p.held) + "," + std::to_string(r.repeat) + "\n";
  }
  return out;
}

std::string sweep_json(const scenario::sweep_result& r) {
  namespace json = boost::json;
  json::object root;
  root["plan"] = r.plan_name;
  root["failure_mode"] = r.failure_mode;
  root["phase"] = r.phase ? json::value(*r.phase) : json::value(nullptr);
  root["mode"] = "sim";
  root["repeat"] = r.repeat;
  root["seed"] = r.seed;
  json::array axes;
  for (const auto& a : r.axes) {
    json::array values;
    for (const auto& v : a.values) values.emplace_back(v);
    axes.push_back(json::object{{"key", a.key}, {"values", std::move(values)}});
  }
  root["axes"] = std::move(axes);
  json::object described;
  for (const auto& m : sweep_metrics()) described[m.name] = m.description;
  root["metrics"] = std::move(described);
  json::array points;
  for (const auto& p : r.points) {
    json::object values;
    for (std::size_t a = 0; a < r.axes.size(); ++a) values[r.axes[a].key] = p.values[a];
    json::object measured;
    for (std::size_t k = 0; k < sweep_metrics().size(); ++k) {
      const auto& s = p.metrics[k];
      if (s.samples == 0) {
        measured[sweep_metrics()[k].name] = nullptr;
        continue;
      }
      measured[sweep_metrics()[k].name] =
          json::object{{"mean", s.mean}, {"sd", s.sd}, {"min", s.min}, {"max", s.max}, {"samples", s.samples}};
    }
    points.push_back(json::object{{"values", std::move(values)}, {"metrics", std::move(measured)}, {"held", p.held}});
  }
  root["points"] = std::move(points);
  return json::serialize(root) + "\n";
}

std::string sweep_chart_html(const scenario::sweep_result& r, std::size_t metric) {
  // x: the first axis's values, in the order given (numbers or names alike); one line per
  // combination of the other axes' values.
  const auto& xs = r.axes.at(0).values;
  std::map<std::string, std::vector<double>> lines;  // label -> y per x (NaN where unmeasured)
  std::vector<std::string> labels;
  for (const auto& p : r.points) {
    std::string label;
    for (std::size_t a = 1; a < r.axes.size(); ++a) label += (label.empty() ? "" : ", ") + r.axes[a].key + "=" + p.values[a];
    if (label.empty()) label = sweep_metrics()[metric].name;
    auto [it, fresh] = lines.try_emplace(label, std::vector<double>(xs.size(), std::nan("")));
    if (fresh) labels.push_back(label);
    const auto x = static_cast<std::size_t>(std::find(xs.begin(), xs.end(), p.values[0]) - xs.begin());
    it->second[x] = p.metrics[metric].mean;
  }
  double top = 0;
  for (const auto& [_, ys] : lines) {
    for (const double y : ys) {
      if (!std::isnan(y)) top = std::max(top, y);
    }
  }
  if (top <= 0) top = 1;
  constexpr double w = 720, h = 360, left = 70, right = 20, upper = 20, lower = 50;
  const double pw = w - left - right, ph = h - upper - lower;
  auto px = [&](std::size_t i) { return left + (xs.size() == 1 ? pw / 2 : pw * static_cast<double>(i) / static_cast<double>(xs.size() - 1)); };
  auto py = [&](double y) { return upper + ph * (1 - y / top); };
  static constexpr const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  const auto& m = sweep_metrics()[metric];
  std::string svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 720 360\" role=\"img\">";
  svg += "<title>" + markup_text(std::string(m.name) + " by " + r.axes[0].key) + "</title>";
  svg += "<desc>" + markup_text(std::string(m.description)) + "</desc>";
  svg += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(upper + ph, 1) + "\" x2=\"" + fixed(left + pw, 1) + "\" y2=\"" +
         fixed(upper + ph, 1) + "\" stroke=\"#333\"/>";
  svg += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(upper, 1) + "\" x2=\"" + fixed(left, 1) + "\" y2=\"" +
         fixed(upper + ph, 1) + "\" stroke=\"#333\"/>";
  for (int t = 0; t <= 4; ++t) {
    const double y = top * t / 4;
    svg += "<text x=\"" + fixed(left - 6, 1) + "\" y=\"" + fixed(py(y) + 4, 1) +
           "\" text-anchor=\"end\" font-size=\"11\">" + fixed(y, digits_for(m.name)) + "</text>";
  }
  for (std::size_t i = 0; i < xs.size(); ++i) {
    svg += "<text x=\"" + fixed(px(i), 1) + "\" y=\"" + fixed(upper + ph + 18, 1) +
           "\" text-anchor=\"middle\" font-size=\"11\">" + markup_text(xs[i]) + "</text>";
  }
  svg += "<text x=\"" + fixed(left + pw / 2, 1) + "\" y=\"" + fixed(h - 8, 1) + "\" text-anchor=\"middle\" font-size=\"12\">" +
         markup_text(r.axes[0].key) + "</text>";
  std::string legend;
  for (std::size_t l = 0; l < labels.size(); ++l) {
    const auto* color = colors[l % std::size(colors)];
    const auto& ys = lines[labels[l]];
    std::string points;
    for (std::size_t i = 0; i < ys.size(); ++i) {
      if (std::isnan(ys[i])) continue;
      points += fixed(px(i), 1) + "," + fixed(py(ys[i]), 1) + " ";
      svg += "<circle cx=\"" + fixed(px(i), 1) + "\" cy=\"" + fixed(py(ys[i]), 1) + "\" r=\"3\" fill=\"" + color + "\"/>";
    }
    svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(color) + "\" points=\"" + points + "\"/>";
    legend += "<li><span style=\"color:" + std::string(color) + "\">&#9632;</span> " + markup_text(labels[l]) + "</li>";
  }
  svg += "</svg>";
  std::string title = "planproof sweep: " + r.plan_name + " / " + r.failure_mode;
  // XHTML-compatible markup, and a Content-Security-Policy that lets the page load nothing.
  return "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>"
         "<title>" + markup_text(title) +
         "</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}svg.chart{width:100%;"
         "max-width:720px;height:auto}ul{list-style:none;padding:0}</style></head><body><h1>" +
         markup_text(title) + "</h1><figure>" + svg + "<figcaption>" + markup_text(std::string(m.name)) + ": " +
         markup_text(std::string(m.description)) + (r.repeat > 1 ? ", mean of " + std::to_string(r.repeat) + " seeds" : "") +
         "</figcaption><ul>" + legend + "</ul></figure></body></html>\n";
}

}  // namespace planproof::report
