#include "report/html_report.hpp"

#include <openssl/evp.h>

#include <array>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "core/logging.hpp"
#include "report/sample_run.hpp"
#include "report/svg_chart.hpp"
#include "support/process.hpp"

namespace planproof::report {
namespace {

using namespace std::chrono_literals;

std::size_t occurrences(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The text between the first `from` and the next `to` after it.
std::string between(const std::string& text, std::string_view from, std::string_view to) {
  const auto a = text.find(from);
  if (a == std::string::npos) return {};
  const auto b = text.find(to, a + from.size());
  return text.substr(a + from.size(), b == std::string::npos ? std::string::npos : b - a - from.size());
}

TEST(html_report, hostile_text_is_escaped_everywhere) {
  const auto html = to_html(test::sample_run());
  // No element, attribute or entity comes from the run's text: only the escaped forms appear.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("onerror=alert(1)>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; ]]&gt; &#39;"),
            std::string::npos);
  // In the title, the header, the verdict table, the section heading, notes, reasons and evidence.
  EXPECT_GE(occurrences(html, "&lt;script&gt;"), 8u);
  // Bytes that are not UTF-8 and control characters become U+FFFD.
  EXPECT_EQ(html.find('\x01'), std::string::npos);
  EXPECT_EQ(html.find('\xff'), std::string::npos);
  EXPECT_NE(html.find("&#39;\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
}

TEST(html_report, markup_text_keeps_valid_utf8_and_replaces_the_rest) {
  EXPECT_EQ(markup_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(markup_text("a\tb\nc"), "a\tb\nc");
  EXPECT_EQ(markup_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // overlong '/'
  EXPECT_EQ(markup_text("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(markup_text("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");          // cut short
  EXPECT_EQ(markup_text("\xEF\xBF\xBF"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // U+FFFF, not XML
  EXPECT_EQ(markup_text(std::string("a\0b", 3)), "a\xEF\xBF\xBD" "b");
}

TEST(html_report, secrets_are_redacted) {
  core::redactor::instance().add("sk_html_report_secret");
  auto run = test::sample_run();
  run.notes.push_back("the key was sk_html_report_secret");
  run.failure_modes[1].expectations[0].evidence.push_back({3, 100, "sent sk_html_report_secret"});
  run.failure_modes[2].reason = "needs sk_html_report_secret";
  const auto html = to_html(run);
  EXPECT_EQ(html.find("sk_html_report_secret"), std::string::npos);
  EXPECT_GE(occurrences(html, "[redacted]"), 3u);
}

TEST(html_report, header_verdict_table_and_a_section_per_failure_mode) {
  const auto html = to_html(test::sample_run());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">"));
  EXPECT_NE(html.find("5 failure modes: 2 held, 1 broken, 1 skipped, 1 error."), std::string::npos);
  for (const auto* fact : {"<dt>phase</dt><dd>phase1</dd>", "<dt>seed</dt><dd>7</dd>", "<dt>mode</dt><dd>live</dd>",
                           "<dt>time scale</dt><dd>0.1: every plan duration"}) {
    EXPECT_NE(html.find(fact), std::string::npos) << fact;
  }
  EXPECT_NE(html.find("<li>auth: note with &lt;script&gt;"), std::string::npos);

  const auto table = between(html, "<table class=\"verdicts\">", "</table>");
  EXPECT_NE(table.find("<th>failure mode</th><th>verdict</th><th>requests</th><th>succeeded</th><th>dead-lettered</th>"
                       "<th>lost</th><th>p99</th><th>failed expectations or reason</th>"),
            std::string::npos);
  EXPECT_EQ(occurrences(table, "<tr"), 6u);  // the head and five modes
  EXPECT_NE(table.find("<a href=\"#fm-1\">rate_limited</a></td><td><span class=\"badge held\">held</span></td>"
                       "<td class=\"n\">1200</td><td class=\"n\">1000</td><td class=\"n\">200</td><td class=\"n\">0</td>"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("<span class=\"badge broken\">broken</span>"), std::string::npos);
  EXPECT_NE(table.find("<td>success_rate, recovers_within</td>"), std::string::npos) << table;
  EXPECT_NE(table.find("<td>not yet supported by this version: &lt;script&gt;"), std::string::npos);
  EXPECT_NE(table.find("<td>could not start the mock upstream on 127.0.0.1: address in use</td>"), std::string::npos);

  EXPECT_EQ(occurrences(html, "<section id=\"fm-"), 5u);
  // The broken mode: each expectation with what was expected and observed, its note and evidence.
  const auto broken = between(html, "<section id=\"fm-2\"", "</section>");
  EXPECT_NE(broken.find("<tr class=\"failed\"><td>success_rate</td><td>&gt;= 0.99</td><td>0.8333</td>"
                        "<td><span class=\"badge broken\">no</span></td><td>note &lt;script&gt;"),
            std::string::npos)
      << broken;
  EXPECT_NE(broken.find("<li>request 12 at 10.5s: dead_lettered after 2 attempts &lt;script&gt;"), std::string::npos);
  EXPECT_NE(broken.find("<li>upstream saw it</li>"), std::string::npos);
  EXPECT_NE(broken.find("<tr><td>max_attempts</td><td>&lt;= 2</td><td>2</td><td><span class=\"badge held\">yes</span>"),
            std::string::npos);
  EXPECT_NE(broken.find("<td>recovers_within</td><td>&lt;= 5s</td><td>nothing observed</td>"), std::string::npos);
  const auto held = between(html, "<section id=\"fm-1\"", "</section>");
  EXPECT_NE(held.find("implicit: every request must end in a recorded state"), std::string::npos);

  // Skipped and error modes say why, and have no charts.
  const auto skipped = between(html, "<section id=\"fm-3\"", "</section>");
  EXPECT_NE(skipped.find("<p class=\"reason\">Skipped: not yet supported by this version: &lt;script&gt;"), std::string::npos);
  EXPECT_EQ(skipped.find("<svg"), std::string::npos);
  const auto error = between(html, "<section id=\"fm-4\"", "</section>");
  EXPECT_NE(error.find("<p class=\"reason\">Error: could not start the mock upstream"), std::string::npos);
  EXPECT_EQ(error.find("<svg"), std::string::npos);
}

TEST(html_report, charts_of_a_mode_that_ran) {
  const auto html = to_html(test::sample_run());
  const auto held = between(html, "<section id=\"fm-1\"", "</section>");
  // Attempts, rate, breaker (the plan has one), tokens (tokens were issued), latency.
  EXPECT_EQ(occurrences(held, "<svg "), 5u);
  EXPECT_EQ(occurrences(held, "role=\"img\""), 5u);
  for (const auto* title : {"Attempts over plan time", "Upstream request rate over plan time",
                            "Circuit breaker state over plan time", "Token renewals over plan time",
                            "Latency of logical requests"}) {
    EXPECT_NE(held.find(std::string(">") + title + "</title>"), std::string::npos) << title;
  }
  EXPECT_NE(held.find(">plan time (s)</text>"), std::string::npos);
  EXPECT_NE(held.find(">attempts per 1s</text>"), std::string::npos);
  EXPECT_NE(held.find(">attempts per second</text>"), std::string::npos);
  // The fault window is shaded from 10 s to 20 s, and the buckets with faults are marked.
  EXPECT_NE(held.find("<title>fault window: status 503, 10 s to 20 s</title>"), std::string::npos);
  EXPECT_EQ(occurrences(held, "<path class=\"fault\""), 10u);
  EXPECT_NE(held.find("11 s to 12 s: 20 retryable failures, 20 error classes; 20 faults injected"),
            std::string::npos);
  // The breaker opened at 12 s, went half-open at 17 s and closed at 18 s (and again 40 s later).
  EXPECT_NE(held.find("<title>open 12 s to 17 s</title>"), std::string::npos);
  EXPECT_NE(held.find("<title>half-open 17 s to 18 s</title>"), std::string::npos);
  EXPECT_NE(held.find("6 transitions, opened 2 times; ended closed."), std::string::npos);
  EXPECT_NE(held.find("token renewed at 30 s (scheduled)"), std::string::npos);
  EXPECT_NE(held.find("p99 "), std::string::npos);
  EXPECT_NE(held.find("<ul class=\"legend\">"), std::string::npos);
}

TEST(html_report, a_mode_that_sent_nothing_draws_empty_charts) {
  const auto html = to_html(test::sample_run());
  const auto empty = between(html, "<section id=\"fm-5\"", "</section>");
  EXPECT_NE(empty.find("no attempt was made"), std::string::npos);
  EXPECT_NE(empty.find("no request completed"), std::string::npos);
  EXPECT_EQ(empty.find("<rect class=\"s-"), std::string::npos);
  EXPECT_FALSE(std::regex_search(empty, std::regex("[\">]-?(nan|inf)[\"<]"))) << empty;
}

TEST(html_report, loads_nothing_and_allows_only_its_own_style_sheet) {
  const auto html = to_html(test::sample_run());
  // The only URLs are the XHTML and SVG namespaces.
  const std::regex url("(https?|ftp|wss?)://[^\"<> ]*|src=\"|href=\"[^#]|url\\(|@import");
  std::set<std::string> found;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator(); ++it) found.insert(it->str());
  EXPECT_EQ(found, (std::set<std::string>{"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"}));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find(" style=\""), std::string::npos);  // no inline style attribute (the policy forbids them)

  const auto csp = between(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"", "\"");
  EXPECT_TRUE(csp.starts_with("default-src 'none'; style-src 'sha256-")) << csp;
  const auto style = between(html, "<style>", "</style>");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  ASSERT_EQ(EVP_Digest(style.data(), style.size(), digest.data(), &size, EVP_sha256(), nullptr), 1);
  const auto hash = core::base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
  EXPECT_NE(csp.find("'sha256-" + hash + "'"), std::string::npos) << csp;
  EXPECT_EQ(occurrences(html, "<style>"), 1u);
}

TEST(html_report, a_very_long_run_stays_small) {
  auto run = test::sample_run();
  const auto minute = to_html(run).size();
  // Ten hours at 20 requests/s: 720 000 requests, a breaker that flapped 900 times, 1200 renewals.
  run.failure_modes[0] = test::ran_mode("ten_hours", 10h, scenario::verdict::held);
  run.failure_modes[1] = test::ran_mode("ten_hours_too", 10h, scenario::verdict::broken);
  const auto m = run.failure_modes[0].metrics;
  ASSERT_EQ(m.submitted, 720'000u);
  EXPECT_LE(m.over_time.size(), scenario::timeline::max_buckets);
  EXPECT_EQ(m.breaker_marks.size(), scenario::max_marks);
  EXPECT_GT(m.breaker_transitions, scenario::max_marks);
  const auto html = to_html(run);
  EXPECT_LT(html.size(), 400'000u) << "a minute's page: " << minute;
  EXPECT_LT(html.size(), minute * 3) << "a minute's page: " << minute;
  const auto section = between(html, "<section id=\"fm-1\"", "</section>");
  EXPECT_LE(occurrences(section, "<rect class=\"s-"), scenario::timeline::max_buckets * 5);
  EXPECT_NE(section.find("not recorded"), std::string::npos);  // transitions past the marks kept
  EXPECT_NE(section.find("the first 200 are marked"), std::string::npos);
}

TEST(html_report, write_html_replaces_the_file_and_reports_failure) {
  test::temp_dir dir;
  const auto run = test::sample_run();
  {
    std::ofstream old(dir / "report.html");
    old << "old";
  }
  EXPECT_FALSE(write_html(run, dir / "report.html"));
  EXPECT_EQ(test::read_file(dir / "report.html"), to_html(run));
  EXPECT_TRUE(write_html(run, "/proc/no-such-dir/report.html"));
}

}  // namespace
}  // namespace planproof::report
