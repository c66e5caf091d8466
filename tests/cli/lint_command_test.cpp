// `planproof lint`: exit codes, text and JSON output, the example plans and the `new` skeleton.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/process.hpp"
#include "support/paths.hpp"

namespace planproof {
namespace {

const std::filesystem::path source_dir(::planproof::test::source_dir());
const std::string clean = (source_dir / "tests/plan/data/lint_clean.plan.yaml").string();

test::process_result planproof(const std::string& args) {
  return test::run_shell(::planproof::test::planproof_executable() + " " + args);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(cli_lint, example_plans_have_no_findings) {
  std::vector<std::filesystem::path> plans;
  for (const auto& entry : std::filesystem::directory_iterator(source_dir / "scenarios")) {
    if (entry.path().filename().string().ends_with(".plan.yaml")) plans.push_back(entry.path());
  }
  ASSERT_GE(plans.size(), 4u);
  for (const auto& plan : plans) {
    const auto r = planproof("lint '" + plan.string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find(": no findings"), std::string::npos) << r.output;
  }
}

TEST(cli_lint, a_new_skeleton_has_only_fill_me_in_warnings) {
  test::temp_dir dir;
  ASSERT_EQ(test::run_shell("cd '" + dir.path().string() + "' && " + ::planproof::test::planproof_executable() + " new demo").exit_code, 0);
  const auto r = planproof("lint '" + (dir / "demo.plan.yaml").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto all = lines(r.output);
  ASSERT_GT(all.size(), 5u) << r.output;
  for (std::size_t i = 0; i + 1 < all.size(); ++i) {
    EXPECT_NE(all[i].find(": warning: "), std::string::npos) << all[i];
    EXPECT_NE(all[i].find("[placeholder]"), std::string::npos) << all[i];
  }
  EXPECT_NE(all.back().find("0 errors"), std::string::npos) << all.back();
}

TEST(cli_lint, errors_exit_2_warnings_exit_0_unless_strict) {
  test::temp_dir dir;
  const auto plan = test::read_file(clean);
  auto write = [&](const std::string& name, std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const auto with_error = write("error.plan.yaml", plan, "retry_on: [429,", "retry_on: [404, 429,");
  const auto with_warning = write("warning.plan.yaml", plan, "jitter: full", "jitter: none");

  const auto e = planproof("lint '" + with_error + "'");
  EXPECT_EQ(e.exit_code, 2) << e.output;
  EXPECT_NE(e.output.find("error.plan.yaml:39:14: error: retry_on retries 404"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("[retry-client-error]"), std::string::npos) << e.output;

  const auto w = planproof("lint '" + with_warning + "'");
  EXPECT_EQ(w.exit_code, 0) << w.output;
  EXPECT_NE(w.output.find("warning.plan.yaml:38:66: warning: jitter none"), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("0 errors, 1 warning"), std::string::npos) << w.output;
  EXPECT_EQ(planproof("lint --strict '" + with_warning + "'").exit_code, 2);
  EXPECT_EQ(planproof("lint --strict --ignore jitter-none '" + with_warning + "'").exit_code, 0);
  EXPECT_EQ(planproof("lint --ignore retry-client-error '" + with_error + "'").exit_code, 2)
      << "retry_on 404 also conflicts with the endpoint's fatal statuses";
  EXPECT_EQ(planproof("lint --ignore retry-client-error --ignore retry-conflicts-with-endpoint '" + with_error + "'").exit_code, 0);

  // --set lints a variation without editing the file.
  const auto set = planproof("lint '" + clean + "' --set retry.backoff.jitter=none");
  EXPECT_EQ(set.exit_code, 0) << set.output;
  EXPECT_NE(set.output.find("--set: warning: jitter none"), std::string::npos) << set.output;
}

TEST(cli_lint, json_format_lists_every_finding) {
  const auto r = planproof("lint --format json '" + clean + "' --set retry.backoff.base=10s --set retry.backoff.jitter=none");
  ASSERT_EQ(r.exit_code, 2) << r.output;
  const auto report = boost::json::parse(r.output).as_object();
  EXPECT_TRUE(report.at("loaded").as_bool());
  EXPECT_EQ(report.at("errors").as_int64(), 1);
  EXPECT_GE(report.at("warnings").as_int64(), 1);
  bool saw = false;
  for (const auto& f : report.at("findings").as_array()) {
    const auto& o = f.as_object();
    for (const char* key : {"rule", "severity", "file", "line", "column", "message"}) EXPECT_TRUE(o.contains(key)) << key;
    if (o.at("rule").as_string() == "backoff-base-above-max") {
      saw = true;
      EXPECT_EQ(o.at("severity").as_string(), "error");
      EXPECT_EQ(o.at("file").as_string(), "--set");
    }
  }
  EXPECT_TRUE(saw) << r.output;

  const auto clean_json = boost::json::parse(planproof("lint --format json '" + clean + "'").output).as_object();
  EXPECT_EQ(clean_json.at("findings").as_array().size(), 0u);
}

TEST(cli_lint, a_plan_that_does_not_load_exits_2_with_its_errors) {
  test::temp_dir dir;
  std::ofstream(dir / "bad.plan.yaml") << "planproof: 1\nintegration: {name: x}\nretyr: {}\n";
  const auto text = planproof("lint '" + (dir / "bad.plan.yaml").string() + "'");
  EXPECT_EQ(text.exit_code, 2) << text.output;
  EXPECT_NE(text.output.find("bad.plan.yaml:3:1: error: unknown key 'retyr'; did you mean 'retry'?"), std::string::npos)
      << text.output;

  const auto json = planproof("lint --format json '" + (dir / "bad.plan.yaml").string()+ "'");
  EXPECT_EQ(json.exit_code, 2);
  const auto report = boost::json::parse(json.output).as_object();
  EXPECT_FALSE(report.at("loaded").as_bool());
  EXPECT_GE(report.at("errors").as_int64(), 1);
  EXPECT_TRUE(report.at("findings").as_array().at(0).at("rule").is_null());

  EXPECT_EQ(planproof("lint '" + (dir / "missing.plan.yaml").string() + "'").exit_code, 2);
  EXPECT_EQ(planproof("lint").exit_code, 2);
  EXPECT_EQ(planproof("lint --format xml '" + clean + "'").exit_code, 2);
  const auto unknown = planproof("lint --ignore no-such-rule '" + clean + "'");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("no lint rule 'no-such-rule'"), std::string::npos) << unknown.output;
}

TEST(cli_lint, every_rule_is_listed_and_documented_in_the_readme) {
  const auto r = planproof("lint --list-rules");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto readme = test::read_file(source_dir / "README.md");
  const auto all = lines(r.output);
  EXPECT_GE(all.size(), 40u);
  for (const auto& line : all) {
    const auto id = line.substr(0, line.find(' '));
    EXPECT_NE(readme.find("`" + id + "`"), std::string::npos) << id << " is not in README.md";
  }
}

}  // namespace
}  // namespace planproof
