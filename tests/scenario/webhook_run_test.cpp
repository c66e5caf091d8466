// Inbound webhooks in a live run: the mock delivers as the provider, with the failure mode's
// webhook faults, to the receiver the plan describes, and processed_exactly_once,
// rejects_bad_signatures and mapping_valid judge what the receiver did. Each case is paired with
// the plan weakened the way an author could get it wrong, which must break the same expectation.
#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "plan/loader.hpp"
#include "scenario/runner.hpp"
#include "support/process.hpp"

namespace planproof::scenario {
namespace {

// `receiver` is the inbound endpoint's settings past its path; `modes` the failure modes.
plan::integration_plan webhook_plan(const std::filesystem::path& dir, const std::string& receiver,
                                    const std::string& modes) {
  return plan::load_string(R"(planproof: 1
integration: {name: webhook-run-check}
auth: {method: none}
endpoints:
  - id: events
    direction: inbound
    path: /hooks/events
)" + receiver + R"(
    request:
      schema:
        type: object
        required: [id, type, data]
        properties:
          id: {type: string}
          type: {type: string}
          data: {type: object, required: [order], properties: {order: {type: string}}}
      example: {id: evt_example, type: order.paid, data: {order: ord_1}}
    response: {status: 200}
    statuses: {success: [200], fatal: [400, 401]}
  - id: get_order
    path: /v1/orders/1
    response: {status: 200, example: {id: ord_1}}
    statuses: {success: [200]}
retry: {max_attempts: 2, backoff: {base: 10ms, max: 20ms}, retry_on: [503], dead_letter: {path: )" +
                               (dir / "dead.jsonl").string() + R"(}}
traffic:
  endpoint: get_order
  rate: 5/s
  concurrency: 2
  duration: 2s
  webhooks: [{endpoint: events, rate: 20/s}]
failure_modes:
)" + modes,
                           "plan.yaml");
}

const std::string signed_receiver = R"(    signature: {scheme: hmac-sha256, header: Hook-Signature, secret: env:PLANPROOF_WEBHOOK_RUN_TEST_SECRET,
                tolerance: 5m, timestamp_header: Hook-Timestamp}
    dedup_key: id)";

// The run's one failure mode, by value: the run is a temporary.
failure_mode_result only(const run_result& run) {
  if (run.failure_modes.size() != 1) throw std::runtime_error("expected one failure mode");
  return run.failure_modes.front();
}

const expectation_result* find(const failure_mode_result& mode, std::string_view name) {
  for (const auto& e : mode.expectations) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

run_result run(const plan::integration_plan& plan) {
  run_options options;
  options.time_scale = test::stretched(0.1);
  return run_live(plan, options);
}

constexpr const char* duplicates = R"(  - id: duplicates
    inject: {fault: duplicate_delivery, endpoint: events, copies: 2}
    expect: {processed_exactly_once: true}
)";

TEST(webhook_run, duplicates_are_processed_once_when_the_receiver_deduplicates) {
  test::temp_dir dir;
  const auto mode = only(run(webhook_plan(dir.path(), signed_receiver, duplicates)));
  ASSERT_EQ(mode.outcome, verdict::held) << mode.reason;
  const auto& w = mode.metrics.webhooks;
  EXPECT_GT(w.events, 0u);
  EXPECT_EQ(w.processed_once, w.events);
  EXPECT_EQ(w.processed_again, 0u);
  EXPECT_GE(w.duplicates_dropped, w.events) << "every event came twice: the copy was acknowledged, not processed";
  const auto* e = find(mode, "processed_exactly_once");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->held) << e->observed;
}

TEST(webhook_run, duplicates_without_a_dedup_key_are_processed_twice_and_reported_broken) {
  test::temp_dir dir;
  const auto no_dedup = R"(    signature: {scheme: hmac-sha256, header: Hook-Signature, secret: env:PLANPROOF_WEBHOOK_RUN_TEST_SECRET,
                tolerance: 5m, timestamp_header: Hook-Timestamp})";
  const auto mode = only(run(webhook_plan(dir.path(), no_dedup, duplicates)));
  ASSERT_EQ(mode.outcome, verdict::broken) << "reason: " << mode.reason;
  const auto* e = find(mode, "processed_exactly_once");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->held);
  EXPECT_GT(mode.metrics.webhooks.processed_again, 0u);
  ASSERT_FALSE(e->evidence.empty()) << "the events processed twice are named";
  EXPECT_NE(e->evidence.front().what.find("evt_"), std::string::npos) << e->evidence.front().what;
}

constexpr const char* stale = R"(  - id: stale
    inject: {fault: bad_signature, endpoint: events, kind: stale_timestamp, age: 10m, probability: 0.5}
    expect: {rejects_bad_signatures: true, processed_exactly_once: true}
)";

TEST(webhook_run, stale_signatures_are_rejected_and_the_events_still_processed_once) {
  test::temp_dir dir;
  const auto mode = only(run(webhook_plan(dir.path(), signed_receiver, stale)));
  ASSERT_EQ(mode.outcome, verdict::held) << mode.reason;
  const auto& w = mode.metrics.webhooks;
  EXPECT_GT(w.bad_signatures, 0u);
  EXPECT_EQ(w.bad_signatures_accepted, 0u);
}

TEST(webhook_run, a_tolerance_longer_than_the_replay_accepts_it_and_is_reported_broken) {
  test::temp_dir dir;
  std::string lax = signed_receiver;
  lax.replace(lax.find("tolerance: 5m"), 13, "tolerance: 1h");
  const auto mode = only(run(webhook_plan(dir.path(), lax, stale)));
  ASSERT_EQ(mode.outcome, verdict::broken) << "reason: " << mode.reason;
  const auto* e = find(mode, "rejects_bad_signatures");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->held);
  EXPECT_GT(mode.metrics.webhooks.bad_signatures_accepted, 0u);
}

// A dedup key at a path the events do not have: the receiver cannot tell a copy from an event, so
// it refuses every delivery as unusable (400) and none is processed.
TEST(webhook_run, events_without_the_dedup_key_are_refused_and_break_mapping_valid) {
  test::temp_dir dir;
  std::string wrong_key = signed_receiver;
  wrong_key.replace(wrong_key.find("dedup_key: id"), 13, "dedup_key: data.event_id");
  const auto mode = only(run(webhook_plan(dir.path(), wrong_key, R"(  - id: duplicates
    inject: {fault: duplicate_delivery, endpoint: events, copies: 2}
    expect: {mapping_valid: true, processed_exactly_once: true}
)")));
  ASSERT_EQ(mode.outcome, verdict::broken) << "reason: " << mode.reason;
  const auto* e = find(mode, "mapping_valid");
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->held);
  EXPECT_GT(mode.metrics.webhooks.unusable, 0u);
  ASSERT_FALSE(e->evidence.empty());
  EXPECT_NE(e->evidence.front().what.find("no data.event_id in the event"), std::string::npos)
      << e->evidence.front().what;
  const auto* once = find(mode, "processed_exactly_once");
  ASSERT_NE(once, nullptr);
  EXPECT_FALSE(once->held);
  EXPECT_EQ(mode.metrics.webhooks.processed, 0u);
}

}  // namespace
}  // namespace planproof::scenario
