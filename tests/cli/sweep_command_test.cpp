// `planproof sim` and `planproof sweep` from the command line: reports written, exit codes, bad input.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

const std::string contention =
    (std::filesystem::path(::planproof::test::source_dir()) / "scenarios/contention-backoff.sim.yaml").string();

test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && " + ::planproof::test::planproof_executable() + " " + args);
}

TEST(cli_sweep, writes_a_sorted_table_csv_json_and_a_chart) {
  test::temp_dir dir;
  const auto r = planproof(dir, "sweep '" + contention +
                                    "' --failure-mode contended_write --vary retry.backoff.jitter=none,full "
                                    "--vary traffic.clients=10,30 --repeat 2 --sort upstream_calls "
                                    "--csv s.csv --json s.json --html s.html");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 points x 2 seeds"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sorted by upstream_calls"), std::string::npos) << r.output;
  // Lowest first: the first row of the table is a jittered point, the last one without jitter.
  const auto first_row = r.output.find("\n  ", r.output.find("retry.backoff.jitter")) + 3;
  EXPECT_EQ(r.output.substr(first_row, 4), "full") << r.output;

  const auto csv = test::read_file(dir / "s.csv");
  EXPECT_EQ(csv.substr(0, csv.find(',', csv.find(',') + 1)), "retry.backoff.jitter,traffic.clients");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  const auto json = boost::json::parse(test::read_file(dir / "s.json"));
  ASSERT_EQ(json.at("points").as_array().size(), 4u);
  const auto& point = json.at("points").at(0);
  EXPECT_EQ(point.at("values").at("retry.backoff.jitter").as_string(), "none");
  EXPECT_EQ(point.at("metrics").at("success_rate").at("samples").as_int64(), 2);
  const auto html = test::read_file(dir / "s.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<polyline"), std::string::npos);
  // Nothing to fetch: the only URLs are the XHTML and SVG namespaces, and no element loads anything.
  std::size_t urls = 0, namespaces = 0;
  for (auto at = html.find("://"); at != std::string::npos; at = html.find("://", at + 1)) {
    ++urls;
    namespaces += at >= 4 && html.compare(at - 4, 18, "http://www.w3.org/") == 0;
  }
  EXPECT_EQ(urls, namespaces);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

TEST(cli_sweep, bad_input_is_a_usage_error_with_a_reason) {
  test::temp_dir dir;
  const std::string base = "sweep '" + contention + "' --failure-mode contended_write ";
  struct bad {
    std::string args, says;
  };
  for (const auto& b : std::vector<bad>{
           {"--vary retry.no_such=1,2", "no_such"},
           {"--vary retry.max_attempts=", "no values"},
           {"--vary retry.max_attempts=two", "retry.max_attempts"},
           {"--vary retry.max_attempts=1,2,3 --vary retry.backoff.base=1ms,2ms --max-points 4", "--max-points"},
           {"--vary retry.max_attempts=2 --clients -5", "--clients"},
           {"--vary traffic.clients=0", "not a number of clients"},
           {"--vary retry.max_attempts=2 --sort fastest", "unknown metric"},
       }) {
    const auto r = planproof(dir, base + b.args);
    EXPECT_EQ(r.exit_code, 2) << b.args << "\n" << r.output;
    EXPECT_NE(r.output.find(b.says), std::string::npos) << b.args << "\n" << r.output;
  }
}

TEST(cli_sim, a_contended_plan_runs_with_many_clients_and_reports_its_model) {
  test::temp_dir dir;
  const auto r = planproof(dir, "sim '" + contention + "' --clients 20 --json r.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("20 independent clients"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("conditional write on one shared record"), std::string::npos) << r.output;
  const auto json = boost::json::parse(test::read_file(dir / "r.json"));
  EXPECT_EQ(json.at("mode").as_string(), "sim");
  EXPECT_EQ(json.at("failure_modes").at(0).at("metrics").at("requests").as_int64(), 20);
  EXPECT_EQ(planproof(dir, "sim '" + contention + "' --clients 0").exit_code, 2);
  EXPECT_EQ(planproof(dir, "sim '" + contention + "' --network-delay soon").exit_code, 2);
}

}  // namespace
}  // namespace planproof
