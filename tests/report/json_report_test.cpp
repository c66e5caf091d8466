#include "report/json_report.hpp"

#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/diagnostic.hpp"
#include "sample_runs.hpp"
#include "support/process.hpp"

namespace planproof::report {
namespace {

std::string text_of(const scenario::run_result& run) { return boost::json::serialize(to_json(run)); }

// Write, read back, write again: the same JSON, field for field and byte for byte.
TEST(json_report, reads_back_what_it_wrote) {
  auto run = test::sample_run();
  run.shard = scenario::shard_info{{2, 3}, 7};
  const auto first = text_of(run);
  const auto again = from_json(boost::json::parse(first));
  EXPECT_EQ(text_of(again), first);
  EXPECT_EQ(again.dead_letter_path, "dead-letter/acme.jsonl");
  ASSERT_TRUE(again.shard);
  EXPECT_EQ(again.shard->shard, (scenario::shard_spec{2, 3}));
  EXPECT_EQ(again.shard->selected, 7u);
  EXPECT_EQ(again.exit_code(), run.exit_code());
  EXPECT_EQ(again.failure_modes[1].expectations[0].evidence[0].what,
            "dead_lettered (attempts_exhausted) after 1 attempts, last 503");

  // No phase, no shard, no failure mode: still the same.
  run.phase.clear();
  run.shard.reset();
  run.failure_modes.clear();
  run.notes.clear();
  EXPECT_EQ(text_of(from_json(boost::json::parse(text_of(run)))), text_of(run));
}

// A paginated pull's counts are written under metrics.pull and read back; a run without one has none.
TEST(json_report, writes_and_reads_back_the_pull_of_a_paginated_endpoint) {
  auto run = test::sample_run();
  EXPECT_FALSE(to_json(run).at("failure_modes").at(0).at("metrics").as_object().contains("pull"));
  scenario::pull_tally pull;
  pull.pulls = 3;
  pull.pages_read = 10;
  pull.refetches = 2;
  pull.records_expected = 75;
  pull.processed_once = 60;
  pull.processed_twice = 5;
  pull.missed = 10;
  pull.duplicates_dropped = 4;
  run.failure_modes[0].metrics.pull = pull;
  const auto json = to_json(run);
  EXPECT_EQ(boost::json::serialize(json.at("failure_modes").at(0).at("metrics").at("pull")),
            R"({"pulls":3,"pages_read":10,"refetches":2,"records_expected":75,"processed_once":60,)"
            R"("processed_twice":5,"missed":10,"duplicates_dropped":4})");
  const auto again = from_json(json);
  ASSERT_TRUE(again.failure_modes[0].metrics.pull);
  EXPECT_EQ(again.failure_modes[0].metrics.pull->missed, 10u);
  EXPECT_EQ(text_of(again), text_of(run));
}

// Through the file: doubles of every length (latencies are computed, not rounded) come back exact.
TEST(json_report, reads_back_every_double_exactly_from_a_file) {
  auto run = test::sample_run();
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> ms(0, 1e6);
  for (int i = 0; i < 200; ++i) {
    auto f = test::held_mode("mode_" + std::to_string(i));
    f.metrics.p50_latency_ms = ms(random);
    f.metrics.p99_latency_ms = ms(random) / 3;
    f.metrics.duration_ms = ms(random) * 7;
    f.expectations[0].observed = ms(random) / 1e6;
    f.expectations[0].evidence.push_back({1, ms(random), "slow"});
    run.failure_modes.push_back(std::move(f));
  }
  planproof::test::temp_dir dir;
  ASSERT_FALSE(write_json(run, dir / "report.json"));
  EXPECT_EQ(text_of(read_json(dir / "report.json")) + "\n", planproof::test::read_file(dir / "report.json"));
}

// A simulated run wrote no dead-letter file: read back (as merge reads shards), it names none,
// while its settings keep the plan's path.
TEST(json_report, a_simulated_run_read_back_names_no_dead_letter_file) {
  auto run = test::sample_run();
  run.mode = "sim";
  run.dead_letter_path.clear();
  const auto json = to_json(run);
  EXPECT_EQ(json.at("settings").at("retry").at("dead_letter").at("path").as_string(), run.retry.dead_letter_path);
  const auto again = from_json(json);
  EXPECT_EQ(again.mode, "sim");
  EXPECT_TRUE(again.dead_letter_path.empty());
  EXPECT_EQ(again.retry.dead_letter_path, run.retry.dead_letter_path);
}

TEST(json_report, the_shard_is_recorded) {
  auto run = test::sample_run();
  EXPECT_FALSE(to_json(run).as_object().contains("shard"));
  run.shard = scenario::shard_info{{2, 3}, 7};
  const auto shard = to_json(run).at("shard");
  EXPECT_EQ(shard.at("index").as_uint64(), 2u);
  EXPECT_EQ(shard.at("count").as_uint64(), 3u);
  EXPECT_EQ(shard.at("selected").as_uint64(), 7u);
}

// Each complaint names the field, as a path from the top of the report.
TEST(json_report, a_report_that_is_not_one_names_the_field) {
  const auto good = to_json(test::sample_run());
  auto broken = [&](auto change) {
    auto v = good;
    change(v.as_object());
    try {
      from_json(v);
    } catch (const report_format_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(broken([](auto& o) { o.erase("plan"); }), "plan: missing");
  EXPECT_EQ(broken([](auto& o) { o["seed"] = -1; }), "seed: expected a whole number >= 0");
  EXPECT_EQ(broken([](auto& o) { o["time_scale"] = "fast"; }), "time_scale: expected a number");
  EXPECT_EQ(broken([](auto& o) { o["notes"] = boost::json::array{1}; }), "notes[0]: expected a string");
  EXPECT_EQ(broken([](auto& o) { o["shard"] = {{"index", 0}, {"count", 2}, {"selected", 3}}; }),
            "shard: index must be between 1 and count");
  EXPECT_EQ(broken([](auto& o) { o["settings"].as_object()["retry"].as_object()["backoff"].as_object()["jitter"] = "lots"; }),
            "settings.retry.backoff.jitter: unknown value 'lots'");
  EXPECT_EQ(broken([](auto& o) { o["settings"].as_object()["retry"].as_object()["retry_on"] = boost::json::array{"soon"}; }),
            "settings.retry.retry_on[0]: expected an HTTP status or an error class");
  EXPECT_EQ(broken([](auto& o) { o["failure_modes"].as_array()[1].as_object()["verdict"] = "fine"; }),
            "failure_modes[1].verdict: unknown value 'fine'");
  EXPECT_EQ(broken([](auto& o) { o["failure_modes"].as_array()[1].as_object()["metrics"].as_object().erase("requests"); }),
            "failure_modes[1].metrics.requests: missing");
  EXPECT_EQ(broken([](auto& o) {
              o["failure_modes"].as_array()[1].as_object()["expectations"].as_array()[0].as_object()["evidence"] =
                  boost::json::array{{{"request", 1}, {"at_ms", 2}}};
            }),
            "failure_modes[1].expectations[0].evidence[0].what: missing");
  EXPECT_EQ(broken([](auto& o) { o["failure_modes"] = "none"; }), "failure_modes: expected an array");
  EXPECT_EQ(broken([](auto&) {}), "accepted");
  EXPECT_THROW(from_json(boost::json::array{}), report_format_error);
}

TEST(json_report, read_json_names_the_file_and_why) {
  planproof::test::temp_dir dir;
  auto message = [&](const std::string& name, const std::string& content) {
    if (!content.empty()) std::ofstream(dir / name) << content;
    try {
      read_json(dir / name);
    } catch (const core::diagnostic_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const auto p = dir.path().string();
  EXPECT_EQ(message("missing.json", ""), p + "/missing.json: error: cannot read the report: No such file or directory");
  EXPECT_EQ(message("cut.json", "{\"plan\": "), p + "/cut.json: error: not JSON: incomplete JSON");
  EXPECT_EQ(message("other.json", "{\"plan\": \"x\"}"),
            p + "/other.json: error: not a planproof JSON report: plan_file: missing");
  ASSERT_FALSE(write_json(test::sample_run(), dir / "good.json"));
  EXPECT_EQ(read_json(dir / "good.json").failure_modes.size(), 4u);
}

}  // namespace
}  // namespace planproof::report
