// The traffic section: its profiles, the keys each takes, a failure mode's own traffic merged over
// the plan's, --set, the bound on planned requests, and how render and lint read it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan/lint.hpp"
#include "plan/render.hpp"
#include "plan_test_support.hpp"

namespace planproof::plan {
namespace {

using test_support::load_small;
using test_support::small_errors;
using test_support::with_sets;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(traffic, constant_is_the_default_profile) {
  const auto plan = load_small("traffic: {endpoint: e, rate: 20/s, concurrency: 4, duration: 60s}");
  EXPECT_EQ(plan.traffic.profile, traffic_profile::constant);
  EXPECT_EQ(plan.traffic.rate, 20);
  EXPECT_EQ(plan.traffic.concurrency, 4);
  EXPECT_EQ(plan.traffic.duration, 60s);
  EXPECT_FALSE(plan.failure_modes[0].traffic);
  EXPECT_EQ(&plan.traffic_for(plan.failure_modes[0]), &plan.traffic);
}

TEST(traffic, each_profile_reads_its_keys) {
  const auto ramp = load_small("traffic: {endpoint: e, profile: ramp, from: 2/s, rate: 20/s, duration: 60s}");
  EXPECT_EQ(ramp.traffic.profile, traffic_profile::ramp);
  EXPECT_EQ(ramp.traffic.from, 2);
  EXPECT_EQ(ramp.traffic.rate, 20);

  const auto burst = load_small(R"(traffic:
  endpoint: e
  profile: burst
  rate: 20/s
  burst: {rate: 200/s, every: 20s, length: 2s, at: 5s}
  duration: 60s
)");
  EXPECT_EQ(burst.traffic.profile, traffic_profile::burst);
  EXPECT_EQ(burst.traffic.burst.rate, 200);
  EXPECT_EQ(burst.traffic.burst.every, 20s);
  EXPECT_EQ(burst.traffic.burst.length, 2s);
  EXPECT_EQ(burst.traffic.burst.at, 5s);
  // The first burst starts at traffic start unless `at` says otherwise.
  EXPECT_EQ(load_small("traffic: {endpoint: e, profile: burst, rate: 1/s, burst: {rate: 5/s, every: 10s, length: 1s}, "
                       "duration: 60s}")
                .traffic.burst.at,
            0s);

  const auto closed = load_small("traffic: {endpoint: e, profile: closed_loop, think_time: 100ms, concurrency: 3, "
                                 "duration: 10s}");
  EXPECT_EQ(closed.traffic.profile, traffic_profile::closed_loop);
  EXPECT_EQ(closed.traffic.think_time, 100ms);
  EXPECT_EQ(closed.traffic.concurrency, 3);
  // No rate needed; one written is read (and ignored: lint says so).
  EXPECT_EQ(load_small("traffic: {endpoint: e, profile: closed_loop, rate: 5/s, duration: 10s}").traffic.rate, 5);
}

TEST(traffic, concurrency_is_capped) {
  EXPECT_EQ(load_small("traffic: {endpoint: e, rate: 20/s, concurrency: 10000, duration: 60s}").traffic.concurrency,
            10000);
  EXPECT_THAT(small_errors("traffic: {endpoint: e, rate: 20/s, concurrency: 10001, duration: 60s}"),
              ElementsAre(HasSubstr("expected an integer from 1 to 10000")));
}

TEST(traffic, a_key_of_another_profile_is_an_error_naming_the_profile) {
  EXPECT_THAT(small_errors("traffic: {endpoint: e, from: 2/s, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:24: error: traffic: key 'from' does not belong to profile constant (the "
                          "default); only ramp takes it"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: ramp, from: 2/s, think_time: 1s, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:50: error: traffic: key 'think_time' does not belong to profile ramp; only "
                          "closed_loop takes it"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: closed_loop, burst: {rate: 1/s}, duration: 60s}"),
              ElementsAre("plan.yaml:8:46: error: traffic: key 'burst' does not belong to profile closed_loop; "
                          "only burst takes it"));
}

TEST(traffic, each_profile_requires_its_keys) {
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: ramp, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:10: error: traffic: missing required key 'from'"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: burst, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:10: error: traffic: missing required key 'burst'"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: burst, rate: 20/s, burst: {every: 5s}, duration: 60s}"),
              ElementsAre("plan.yaml:8:59: error: traffic.burst: missing required key 'rate'",
                          "plan.yaml:8:59: error: traffic.burst: missing required key 'length'"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: constant, duration: 60s}"),
              ElementsAre("plan.yaml:8:10: error: traffic: missing required key 'rate'"));
}

TEST(traffic, values_are_typed_and_checked_together) {
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: rampe, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:33: error: traffic.profile: unknown traffic profile 'rampe'; did you mean "
                          "'ramp'? (known: constant, ramp, burst, closed_loop)"));
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: ramp, from: 0/s, rate: 20/s, duration: 60s}"),
              ElementsAre("plan.yaml:8:45: error: traffic.from: expected a rate such as 20/s or 600/m, got '0/s'"));
  EXPECT_THAT(
      small_errors("traffic: {endpoint: e, profile: closed_loop, think_time: soon, duration: 60s}"),
      ElementsAre("plan.yaml:8:58: error: traffic.think_time: expected a duration such as 250ms, 2s or 1m, got 'soon'"));
  const std::string burst = "traffic: {endpoint: e, profile: burst, rate: 20/s, duration: 60s, burst: ";
  EXPECT_THAT(small_errors(burst + "{rate: 200/s, every: 2s, length: 2s}}"),
              ElementsAre("plan.yaml:8:107: error: traffic.burst.length: a burst of 2s every 2s never ends: "
                          "length must be shorter than every"));
  EXPECT_THAT(small_errors(burst + "{rate: 20/s, every: 20s, length: 2s}}"),
              ElementsAre("plan.yaml:8:81: error: traffic.burst.rate: a burst of 20/s is not above the base rate "
                          "of 20/s (traffic.rate): it would be no burst"));
  EXPECT_THAT(small_errors(burst + "{rate: 200/s, every: 20s, length: 2s, at: 60s}}"),
              ElementsAre("plan.yaml:8:116: error: traffic.burst.at: the first burst at 1m starts after the traffic "
                          "ends (1m): there would be no burst"));
  EXPECT_THAT(small_errors(burst + "{rate: 200/s, every: 20s, length: 2s, size: 3}}"),
              ElementsAre(HasSubstr("plan.yaml:8:112: error: traffic.burst: unknown key 'size'")));
  // A broken base rate is reported once, not again as a burst below it.
  EXPECT_THAT(small_errors(burst + "{rate: 200/s, every: 20s, length: 2s}}", with_sets({"traffic.rate=lots"})),
              ElementsAre("--set: error: traffic.rate: expected a rate such as 20/s or 600/m, got 'lots'"));
}

TEST(traffic, a_section_planning_too_many_requests_is_refused) {
  EXPECT_THAT(small_errors("traffic: {endpoint: e, rate: 1000/s, duration: 1h}"),
              ElementsAre("plan.yaml:8:10: error: traffic: plans 3600000 requests over 1h, more than the 2000000 a "
                          "run may send: lower the rate or shorten the duration"));
  // The bound counts what the profile asks for: bursts included.
  EXPECT_THAT(small_errors("traffic: {endpoint: e, profile: burst, rate: 100/s, burst: {rate: 20000/s, every: 1m, "
                           "length: 30s}, duration: 5m}"),
              ElementsAre(HasSubstr("plan.yaml:8:10: error: traffic: plans 3015000 requests over 5m")));
  EXPECT_NO_THROW(load_small("traffic: {endpoint: e, rate: 1000/s, duration: 2000s}"));
}

TEST(traffic, a_failure_mode_merges_its_keys_over_the_plans_traffic) {
  const auto plan = load_small(R"(endpoints: [{id: e, path: /}, {id: other, path: /other}]
traffic: {endpoint: e, rate: 20/s, concurrency: 4, duration: 60s}
failure_modes:
  - id: plain
    inject: {fault: hang}
  - id: faster
    inject: {fault: hang}
    traffic: {rate: 50/s}
  - id: bursty
    inject: {fault: hang}
    traffic: {endpoint: other, profile: burst, burst: {rate: 200/s, every: 20s, length: 2s}}
)");
  EXPECT_FALSE(plan.failure_modes[0].traffic);
  ASSERT_TRUE(plan.failure_modes[1].traffic);
  const auto& faster = *plan.failure_modes[1].traffic;
  EXPECT_EQ(faster.rate, 50);
  EXPECT_EQ(faster.concurrency, 4);
  EXPECT_EQ(faster.duration, 60s);
  EXPECT_EQ(faster.endpoint, "e");
  EXPECT_EQ(&plan.traffic_for(plan.failure_modes[1]), &faster);
  const auto& bursty = *plan.failure_modes[2].traffic;
  EXPECT_EQ(bursty.endpoint, "other");
  EXPECT_EQ(bursty.profile, traffic_profile::burst);
  EXPECT_EQ(bursty.rate, 20);  // the plan's, as the base rate
  EXPECT_EQ(bursty.burst.rate, 200);
  // The plan-wide traffic is untouched.
  EXPECT_EQ(plan.traffic.rate, 20);
  EXPECT_EQ(plan.traffic.profile, traffic_profile::constant);
}

TEST(traffic, a_failure_mode_naming_another_profile_leaves_the_plans_profile_keys_behind) {
  const auto plan = load_small(R"(traffic: {endpoint: e, profile: ramp, from: 2/s, rate: 20/s, duration: 60s}
failure_modes:
  - id: steady
    inject: {fault: hang}
    traffic: {profile: constant}
  - id: closed
    inject: {fault: hang}
    traffic: {profile: closed_loop, think_time: 10ms}
)");
  EXPECT_EQ(plan.failure_modes[0].traffic->profile, traffic_profile::constant);
  EXPECT_EQ(plan.failure_modes[0].traffic->rate, 20);
  EXPECT_EQ(plan.failure_modes[1].traffic->profile, traffic_profile::closed_loop);
  EXPECT_EQ(plan.failure_modes[1].traffic->think_time, 10ms);
  // ...and a closed loop the plan's rate, so that lint has nothing to say about it.
  EXPECT_FALSE(plan.has("failure_modes[1].traffic.rate"));
  for (const auto& d : lint(plan)) EXPECT_NE(d.rule, "traffic-rate-ignored") << d.str();
}

TEST(traffic, errors_in_a_failure_modes_traffic_are_located_there) {
  EXPECT_THAT(small_errors(R"(failure_modes:
  - id: f
    inject: {fault: hang}
    traffic: {from: 2/s, duration: forever}
)"),
              ElementsAre("plan.yaml:11:15: error: failure_modes[0].traffic: key 'from' does not belong to profile "
                          "constant (the default); only ramp takes it",
                          "plan.yaml:11:36: error: failure_modes[0].traffic.duration: expected a duration such as "
                          "250ms, 2s or 1m, got 'forever'"));
  EXPECT_THAT(small_errors(R"(failure_modes:
  - id: f
    inject: {fault: hang}
    traffic: {profile: ramp, endpont: e}
)"),
              ElementsAre("plan.yaml:11:14: error: failure_modes[0].traffic: missing required key 'from'",
                          "plan.yaml:11:30: error: failure_modes[0].traffic: unknown key 'endpont'; did you mean "
                          "'endpoint'?"));
  EXPECT_THAT(small_errors(R"(failure_modes:
  - id: f
    inject: {fault: hang}
    traffic: 20/s
)"),
              ElementsAre("plan.yaml:11:14: error: failure_modes[0].traffic: expected a map, got '20/s'"));
  // A broken plan-wide traffic is reported once, not again for the failure mode merging into it.
  EXPECT_THAT(small_errors(R"(traffic: {endpoint: e, rate: fast, duration: 1s}
failure_modes:
  - id: f
    inject: {fault: hang}
    traffic: {concurrency: 2}
)"),
              ElementsAre("plan.yaml:8:30: error: traffic.rate: expected a rate such as 20/s or 600/m, got 'fast'"));
}

TEST(traffic, set_switches_profiles_and_overrides_one_failure_mode) {
  const auto ramp = load_small("", with_sets({"traffic.profile=ramp", "traffic.from=1/s", "traffic.rate=4/s"}));
  EXPECT_EQ(ramp.traffic.profile, traffic_profile::ramp);
  EXPECT_EQ(ramp.traffic.from, 1);
  EXPECT_EQ(ramp.traffic.rate, 4);
  const auto burst = load_small("", with_sets({"traffic.profile=burst", "traffic.burst={rate: 9/s, every: 1s, length: 100ms}"}));
  EXPECT_EQ(burst.traffic.burst.length, 100ms);
  // The plan writes a rate, which closed_loop reads and ignores: the switch works.
  EXPECT_EQ(load_small("", with_sets({"traffic.profile=closed_loop"})).traffic.profile, traffic_profile::closed_loop);
  EXPECT_THAT(test_support::errors_of(test_support::small_plan(""), with_sets({"traffic.profile=ramp"})),
              ElementsAre("plan.yaml:6:10: error: traffic: missing required key 'from'"));
  const auto mode = load_small("", with_sets({"failure_modes.f.traffic.rate=3/s"}));
  ASSERT_TRUE(mode.failure_modes[0].traffic);
  EXPECT_EQ(mode.failure_modes[0].traffic->rate, 3);
  EXPECT_EQ(mode.traffic.rate, 1);
}

TEST(traffic, render_says_the_profile_in_words) {
  auto rendered = [](std::string_view traffic) { return render_markdown(load_small(traffic)); };
  EXPECT_THAT(rendered("traffic: {endpoint: e, rate: 20/s, concurrency: 8, duration: 60s}"),
              HasSubstr("Planned traffic: 20/s to `e`, at most 8 in flight, for 1m."));
  EXPECT_THAT(rendered("traffic: {endpoint: e, profile: ramp, from: 2/s, rate: 20/s, duration: 60s}"),
              HasSubstr("Planned traffic: ramp from 2/s to 20/s over 1m to `e`, at most 8 in flight."));
  EXPECT_THAT(rendered("traffic: {endpoint: e, profile: burst, rate: 20/s, burst: {rate: 200/s, every: 20s, length: 2s, "
                       "at: 5s}, duration: 60s}"),
              HasSubstr("Planned traffic: 20/s to `e` with bursts of 200/s for 2s every 20s from 5s, at most 8 in "
                        "flight, for 1m."));
  EXPECT_THAT(rendered("traffic: {endpoint: e, profile: closed_loop, concurrency: 4, think_time: 250ms, duration: 10s}"),
              HasSubstr("Planned traffic: closed loop to `e`: 4 workers, each sending its next request 250ms after its "
                        "last has ended, for 10s."));
  EXPECT_THAT(rendered("traffic: {endpoint: e, profile: closed_loop, duration: 10s}"),
              HasSubstr("each sending its next request as soon as its last has ended"));
  const auto mode = render_markdown(load_small(R"(failure_modes:
  - id: f
    inject: {fault: hang}
    traffic: {profile: ramp, from: 1/s, rate: 5/s}
)"));
  EXPECT_THAT(mode, HasSubstr("**Traffic in this failure mode:** ramp from 1/s to 5/s over 1s to `e`, at most 8 in flight"));
}

TEST(traffic, lint_judges_a_failure_modes_own_traffic) {
  const auto plan = load_small(R"(endpoints: [{id: e, path: /, rate_limit: 50/s}]
traffic: {endpoint: e, rate: 10/s, duration: 60s}
failure_modes:
  - id: steady
    inject: {fault: hang}
  - id: spiky
    inject: {fault: hang, during: [30s, 40s]}
    traffic: {profile: burst, burst: {rate: 80/s, every: 10s, length: 1s}, duration: 20s}
)");
  std::vector<std::string> found;
  for (const auto& d : lint(plan)) {
    if (d.rule == "traffic-exceeds-rate-limit" || d.rule == "fault-inert") found.push_back(d.str());
  }
  EXPECT_THAT(found, ElementsAre(HasSubstr("plan.yaml:14:5: error: the hang fault of spiky starts at 30s, after the "
                                           "traffic ends (20s)"),
                                 "plan.yaml:15:45: error: failure mode spiky: traffic sends 80/s at its peak (burst) "
                                 "to e, above its documented limit of 50/s [traffic-exceeds-rate-limit]"));
}

// The fixture with every profile (the schema check validates it too).
TEST(traffic, the_fixture_with_every_profile_loads_lints_and_renders) {
  const auto plan = load_string(test_support::read_fixture("traffic_profiles.plan.yaml"), "traffic_profiles.plan.yaml");
  EXPECT_EQ(plan.traffic.profile, traffic_profile::ramp);
  EXPECT_EQ(plan.traffic.from, 2);
  ASSERT_EQ(plan.failure_modes.size(), 4u);
  EXPECT_FALSE(plan.failure_modes[0].traffic);
  EXPECT_EQ(plan.failure_modes[1].traffic->profile, traffic_profile::burst);
  EXPECT_EQ(plan.failure_modes[1].traffic->endpoint, "create_order");
  EXPECT_EQ(plan.failure_modes[2].traffic->endpoint, "get_order");
  EXPECT_EQ(plan.failure_modes[2].traffic->duration, 30s);
  EXPECT_EQ(plan.failure_modes[3].traffic->profile, traffic_profile::closed_loop);
  EXPECT_EQ(plan.failure_modes[3].traffic->concurrency, 4);
  EXPECT_EQ(plan.failure_modes[3].traffic->duration, 60s);
  for (const auto& d : lint(plan)) {
    EXPECT_TRUE(d.rule.find("traffic") == std::string::npos && d.rule != "fault-inert") << d.str();
  }
  const auto md = render_markdown(plan);
  EXPECT_THAT(md, HasSubstr("Planned traffic: ramp from 2/s to 20/s over 1m to `create_order`, at most 8 in flight."));
  EXPECT_THAT(md, HasSubstr("**Traffic in this failure mode:** closed loop to `create_order`: 4 workers"));
}

}  // namespace
}  // namespace planproof::plan
