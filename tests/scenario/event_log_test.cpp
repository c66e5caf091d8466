#include "scenario/event_log.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>

#include "core/logging.hpp"
#include "resilience/circuit_breaker.hpp"
#include "support/output.hpp"

namespace planproof::scenario {
namespace {

using namespace std::chrono_literals;

// One request through a 503, a backoff that honours a Retry-After, and a success.
TEST(event_log, one_line_per_decision_naming_the_request) {
  std::ostringstream out;
  event_log log(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  const core::time_point origin{10s};
  log.set_context({{"failure_mode", "rate_limited"}}, origin);
  using core::event_kind;
  log.on_event({.kind = event_kind::request_submitted, .at = origin + 5ms, .request = 7, .endpoint = "create_payment",
                .correlation_id = "c0ffee00-0000-4000-8000-000000000007"});
  log.on_event({.kind = event_kind::attempt_started, .at = origin + 5ms, .request = 7, .attempt = 1});
  log.on_event({.kind = event_kind::attempt_finished, .at = origin + 20ms, .request = 7, .attempt = 1, .status = 429,
                .retry_after = 2s, .latency = 15ms});
  log.on_event({.kind = event_kind::backoff_scheduled, .at = origin + 20ms, .request = 7, .attempt = 2, .delay = 2s});
  log.on_event({.kind = event_kind::attempt_started, .at = origin + 2020ms, .request = 7, .attempt = 2});
  log.on_event({.kind = event_kind::attempt_finished, .at = origin + 2030ms, .request = 7, .attempt = 2,
                .error = core::error_class::timeout, .latency = 10ms, .rejected_records = 2,
                .note = "data[3].email: required field is missing"});
  log.on_event({.kind = event_kind::backoff_scheduled, .at = origin + 2030ms, .request = 7, .attempt = 3, .delay = 300ms});
  log.on_event({.kind = event_kind::request_completed, .at = origin + 2400ms, .request = 7, .attempt = 3, .status = 201,
                .latency = 2395ms, .outcome = core::request_outcome::succeeded, .reason = core::end_reason::succeeded});
  log.close();
  log.on_event({.kind = event_kind::request_submitted, .request = 8});  // after close: dropped

  const auto lines = test::json_lines(out.str());
  ASSERT_EQ(lines.size(), 8u) << out.str();
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("failure_mode").as_string(), "rate_limited");
    EXPECT_EQ(l.at("request").as_int64(), 7);
    EXPECT_EQ(l.at("correlation_id").as_string(), "c0ffee00-0000-4000-8000-000000000007");
    EXPECT_EQ(l.at("endpoint").as_string(), "create_payment");
    EXPECT_TRUE(l.at("time").as_string().ends_with("Z"));
  }
  EXPECT_EQ(lines[0].at("event").as_string(), "request_submitted");
  EXPECT_EQ(lines[0].at("at_ms").as_int64(), 5);
  EXPECT_EQ(lines[2].at("event").as_string(), "attempt_finished");
  EXPECT_EQ(lines[2].at("status").as_int64(), 429);
  EXPECT_EQ(lines[2].at("retry_after_ms").as_int64(), 2000);
  EXPECT_EQ(lines[2].at("latency_ms").as_int64(), 15);
  EXPECT_EQ(lines[3].at("event").as_string(), "backoff_scheduled");
  EXPECT_EQ(lines[3].at("attempt").as_int64(), 2);
  EXPECT_EQ(lines[3].at("delay_ms").as_int64(), 2000);
  EXPECT_EQ(lines[3].at("reason").as_string(), "429");
  EXPECT_EQ(lines[3].at("retry_after_ms").as_int64(), 2000);
  EXPECT_EQ(lines[5].at("error").as_string(), "timeout");
  EXPECT_FALSE(lines[5].contains("status"));
  EXPECT_EQ(lines[5].at("rejected_records").as_int64(), 2);
  EXPECT_EQ(lines[5].at("note").as_string(), "data[3].email: required field is missing");
  EXPECT_FALSE(lines[2].contains("note"));
  EXPECT_EQ(lines[6].at("reason").as_string(), "timeout");
  EXPECT_FALSE(lines[6].contains("retry_after_ms")) << "the timeout asked for no wait";
  EXPECT_EQ(lines[7].at("event").as_string(), "request_completed");
  EXPECT_EQ(lines[7].at("outcome").as_string(), "succeeded");
  EXPECT_EQ(lines[7].at("attempts").as_int64(), 3);
  EXPECT_EQ(lines[7].at("at_ms").as_int64(), 2400);
}

// Token fetches are logged on behalf of the request that needed one; no event carries a token.
TEST(event_log, token_events_say_why_and_what_came_back) {
  std::ostringstream out;
  event_log log(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  using core::event_kind;
  log.on_event({.kind = event_kind::request_submitted, .request = 3, .endpoint = "query", .correlation_id = "id-3"});
  log.on_event({.kind = event_kind::token_requested, .request = 3, .detail = 0});
  log.on_event({.kind = event_kind::token_failed, .request = 3, .status = 503, .delay = 250ms, .detail = 0});
  log.on_event({.kind = event_kind::token_issued, .request = 3, .status = 200, .delay = 2h, .detail = 2});
  log.on_event({.kind = event_kind::credential_rejected, .request = 3, .attempt = 1, .status = 401});
  log.close();
  const auto lines = test::json_lines(out.str());
  ASSERT_EQ(lines.size(), 5u) << out.str();
  EXPECT_EQ(lines[1].at("event").as_string(), "token_requested");
  EXPECT_EQ(lines[1].at("reason").as_string(), "initial");
  EXPECT_EQ(lines[1].at("correlation_id").as_string(), "id-3");
  EXPECT_EQ(lines[2].at("status").as_int64(), 503);
  EXPECT_EQ(lines[2].at("delay_ms").as_int64(), 250);
  EXPECT_EQ(lines[3].at("reason").as_string(), "rejected");
  EXPECT_EQ(lines[3].at("lifetime_ms").as_int64(), 7'200'000);
  EXPECT_EQ(lines[4].at("event").as_string(), "credential_rejected");
  EXPECT_EQ(lines[4].at("status").as_int64(), 401);
}

TEST(event_log, breaker_and_budget_decisions) {
  std::ostringstream out;
  event_log log(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  using core::event_kind;
  log.on_event({.kind = event_kind::request_submitted, .request = 4, .endpoint = "e", .correlation_id = "id-4"});
  log.on_event({.kind = event_kind::breaker_transition,
                .detail = static_cast<std::uint8_t>(resilience::breaker_state::open)});
  log.on_event({.kind = event_kind::call_rejected, .request = 4, .attempt = 2, .delay = 30s});
  log.on_event({.kind = event_kind::retry_refused, .request = 4, .attempt = 3});
  log.close();
  const auto lines = test::json_lines(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[1].at("event").as_string(), "breaker_transition");
  EXPECT_EQ(lines[1].at("state").as_string(), resilience::to_string(resilience::breaker_state::open));
  EXPECT_FALSE(lines[1].contains("request")) << "a transition is the client's, not a request's";
  EXPECT_EQ(lines[2].at("retry_in_ms").as_int64(), 30000);
  EXPECT_EQ(lines[2].at("correlation_id").as_string(), "id-4");
  EXPECT_EQ(lines[3].at("event").as_string(), "retry_refused");
  EXPECT_EQ(lines[3].at("attempt").as_int64(), 3);
}

TEST(event_log, lines_go_through_the_redactor) {
  core::redactor::instance().add("sk_event_log_secret");
  std::ostringstream out;
  event_log log(std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  log.set_context({{"note", "key sk_event_log_secret"}}, {});
  log.on_event({.kind = core::event_kind::request_submitted, .request = 1, .endpoint = "e", .correlation_id = "x"});
  log.close();
  EXPECT_EQ(out.str().find("sk_event_log_secret"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("[redacted]"), std::string::npos) << out.str();
}

// `run --verbose`: the same decisions as logfmt lines for people, with or without the JSON lines.
TEST(event_log, text_output_writes_each_decision_as_a_logfmt_line) {
  std::ostringstream json, text;
  event_log both(std::make_shared<spdlog::sinks::ostream_sink_mt>(json));
  both.add_text_output(std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
  event_log text_only(nullptr);
  std::ostringstream only;
  text_only.add_text_output(std::make_shared<spdlog::sinks::ostream_sink_mt>(only));
  const core::time_point origin{10s};
  using core::event_kind;
  core::redactor::instance().add("sekrit-token-42");
  for (auto* log : {&both, &text_only}) {
    log->set_context({{"failure_mode", "rate_limited"}}, origin);
    log->on_event({.kind = event_kind::request_submitted, .at = origin + 5ms, .request = 7,
                   .endpoint = "create_payment", .correlation_id = "c0ffee"});
    log->on_event({.kind = event_kind::attempt_finished, .at = origin + 20ms, .request = 7, .attempt = 1,
                   .status = 200, .error = core::error_class::schema_error, .latency = 15ms,
                   .note = "field \"id\" = sekrit-token-42"});
    log->close();
  }
  core::redactor::instance().clear();

  EXPECT_EQ(test::json_lines(json.str()).size(), 2u) << json.str();
  EXPECT_EQ(text.str(), only.str());
  std::istringstream lines(text.str());
  std::string first, second, extra;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_EQ(first,
            "event=request_submitted failure_mode=rate_limited at_ms=5 request=7 correlation_id=c0ffee "
            "endpoint=create_payment");
  EXPECT_EQ(second,
            "event=attempt_finished failure_mode=rate_limited at_ms=20 request=7 correlation_id=c0ffee "
            "endpoint=create_payment attempt=1 status=200 error=schema_error latency_ms=15 "
            "note=\"field \\\"id\\\" = [redacted]\"");
}

TEST(event_tee, forwards_to_both_in_order) {
  struct recorder final : core::event_sink {
    std::vector<std::string>& seen;
    std::string name;
    recorder(std::vector<std::string>& s, std::string n) : seen(s), name(std::move(n)) {}
    void on_event(const core::event&) override { seen.push_back(name); }
  };
  std::vector<std::string> seen;
  recorder a(seen, "a"), b(seen, "b");
  event_tee both(a, &b);
  both.on_event({});
  event_tee one(a, nullptr);
  one.on_event({});
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "a"}));
}

}  // namespace
}  // namespace planproof::scenario
