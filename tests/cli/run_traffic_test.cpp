// End to end: `planproof run` sends each traffic profile (constant, ramp, burst, closed loop), a
// failure mode's own traffic applies to that failure mode only, and the report says what ran.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

test::process_result planproof(const test::temp_dir& dir, const std::string& args) {
  return test::run_shell("cd '" + dir.path().string() + "' && " + ::planproof::test::planproof_executable() + " " + args);
}

// One endpoint answering at once (a 1 ms latency fault that never ends, so peak_upstream_rate
// counts the whole run) or after 100 ms; 6 s of plan time, 0.6 s at --time-scale 0.1.
void write_plan(const test::temp_dir& dir) {
  std::ofstream plan(dir / "traffic.plan.yaml");
  plan << R"(planproof: 1
integration: {name: traffic}
auth: {method: none}
endpoints:
  - id: items
    method: GET
    path: /v1/items
    response: {example: {id: itm_1}}
    statuses: {success: [200]}
  - id: other
    method: GET
    path: /v1/other
    response: {example: {id: oth_1}}
    statuses: {success: [200]}
retry: {max_attempts: 1, dead_letter: {path: dead.jsonl}}
traffic: {endpoint: items, rate: 10/s, concurrency: 32, duration: 6s}
failure_modes:
  - id: steady
    inject: {fault: latency, latency: 1ms}
    expect: {peak_upstream_rate: "<= 100/s"}
  - id: bursty
    inject: {fault: latency, latency: 1ms}
    traffic: {profile: burst, burst: {rate: 400/s, every: 10s, length: 2s, at: 2s}}
    expect: {peak_upstream_rate: "<= 100/s"}
  - id: elsewhere
    inject: {fault: latency, latency: 1ms}
    traffic: {endpoint: other, rate: 5/s}
  - id: closed
    inject: {fault: latency, latency: 100ms}
    traffic: {profile: closed_loop, concurrency: 4, duration: 5s}
    expect: {success_rate: 1}
  - id: thinking
    inject: {fault: latency, latency: 100ms}
    traffic: {profile: closed_loop, concurrency: 4, duration: 5s, think_time: 400ms}
    expect: {success_rate: 1}
)";
}

boost::json::object failure_mode(const boost::json::value& report, std::string_view id) {
  for (const auto& f : report.at("failure_modes").as_array()) {
    if (f.at("id").as_string() == id) return f.as_object();
  }
  ADD_FAILURE() << "no failure mode " << id;
  return {};
}

std::int64_t metric(const boost::json::object& mode, std::string_view name) {
  return mode.at("metrics").at(name).as_int64();
}

// The burst pushes the peak to its own rate, over the expectation; the same expectation holds at
// the base rate. Only the bursty failure mode runs the burst: the plan's traffic is unchanged for the
// others, and the report shows the burst under that failure mode.
TEST(cli_run_traffic, a_burst_breaks_the_peak_rate_the_constant_base_rate_holds) {
  test::temp_dir dir;
  write_plan(dir);
  const auto r = planproof(dir, "run traffic.plan.yaml --time-scale 0.1 --only steady --only bursty --only elsewhere"
                                " --json report.json");
  ASSERT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL peak_upstream_rate: expected <= 100/s, observed"), std::string::npos) << r.output;

  const auto report = boost::json::parse(test::read_file(dir / "report.json"));
  const auto& settings = report.at("settings").at("traffic").as_object();
  EXPECT_EQ(settings.at("profile").as_string(), "constant");
  EXPECT_EQ(settings.at("rate_per_s").as_double(), 10.0);
  EXPECT_FALSE(settings.contains("burst"));

  const auto steady = failure_mode(report, "steady");
  EXPECT_EQ(steady.at("verdict").as_string(), "held");
  EXPECT_FALSE(steady.contains("traffic"));
  EXPECT_EQ(metric(steady, "planned"), 60);
  EXPECT_EQ(metric(steady, "requests"), 60);
  EXPECT_EQ(metric(steady, "lost"), 0);

  const auto bursty = failure_mode(report, "bursty");
  EXPECT_EQ(bursty.at("verdict").as_string(), "broken");
  // 10/s for 6 s, plus 390/s more from 2 s to 4 s.
  EXPECT_EQ(metric(bursty, "planned"), 840);
  EXPECT_EQ(metric(bursty, "requests"), 840);
  EXPECT_EQ(metric(bursty, "lost"), 0);
  const auto& traffic = bursty.at("traffic").as_object();
  EXPECT_EQ(traffic.at("profile").as_string(), "burst");
  EXPECT_EQ(traffic.at("endpoint").as_string(), "items");
  EXPECT_EQ(traffic.at("burst").at("rate_per_s").as_double(), 400.0);
  EXPECT_EQ(traffic.at("burst").at("at_ms").as_double(), 2000.0);

  // Another endpoint at another rate: what the mock received says it went there.
  const auto elsewhere = failure_mode(report, "elsewhere");
  EXPECT_EQ(elsewhere.at("verdict").as_string(), "held");
  EXPECT_EQ(elsewhere.at("traffic").at("endpoint").as_string(), "other");
  EXPECT_EQ(metric(elsewhere, "requests"), 30);
  EXPECT_EQ(elsewhere.at("metrics").at("attempt_results").at("200").as_int64(), 30);
}

// Closed loop: each worker sends its next request when its last has ended, so a 100 ms answer
// bounds it to 50 requests per worker in 5 s, and a 400 ms think time to 10; every request it
// submitted is planned, and none is lost.
TEST(cli_run_traffic, a_closed_loop_sends_back_to_back_and_loses_none) {
  test::temp_dir dir;
  write_plan(dir);
  const auto r = planproof(dir, "run traffic.plan.yaml --time-scale 0.1 --only closed --only thinking --json report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = boost::json::parse(test::read_file(dir / "report.json"));

  const auto closed = failure_mode(report, "closed");
  const auto sent = metric(closed, "requests");
  EXPECT_LE(sent, 4 * 50);
  EXPECT_GT(sent, 4 * 2) << "the workers did not go back to back";
  EXPECT_EQ(metric(closed, "planned"), sent);
  EXPECT_EQ(metric(closed, "succeeded"), sent);
  EXPECT_EQ(metric(closed, "lost"), 0);
  EXPECT_EQ(closed.at("traffic").at("profile").as_string(), "closed_loop");
  EXPECT_FALSE(closed.at("traffic").as_object().contains("rate_per_s"));

  const auto thinking = failure_mode(report, "thinking");
  EXPECT_LE(metric(thinking, "requests"), 4 * 10);
  EXPECT_GE(metric(thinking, "requests"), 4);
  EXPECT_EQ(metric(thinking, "planned"), metric(thinking, "requests"));
  EXPECT_EQ(metric(thinking, "lost"), 0);
  EXPECT_EQ(thinking.at("traffic").at("think_time_ms").as_double(), 400.0);
}

// --set switches the plan-wide profile, and changes one failure mode's traffic only.
TEST(cli_run_traffic, set_switches_the_profile_and_overrides_one_failure_mode) {
  test::temp_dir dir;
  write_plan(dir);
  // A ramp from 2/s to 10/s over 6 s plans (2 + 10) / 2 × 6 = 36 requests.
  const auto ramp = planproof(dir, "run traffic.plan.yaml --time-scale 0.1 --only steady --set traffic.profile=ramp"
                                   " --set traffic.from=2/s --json ramp.json");
  ASSERT_EQ(ramp.exit_code, 0) << ramp.output;
  const auto report = boost::json::parse(test::read_file(dir / "ramp.json"));
  EXPECT_EQ(report.at("settings").at("traffic").at("profile").as_string(), "ramp");
  EXPECT_EQ(report.at("settings").at("traffic").at("from_per_s").as_double(), 2.0);
  EXPECT_EQ(metric(failure_mode(report, "steady"), "requests"), 36);

  const auto one = planproof(dir, "run traffic.plan.yaml --time-scale 0.1 --only steady --only elsewhere"
                                  " --set failure_modes.steady.traffic.rate=20/s --json one.json");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto overridden = boost::json::parse(test::read_file(dir / "one.json"));
  EXPECT_EQ(metric(failure_mode(overridden, "steady"), "requests"), 120);
  EXPECT_EQ(failure_mode(overridden, "steady").at("traffic").at("rate_per_s").as_double(), 20.0);
  EXPECT_EQ(metric(failure_mode(overridden, "elsewhere"), "requests"), 30);
  EXPECT_EQ(overridden.at("settings").at("traffic").at("rate_per_s").as_double(), 10.0);
}

TEST(cli_run_traffic, bad_traffic_is_exit_2_with_where_and_why) {
  test::temp_dir dir;
  write_plan(dir);
  const auto profile = planproof(dir, "run traffic.plan.yaml --set traffic.profile=ramp");
  EXPECT_EQ(profile.exit_code, 2) << profile.output;
  EXPECT_NE(profile.output.find("traffic.plan.yaml:16:10: error: traffic: missing required key 'from'"), std::string::npos)
      << profile.output;
  const auto huge = planproof(dir, "run traffic.plan.yaml --set failure_modes.closed.traffic.profile=constant"
                                   " --set failure_modes.closed.traffic.rate=1000/s --set failure_modes.closed.traffic.duration=1h");
  EXPECT_EQ(huge.exit_code, 2) << huge.output;
  EXPECT_NE(huge.output.find("error: failure_modes[3].traffic: plans 3600000 requests over 1h, more than the 2000000 a run "
                             "may send"),
            std::string::npos)
      << huge.output;
}

}  // namespace
}  // namespace planproof
