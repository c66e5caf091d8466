// `planproof render`: every example plan's committed document matches what render produces now.
#include <filesystem>

#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/paths.hpp"

namespace planproof {
namespace {

const std::filesystem::path scenarios = std::filesystem::path(::planproof::test::source_dir()) / "scenarios";

std::vector<std::filesystem::path> example_plans() {
  std::vector<std::filesystem::path> plans;
  for (const auto& entry : std::filesystem::directory_iterator(scenarios)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".plan.yaml")) plans.push_back(entry.path());
  }
  std::sort(plans.begin(), plans.end());
  return plans;
}

TEST(cli_render, committed_documents_are_current) {
  const auto plans = example_plans();
  ASSERT_FALSE(plans.empty());
  for (const auto& plan : plans) {
    auto document = plan;
    document.replace_extension(".md");  // payments.plan.yaml -> payments.plan.md
    const auto r = test::run_shell(::planproof::test::planproof_executable() + " render '" + plan.string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ASSERT_TRUE(std::filesystem::exists(document)) << document << " is missing";
    EXPECT_EQ(r.output, test::read_file(document))
        << document.filename() << " is stale: run `planproof render " << plan.filename().string() << " -o "
        << document.filename().string() << "` in scenarios/";
  }
}

TEST(cli_render, document_has_the_six_sections_in_order) {
  const auto r = test::run_shell(::planproof::test::planproof_executable() + " render '" +
                                 (scenarios / "payments.plan.yaml").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::size_t at = 0;
  for (const char* heading : {"# Integration plan: acme-payments", "## Assumptions", "## 1. Auth Method",
                              "## 2. Endpoint Specs", "## 3. Data Mapping", "## 4. Retry Logic",
                              "## 5. Failure Modes", "## 6. Phase 1 vs Phase 2 Plan"}) {
    const auto found = r.output.find(heading, at);
    ASSERT_NE(found, std::string::npos) << heading;
    at = found;
  }
  // The secret is shown by reference only.
  EXPECT_NE(r.output.find("`env:ACMEPAY_API_KEY`"), std::string::npos);
}

TEST(cli_render, writes_the_file_with_o_and_rejects_bad_plans) {
  test::temp_dir dir;
  const auto out = dir / "plan.md";
  const auto r = test::run_shell(::planproof::test::planproof_executable() + " render '" +
                                 (scenarios / "payments.plan.yaml").string() + "' -o '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(test::read_file(out).find("## 5. Failure Modes"), std::string::npos);

  {
    std::ofstream bad(dir / "bad.plan.yaml");
    bad << "planproof: 1\nintegration: {name: x}\n";
  }
  const auto bad = test::run_shell(::planproof::test::planproof_executable() + " render '" + (dir / "bad.plan.yaml").string() + "'");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.plan.yaml:"), std::string::npos) << bad.output;
  EXPECT_EQ(test::run_shell(::planproof::test::planproof_executable() + " render").exit_code, 2);
}

}  // namespace
}  // namespace planproof
