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
  void end(std::uint64_t id, std::uint32_t attempts, core::request_outcome outcome, core::end_reason reason) {
    stats.on_event({.kind = event_kind::request_completed, .at = clock.now(), .request = id, .attempt = attempts,
                    .outcome = outcome, .reason = reason});
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
