// --time-scale keeps verdicts: the same short plan (an outage the circuit breaker must survive and
// recover from, and fatal answers the plan's success rate cannot absorb) judged the same, expectation
// by expectation, in real time and at 0.2 and 0.1. bench/time_scale_study.sh measures it on the
// example plans.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <vector>

#include <boost/json/parse.hpp>

#include "payment_endpoint.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

// Two seconds of traffic per failure mode. The outage is 700ms long, the breaker opens within it,
// fails fast, and closes again within half a second of its end; one request in five of a second
// gets a 400, which nothing retries.
const std::string short_plan = test::with_payment_endpoint(R"(planproof: 1
integration: {name: time-scale-check}
auth: {method: none}
)", R"(retry:
  max_attempts: 4
  backoff: {strategy: exponential, base: 100ms, max: 1s, jitter: none}
  retry_on: [503]
  timeouts: {connect: 1s, read: 1s, total: 5s}
  circuit_breaker: {window: count, size: 20, failure_rate: 50%, min_calls: 10, open_for: 500ms, half_open_calls: 2}
  dead_letter: {path: dead.jsonl}
traffic: {endpoint: create, rate: 40/s, concurrency: 8, duration: 2s}
failure_modes:
  - id: outage
    inject: {fault: status, status: 503, during: [500ms, 1200ms]}
    expect: {breaker_opens: true, fails_fast: true, recovers_within: "<= 1s"}
  - id: bad_requests
    inject: {fault: status, status: 400, probability: 0.2, during: [500ms, 1500ms]}
    expect: {success_rate: ">= 0.99", max_attempts: "<= 4"}
)");

// failure mode -> its verdict, then each expectation's name and whether it held.
using verdicts = std::map<std::string, std::vector<std::string>>;

verdicts run_at(const test::temp_dir& dir, const std::string& scale, std::string& output) {
  const auto report = "report-" + scale + ".json";
  const auto r = test::run_shell("cd '" + dir.path().string() + "' && " + test::planproof_executable() +
                                 " run short.plan.yaml --time-scale " + scale + " --json " + report);
  output = r.output;
  EXPECT_EQ(r.exit_code, 1) << "at time scale " << scale << ":\n" << r.output;
  verdicts out;
  const auto json = boost::json::parse(test::read_file(dir / report));
  for (const auto& f : json.at("failure_modes").as_array()) {
    auto& row = out[std::string(f.at("id").as_string())];
    row.emplace_back(f.at("verdict").as_string());
    for (const auto& e : f.at("expectations").as_array()) {
      row.push_back(std::string(e.at("name").as_string()) + (e.at("held").as_bool() ? " held" : " failed"));
    }
  }
  return out;
}

TEST(cli_time_scale, verdicts_are_the_same_unscaled_and_at_a_fifth_and_a_tenth) {
  test::temp_dir dir;
  {
    std::ofstream plan(dir / "short.plan.yaml");
    plan << short_plan;
  }
  std::string output;
  const auto real_time = run_at(dir, "1", output);
  // What the plan makes of its faults in real time: the breaker carries the outage, the 400s break it.
  const verdicts expected{
      {"outage", {"held", "breaker_opens held", "fails_fast held", "recovers_within held", "lost held"}},
      {"bad_requests", {"broken", "success_rate failed", "max_attempts held", "lost held"}}};
  ASSERT_EQ(real_time, expected) << output;
  for (const std::string scale : {"0.2", "0.1"}) {
    EXPECT_EQ(run_at(dir, scale, output), expected) << "at time scale " << scale << ":\n" << output;
  }
}

// The sanitizer presets stretch the time scales the tests ask for; what a test's command line says
// is what the run gets when nothing stretches it.
TEST(test_time_stretch, multiplies_every_time_scale_up_to_real_time_and_leaves_the_rest) {
  EXPECT_EQ(test::with_stretched_time_scales("run p --time-scale 0.05 --json r", 1), "run p --time-scale 0.05 --json r");
  const auto stretched = test::with_stretched_time_scales(
      "run 'p' --time-scale 0.05 --only a; run p --time-scale 0.5 && run p --time-scale 2 --time-scale fast --time-scale 0",
      4);
  EXPECT_EQ(std::stod(test::stretched_time_scale(0.05, 4)), 0.2);
  EXPECT_EQ(stretched, "run 'p' --time-scale " + test::stretched_time_scale(0.05, 4) +
                           " --only a; run p --time-scale 1 && run p --time-scale 2 --time-scale fast --time-scale 0");
}

}  // namespace
}  // namespace planproof
