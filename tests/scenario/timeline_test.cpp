#include "scenario/timeline.hpp"

#include <gtest/gtest.h>

#include "resilience/retry_classifier.hpp"
#include "scenario/histogram.hpp"
#include "scenario/run_stats.hpp"

namespace planproof::scenario {
namespace {

using namespace std::chrono_literals;
using core::event_kind;

TEST(timeline, bucket_width_is_round_and_fits_the_planned_duration_in_100_buckets) {
  EXPECT_EQ(timeline(60s).bucket_width(), 1s);
  EXPECT_EQ(timeline(30s).bucket_width(), 500ms);
  EXPECT_EQ(timeline(100s).bucket_width(), 1s);
  EXPECT_EQ(timeline(101s).bucket_width(), 2s);
  EXPECT_EQ(timeline(1h).bucket_width(), 50s);
  EXPECT_EQ(timeline(0s).bucket_width(), 1ms);
  EXPECT_EQ(timeline(50ms).bucket_width(), 1ms);
}

TEST(timeline, counts_land_in_their_bucket_and_size_reaches_the_last_one_used) {
  timeline t(10s);  // 100 ms buckets
  t.add(0ms, series::attempts);
  t.add(99ms, series::attempts);
  t.add(100ms, series::succeeded, 3);
  t.add(-5ms, series::faults);  // before the origin: the first bucket
  t.add(2550ms, series::errors);
  EXPECT_EQ(t.size(), 26u);
  EXPECT_EQ(t.at(0, series::attempts), 2u);
  EXPECT_EQ(t.at(0, series::faults), 1u);
  EXPECT_EQ(t.at(1, series::succeeded), 3u);
  EXPECT_EQ(t.at(25, series::errors), 1u);
  EXPECT_EQ(t.at(24, series::errors), 0u);
  EXPECT_EQ(t.at(500, series::errors), 0u);  // past the end: nothing, no overrun
  EXPECT_EQ(t.total(series::attempts), 2u);
}

TEST(timeline, a_count_past_the_last_bucket_merges_pairs_and_keeps_every_count) {
  timeline t(10s);  // 100 ms buckets, 120 of them: 12 s
  for (int i = 0; i < 120; ++i) t.add(100ms * i, series::attempts);
  EXPECT_EQ(t.size(), 120u);
  t.add(12050ms, series::attempts);  // bucket 120: the width doubles
  EXPECT_EQ(t.bucket_width(), 200ms);
  EXPECT_EQ(t.size(), 61u);
  EXPECT_EQ(t.at(0, series::attempts), 2u);
  EXPECT_EQ(t.at(59, series::attempts), 2u);
  EXPECT_EQ(t.at(60, series::attempts), 1u);
  EXPECT_EQ(t.total(series::attempts), 121u);
}

TEST(timeline, a_run_of_any_length_stays_within_max_buckets) {
  timeline t(60s);
  std::uint64_t added = 0;
  for (auto at = 0ms; at < std::chrono::milliseconds(10h); at += 250ms) {
    t.add(at, series::attempts);
    t.add(at, series::retryable, 2);
    ++added;
  }
  EXPECT_LE(t.size(), timeline::max_buckets);
  EXPECT_GT(t.size(), timeline::max_buckets / 2);
  EXPECT_EQ(t.total(series::attempts), added);
  EXPECT_EQ(t.total(series::retryable), 2 * added);
  EXPECT_GE(t.bucket_width() * static_cast<std::int64_t>(timeline::max_buckets), 10h);
}

TEST(timeline, fault_windows_name_the_fault_and_keep_open_ends) {
  plan::fault status;
  status.kind = "status";
  status.status = 503;
  status.during = {{10s, 40s}, {50s, std::nullopt}};
  plan::fault hang;
  hang.kind = "hang";
  plan::fault outage;
  outage.kind = "outage";
  outage.outage = plan::outage_mode::reset;
  outage.during = {{1s, 2s}};
  const auto windows = fault_windows({status, hang, outage});
  ASSERT_EQ(windows.size(), 4u);
  EXPECT_EQ(windows[0].fault, "status 503");
  EXPECT_EQ(windows[0].from_ms, 10000);
  EXPECT_EQ(windows[0].to_ms, 40000);
  EXPECT_EQ(windows[1].from_ms, 50000);
  EXPECT_FALSE(windows[1].to_ms);
  EXPECT_EQ(windows[2].fault, "hang");  // no `during`: the whole run
  EXPECT_EQ(windows[2].from_ms, 0);
  EXPECT_FALSE(windows[2].to_ms);
  EXPECT_EQ(windows[3].fault, "outage (reset)");
}

TEST(histogram, bins_merge_four_per_doubling_and_keep_every_count) {
  histogram h;
  EXPECT_TRUE(h.bins(4).empty());
  for (int i = 0; i < 10; ++i) h.add(10);
  h.add(100);
  h.add(0);
  const auto bins = h.bins(4);
  ASSERT_FALSE(bins.empty());
  std::uint64_t total = 0;
  for (const auto& b : bins) total += b.count;
  EXPECT_EQ(total, 12u);
  EXPECT_EQ(bins.front().lower, 0);  // the bucket of zero starts the list: it holds a count
  EXPECT_EQ(bins.front().count, 1u);
  EXPECT_GT(bins.back().upper, 100);
  EXPECT_LE(bins.back().lower, 100);
  EXPECT_EQ(bins.back().count, 1u);
  for (std::size_t i = 1; i < bins.size(); ++i) {
    EXPECT_DOUBLE_EQ(bins[i].lower, bins[i - 1].upper);
    EXPECT_NEAR(bins[i].upper / bins[i].lower, std::exp2(0.25), 1e-9) << i;
  }
  bool found = false;
  for (const auto& b : bins) found = found || (b.lower <= 10 && b.upper > 10 && b.count == 10);
  EXPECT_TRUE(found);
}

TEST(histogram, bins_trim_empty_ends) {
  histogram h;
  h.add(5);
  h.add(6);
  const auto bins = h.bins(2);
  ASSERT_FALSE(bins.empty());
  EXPECT_NE(bins.front().count, 0u);
  EXPECT_NE(bins.back().count, 0u);
  EXPECT_LE(bins.size(), 2u);
}

core::event finished(core::time_point at, std::uint64_t id, int status, resilience::attempt_class c,
                     core::error_class error = core::error_class::none) {
  return {.kind = event_kind::attempt_finished, .at = at, .request = id, .attempt = 1, .status = status,
          .error = error, .detail = static_cast<std::uint8_t>(c)};
}

TEST(run_stats, the_timeline_counts_attempts_by_what_the_client_made_of_them) {
  core::manual_clock clock;
  const auto origin = clock.now();
  run_stats stats(origin, 10s);  // 100 ms buckets
  stats.on_event({.kind = event_kind::request_submitted, .at = origin, .request = 1});
  stats.on_event({.kind = event_kind::attempt_started, .at = origin, .request = 1, .attempt = 1});
  stats.on_event(finished(origin + 10ms, 1, 503, resilience::attempt_class::retryable));
  stats.on_event({.kind = event_kind::attempt_started, .at = origin + 150ms, .request = 1, .attempt = 2});
  stats.on_event(finished(origin + 160ms, 1, 401, resilience::attempt_class::refresh_auth));
  stats.on_event(finished(origin + 170ms, 1, 0, resilience::attempt_class::retryable, core::error_class::read_timeout));
  stats.on_event(finished(origin + 180ms, 1, 400, resilience::attempt_class::fatal));
  stats.on_event(finished(origin + 250ms, 1, 201, resilience::attempt_class::success));
  stats.on_event({.kind = event_kind::call_rejected, .at = origin + 260ms, .request = 2});

  const auto& t = stats.over_time;
  EXPECT_EQ(t.bucket_width(), 100ms);
  EXPECT_EQ(t.at(0, series::attempts), 1u);
  EXPECT_EQ(t.at(0, series::retryable), 1u);
  EXPECT_EQ(t.at(1, series::attempts), 1u);
  EXPECT_EQ(t.at(1, series::retryable), 1u);  // a refused token the client renews
  EXPECT_EQ(t.at(1, series::errors), 1u);     // an error class, whatever the plan does with it
  EXPECT_EQ(t.at(1, series::fatal), 1u);
  EXPECT_EQ(t.at(2, series::succeeded), 1u);
  EXPECT_EQ(t.at(2, series::rejected), 1u);
}

TEST(run_stats, breaker_transitions_and_token_renewals_are_marked_up_to_a_bound) {
  core::manual_clock clock;
  const auto origin = clock.now();
  run_stats stats(origin, 60s);
  for (std::size_t i = 0; i < max_marks + 50; ++i) {
    const auto to = i % 2 == 0 ? resilience::breaker_state::open : resilience::breaker_state::half_open;
    stats.on_event({.kind = event_kind::breaker_transition, .at = origin + 1s * static_cast<std::int64_t>(i),
                    .detail = static_cast<std::uint8_t>(to)});
  }
  EXPECT_EQ(stats.breaker_transitions, max_marks + 50);
  ASSERT_EQ(stats.breaker_marks.size(), max_marks);
  EXPECT_EQ(stats.breaker_marks[0].state, resilience::breaker_state::open);
  EXPECT_EQ(stats.breaker_marks[1].state, resilience::breaker_state::half_open);
  EXPECT_EQ(stats.breaker_marks[1].at_ms, 1000);

  // The first token is no renewal; a scheduled one and a failed fetch are.
  stats.on_event({.kind = event_kind::token_issued, .at = origin, .delay = 60s,
                  .detail = static_cast<std::uint8_t>(resilience::refresh_reason::initial)});
  stats.on_event({.kind = event_kind::token_issued, .at = origin + 30s, .delay = 60s,
                  .detail = static_cast<std::uint8_t>(resilience::refresh_reason::scheduled)});
  stats.on_event({.kind = event_kind::token_failed, .at = origin + 45s, .status = 503, .delay = 1s,
                  .detail = static_cast<std::uint8_t>(resilience::refresh_reason::expired)});
  ASSERT_EQ(stats.token_marks.size(), 2u);
  EXPECT_EQ(stats.token_marks[0].at_ms, 30000);
  EXPECT_FALSE(stats.token_marks[0].failed);
  EXPECT_EQ(stats.token_marks[0].reason, resilience::refresh_reason::scheduled);
  EXPECT_TRUE(stats.token_marks[1].failed);
  EXPECT_EQ(stats.token_marks[1].reason, resilience::refresh_reason::expired);
}

}  // namespace
}  // namespace planproof::scenario
