// `planproof new`: the skeleton loads, renders with all six sections, and never clobbers a file.
#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/paths.hpp"

namespace planproof {
namespace {

test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && " + ::planproof::test::planproof_executable() + " " + args);
}

TEST(cli_new, skeleton_loads_and_renders_every_section) {
  test::temp_dir dir;
  const auto r = planproof(dir, "new acme-crm --system 'Acme \"CRM\"'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto text = test::read_file(dir / "acme-crm.plan.yaml");
  EXPECT_NE(text.find("key: env:ACME_CRM_API_KEY"), std::string::npos) << text;

  const auto rendered = planproof(dir, "render acme-crm.plan.yaml");
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  EXPECT_NE(rendered.output.find("| External system | Acme \"CRM\" |"), std::string::npos) << rendered.output;
  for (const char* heading : {"## 1. Auth Method", "## 2. Endpoint Specs", "## 3. Data Mapping", "## 4. Retry Logic",
                              "## 5. Failure Modes", "## 6. Phase 1 vs Phase 2 Plan"}) {
    EXPECT_NE(rendered.output.find(heading), std::string::npos) << heading;
  }
  EXPECT_NE(rendered.output.find("`item.external_id`"), std::string::npos);
}

TEST(cli_new, refuses_to_overwrite_without_force) {
  test::temp_dir dir;
  ASSERT_EQ(planproof(dir, "new a").exit_code, 0);
  const auto again = planproof(dir, "new a");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("exists"), std::string::npos) << again.output;
  EXPECT_EQ(planproof(dir, "new a --force").exit_code, 0);
  EXPECT_EQ(planproof(dir, "new 'a/b'").exit_code, 2);
  EXPECT_EQ(planproof(dir, "new").exit_code, 2);
  const auto out = planproof(dir, "new b -o -");
  EXPECT_EQ(out.exit_code, 0);
  EXPECT_NE(out.output.find("planproof: 1"), std::string::npos);
}

}  // namespace
}  // namespace planproof
