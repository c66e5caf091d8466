// End to end: the planproof executable on the example plan, its weakened twins and bad input.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/process.hpp"
#include "support/paths.hpp"

namespace planproof {
namespace {

using test::run_shell;

const std::string example = ::planproof::test::source_dir() + "/scenarios/payments.plan.yaml";

// Runs planproof inside `dir` so dead letters and reports land there.
test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return run_shell("cd '" + dir.path().string() + "' && env -u ACMEPAY_API_KEY " + ::planproof::test::planproof_executable() + " " + args);
}

boost::json::object failure_mode(const boost::json::value& report, std::string_view id) {
  for (const auto& f : report.at("failure_modes").as_array()) {
    if (f.at("id").as_string() == id) return f.as_object();
  }
  ADD_FAILURE() << "no failure mode " << id;
  return {};
}

TEST(cli_run, example_plan_holds_and_writes_the_report) {
  test::temp_dir dir;
  // Four of the six failure modes (example_plans_test runs the whole plan).
  const auto r = planproof(dir, "run " + example + " --time-scale 0.05 --seed 7 --json report.json"
                                " --only rate_limited --only upstream_503_burst --only hung_requests --only truncated_body");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 failure modes: 4 held, 0 broken"), std::string::npos) << r.output;

  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  EXPECT_EQ(report.at("plan").as_string(), "acme-payments");
  EXPECT_EQ(report.at("mode").as_string(), "live");
  EXPECT_EQ(report.at("seed").as_int64(), 7);
  EXPECT_EQ(report.at("time_scale").as_double(), std::stod(test::stretched_time_scale(0.05)));
  const auto& summary = report.at("summary").as_object();
  EXPECT_EQ(summary.at("failure_modes").as_int64(), 4);
  EXPECT_EQ(summary.at("held").as_int64(), 4);
  EXPECT_EQ(summary.at("lost").as_int64(), 0);
  EXPECT_EQ(summary.at("requests").as_int64(), 4 * 1200);
  EXPECT_GT(summary.at("upstream_attempts").as_int64(), summary.at("requests").as_int64());

  // The faults really happened and the client really retried through them.
  const auto rate_limited = failure_mode(report, "rate_limited");
  const auto& metrics = rate_limited.at("metrics").as_object();
  EXPECT_GT(metrics.at("faults_injected").at("status").as_int64(), 100);
  EXPECT_GT(metrics.at("attempt_results").at("429").as_int64(), 100);
  bool saw_retry_after = false;
  for (const auto& e : rate_limited.at("expectations").as_array()) {
    if (e.at("name").as_string() == "honors_retry_after") {
      saw_retry_after = true;
      EXPECT_TRUE(e.at("held").as_bool());
      EXPECT_TRUE(e.at("observed").as_bool());
    }
  }
  EXPECT_TRUE(saw_retry_after);
  const auto hung = failure_mode(report, "hung_requests");
  EXPECT_GT(hung.at("metrics").at("attempt_results").at("read_timeout").as_int64(), 50);
  const auto truncated = failure_mode(report, "truncated_body");
  EXPECT_GT(truncated.at("metrics").at("attempt_results").at("schema_error").as_int64(), 50);

  // The API key was generated for the run and appears nowhere in what planproof wrote.
  EXPECT_NE(r.output.find("ACMEPAY_API_KEY is not set"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("pp_test_"), std::string::npos);
  EXPECT_EQ(test::read_file(dir / "report.json").find("pp_test_"), std::string::npos);
}

TEST(cli_run, one_attempt_is_reported_broken) {
  test::temp_dir dir;
  // At 0.1: the 503 window is 1 s of real time, so a stall of a loaded machine cannot skip it.
  const auto r = planproof(dir, "run " + example +
                                    " --time-scale 0.1 --only upstream_503_burst --set retry.max_attempts=1"
                                    " --json report.json --md summary.md");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("BROKEN"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("success_rate: expected >= 0.99"), std::string::npos) << r.output;

  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto mode = failure_mode(report, "upstream_503_burst");
  EXPECT_EQ(mode.at("verdict").as_string(), "broken");
  // Every failed request is in the dead-letter file, with its reason, and none is lost.
  const auto dead = mode.at("metrics").at("dead_lettered").as_int64();
  EXPECT_GT(dead, 20);
  EXPECT_EQ(mode.at("metrics").at("lost").as_int64(), 0);
  const auto letters = test::read_file(dir / "dead-letter/acme-payments.jsonl");
  EXPECT_EQ(std::count(letters.begin(), letters.end(), '\n'), dead);
  const auto first = boost::json::parse(letters.substr(0, letters.find('\n')));
  EXPECT_EQ(first.at("failure_mode").as_string(), "upstream_503_burst");
  EXPECT_EQ(first.at("reason").as_string(), "attempts_exhausted") << letters.substr(0, 400);

  // --md: the verdict table, and the failed expectation with its evidence.
  const auto md = test::read_file(dir / "summary.md");
  EXPECT_TRUE(md.starts_with("## planproof: acme-payments\n\n1 failure mode: 0 held, 1 broken, 0 skipped, 0 error."))
      << md;
  EXPECT_NE(md.find("| failure mode | verdict | requests | succeeded | dead-lettered | lost | p99 | failed expectations |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| upstream\\_503\\_burst | **BROKEN** | 1200 |"), std::string::npos) << md;
  EXPECT_NE(md.find("### upstream\\_503\\_burst: broken"), std::string::npos) << md;
  EXPECT_NE(md.find("- **success\\_rate**: expected >= 0.99, observed 0.9"), std::string::npos) << md;
  EXPECT_NE(md.find("  - request "), std::string::npos) << md;  // evidence: which requests, when
  EXPECT_EQ(md.find("pp_test_"), std::string::npos) << md;

  // Reports and dead letters may hold payloads: only their owner can read them.
  for (const char* file : {"report.json", "summary.md", "dead-letter/acme-payments.jsonl"}) {
    const auto perms = std::filesystem::status(dir / file).permissions();
    EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
              std::filesystem::perms::none)
        << file;
  }
}

// --md to a path that cannot be written: refused before the run starts (run_reports_test has more).
TEST(cli_run, an_unwritable_markdown_report_is_refused_before_the_run) {
  test::temp_dir dir;
  const auto unwritable = planproof(dir, "run " + example + " --time-scale 0.02 --only upstream_503_burst"
                                         " --md /proc/no-such-dir/summary.md");
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.output;
  EXPECT_NE(unwritable.output.find("--md: error: cannot write the Markdown report to /proc/no-such-dir/summary.md: "
                                   "the directory /proc/no-such-dir does not exist"),
            std::string::npos)
      << unwritable.output;
}

// --html: one page with the verdict table, the failure mode's expectations and its charts; the JSON
// report carries the same series. Phase 2 runs with a circuit breaker, so its state is charted too.
TEST(cli_run, html_report_and_the_timeline_in_the_json_report) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run " + example + " --phase phase2 --time-scale 0.1 --only upstream_503_burst"
                                " --html report.html --json report.json");
  ASSERT_LE(r.exit_code, 1) << r.output;

  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto mode = failure_mode(report, "upstream_503_burst");
  const auto& metrics = mode.at("metrics").as_object();
  ASSERT_EQ(metrics.at("lost").as_int64(), 0) << metrics;
  const auto& timeline = mode.at("timeline").as_object();
  EXPECT_EQ(timeline.at("bucket_ms").as_double(), 1000);  // 60 s of traffic: 1 s buckets
  const auto buckets = timeline.at("buckets").as_int64();
  EXPECT_GE(buckets, 60);
  EXPECT_LE(buckets, 120);
  auto sum = [&](std::string_view name) {
    const auto& values = timeline.at("series").at(name).as_array();
    EXPECT_EQ(static_cast<std::int64_t>(values.size()), buckets) << name;
    std::int64_t n = 0;
    for (const auto& v : values) n += v.to_number<std::int64_t>();
    return n;
  };
  // Every attempt the client sent is in the timeline, under what came of it.
  const auto attempts = metrics.at("client_attempts").as_int64();
  EXPECT_EQ(sum("attempts"), attempts);
  EXPECT_EQ(sum("succeeded") + sum("retryable") + sum("fatal") + sum("errors"), attempts);
  EXPECT_EQ(sum("retryable"), metrics.at("attempt_results").at("503").as_int64());
  EXPECT_EQ(sum("succeeded"), metrics.at("attempt_results").at("201").as_int64());
  // The faults the mock injected, all inside the plan's window of 20 s to 30 s.
  EXPECT_EQ(sum("faults"), metrics.at("faults_injected").at("status").as_int64());
  EXPECT_GT(sum("faults"), 0);
  const auto& faults = timeline.at("series").at("faults").as_array();
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (faults[i].to_number<std::int64_t>() != 0) {
      EXPECT_TRUE(i >= 20 && i < 30) << "faults in bucket " << i;
    }
  }
  EXPECT_EQ(timeline.at("fault_windows"),
            boost::json::parse(R"([{"fault": "status 503", "from_ms": 20000.0, "to_ms": 30000.0}])"));
  EXPECT_TRUE(timeline.at("breaker").at("transitions").is_number());
  std::int64_t histogram = 0;
  for (const auto& bin : mode.at("latency_histogram").as_array()) histogram += bin.at("count").as_int64();
  EXPECT_EQ(histogram, metrics.at("requests").as_int64());

  const auto html = test::read_file(dir / "report.html");
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>")) << html.substr(0, 200);
  EXPECT_NE(html.find("<table class=\"verdicts\">"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"#fm-1\">upstream_503_burst</a>"), std::string::npos);
  EXPECT_NE(html.find("<dt>phase</dt><dd>phase2</dd>"), std::string::npos);
  EXPECT_NE(html.find("<td>success_rate</td><td>&gt;= 0.99</td>"), std::string::npos);
  // Attempts, request rate, breaker state and latency: no token chart for an API key.
  std::size_t charts = 0;
  for (auto at = html.find("<svg "); at != std::string::npos; at = html.find("<svg ", at + 1)) ++charts;
  EXPECT_EQ(charts, 4u);
  EXPECT_NE(html.find("<title>fault window: status 503, 20 s to 30 s</title>"), std::string::npos);
  EXPECT_NE(html.find(">Circuit breaker state over plan time</title>"), std::string::npos);
  EXPECT_EQ(html.find("pp_test_"), std::string::npos);  // the generated API key
}

TEST(cli_run, an_unwritable_html_report_is_refused_before_the_run) {
  test::temp_dir dir;
  const auto unwritable = planproof(dir, "run " + example + " --time-scale 0.02 --only upstream_503_burst"
                                         " --html /proc/no-such-dir/report.html");
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.output;
  EXPECT_NE(unwritable.output.find("--html: error: cannot write the HTML report to /proc/no-such-dir/report.html"),
            std::string::npos)
      << unwritable.output;
}

TEST(cli_run, ignoring_retry_after_is_reported_broken) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run " + example +
                                    " --time-scale 0.05 --only rate_limited --set retry.retry_after.honor=false");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL honors_retry_after: expected true, observed false"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("before the Retry-After of 2s had passed"), std::string::npos) << r.output;
}

// Hung requests are detected as timeouts, cost few extra attempts and stay under the latency
// bound; the same run judged against a 503, or against no extra attempt at all, is broken.
TEST(cli_run, detection_amplification_latency_and_peak_rate_are_judged) {
  test::temp_dir dir;
  const std::string set = " --set failure_modes.hung_requests.expect.";
  const auto held = planproof(dir, "run " + example + " --only hung_requests --time-scale 0.05" + set + "detected_as=timeout" +
                                       set + "upstream_amplification='\"<= 1.5\"'" + set + "p99_latency='\"<= 1m\"'" +
                                       set + "peak_upstream_rate='\"<= 100/s\"' --verbose");
  ASSERT_EQ(held.exit_code, 0) << held.output;
  EXPECT_NE(held.output.find("ok   detected_as: expected timeout, observed timeout"), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("ok   upstream_amplification: expected <= 1.5"), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("ok   peak_upstream_rate"), std::string::npos) << held.output;
  EXPECT_NE(held.output.find("ok   p99_latency"), std::string::npos) << held.output;

  const auto broken = planproof(dir, "run " + example + " --only hung_requests --time-scale 0.05" + set + "detected_as=503" +
                                         set + "upstream_amplification=1");
  ASSERT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("FAIL detected_as: expected 503, observed read_timeout"), std::string::npos) << broken.output;
  EXPECT_NE(broken.output.find("FAIL upstream_amplification: expected 1, observed 1.0"), std::string::npos) << broken.output;
}

TEST(cli_run, a_feature_this_version_cannot_run_is_skipped_never_held) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run " + example + " --only rate_limited --set failure_modes.rate_limited.expect.processed_exactly_once=true"
                                    " --json report.json");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("SKIPPED  rate_limited"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not yet supported by this version: expectation 'processed_exactly_once'"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0 held, 0 broken, 1 skipped (not verified)"), std::string::npos) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  EXPECT_EQ(failure_mode(report, "rate_limited").at("verdict").as_string(), "skipped");
}

// A paginated traffic endpoint: the requests read the mock's collection page after page (three
// pages, so two requests in three carry a cursor), and every 4th continuation meets an expired
// cursor: a 400 the plan calls fatal, so each of those requests is dead-lettered, not retried.
TEST(cli_run, a_pagination_fault_runs_and_an_invalid_cursor_fails_the_request) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "pages.plan.yaml");
    plan << R"(planproof: 1
integration: {name: pages}
auth: {method: none}
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: [{id: itm_0000000001}], has_more: false, next: null}}
    statuses: {success: [200], fatal: [400]}
    pagination: {style: cursor, param: after, max_page_size: 5, has_more: has_more, next_cursor: next, items: data,
                 collection: 15}
retry: {max_attempts: 2, backoff: {base: 10ms, max: 20ms}, dead_letter: {path: dead.jsonl}}
# One worker walks pages 1, 2, 3, 1, ... in turn, so which requests carry a cursor does not depend
# on which of several workers is free first.
traffic: {endpoint: list, rate: 20/s, concurrency: 1, duration: 3s}
failure_modes:
  - id: expired_cursor
    inject: {fault: pagination, breakage: invalid_cursor, error_code: CURSOR_EXPIRED, every: 4}
    expect: {dead_lettered: 10, max_attempts: 1}
)";
  }
  const auto r = planproof(dir, "run pages.plan.yaml --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto mode = failure_mode(report, "expired_cursor");
  EXPECT_EQ(mode.at("verdict").as_string(), "held");
  const auto& metrics = mode.at("metrics").as_object();
  EXPECT_EQ(metrics.at("faults_injected").as_object().at("pagination").as_int64(), 10);
  EXPECT_EQ(metrics.at("succeeded").as_int64(), 50);
  const auto dead = test::read_file(dir / "dead.jsonl");
  EXPECT_NE(dead.find(R"("status":400)"), std::string::npos) << dead;
  EXPECT_NE(dead.find(R"("target":"/v1/items?after=)"), std::string::npos) << dead;
}

TEST(cli_run, invalid_plan_is_exit_2_with_a_located_diagnostic) {
  test::temp_dir dir;
  {
    std::ofstream bad(dir / "bad.plan.yaml");
    bad << test::read_file(example);
    bad << "retyr: {max_attempts: 2}\n";
  }
  const auto r = planproof(dir, "run bad.plan.yaml");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("bad.plan.yaml:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("error: unknown key 'retyr'"), std::string::npos) << r.output;
}

TEST(cli_run, usage_errors_are_exit_2) {
  test::temp_dir dir;
  EXPECT_EQ(planproof(dir, "").exit_code, 2);
  EXPECT_EQ(planproof(dir, "run").exit_code, 2);
  EXPECT_EQ(planproof(dir, "run " + example + " --time-scale 0").exit_code, 2);
  EXPECT_EQ(planproof(dir, "run " + example + " --time-scale fast").exit_code, 2);
  EXPECT_EQ(planproof(dir, "run " + example + " --no-such-flag").exit_code, 2);
  EXPECT_EQ(planproof(dir, "run " + example + " --set nonsense").exit_code, 2);
  const auto only = planproof(dir, "run " + example + " --only nope");
  EXPECT_EQ(only.exit_code, 2);
  EXPECT_NE(only.output.find("no failure mode 'nope'"), std::string::npos) << only.output;
  const auto phase = planproof(dir, "run " + example + " --phase phase9");
  EXPECT_EQ(phase.exit_code, 2);
  EXPECT_NE(phase.output.find("phases: phase1, phase2"), std::string::npos) << phase.output;
  EXPECT_EQ(planproof(dir, "run missing.plan.yaml").exit_code, 2);
  EXPECT_EQ(planproof(dir, "--help").exit_code, 0);
}

// `--limit`: the caps reach the mock (a request body over request_body is answered 413, which the
// plan treats as fatal), the client (an answer body over response_body fails the attempt) and the
// loader (plan_size, concurrency), each refusal naming the flag that raises it.
TEST(cli_run, limits_reach_the_mock_the_client_and_the_loader) {
  test::temp_dir dir;
  const std::string args = "run " + example + " --only rate_limited --time-scale 0.05 -q";
  const auto body = planproof(dir, args + " --limit request_body=8B --json body.json");
  EXPECT_EQ(body.exit_code, 1) << body.output;
  const auto body_mode = failure_mode(boost::json::parse(test::read_file(dir / "body.json")), "rate_limited");
  EXPECT_GT(body_mode.at("metrics").at("attempt_results").at("413").as_int64(), 0) << body_mode;
  EXPECT_EQ(body_mode.at("metrics").at("succeeded").as_int64(), 0) << body_mode;

  const auto answer = planproof(dir, args + " --limit response_body=8B --json answer.json");
  EXPECT_EQ(answer.exit_code, 1) << answer.output;
  const auto answer_report = boost::json::parse(test::read_file(dir / "answer.json"));
  const auto answer_mode = failure_mode(answer_report, "rate_limited");
  EXPECT_EQ(answer_mode.at("metrics").at("succeeded").as_int64(), 0) << answer_mode;
  EXPECT_GT(answer_mode.at("metrics").at("attempt_results").at("protocol_error").as_int64(), 0) << answer_mode;
  // The report says which caps were moved.
  const auto& notes = answer_report.at("notes").as_array();
  EXPECT_NE(std::find(notes.begin(), notes.end(),
                      boost::json::value("limit: response_body is 8 B (default 16 MiB): an upstream answer's body the "
                                         "client and the proxy accept")),
            notes.end())
      << answer_report.at("notes");

  const auto held = planproof(dir, args + " --limit request_body=64KiB --limit response_body=64KiB");
  EXPECT_EQ(held.exit_code, 0) << held.output;

  const auto size = planproof(dir, args + " --limit plan_size=1KiB");
  EXPECT_EQ(size.exit_code, 2) << size.output;
  EXPECT_NE(size.output.find("the plan is larger than 1 KiB"), std::string::npos) << size.output;
  EXPECT_NE(size.output.find("raise it with --limit plan_size=SIZE"), std::string::npos) << size.output;
  const auto wide = planproof(dir, args + " --set traffic.concurrency=20000");
  EXPECT_EQ(wide.exit_code, 2) << wide.output;
  EXPECT_NE(wide.output.find("the cap --limit concurrency=N sets"), std::string::npos) << wide.output;
  const auto bad = planproof(dir, args + " --limit response_body=0");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--limit: error: response_body: must be at least 1"), std::string::npos) << bad.output;
}

TEST(cli_run, phase_selects_its_failure_modes) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run " + example + " --phase phase1 --time-scale 0.02 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  EXPECT_EQ(report.at("phase").as_string(), "phase1");
  EXPECT_EQ(report.at("failure_modes").as_array().size(), 3u);
  // The phase's settings.retry replaced retry_on: no schema_error in phase 1.
  const auto& retry_on = report.at("settings").at("retry").at("retry_on").as_array();
  EXPECT_EQ(retry_on.size(), 7u);
  EXPECT_EQ(std::find(retry_on.begin(), retry_on.end(), boost::json::value("schema_error")), retry_on.end());
  EXPECT_EQ(report.at("settings").at("retry").at("max_attempts").as_int64(), 4);  // not overridden
  EXPECT_TRUE(report.at("settings").at("retry").at("fatal_on").is_array());
}

// --log: one JSON line per client decision, every line of a request naming it by the same
// X-Request-Id, which is also the dead letter's correlation_id; the file is complete at exit.
TEST(cli_run, log_writes_every_decision_as_a_json_line) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "log.plan.yaml");
    plan << R"(planproof: 1
integration: {name: log-check}
auth: {method: none}
endpoints:
  - id: create_thing
    method: POST
    path: /v1/things
    request: {example: {name: a}}
    response: {status: 201, example: {id: t_1}}
    idempotency: {header: Idempotency-Key}
retry: {max_attempts: 3, backoff: {base: 20ms, max: 40ms}, retry_on: [503], dead_letter: {path: dead.jsonl}}
traffic: {endpoint: create_thing, rate: 20/s, concurrency: 4, duration: 2s}
failure_modes:
  - id: flaky
    inject: {fault: status, status: 503, every: 2}
  - id: down
    inject: {fault: status, status: 503}
)";
  }
  const auto r = planproof(dir, "run log.plan.yaml --time-scale 0.1 --log logs/events.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto text = test::read_file(dir / "logs/events.jsonl");
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n') << "the last line is whole";

  struct request_lines {
    std::string correlation_id;
    std::map<std::string, int> events;
    std::string outcome;
  };
  std::map<std::pair<std::string, std::int64_t>, request_lines> requests;  // (failure mode, request)
  std::istringstream in(text);
  std::string line;
  int backoffs = 0;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    const auto& o = v.as_object();
    for (const char* field : {"time", "event", "failure_mode", "request", "correlation_id", "endpoint"}) {
      ASSERT_TRUE(o.contains(field)) << field << " missing: " << line;
    }
    EXPECT_EQ(o.at("endpoint").as_string(), "create_thing");
    auto& req = requests[{std::string(o.at("failure_mode").as_string()), o.at("request").as_int64()}];
    const std::string id(o.at("correlation_id").as_string());
    if (req.correlation_id.empty()) req.correlation_id = id;
    EXPECT_EQ(req.correlation_id, id) << "one id on every line of a request: " << line;
    const std::string event(o.at("event").as_string());
    ++req.events[event];
    if (event == "attempt_finished") {
      EXPECT_TRUE(o.contains("status")) << line;
    }
    if (event == "backoff_scheduled") {
      ++backoffs;
      EXPECT_TRUE(o.contains("delay_ms")) << line;
      EXPECT_EQ(o.at("reason").as_string(), "503") << line;
    }
    if (event == "request_completed") req.outcome = std::string(o.at("outcome").as_string());
  }
  EXPECT_EQ(requests.size(), 80u);  // 40 per failure mode
  EXPECT_GT(backoffs, 40);
  std::set<std::string> dead_ids;
  int flaky_succeeded = 0;
  for (const auto& [key, req] : requests) {
    EXPECT_EQ(req.events.at("request_submitted"), 1);
    EXPECT_EQ(req.events.at("request_completed"), 1);
    EXPECT_EQ(req.events.at("attempt_started"), req.events.at("attempt_finished"));
    if (key.first == "down") {
      EXPECT_EQ(req.outcome, "dead_lettered");
    }
    if (key.first == "flaky" && req.outcome == "succeeded") ++flaky_succeeded;
    if (req.outcome == "dead_lettered") dead_ids.insert(req.correlation_id);
  }
  EXPECT_GT(flaky_succeeded, 20);
  const auto letters = test::read_file(dir / "dead.jsonl");
  std::istringstream dead(letters);
  int dead_count = 0;
  while (std::getline(dead, line)) {
    ++dead_count;
    const auto record = boost::json::parse(line);
    EXPECT_TRUE(dead_ids.contains(std::string(record.at("correlation_id").as_string()))) << line;
  }
  EXPECT_EQ(dead_count, static_cast<int>(dead_ids.size()));
  EXPECT_GE(dead_count, 40);

  const auto bad = planproof(dir, "run log.plan.yaml --log /proc/no-such-dir/events.jsonl");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--log: error: cannot write /proc/no-such-dir/events.jsonl"), std::string::npos)
      << bad.output;
}

// auth: jwt end to end: the client mints ES256 tokens (a generated key: the plan's reference is
// unset), re-mints each before its 20s lifetime ends, and replaces the one the mock revokes; the
// mock checks every signature, claim and exp. With one attempt the revocation leaks.
const char* const jwt_plan = R"(planproof: 1
integration: {name: jwt-sync}
auth:
  method: jwt
  signing_key: env:PLANPROOF_TEST_UNSET_JWT_KEY
  algorithm: ES256
  claims: {iss: jwt-sync, aud: "https://api.example.com"}
  lifetime: 20s
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry: {max_attempts: 3, backoff: {base: 100ms, max: 400ms}, retry_on: [503, timeout], fatal_on: [403], dead_letter: {path: dead.jsonl}}
traffic: {endpoint: list, rate: 20/s, concurrency: 4, duration: 60s}
failure_modes:
  - id: token_revoked
    inject: {fault: auth_expiry, during: [25s, 35s], first: 1}
    expect: {token_refreshes: ">= 3", no_auth_failures_leaked: true, success_rate: ">= 0.99"}
)";

TEST(cli_run, jwt_auth_mints_verified_tokens_and_replaces_a_revoked_one) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "jwt.plan.yaml");
    plan << jwt_plan;
  }
  const auto r = planproof(dir, "run jwt.plan.yaml --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("held     token_revoked"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("share a generated jwt credential"), std::string::npos) << r.output;
  const auto mode = failure_mode(boost::json::parse(test::read_file(dir / "report.json")), "token_revoked");
  EXPECT_EQ(mode.at("metrics").at("dead_lettered").as_int64(), 0);

  const auto weakened = planproof(dir, "run jwt.plan.yaml --time-scale 0.05 --set retry.max_attempts=1");
  ASSERT_EQ(weakened.exit_code, 1) << weakened.output;
  EXPECT_NE(weakened.output.find("BROKEN   token_revoked"), std::string::npos) << weakened.output;
  EXPECT_NE(weakened.output.find("FAIL no_auth_failures_leaked: expected true, observed false"), std::string::npos)
      << weakened.output;
}

TEST(cli_run, a_jwt_key_unfit_for_its_algorithm_is_exit_2_without_quoting_it) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "jwt.plan.yaml");
    plan << jwt_plan;
  }
  const auto r = run_shell("cd '" + dir.path().string() + "' && PLANPROOF_TEST_UNSET_JWT_KEY=too-short-secret-value " +
                           ::planproof::test::planproof_executable() +
                           " run jwt.plan.yaml --set auth.algorithm=HS256 --time-scale 0.05");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("auth.signing_key (env:PLANPROOF_TEST_UNSET_JWT_KEY): HS256 key of 22 bytes; RFC 7518 "
                          "section 3.2 requires at least 32"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find("too-short-secret-value"), std::string::npos) << r.output;
}

// api_key in the query string: the client adds the generated key to every target, the mock checks
// it; with one attempt the 503s are dead-lettered, and the key is in none of what planproof wrote.
TEST(cli_run, an_api_key_in_the_query_runs_and_never_reaches_the_outputs) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "query.plan.yaml");
    plan << R"(planproof: 1
integration: {name: query-key}
auth: {method: api_key, in: query, param: api_key, key: env:PLANPROOF_TEST_UNSET_QUERY_KEY}
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry: {max_attempts: 3, backoff: {base: 50ms, max: 200ms}, retry_on: [503], dead_letter: {path: dead.jsonl}}
traffic: {endpoint: list, rate: 20/s, concurrency: 4, duration: 20s}
failure_modes:
  - id: overloaded
    inject: {fault: status, status: 503, during: [5s, 10s], every: 3}
    expect: {success_rate: ">= 0.99"}
)";
  }
  const auto held = planproof(dir, "run query.plan.yaml --time-scale 0.05");
  ASSERT_EQ(held.exit_code, 0) << held.output;
  EXPECT_NE(held.output.find("held     overloaded"), std::string::npos) << held.output;

  const auto broken = planproof(dir, "run query.plan.yaml --time-scale 0.05 --set retry.max_attempts=1"
                                     " --json report.json --log events.jsonl");
  ASSERT_EQ(broken.exit_code, 1) << broken.output;
  EXPECT_NE(broken.output.find("FAIL success_rate"), std::string::npos) << broken.output;
  const auto letters = test::read_file(dir / "dead.jsonl");
  EXPECT_GT(std::count(letters.begin(), letters.end(), '\n'), 5) << letters;
  for (const auto& text : {broken.output, letters, test::read_file(dir / "report.json"), test::read_file(dir / "events.jsonl")}) {
    EXPECT_EQ(text.find("pp_test_"), std::string::npos) << text.substr(0, 2000);
    EXPECT_EQ(text.find("api_key="), std::string::npos) << text.substr(0, 2000);
  }
}

}  // namespace
}  // namespace planproof
