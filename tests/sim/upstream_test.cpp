#include "sim/upstream.hpp"

#include <gtest/gtest.h>

#include "plan/loader.hpp"

namespace planproof::sim {
namespace {

using namespace std::chrono_literals;

plan::integration_plan writes(std::string_view faults, bool keyed) {
  return plan::load_string(std::string(R"(planproof: 1
integration: {name: upstream-model}
auth: {method: none}
endpoints:
  - id: create
    method: POST
    path: /v1/things
)") + (keyed ? "    idempotency: {header: Idempotency-Key}\n" : "") +
                               R"(    response: {example: {id: t1}}
    statuses: {success: [201]}
retry: {max_attempts: 3, retry_on: [429, 503, connection_error]}
traffic: {endpoint: create, rate: 10/s, duration: 10s}
failure_modes:
  - id: f
    inject: )" + std::string(faults) + "\n",
                           "plan.yaml");
}

TEST(upstream_model, answers_a_status_fault_with_its_retry_after_in_whole_seconds_rounded_up) {
  const auto plan = writes("{fault: status, status: 429, retry_after: 1500ms}", false);
  upstream_model up(plan, plan.failure_modes[0].inject, {}, {});
  const auto a = up.on_request(0, {}, 0, 1);
  EXPECT_EQ(a.status, 429);
  ASSERT_TRUE(a.retry_after);
  EXPECT_EQ(*a.retry_after, 2s);
  EXPECT_EQ(up.side_effects(), 0u);  // turned away in front of the backend
  EXPECT_EQ(up.faults_injected().at("status"), 1u);
}

TEST(upstream_model, a_write_that_reached_the_backend_twice_without_a_key_is_a_duplicate_effect) {
  const auto plan = writes("{fault: reset, first: 1}", false);
  upstream_model up(plan, plan.failure_modes[0].inject, {}, {});
  const auto reset = up.on_request(0, {}, 0, 1);
  EXPECT_EQ(reset.error, core::error_class::reset);
  const auto retried = up.on_request(0, core::time_point{} + 1s, 0, 1);
  EXPECT_EQ(retried.status, 201);
  EXPECT_EQ(up.side_effects(), 2u);
  EXPECT_EQ(up.duplicate_effects(), 1u);
  ASSERT_EQ(up.duplicates().size(), 1u);
  EXPECT_EQ(up.duplicates()[0].first, 1u);
}

TEST(upstream_model, an_idempotency_key_turns_the_retry_into_a_replay) {
  const auto plan = writes("{fault: reset, first: 1}", true);
  upstream_model up(plan, plan.failure_modes[0].inject, {}, {});
  up.on_request(0, {}, 0, 1);
  up.on_request(0, core::time_point{} + 1s, 0, 1);
  EXPECT_EQ(up.side_effects(), 1u);
  EXPECT_EQ(up.duplicate_effects(), 0u);
  // Once the request has ended its key is let go: memory follows the requests in flight.
  up.on_request_ended(1);
  up.on_request(0, core::time_point{} + 2s, 0, 2);
  EXPECT_EQ(up.side_effects(), 2u);
}

TEST(upstream_model, a_hang_has_no_answer_and_latency_delays_the_normal_one) {
  const auto plan = writes("[{fault: hang, first: 1}, {fault: latency, latency: 250ms, first: 2}]", false);
  upstream_model up(plan, plan.failure_modes[0].inject, {}, {.network_delay = 1ms});
  EXPECT_TRUE(up.on_request(0, {}, 0, 1).hangs);
  const auto slow = up.on_request(0, {}, 0, 2);
  EXPECT_FALSE(slow.hangs);
  EXPECT_EQ(slow.status, 201);
  EXPECT_EQ(slow.after, 251ms);
}

}  // namespace
}  // namespace planproof::sim
