#include "report/merge.hpp"

#include <gtest/gtest.h>

#include "core/diagnostic.hpp"
#include "sample_runs.hpp"

namespace planproof::report {
namespace {

// The run of `ids` (the selection, in plan order) as shard `index` of `count` would report it.
named_report shard_of(const std::vector<std::string>& ids, std::size_t index, std::size_t count) {
  auto run = test::sample_run();
  run.failure_modes.clear();
  run.shard = scenario::shard_info{{index, count}, ids.size()};
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (scenario::in_shard(k, {index, count})) run.failure_modes.push_back(test::held_mode(ids[k]));
  }
  return {"shard-" + std::to_string(index) + ".json", run};
}

std::vector<std::string> ids_of(const scenario::run_result& run) {
  std::vector<std::string> out;
  for (const auto& f : run.failure_modes) out.push_back(f.id);
  return out;
}

std::string refusal(const std::vector<named_report>& reports) {
  try {
    merge_reports(reports);
  } catch (const core::diagnostic_error& e) {
    return e.what();
  }
  return "merged";
}

const std::vector<std::string> selection{"a", "b", "c", "d", "e", "f", "g"};

TEST(merge, shards_go_back_in_plan_order_whatever_the_order_given) {
  const auto merged = merge_reports({shard_of(selection, 3, 3), shard_of(selection, 1, 3), shard_of(selection, 2, 3)});
  EXPECT_EQ(ids_of(merged), selection);
  EXPECT_FALSE(merged.shard);
  EXPECT_EQ(merged.plan_name, "acme-payments");
  EXPECT_EQ(merged.seed, 42u);
  EXPECT_EQ(merged.notes, test::sample_run().notes);  // once each, not once per shard
}

TEST(merge, an_empty_shard_merges_too) {
  const std::vector<std::string> two{"a", "b"};
  const auto merged = merge_reports({shard_of(two, 1, 3), shard_of(two, 2, 3), shard_of(two, 3, 3)});
  EXPECT_EQ(ids_of(merged), two);
  EXPECT_EQ(merged.exit_code(), 0);
}

TEST(merge, the_exit_code_is_the_whole_runs) {
  auto one = shard_of(selection, 1, 2);
  auto two = shard_of(selection, 2, 2);
  EXPECT_EQ(merge_reports({one, two}).exit_code(), 0);
  two.run.failure_modes[1].outcome = scenario::verdict::broken;
  EXPECT_EQ(merge_reports({one, two}).exit_code(), 1);
  one.run.failure_modes[0].outcome = scenario::verdict::error;
  EXPECT_EQ(merge_reports({one, two}).exit_code(), 3);
}

TEST(merge, reports_without_shards_keep_the_order_given) {
  auto first = test::sample_run();
  auto second = test::sample_run();
  first.failure_modes.resize(2);
  second.failure_modes.erase(second.failure_modes.begin(), second.failure_modes.begin() + 2);
  second.notes.push_back("another note");
  const auto merged = merge_reports({{"b.json", second}, {"a.json", first}});
  EXPECT_EQ(ids_of(merged), (std::vector<std::string>{"tls_expired", "hung", "rate_limited", "upstream_503_burst"}));
  EXPECT_EQ(merged.notes.size(), 3u);
}

TEST(merge, reports_of_different_runs_are_refused_naming_the_files) {
  const auto base = shard_of(selection, 1, 2);
  auto other = [&](auto change) {
    auto r = shard_of(selection, 2, 2);
    change(r.run);
    return refusal({base, r});
  };
  EXPECT_EQ(other([](auto&) {}), "merged");
  EXPECT_EQ(other([](auto& r) { r.plan_name = "other"; }),
            "shard-2.json: error: not a part of the run of shard-1.json: plan 'other' is not 'acme-payments'");
  EXPECT_EQ(other([](auto& r) { r.phase = ""; }),
            "shard-2.json: error: not a part of the run of shard-1.json: phase none is not 'phase1'");
  EXPECT_EQ(other([](auto& r) { r.seed = 7; }),
            "shard-2.json: error: not a part of the run of shard-1.json: seed 7 is not 42");
  EXPECT_EQ(other([](auto& r) { r.time_scale = 0.1; }),
            "shard-2.json: error: not a part of the run of shard-1.json: time scale 0.1 is not 0.05");
  EXPECT_EQ(other([](auto& r) { r.mode = "sim"; }),
            "shard-2.json: error: not a part of the run of shard-1.json: mode 'sim' is not 'live'");
  EXPECT_NE(other([](auto& r) { r.retry.max_attempts = 1; }).find("its settings (retry, traffic) differ"),
            std::string::npos);
  EXPECT_NE(other([](auto& r) { r.shard.reset(); }).find("it has no shard"), std::string::npos);
  EXPECT_NE(other([](auto& r) { r.shard->shard.count = 3; }).find("another number of shards"), std::string::npos);
  EXPECT_NE(other([](auto& r) { r.shard->selected = 6; }).find("another --only or --phase"), std::string::npos);
}

TEST(merge, overlapping_duplicate_missing_or_misfit_shards_are_refused) {
  EXPECT_EQ(refusal({shard_of(selection, 1, 2), shard_of(selection, 1, 2)}), "shard-1.json: error: given twice");
  auto again = shard_of(selection, 1, 2);
  again.file = "copy.json";
  EXPECT_EQ(refusal({shard_of(selection, 1, 2), again}),
            "copy.json: error: failure mode 'a' is in shard-1.json too: the reports overlap");
  auto empty_twice = shard_of({"a"}, 2, 2);
  auto empty_copy = empty_twice;
  empty_copy.file = "copy.json";
  EXPECT_EQ(refusal({shard_of({"a"}, 1, 2), empty_twice, empty_copy}), "copy.json: error: shard 2/2 is shard-2.json too");
  EXPECT_EQ(refusal({shard_of(selection, 1, 3), shard_of(selection, 3, 3)}),
            "merge: error: no report of shard 2/3: merge needs the report of every shard (2 of 3 given)");
  auto short_one = shard_of(selection, 2, 2);
  short_one.run.failure_modes.pop_back();
  EXPECT_EQ(refusal({shard_of(selection, 1, 2), short_one}),
            "shard-2.json: error: shard 2/2 has 2 failure modes; of 7 selected it takes 3");
  EXPECT_EQ(refusal({}), "merge: error: no report to merge");
}

}  // namespace
}  // namespace planproof::report
