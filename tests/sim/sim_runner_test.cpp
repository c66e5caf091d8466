#include "scenario/sim_runner.hpp"

#include <cstdlib>

#include <gtest/gtest.h>

#include "plan/loader.hpp"

namespace planproof::scenario {
namespace {

plan::integration_plan small(std::string_view retry, std::string_view modes, std::string_view traffic =
                                                                                 "{endpoint: get, rate: 20/s, duration: 20s}") {
  return plan::load_string(std::string(R"(planproof: 1
integration: {name: sim-check}
auth: {method: none}
endpoints:
  - id: get
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry: )") + std::string(retry) + "\ntraffic: " + std::string(traffic) + "\nfailure_modes:\n" + std::string(modes),
                           "plan.yaml");
}

const failure_mode_result& only(const run_result& run) {
  EXPECT_EQ(run.failure_modes.size(), 1u);
  return run.failure_modes.at(0);
}

TEST(sim, retries_hold_a_plan_and_one_attempt_breaks_it) {
  const std::string modes = R"(  - id: flaky
    inject: {fault: status, status: 503, probability: 0.2}
    expect: {success_rate: ">= 0.99", max_attempts: "<= 4"}
)";
  const auto held = run_sim(small("{max_attempts: 4, backoff: {base: 50ms, max: 1s}, retry_on: [503]}", modes), {});
  EXPECT_EQ(held.mode, "sim");
  const auto& h = only(held);
  EXPECT_EQ(h.outcome, verdict::held) << h.expectations.at(0).note << "; " << h.expectations.at(1).note;
  EXPECT_EQ(h.metrics.planned, 400u);
  EXPECT_EQ(h.metrics.lost, 0u);
  EXPECT_GT(h.metrics.attempts, h.metrics.submitted);  // it did retry
  EXPECT_EQ(h.metrics.upstream_requests, h.metrics.attempts);
  EXPECT_GT(h.metrics.faults_injected.at("status"), 0u);

  const auto broken = run_sim(small("{max_attempts: 1, retry_on: [503]}", modes), {});
  const auto& b = only(broken);
  EXPECT_EQ(b.outcome, verdict::broken);
  EXPECT_FALSE(b.expectations.at(0).held);
  EXPECT_EQ(b.metrics.lost, 0u);
  EXPECT_EQ(b.metrics.dead_lettered + b.metrics.succeeded, 400u);  // every request ended
}

TEST(sim, an_outage_opens_the_breaker_which_then_fails_fast_and_recovers) {
  const std::string modes = R"(  - id: outage
    inject: {fault: outage, status: 503, during: [5s, 10s]}
    expect: {breaker_opens: true, fails_fast: true, recovers_within: 10s}
)";
  const auto run = run_sim(small("{max_attempts: 2, backoff: {base: 100ms, max: 1s}, retry_on: [503], "
                                 "circuit_breaker: {window: count, size: 20, failure_rate: 50%, min_calls: 10, open_for: 2s}}",
                                 modes),
                           {});
  const auto& r = only(run);
  EXPECT_EQ(r.outcome, verdict::held) << r.expectations.at(0).note;
  EXPECT_GT(r.metrics.breaker_transitions, 0u);
  EXPECT_GT(r.metrics.end_reasons.at("breaker_open"), 0u);
}

TEST(sim, an_hour_at_twenty_requests_a_second_takes_no_real_time_and_loses_nothing) {
  const auto run = run_sim(small("{max_attempts: 3, backoff: {base: 100ms, max: 1s}, retry_on: [503, timeout]}",
                                 R"(  - id: hour
    inject: [{fault: status, status: 503, probability: 0.05}, {fault: hang, probability: 0.01}]
    expect: {success_rate: ">= 0.99"}
)",
                                 "{endpoint: get, rate: 20/s, duration: 1h}"),
                           {});
  const auto& r = only(run);
  EXPECT_EQ(r.metrics.planned, 72'000u);
  EXPECT_EQ(r.metrics.submitted, 72'000u);
  EXPECT_EQ(r.metrics.lost, 0u);
  EXPECT_EQ(r.outcome, verdict::held);
}

TEST(sim, closed_loop_traffic_keeps_its_workers_busy_until_the_duration_ends) {
  const auto run = run_sim(small("{max_attempts: 2, retry_on: [503]}",
                                 R"(  - id: loop
    inject: {fault: latency, latency: 100ms}
    expect: {success_rate: ">= 0.99"}
)",
                                 "{endpoint: get, profile: closed_loop, concurrency: 4, think_time: 0s, duration: 10s}"),
                           {}, {.network_delay = core::duration::zero()});
  const auto& r = only(run);
  // Four workers, each a request every 100 ms for 10 s.
  EXPECT_EQ(r.metrics.planned, 400u);
  EXPECT_EQ(r.metrics.lost, 0u);
}

TEST(sim, a_server_of_limited_capacity_queues_then_sheds_and_retries_make_it_worse) {
  auto overloaded = [](std::string_view retry) {
    auto plan = small(retry, R"(  - id: overload
    inject: {fault: latency, latency: 1ms}
    expect: {success_rate: ">= 0.99"}
)",
                      "{endpoint: get, rate: 100/s, concurrency: 1000, duration: 10s}");
    plan.sim.capacity = plan::sim_capacity{.workers = 2, .queue = 10, .service_time = std::chrono::milliseconds(25)};
    const auto run = run_sim(plan, {});
    return run.failure_modes.at(0);
  };
  // 100 requests a second against 80 a second of capacity: the queue fills and the rest is shed.
  const auto once = overloaded("{max_attempts: 1, retry_on: [503]}");
  EXPECT_GT(once.metrics.attempt_results.at("503"), 0u);
  EXPECT_GT(once.metrics.p50_latency_ms, 25.0);  // answers wait their turn
  EXPECT_EQ(once.outcome, verdict::broken);
  const auto retried = overloaded("{max_attempts: 5, backoff: {base: 10ms, max: 50ms, jitter: none}, retry_on: [503]}");
  // Retries add load to a server already past its capacity: more calls for each request.
  EXPECT_GT(static_cast<double>(retried.metrics.upstream_requests) / static_cast<double>(retried.metrics.submitted), 1.5);
  EXPECT_EQ(retried.metrics.lost, 0u);
}

// A provider posting signed events to the plan's receiver, with its faults, in virtual time.
plan::integration_plan inbound(std::string_view dedup_key, std::string_view modes) {
  ::setenv("SIM_HOOK_SECRET", "whsec_sim_test", 1);
  return plan::load_string(std::string(R"(planproof: 1
integration: {name: sim-webhooks}
auth: {method: none}
endpoints:
  - id: events
    direction: inbound
    path: /hooks/events
    signature: {scheme: hmac-sha256, header: Hook-Signature, secret: env:SIM_HOOK_SECRET, tolerance: 5m,
                timestamp_header: Hook-Timestamp}
    dedup_key: )") + std::string(dedup_key) + R"(
    request: {example: {id: evt_example, data: {order: ord_1}}}
    statuses: {success: [200], fatal: [400, 401]}
  - id: get
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry: {max_attempts: 2}
traffic: {endpoint: get, rate: 5/s, duration: 20s, webhooks: [{endpoint: events, rate: 10/s, duration: 20s}]}
failure_modes:
)" + std::string(modes),
                           "plan.yaml");
}

TEST(sim, inbound_webhooks_are_delivered_with_their_faults_and_judged) {
  const std::string modes = R"(  - id: dup
    inject:
      - {fault: duplicate_delivery, endpoint: events, copies: 3, delay: 2s, probability: 0.25}
      - {fault: bad_signature, endpoint: events, kind: stale_timestamp, age: 10m, probability: 0.1}
    expect: {processed_exactly_once: true, rejects_bad_signatures: true, p99_latency: "<= 50ms"}
)";
  run_options options;
  options.seed = 3;
  const auto held = run_sim(inbound("id", modes), options, {.network_delay = std::chrono::milliseconds(20)});
  const auto& h = only(held);
  EXPECT_EQ(h.outcome, verdict::held) << h.reason;
  const auto& w = h.metrics.webhooks;
  ASSERT_TRUE(w.ran);
  EXPECT_EQ(w.events, 200u);
  EXPECT_EQ(w.processed_once, 200u);
  EXPECT_GT(w.duplicates_dropped, 0u);
  EXPECT_GT(w.bad_signatures, 0u);
  EXPECT_EQ(w.signature_failures.at("stale"), w.bad_signatures) << "refused, then redelivered validly";
  EXPECT_EQ(w.delivered, w.events + w.duplicates_dropped) << "every copy ends delivered";
  EXPECT_DOUBLE_EQ(w.p99_latency_ms, 20.0) << "the round trip is the network delay";
  EXPECT_EQ(h.metrics.faults_injected.at("duplicate_delivery"), w.duplicates_dropped / 2);

  // The same seed reproduces the deliveries; a receiver keyed on a field every event shares
  // drops genuine events as duplicates, and that is broken.
  const auto again = run_sim(inbound("id", modes), options, {.network_delay = std::chrono::milliseconds(20)});
  EXPECT_EQ(only(again).metrics.webhooks.attempts, w.attempts);
  const auto broken = run_sim(inbound("data.order", modes), options, {.network_delay = std::chrono::milliseconds(20)});
  const auto& b = only(broken);
  EXPECT_EQ(b.outcome, verdict::broken);
  EXPECT_FALSE(b.expectations.at(0).held);
  EXPECT_EQ(b.metrics.webhooks.processed_once, 1u);
}

TEST(sim, what_only_a_live_run_can_judge_is_skipped_with_the_reason) {
  const auto plan = small("{max_attempts: 2, retry_on: [503]}", R"(  - id: handshake
    inject: {fault: tls, tls: expired_certificate, probability: 0.1}
    expect: {success_rate: ">= 0.9"}
)");
  const auto run = run_sim(plan, {});
  const auto& r = only(run);
  EXPECT_EQ(r.outcome, verdict::skipped);
  EXPECT_NE(r.reason.find("only `planproof run` judges: fault 'tls' (TLS handshakes)"), std::string::npos) << r.reason;
}

// The simulator sends no credential, but what it writes is searched for the plan's all the same.
TEST(sim, no_secret_in_logs_searches_what_the_simulator_wrote) {
  const auto plan = small("{max_attempts: 2, retry_on: [503]}", R"(  - id: logs
    inject: {fault: status, status: 503, probability: 0.1}
    expect: {no_secret_in_logs: true}
)");
  const auto run = run_sim(plan, {});
  const auto& r = only(run);
  EXPECT_EQ(r.outcome, verdict::held);
  const auto& e = r.expectations.at(0);
  EXPECT_EQ(e.name, "no_secret_in_logs");
  EXPECT_TRUE(e.held);
  EXPECT_NE(e.note.find("report texts"), std::string::npos) << e.note;
}

}  // namespace
}  // namespace planproof::scenario
