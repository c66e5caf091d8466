// The HTML report in a real browser: headless Chromium opens the page from a file and must render
// its tables and charts with no console message (a blocked load or a page error), no XML parse
// error, and no network request. Host names resolve to nothing, so not even the browser's own
// background requests leave the machine; each launch is bounded by `timeout`.
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "report/html_report.hpp"
#include "report/sweep_report.hpp"
#include "report/sample_run.hpp"
#include "support/process.hpp"

namespace planproof::report {
namespace {

namespace fs = std::filesystem;

struct rendered {
  int exit_code = -1;
  std::string dom;                          // --dump-dom: the document as Chromium built it
  std::vector<std::string> page_messages;   // console lines: errors, blocked loads, CSP violations
  std::set<std::string> page_requests;      // URLs the page asked the network stack for
  std::string diagnostics;                  // what to print when a check fails
};

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Requests in Chromium's net log that a page started: the browser's own carry no origin.
std::set<std::string> page_requests(const std::string& net_log) {
  std::set<std::string> urls;
  boost::system::error_code ec;
  const auto log = boost::json::parse(net_log, ec);
  if (ec) {
    urls.insert("(net log unreadable: " + ec.message() + ")");
    return urls;
  }
  const auto& types = log.at("constants").at("logEventTypes").as_object();
  const auto start_job = types.at("URL_REQUEST_START_JOB").to_number<std::int64_t>();
  for (const auto& e : log.at("events").as_array()) {
    const auto& event = e.as_object();
    if (event.at("type").to_number<std::int64_t>() != start_job || !event.contains("params")) continue;
    const auto& params = event.at("params").as_object();
    if (!params.contains("url")) continue;
    const auto* initiator = params.if_contains("initiator");
    const auto* isolation = params.if_contains("network_isolation_key");
    const bool from_page = (initiator != nullptr && initiator->as_string() != "not an origin") ||
                           (isolation != nullptr && std::string_view(isolation->as_string()).find("file://") != std::string_view::npos);
    if (from_page) urls.insert(std::string(params.at("url").as_string()));
  }
  return urls;
}

rendered render(const fs::path& page, const test::temp_dir& dir) {
  rendered r;
  const std::string chromium = PLANPROOF_CHROMIUM;
  if (!fs::exists(chromium)) {
    r.diagnostics = "chromium not found (" + chromium + "): tools/bootstrap installs it";
    return r;
  }
  const auto dom = dir / "dom.html";
  const auto err = dir / "stderr.txt";
  const auto net = dir / "net-log.json";
  const auto result = test::run_shell(
      "( timeout -k 5 60 " + chromium +
      " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-sync"
      " --disable-background-networking --disable-component-update --host-resolver-rules='MAP * ~NOTFOUND'"
      " --user-data-dir='" + (dir / "profile").string() + "' --enable-logging=stderr --v=0"
      " --log-net-log='" + net.string() + "' --dump-dom 'file://" + page.string() + "' > '" + dom.string() +
      "' 2> '" + err.string() + "' )");
  r.exit_code = result.exit_code;
  r.dom = test::read_file(dom);
  const auto log = test::read_file(err);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    for (const auto* sign : {"CONSOLE", "Content Security Policy", "Uncaught", "net::ERR_", "Refused to"}) {
      if (line.find(sign) != std::string::npos) {
        r.page_messages.push_back(line);
        break;
      }
    }
  }
  r.page_requests = page_requests(test::read_file(net));
  r.diagnostics = "exit " + std::to_string(r.exit_code) + "\n--- stderr\n" + log.substr(0, 6000) + "\n--- dom\n" +
                  r.dom.substr(0, 3000);
  return r;
}

fs::path write(const test::temp_dir& dir, const std::string& name, const std::string& content) {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// Charts the sample run has: attempts, rate, breaker, tokens and latency for the two modes with
// traffic; the same but tokens for the one that sent nothing. Skipped and error modes have none.
constexpr std::size_t sample_charts = 5 + 5 + 4;

TEST(html_render, the_report_renders_in_chromium_without_errors_or_network) {
  test::temp_dir dir;
  const auto page = write(dir, "report.html", to_html(test::sample_run()));
  const auto r = render(page, dir);
  ASSERT_EQ(r.exit_code, 0) << r.diagnostics;
  EXPECT_NE(r.dom.find("<table class=\"verdicts\">"), std::string::npos) << r.diagnostics;
  EXPECT_EQ(occurrences(r.dom, "<table class=\"expectations\">"), 2u);
  EXPECT_EQ(occurrences(r.dom, "<section "), 5u);
  EXPECT_EQ(occurrences(r.dom, "<svg "), sample_charts);
  EXPECT_EQ(occurrences(r.dom, "<figure>"), sample_charts);
  // The hostile text stayed text: no element came of it.
  EXPECT_EQ(r.dom.find("<script"), std::string::npos);
  EXPECT_EQ(r.dom.find("<img"), std::string::npos);
  EXPECT_NE(r.dom.find("&lt;script&gt;alert"), std::string::npos);
  EXPECT_EQ(r.dom.find("parsererror"), std::string::npos);
  EXPECT_TRUE(r.page_messages.empty()) << r.page_messages.front();
  EXPECT_TRUE(r.page_requests.empty()) << *r.page_requests.begin();
}

// The sweep chart: a page of its own, rendered and parsed as XML, loading nothing, with a value
// that looks like markup kept as text.
TEST(html_render, the_sweep_chart_renders_and_parses_as_xml_without_network) {
  scenario::sweep_result sweep;
  sweep.plan_name = "contention-backoff";
  sweep.failure_mode = "contended_write";
  sweep.repeat = 2;
  sweep.axes = {{"retry.backoff.jitter", {"none", "full", "<b>equal</b>"}}, {"traffic.clients", {"10", "50"}}};
  const auto metrics = scenario::sweep_metrics().size();
  for (std::size_t j = 0; j < 3; ++j) {
    for (std::size_t c = 0; c < 2; ++c) {
      scenario::sweep_point p;
      p.values = {sweep.axes[0].values[j], sweep.axes[1].values[c]};
      for (std::size_t k = 0; k < metrics; ++k) {
        p.metrics.push_back({.mean = 10.0 * static_cast<double>(j + 1) * static_cast<double>(c + 1), .samples = 2});
      }
      sweep.points.push_back(p);
    }
  }
  test::temp_dir dir;
  const auto html = sweep_chart_html(sweep, 8);
  for (const char* name : {"sweep.html", "sweep.xhtml"}) {
    const auto r = render(write(dir, name, html), dir);
    ASSERT_EQ(r.exit_code, 0) << r.diagnostics;
    EXPECT_EQ(occurrences(r.dom, "<svg "), 1u) << name << r.diagnostics;
    EXPECT_EQ(occurrences(r.dom, "<polyline"), 2u) << name;  // one line per client count
    EXPECT_EQ(r.dom.find("parsererror"), std::string::npos) << name << r.diagnostics;
    EXPECT_EQ(r.dom.find("<b>"), std::string::npos) << name;
    EXPECT_TRUE(r.page_messages.empty()) << name << ": " << r.page_messages.front();
    EXPECT_TRUE(r.page_requests.empty()) << name << ": " << *r.page_requests.begin();
  }
}

// As XHTML the page goes through Chromium's XML parser, which stops at the first error it meets
// (an unescaped character, a tag left open, a duplicate attribute) and says so in the document.
TEST(html_render, the_report_parses_as_xml) {
  test::temp_dir dir;
  const auto page = write(dir, "report.xhtml", to_html(test::sample_run()));
  const auto r = render(page, dir);
  ASSERT_EQ(r.exit_code, 0) << r.diagnostics;
  EXPECT_EQ(r.dom.find("parsererror"), std::string::npos) << r.diagnostics;
  EXPECT_EQ(r.dom.find("This page contains the following errors"), std::string::npos);
  EXPECT_EQ(occurrences(r.dom, "<svg "), sample_charts) << r.diagnostics;
  EXPECT_NE(r.dom.find("</footer>"), std::string::npos);  // parsed to the end
  EXPECT_TRUE(r.page_messages.empty()) << r.page_messages.front();
}

// The checks above can fail. A page that loads an image (from a port Chromium refuses to connect
// to, so nothing is sent) is seen asking for it.
TEST(html_render, the_checks_see_a_page_request) {
  test::temp_dir dir;
  const auto page = write(dir, "loads.html",
                          "<!DOCTYPE html><html><head><title>t</title></head><body>"
                          "<img src=\"http://127.0.0.1:9/pixel.png\"></body></html>");
  const auto r = render(page, dir);
  ASSERT_EQ(r.exit_code, 0) << r.diagnostics;
  EXPECT_EQ(r.page_requests, (std::set<std::string>{"http://127.0.0.1:9/pixel.png"})) << r.diagnostics;
}

// ...and the same load under the report's policy is blocked and reported; a tag left open is a
// parse error in the document.
TEST(html_render, the_checks_see_a_blocked_load_and_a_parse_error) {
  test::temp_dir dir;
  const auto page = write(dir, "broken.xhtml",
                          "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta http-equiv=\"Content-Security-Policy\""
                          " content=\"default-src 'none'\"/><title>t</title></head><body>"
                          "<img src=\"http://127.0.0.1:9/pixel.png\"/><p>open</body></html>");
  const auto r = render(page, dir);
  ASSERT_EQ(r.exit_code, 0) << r.diagnostics;
  EXPECT_NE(r.dom.find("parsererror"), std::string::npos) << r.diagnostics;
  ASSERT_FALSE(r.page_messages.empty()) << r.diagnostics;
  EXPECT_NE(r.page_messages.front().find("Content Security Policy"), std::string::npos) << r.page_messages.front();
  EXPECT_TRUE(r.page_requests.empty()) << *r.page_requests.begin();
}

}  // namespace
}  // namespace planproof::report
