#include "scenario/sweep.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/diagnostic.hpp"
#include "support/paths.hpp"

namespace planproof::scenario {
namespace {

const std::filesystem::path contention =
    std::filesystem::path(::planproof::test::source_dir()) / "scenarios/contention-backoff.sim.yaml";

std::size_t metric(std::string_view name) {
  const auto* m = find_sweep_metric(name);
  EXPECT_NE(m, nullptr) << name;
  return static_cast<std::size_t>(m - sweep_metrics().data());
}

sweep_options grid(std::vector<sweep_axis> axes, int repeat = 1) {
  sweep_options o;
  o.plan_file = contention;
  o.failure_mode = "contended_write";
  o.axes = std::move(axes);
  o.repeat = repeat;
  return o;
}

// AWS's "Exponential Backoff and Jitter" study, qualitatively: under contention no jitter is the
// worst in both calls and completion time, full and decorrelated jitter need far fewer calls, and
// equal jitter finishes later than full jitter.
TEST(sweep, reproduces_the_orderings_of_the_backoff_and_jitter_study) {
  const std::vector<std::string> jitters{"none", "full", "equal", "decorrelated"};
  const auto r = run_sweep(grid({{"traffic.clients", {"10", "50", "100"}}, {"retry.backoff.jitter", jitters}}, 3));
  ASSERT_EQ(r.points.size(), 12u);
  const auto calls = metric("upstream_calls");
  const auto completion = metric("completion_ms");
  for (std::size_t n = 0; n < 3; ++n) {
    const auto at = [&](std::size_t j, std::size_t m) { return r.points[n * 4 + j].metrics[m].mean; };
    const auto clients = r.points[n * 4].values[0];
    for (std::size_t j = 1; j < 4; ++j) {
      EXPECT_GT(at(0, calls), at(j, calls)) << clients << " clients: none vs " << jitters[j];
      EXPECT_GT(at(0, completion), at(j, completion)) << clients << " clients: none vs " << jitters[j];
    }
    if (n > 0) {  // with 10 clients there are too few collisions for "far"
      EXPECT_LT(at(1, calls), at(0, calls) / 2) << clients << " clients: full";
      EXPECT_LT(at(3, calls), at(0, calls) / 2) << clients << " clients: decorrelated";
    }
    EXPECT_GT(at(2, completion), at(1, completion)) << clients << " clients: equal finishes after full";
    for (const auto& p : r.points) EXPECT_EQ(p.held, 3u);  // every write lands in the end
  }
}

TEST(sweep, repeats_give_a_spread_and_the_same_seeds_the_same_figures) {
  const auto a = run_sweep(grid({{"retry.backoff.jitter", {"full"}}, {"traffic.clients", {"20"}}}, 4));
  const auto b = run_sweep(grid({{"retry.backoff.jitter", {"full"}}, {"traffic.clients", {"20"}}}, 4));
  const auto& s = a.points.at(0).metrics[metric("upstream_calls")];
  EXPECT_EQ(s.samples, 4u);
  EXPECT_GT(s.sd, 0.0);  // full jitter: different seeds, different draws
  EXPECT_LE(s.min, s.mean);
  EXPECT_GE(s.max, s.mean);
  EXPECT_EQ(s.mean, b.points.at(0).metrics[metric("upstream_calls")].mean);
}

TEST(sweep, varies_the_last_axis_fastest) {
  const auto r = run_sweep(grid({{"retry.max_attempts", {"500", "1000"}}, {"retry.backoff.base", {"5ms", "10ms"}}}));
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_EQ(r.points[1].values, (std::vector<std::string>{"500", "10ms"}));
  EXPECT_EQ(r.points[2].values, (std::vector<std::string>{"1000", "5ms"}));
}

TEST(sweep, bad_grids_are_refused_with_a_reason) {
  auto refused = [](sweep_options o) {
    try {
      run_sweep(o);
    } catch (const core::diagnostic_error& e) {
      return e.diagnostics().at(0).message;
    }
    return std::string("accepted");
  };
  EXPECT_NE(refused(grid({{"retry.no_such_key", {"1"}}})).find("no_such_key"), std::string::npos);
  EXPECT_NE(refused(grid({{"retry.max_attempts", {"many"}}})), "accepted");
  EXPECT_NE(refused(grid({{"traffic.clients", {"-3"}}})).find("not a number of clients"), std::string::npos);
  EXPECT_NE(refused(grid({})).find("nothing to vary"), std::string::npos);
  auto big = grid({{"retry.max_attempts", {"1", "2", "3"}}, {"retry.backoff.base", {"1ms", "2ms"}}});
  big.max_points = 5;
  EXPECT_NE(refused(big).find("6 points, more than --max-points 5"), std::string::npos);
  auto unknown = grid({{"retry.max_attempts", {"3"}}});
  unknown.failure_mode = "nope";
  EXPECT_NE(refused(unknown).find("no such failure mode"), std::string::npos);
  EXPECT_NE(refused(grid({{"retry.max_attempts", {"3"}}, {"retry.max_attempts", {"4"}}})).find("twice"), std::string::npos);
}

TEST(sweep, an_axis_is_split_at_commas_outside_brackets) {
  std::string why;
  const auto a = parse_axis("retry.retry_on=[409, 503],[409]", why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->key, "retry.retry_on");
  EXPECT_EQ(a->values, (std::vector<std::string>{"[409, 503]", "[409]"}));
  EXPECT_FALSE(parse_axis("retry.max_attempts=", why));
  EXPECT_NE(why.find("no values"), std::string::npos);
  EXPECT_FALSE(parse_axis("retry.max_attempts=1,,2", why));
  EXPECT_NE(why.find("empty value"), std::string::npos);
  EXPECT_FALSE(parse_axis("=1,2", why));
}

}  // namespace
}  // namespace planproof::scenario
