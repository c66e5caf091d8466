// The live runner's shard selection and progress callback, on a small plan over loopback sockets.
#include "scenario/runner.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "plan/loader.hpp"
#include "support/process.hpp"

namespace planproof::scenario {
namespace {

plan::integration_plan two_modes(const std::filesystem::path& dead_letters) {
  return plan::load_string(R"(planproof: 1
integration: {name: runner-check}
auth: {method: none}
endpoints:
  - id: list
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry: {max_attempts: 2, backoff: {base: 10ms, max: 20ms}, retry_on: [503], dead_letter: {path: )" +
                               dead_letters.string() + R"(}}
traffic: {endpoint: list, rate: 20/s, concurrency: 2, duration: 2s}
failure_modes:
  - id: first
    inject: {fault: status, status: 503, every: 4}
  - id: second
    inject: {fault: status, status: 503, every: 3}
)",
                           "plan.yaml");
}

TEST(runner, a_shard_runs_its_part_and_reports_which) {
  test::temp_dir dir;
  const auto plan = two_modes(dir / "dead.jsonl");
  run_options options;
  options.time_scale = test::stretched(0.1);
  options.shard = shard_spec{2, 2};
  std::vector<std::string> started;
  options.on_start = [&](const run_result&, std::size_t selected) { started.push_back(std::to_string(selected)); };
  const auto run = run_live(plan, options);
  ASSERT_EQ(run.failure_modes.size(), 1u);
  EXPECT_EQ(run.failure_modes[0].id, "second");
  EXPECT_EQ(run.failure_modes[0].outcome, verdict::held) << run.failure_modes[0].reason;
  ASSERT_TRUE(run.shard);
  EXPECT_EQ(run.shard->shard, (shard_spec{2, 2}));
  EXPECT_EQ(run.shard->selected, 2u);
  EXPECT_EQ(started, std::vector<std::string>{"1"});
}

TEST(runner, a_shard_with_nothing_to_run_is_an_empty_run) {
  test::temp_dir dir;
  run_options options;
  options.shard = shard_spec{3, 3};
  options.only = {"second"};
  const auto run = run_live(two_modes(dir / "dead.jsonl"), options);
  EXPECT_TRUE(run.failure_modes.empty());
  EXPECT_EQ(run.shard->selected, 1u);
  EXPECT_EQ(run.exit_code(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "dead.jsonl"));  // nothing ran, nothing was opened
}

// Progress comes while the traffic runs (a tick every millisecond of a run that takes at least the
// 200 ms its arrivals are spread over), from the first tick at zero to counts that only grow.
TEST(runner, progress_is_reported_while_a_failure_mode_runs) {
  test::temp_dir dir;
  run_options options;
  options.time_scale = test::stretched(0.1);
  options.progress_interval = std::chrono::milliseconds(1);
  std::vector<run_progress> seen;
  std::vector<std::string> ids;
  options.on_progress = [&](const run_progress& p) {
    seen.push_back(p);
    ids.emplace_back(p.id);
  };
  const auto run = run_live(two_modes(dir / "dead.jsonl"), options);
  ASSERT_EQ(run.failure_modes.size(), 2u);
  ASSERT_GE(seen.size(), 4u);
  EXPECT_EQ(ids.front(), "first");
  EXPECT_EQ(ids.back(), "second");
  EXPECT_EQ(seen.front().completed, 0u);
  EXPECT_EQ(seen.front().attempts, 0u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const auto& p = seen[i];
    EXPECT_EQ(p.count, 2u);
    EXPECT_EQ(p.position, ids[i] == "first" ? 1u : 2u);
    EXPECT_EQ(p.requests, 40u);
    EXPECT_EQ(p.planned, std::chrono::seconds(2));
    EXPECT_LE(p.completed, p.requests);
    EXPECT_LE(p.failed, p.completed);
    if (i > 0 && ids[i] == ids[i - 1]) {
      EXPECT_GE(p.completed, seen[i - 1].completed);
      EXPECT_GE(p.attempts, seen[i - 1].attempts);
      EXPECT_GE(p.elapsed, seen[i - 1].elapsed);
    }
  }
  // Some tick of each failure mode came after its traffic had started.
  for (const char* id : {"first", "second"}) {
    bool moved = false;
    for (std::size_t i = 0; i < seen.size(); ++i) moved = moved || (ids[i] == id && seen[i].attempts > 0);
    EXPECT_TRUE(moved) << id;
  }
}

}  // namespace
}  // namespace planproof::scenario
