// End to end: `run --junit`, `run --shard`, `planproof merge`, the report paths checked before a
// run, the progress line and `--verbose` decision lines, on a small plan of three cheap failure
// modes (one holds, one breaks, one is skipped) at time scale 0.1.
#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"
#include "support/xml.hpp"

namespace planproof {
namespace {

using test::attribute;
using test::children;

const char* const three_modes = R"(planproof: 1
integration: {name: "shard <check> & \"co\""}
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
    expect: {success_rate: ">= 0.9"}
  - id: down
    inject: {fault: status, status: 503}
    expect: {success_rate: ">= 0.9"}
  - id: unverifiable
    inject: {fault: status, status: 503, every: 3}
    expect: {processed_exactly_once: true}
)";

// A directory holding the plan; planproof runs inside it.
struct workspace {
  test::temp_dir dir;
  workspace() { std::ofstream(dir / "plan.yaml") << three_modes; }
  test::process_result planproof(const std::string& args) const {
    return test::run_shell("cd '" + dir.path().string() + "' && " + test::planproof_executable() + " " + args);
  }
  test::process_result run(const std::string& args) const { return planproof("run plan.yaml --time-scale 0.1 " + args); }
  boost::json::value json(const std::string& name) const { return boost::json::parse(test::read_file(dir / name)); }
  std::string text(const std::string& name) const { return test::read_file(dir / name); }
};

std::vector<std::string> ids_in(const boost::json::value& report) {
  std::vector<std::string> ids;
  for (const auto& f : report.at("failure_modes").as_array()) ids.emplace_back(f.at("id").as_string());
  return ids;
}

TEST(cli_run_reports, junit_has_a_case_per_failure_mode_and_the_table_a_row) {
  workspace w;
  const auto r = w.run("--json report.json --junit report.xml");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  // The table at the end: one row per failure mode, the first failed expectation or why skipped.
  EXPECT_NE(r.output.find("  failure mode  verdict  requests  succeeded  dead-lettered  lost"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("  down          broken         40          0             40     0"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("success_rate: expected >= 0.9, observed 0\n"), std::string::npos) << r.output;

  const auto root = test::parse_xml(w.dir / "report.xml");
  ASSERT_FALSE(root.is_null()) << w.text("report.xml");
  const boost::json::value suite = children(root, "testsuite").at(0);
  EXPECT_EQ(attribute(suite, "name"), "shard <check> & \"co\"");
  EXPECT_EQ(attribute(suite, "tests"), "3");
  EXPECT_EQ(attribute(suite, "failures"), "1");
  EXPECT_EQ(attribute(suite, "skipped"), "1");
  EXPECT_EQ(attribute(suite, "errors"), "0");
  EXPECT_GT(std::stod(attribute(suite, "time")), 0.0);
  std::map<std::string, std::string> properties;
  for (const auto& p : children(children(suite, "properties").at(0), "property")) {
    properties[attribute(p, "name")] = attribute(p, "value");
  }
  EXPECT_EQ(properties["seed"], "1");
  EXPECT_EQ(std::stod(properties["time_scale"]), std::stod(test::stretched_time_scale(0.1)));
  EXPECT_EQ(properties["mode"], "live");
  EXPECT_EQ(properties["phase"], "");
  const auto cases = children(suite, "testcase");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(attribute(cases[0], "name"), "flaky");
  EXPECT_EQ(attribute(cases[0], "classname"), "shard <check> & \"co\"");
  EXPECT_TRUE(children(cases[0], "failure").empty());
  const auto failure = children(cases[1], "failure");
  ASSERT_EQ(failure.size(), 1u);
  EXPECT_EQ(attribute(failure[0], "message"), "success_rate: expected >= 0.9, observed 0");
  EXPECT_NE(failure[0].at("text").as_string().find("evidence: request 1 at "), std::string::npos);
  EXPECT_EQ(attribute(children(cases[2], "skipped").at(0), "message"),
            "not yet supported by this version: expectation 'processed_exactly_once'");

  // A report read back and written again by merge is the same report, but for the chart series,
  // which merge does not read back (its HTML report has the tables, not the charts).
  const auto again = w.planproof("merge report.json --json again.json");
  EXPECT_EQ(again.exit_code, 1) << again.output;
  auto without_series = [](const std::string& text) {
    auto v = boost::json::parse(text);
    for (auto& mode : v.at("failure_modes").as_array()) {
      mode.as_object().erase("timeline");
      mode.as_object().erase("latency_histogram");
    }
    return v;
  };
  EXPECT_EQ(without_series(w.text("again.json")), without_series(w.text("report.json")));
}

TEST(cli_run_reports, shards_split_the_selection_and_merge_puts_it_back) {
  workspace w;
  const auto one = w.run("--shard 1/2 --json s1.json");
  EXPECT_EQ(one.exit_code, 1) << one.output;  // flaky held, unverifiable skipped
  EXPECT_NE(one.output.find("shard 1/2: 2 of the 3 selected failure modes"), std::string::npos) << one.output;
  const auto two = w.run("--shard 2/2 --json s2.json");
  EXPECT_EQ(two.exit_code, 1) << two.output;  // down broken
  EXPECT_EQ(ids_in(w.json("s1.json")), (std::vector<std::string>{"flaky", "unverifiable"}));
  EXPECT_EQ(ids_in(w.json("s2.json")), std::vector<std::string>{"down"});
  const auto shard = w.json("s2.json").at("shard");
  EXPECT_EQ(shard.at("index").as_int64(), 2);
  EXPECT_EQ(shard.at("count").as_int64(), 2);
  EXPECT_EQ(shard.at("selected").as_int64(), 3);

  // The same selection on every shard (--only) is split the same way.
  const auto only = w.run("--only down --only unverifiable --shard 2/2 --json only.json");
  EXPECT_EQ(ids_in(w.json("only.json")), std::vector<std::string>{"unverifiable"}) << only.output;

  // More shards than failure modes: the spare one is an empty run that holds.
  const auto spare = w.run("--shard 4/4 --json s4.json --junit s4.xml");
  EXPECT_EQ(spare.exit_code, 0) << spare.output;
  EXPECT_NE(spare.output.find("note: this shard has no failure mode to run (3 selected, 4 shards)"), std::string::npos)
      << spare.output;
  EXPECT_NE(spare.output.find("0 failure modes: 0 held, 0 broken"), std::string::npos) << spare.output;
  EXPECT_TRUE(ids_in(w.json("s4.json")).empty());
  EXPECT_EQ(attribute(children(test::parse_xml(w.dir / "s4.xml"), "testsuite").at(0), "tests"), "0");

  // Merged in any order: plan order, the summary of the whole run, its exit code.
  const auto merged = w.planproof("merge s2.json s1.json --json merged.json --junit merged.xml --md merged.md");
  EXPECT_EQ(merged.exit_code, 1) << merged.output;
  EXPECT_NE(merged.output.find("merged from 2 reports: s2.json s1.json"), std::string::npos) << merged.output;
  EXPECT_NE(merged.output.find("3 failure modes: 1 held, 1 broken, 1 skipped"), std::string::npos) << merged.output;
  const auto report = w.json("merged.json");
  EXPECT_EQ(ids_in(report), (std::vector<std::string>{"flaky", "down", "unverifiable"}));
  EXPECT_FALSE(report.as_object().contains("shard"));
  EXPECT_EQ(report.at("summary").at("failure_modes").as_int64(), 3);
  EXPECT_EQ(report.at("summary").at("broken").as_int64(), 1);
  EXPECT_EQ(report.at("summary").at("requests").as_int64(), 80);
  EXPECT_EQ(attribute(children(test::parse_xml(w.dir / "merged.xml"), "testsuite").at(0), "tests"), "3");
  EXPECT_NE(w.text("merged.md").find("| down | **BROKEN** |"), std::string::npos) << w.text("merged.md");

  // What cannot be merged is exit 2, naming the files.
  const auto missing = w.planproof("merge s1.json");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find("no report of shard 2/2"), std::string::npos) << missing.output;
  const auto other_run = w.run("--shard 2/2 --seed 9 --json seed9.json");
  const auto mixed = w.planproof("merge s1.json seed9.json");
  EXPECT_EQ(mixed.exit_code, 2) << mixed.output;
  EXPECT_NE(mixed.output.find("seed9.json: error: not a part of the run of s1.json: seed 9 is not 1"), std::string::npos)
      << mixed.output;
  const auto overlap = w.planproof("merge only.json s1.json");
  EXPECT_EQ(overlap.exit_code, 2) << overlap.output;
  std::ofstream(w.dir / "cut.json") << w.text("s2.json").substr(0, 100);
  const auto cut = w.planproof("merge s1.json cut.json");
  EXPECT_EQ(cut.exit_code, 2) << cut.output;
  EXPECT_NE(cut.output.find("cut.json: error: not JSON"), std::string::npos) << cut.output;
  const auto absent = w.planproof("merge s1.json nowhere.json");
  EXPECT_EQ(absent.exit_code, 2) << absent.output;
  EXPECT_NE(absent.output.find("nowhere.json: error: cannot read the report: No such file or directory"),
            std::string::npos)
      << absent.output;
  EXPECT_EQ(w.planproof("merge").exit_code, 2);
}

TEST(cli_run_reports, a_shard_that_is_not_i_of_n_is_a_usage_error) {
  workspace w;
  for (const auto& [value, why] : std::vector<std::pair<std::string, std::string>>{
           {"0/2", "between 1 and 2"}, {"3/2", "between 1 and 2"}, {"a/b", "is not I/N"}, {"1/0", "at least 1"}}) {
    const auto r = w.run("--shard " + value);
    EXPECT_EQ(r.exit_code, 2) << value << ": " << r.output;
    EXPECT_NE(r.output.find("--shard: '" + value + "'"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(why), std::string::npos) << r.output;
  }
}

// A report that cannot be written fails the command at once, before any failure mode runs.
TEST(cli_run_reports, report_paths_are_checked_before_anything_runs) {
  workspace w;
  const auto missing = w.run("--json out/report.json --junit . --md /proc/summary.md");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find(
                "--json: error: cannot write the JSON report to out/report.json: the directory out does not exist"),
            std::string::npos)
      << missing.output;
  EXPECT_NE(missing.output.find("--junit: error: cannot write the JUnit XML report to .: it is a directory"),
            std::string::npos)
      << missing.output;
  EXPECT_NE(missing.output.find("--md: error: cannot write the Markdown report to /proc/summary.md: the directory "
                                "/proc does not take a new file"),
            std::string::npos)
      << missing.output;
  EXPECT_EQ(missing.output.find("planproof run"), std::string::npos) << "nothing ran: " << missing.output;
  EXPECT_FALSE(std::filesystem::exists(w.dir / "dead.jsonl"));
  std::ofstream(w.dir / "file") << "x";
  const auto not_dir = w.run("--junit file/report.xml");
  EXPECT_EQ(not_dir.exit_code, 2) << not_dir.output;
  EXPECT_NE(not_dir.output.find("file is not a directory"), std::string::npos) << not_dir.output;

  std::ofstream(w.dir / "r.json") << "{}";
  const auto merge = w.planproof("merge r.json --junit out/merged.xml");
  EXPECT_EQ(merge.exit_code, 2) << merge.output;
  EXPECT_NE(merge.output.find("--junit: error: cannot write the JUnit XML report to out/merged.xml"), std::string::npos)
      << merge.output;
}

TEST(cli_run_reports, the_progress_line_is_redrawn_in_place_when_asked_for) {
  workspace w;
  const auto forced = w.run("--only flaky --progress always");
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  // The id padded to the plan's longest (unverifiable), so the columns stay put from mode to mode;
  // the first line is drawn as the mode starts (its plan time is 0.0s unless the machine is slow).
  EXPECT_TRUE(std::regex_search(
      forced.output, std::regex("\r  \\[1/1\\] flaky         0\\.\\ds of 2s  0/40 requests  0 failed  0 attempts")))
      << forced.output;
  // Erased (carriage return, blanks, carriage return) before the failure mode's final line.
  EXPECT_NE(forced.output.find(" \r  held     flaky"), std::string::npos) << forced.output;

  // Not a terminal (a pipe here): plain lines only.
  const auto piped = w.run("--only flaky");
  ASSERT_EQ(piped.exit_code, 0) << piped.output;
  EXPECT_EQ(piped.output.find('\r'), std::string::npos) << piped.output;
  EXPECT_EQ(w.run("--only flaky --progress sometimes").exit_code, 2);
}

TEST(cli_run_reports, verbose_writes_every_decision_to_standard_error) {
  workspace w;
  const auto r = test::run_shell("cd '" + w.dir.path().string() + "' && (" + test::planproof_executable() +
                                 " run plan.yaml --time-scale 0.1 --only flaky --verbose --log events.jsonl 2>err.txt)");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto err = w.text("err.txt");
  EXPECT_NE(err.find("event=attempt_finished failure_mode=flaky"), std::string::npos) << err.substr(0, 2000);
  EXPECT_NE(err.find(" status=503 "), std::string::npos) << err.substr(0, 2000);
  EXPECT_NE(err.find("event=backoff_scheduled"), std::string::npos) << err.substr(0, 2000);
  EXPECT_EQ(r.output.find("event="), std::string::npos) << "decisions go to standard error only";
  // --log still gets its JSON lines: one per decision, as many as the text lines.
  const auto log = w.text("events.jsonl");
  std::istringstream lines(err);
  std::string line;
  std::ptrdiff_t decisions = 0;
  while (std::getline(lines, line)) decisions += line.starts_with("event=") ? 1 : 0;
  EXPECT_GT(decisions, 40);
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), decisions);
}

}  // namespace
}  // namespace planproof
