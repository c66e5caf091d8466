// End to end: every fault kind the mocks inject, through the real client, judged by the verdicts.
// Each failure mode must hold, and the client must have seen the fault as what it is (the error
// class or status its attempts ended with): a fault that never reached the client proves nothing.
#include <filesystem>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

const std::string plan_file =
    (std::filesystem::path(::planproof::test::source_dir()) / "tests/cli/data/fault_catalog.plan.yaml").string();

test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && env -u ORDERS_API_KEY " +
                         ::planproof::test::planproof_executable() + " " + args);
}

const boost::json::object& mode(const boost::json::value& report, std::string_view id) {
  for (const auto& f : report.at("failure_modes").as_array()) {
    if (f.at("id").as_string() == id) return f.as_object();
  }
  throw std::runtime_error("no failure mode " + std::string(id));
}

std::int64_t count(const boost::json::object& m, std::string_view group, std::string_view key) {
  const auto* v = m.at("metrics").at(group).as_object().if_contains(key);
  return v == nullptr ? 0 : v->as_int64();
}

TEST(cli_fault_catalog, every_fault_kind_reaches_the_client_as_what_it_is) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run '" + plan_file + "' --time-scale 0.05 --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  EXPECT_EQ(report.at("summary").at("held").as_int64(), 9) << r.output;

  struct seen {
    const char* mode;
    const char* fault;       // faults_injected key
    const char* result;      // attempt_results key the fault must produce
    std::int64_t at_least;
  };
  // The client reports the fine classes (reset, read_timeout); the plan retries them as
  // connection_error and timeout.
  for (const auto& s : {seen{"resets", "reset", "reset", 20}, seen{"empty_replies", "empty_reply", "reset", 20},
                        seen{"cut_bodies", "close", "reset", 20}, seen{"slow_bodies", "slow_body", "read_timeout", 20},
                        seen{"broken_bodies", "malformed", "schema_error", 10}, seen{"broken_bodies", "malformed", "reset", 5},
                        seen{"drift", "schema_drift", "schema_error", 20}, seen{"throttled", "rate_limit", "429", 5},
                        seen{"flapping", "outage", "503", 10}, seen{"first_requests_fail", "status", "500", 20}}) {
    SCOPED_TRACE(s.mode);
    const auto& m = mode(report, s.mode);
    EXPECT_EQ(m.at("verdict").as_string(), "held");
    EXPECT_GE(count(m, "faults_injected", s.fault), s.at_least);
    EXPECT_GE(count(m, "attempt_results", s.result), s.at_least) << m.at("metrics");
    EXPECT_EQ(m.at("metrics").at("lost").as_int64(), 0);
  }
  // "Fail N times, then succeed" is exactly N.
  EXPECT_EQ(count(mode(report, "first_requests_fail"), "attempt_results", "500"), 20);
  // A rate-limited client waited as long as it was told.
  for (const auto& e : mode(report, "throttled").at("expectations").as_array()) {
    if (e.at("name").as_string() == "honors_retry_after") {
      EXPECT_TRUE(e.at("observed").as_bool());
    }
  }
}

TEST(cli_fault_catalog, not_retrying_connection_errors_is_reported_broken) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run '" + plan_file + "' --time-scale 0.05 --only resets --json report.json"
                                " --set 'retry.retry_on=[429, 500, 503, timeout, schema_error]'");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("BROKEN   resets"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("last reset"), std::string::npos) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto& m = mode(report, "resets");
  EXPECT_EQ(m.at("verdict").as_string(), "broken");
  EXPECT_GT(m.at("metrics").at("dead_lettered").as_int64(), 20);
  EXPECT_EQ(m.at("metrics").at("lost").as_int64(), 0);
}

TEST(cli_fault_catalog, retrying_writes_without_an_idempotency_key_duplicates_them) {
  test::temp_dir dir;
  const auto r = planproof(dir, "run '" + plan_file + "' --time-scale 0.05 --only resets --json report.json"
                                " --set traffic.endpoint=create_order_unkeyed");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL no_duplicate_effects: expected true, observed false"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(": applied again (answered)"), std::string::npos) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto& m = mode(report, "resets");
  EXPECT_GT(m.at("metrics").at("duplicate_effects").as_int64(), 20);
  EXPECT_EQ(report.at("summary").at("duplicate_effects"), m.at("metrics").at("duplicate_effects"));
  // With the key (the plan as written) nothing is applied twice.
  test::temp_dir keyed;
  const auto ok = planproof(keyed, "run '" + plan_file + "' --time-scale 0.05 --only resets --json report.json");
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  const auto ok_report = boost::json::parse(test::read_file(keyed / "report.json"));
  EXPECT_EQ(mode(ok_report, "resets").at("metrics").at("duplicate_effects").as_int64(), 0);
  EXPECT_GT(mode(ok_report, "resets").at("metrics").at("side_effects").as_int64(), 550);
}

}  // namespace
}  // namespace planproof
