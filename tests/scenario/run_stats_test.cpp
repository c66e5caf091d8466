#include "scenario/run_stats.hpp"

#include <gtest/gtest.h>

#include "scenario/expectations.hpp"

namespace planproof::scenario {
namespace {

using namespace std::chrono_literals;
using core::event;
using core::event_kind;

// Feeds a hand-written event log, as an executor would emit it, through the fold.
struct log_builder {
  core::manual_clock clock;
  run_stats stats{clock.now()};

  void submit(std::uint64_t id) { stats.on_event({.kind = event_kind::request_submitted, .at = clock.now(), .request = id}); }
  void attempt(std::uint64_t id, std::uint32_t n, int status, std::optional<core::duration> retry_after = {}) {
    stats.on_event({.kind = event_kind::attempt_started, .at = clock.now(), .request = id, .attempt = n});
    stats.on_event({.kind = event_kind::attempt_finished, .at = clock.now(), .request = id, .attempt = n,
                    .status = status, .retry_after = retry_after});
  }
  void end(std::uint64_t id, std::uint32_t attempts, core::request_outcome outcome, core::end_reason reason,
           core::duration latency = {}) {
    stats.on_event({.kind = event_kind::request_completed, .at = clock.now(), .request = id, .attempt = attempts,
                    .latency = latency, .outcome = outcome, .reason = reason});
  }
};

plan::expectation expect(std::string name, plan::comparison op, double value, std::string text) {
  plan::expectation e;
  e.name = std::move(name);
  e.op = op;
  e.value = value;
  e.text = std::move(text);
  return e;
}

run_metrics metrics_of(const run_stats& s, std::uint64_t planned) {
  run_metrics m;
  m.planned = planned;
  m.submitted = s.submitted;
  m.succeeded = s.succeeded;
  m.dead_lettered = s.dead_lettered;
  m.lost = planned - s.completed;
  m.max_attempts = s.max_attempts;
  return m;
}

TEST(run_stats, retry_sent_before_retry_after_is_a_violation_with_evidence) {
  log_builder log;
  log.submit(1);
  log.attempt(1, 1, 429, 2s);
  log.clock.advance(1500ms);  // retries after 1.5 s although 2 s were asked
  log.attempt(1, 2, 201);
  log.end(1, 2, core::request_outcome::succeeded, core::end_reason::succeeded);

  EXPECT_EQ(log.stats.retry_after_violations, 1u);
  plan::expectation e = expect("honors_retry_after", plan::comparison::eq, 1, "true");
  e.boolean = true;
  const auto r = evaluate(e, log.stats, metrics_of(log.stats, 1));
  EXPECT_FALSE(r.held);
  ASSERT_EQ(r.evidence.size(), 1u);
  EXPECT_EQ(r.evidence[0].request, 1u);
  EXPECT_NE(r.evidence[0].what.find("500ms before the Retry-After of 2s"), std::string::npos) << r.evidence[0].what;
}

TEST(run_stats, retry_after_waited_in_full_holds) {
  log_builder log;
  log.submit(1);
  log.attempt(1, 1, 429, 2s);
  log.clock.advance(2s);
  log.attempt(1, 2, 201);
  log.end(1, 2, core::request_outcome::succeeded, core::end_reason::succeeded);
  plan::expectation e = expect("honors_retry_after", plan::comparison::eq, 1, "true");
  e.boolean = true;
  EXPECT_TRUE(evaluate(e, log.stats, metrics_of(log.stats, 1)).held);
}

TEST(run_stats, success_rate_max_attempts_and_dead_letters) {
  log_builder log;
  for (std::uint64_t id = 1; id <= 99; ++id) {
    log.submit(id);
    log.attempt(id, 1, 201);
    log.end(id, 1, core::request_outcome::succeeded, core::end_reason::succeeded);
  }
  log.submit(100);
  for (std::uint32_t n = 1; n <= 4; ++n) log.attempt(100, n, 503);
  log.end(100, 4, core::request_outcome::dead_lettered, core::end_reason::attempts_exhausted);
  const auto m = metrics_of(log.stats, 100);

  EXPECT_TRUE(evaluate(expect("success_rate", plan::comparison::ge, 0.99, ">= 0.99"), log.stats, m).held);
  EXPECT_FALSE(evaluate(expect("success_rate", plan::comparison::ge, 0.995, ">= 0.995"), log.stats, m).held);
  const auto attempts = evaluate(expect("max_attempts", plan::comparison::le, 3, "<= 3"), log.stats, m);
  EXPECT_FALSE(attempts.held);
  EXPECT_EQ(attempts.observed.as_double(), 4.0);
  ASSERT_FALSE(attempts.evidence.empty());
  EXPECT_EQ(attempts.evidence[0].request, 100u);
  EXPECT_TRUE(evaluate(expect("dead_lettered", plan::comparison::eq, 1, "1"), log.stats, m).held);
  EXPECT_TRUE(evaluate(expect("lost", plan::comparison::eq, 0, "0"), log.stats, m).held);
}

TEST(run_stats, a_request_without_an_end_is_lost) {
  log_builder log;
  log.submit(1);
  log.attempt(1, 1, 503);
  const auto m = metrics_of(log.stats, 2);  // one planned request was never even sent
  const auto r = evaluate(expect("lost", plan::comparison::eq, 0, "0"), log.stats, m);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.observed.as_double(), 2.0);
  ASSERT_EQ(r.evidence.size(), 1u);
  EXPECT_EQ(r.evidence[0].request, 1u);
  EXPECT_NE(r.note.find("never sent"), std::string::npos);
}

// detected_as: the failure seen most often, an umbrella class covering its fine ones.
TEST(run_stats, detected_as_names_the_most_frequent_failure) {
  log_builder log;
  log.submit(1);
  for (std::uint32_t n = 1; n <= 3; ++n) {
    log.stats.on_event({.kind = event_kind::attempt_started, .at = log.clock.now(), .request = 1, .attempt = n});
    log.stats.on_event({.kind = event_kind::attempt_finished, .at = log.clock.now(), .request = 1, .attempt = n,
                        .error = n == 3 ? core::error_class::connect_timeout : core::error_class::read_timeout});
  }
  log.attempt(1, 4, 503);
  log.end(1, 4, core::request_outcome::dead_lettered, core::end_reason::attempts_exhausted);
  const auto m = metrics_of(log.stats, 1);

  auto detected = [&](std::string word) {
    auto e = expect("detected_as", plan::comparison::eq, 0, word);
    e.word = word;
    return evaluate(e, log.stats, m);
  };
  const auto timeout = detected("timeout");
  EXPECT_TRUE(timeout.held) << timeout.note;
  EXPECT_EQ(timeout.observed, "timeout");
  EXPECT_EQ(timeout.note, "failed attempts: 503=1, connect_timeout=1, read_timeout=2 (3 timeout)");
  EXPECT_TRUE(detected("read_timeout").held);  // 2 against 1 and 1
  const auto status = detected("503");
  EXPECT_FALSE(status.held);
  EXPECT_EQ(status.observed, "read_timeout");
  EXPECT_FALSE(detected("schema_error").held);
}

TEST(run_stats, amplification_latency_and_peak_rate_after_recovery) {
  log_builder log;
  log.stats.recovery_from = log.clock.now() + 2s;
  // Second 0: 4 logical requests, 3 attempts each (during the faults). Seconds 2 and 3: 2 and 5
  // single attempts (after them).
  std::uint64_t id = 0;
  for (int i = 0; i < 4; ++i) {
    log.submit(++id);
    for (std::uint32_t n = 1; n <= 3; ++n) log.attempt(id, n, n < 3 ? 503 : 200);
    log.clock.advance(100ms);
    log.end(id, 3, core::request_outcome::succeeded, core::end_reason::succeeded, (i + 1) * 25ms);
  }
  for (const auto& [second, count] : {std::pair{2, 2}, std::pair{3, 5}}) {
    log.clock.set(core::time_point{} + std::chrono::seconds(second));
    for (int i = 0; i < count; ++i) {
      log.submit(++id);
      log.attempt(id, 1, 200);
      log.end(id, 1, core::request_outcome::succeeded, core::end_reason::succeeded);
    }
  }
  auto m = metrics_of(log.stats, id);
  m.attempts = log.stats.attempts;
  const auto amplification = evaluate(expect("upstream_amplification", plan::comparison::le, 1.5, "<= 1.5"), log.stats, m);
  EXPECT_FALSE(amplification.held);
  EXPECT_DOUBLE_EQ(amplification.observed.as_double(), 19.0 / 11.0);
  EXPECT_EQ(amplification.note, "19 attempts for 11 logical requests");

  const auto peak = evaluate(expect("peak_upstream_rate", plan::comparison::le, 4, "<= 4/s"), log.stats, m);
  EXPECT_FALSE(peak.held);
  EXPECT_DOUBLE_EQ(peak.observed.as_double(), 5);  // second 0's 12 attempts were before recovery
  EXPECT_TRUE(evaluate(expect("peak_upstream_rate", plan::comparison::le, 5, "<= 5/s"), log.stats, m).held);

  m.p99_latency_ms = 100;
  const auto p99 = evaluate(expect("p99_latency", plan::comparison::le, 50, "<= 50ms"), log.stats, m);
  EXPECT_FALSE(p99.held);
  ASSERT_FALSE(p99.evidence.empty());
  EXPECT_EQ(p99.evidence.front().what, "took 100ms, succeeded after 3 attempts");
}

TEST(compare, operators_and_float_tolerance) {
  EXPECT_TRUE(compare(0.99, plan::comparison::ge, 0.99));
  EXPECT_TRUE(compare(99.0 / 100.0, plan::comparison::ge, 0.99));
  EXPECT_FALSE(compare(0.989, plan::comparison::ge, 0.99));
  EXPECT_TRUE(compare(4, plan::comparison::le, 4));
  EXPECT_FALSE(compare(5, plan::comparison::le, 4));
  EXPECT_TRUE(compare(0, plan::comparison::eq, 0));
  EXPECT_TRUE(compare(1, plan::comparison::ne, 0));
  EXPECT_TRUE(compare(1, plan::comparison::gt, 0));
  EXPECT_FALSE(compare(0, plan::comparison::lt, 0));
}

}  // namespace
}  // namespace planproof::scenario
