// End to end: `planproof run` killed with SIGKILL while it dead-letters, at 20 different points of
// its stream of dead letters, every kill appending to the same file. After each kill the file reads
// back: every record whole, at most one line torn per kill (the one being written), and the next
// run ends a torn line before it appends, so no record of a later run is lost with it.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "client/dead_letter.hpp"
#include "support/child_process.hpp"
#include "support/paths.hpp"
#include "support/process.hpp"

namespace planproof {
namespace {

using namespace std::chrono_literals;

// Every request answered 503 and never retried: a dead letter per request, 200 a second, for a
// minute (far longer than any kill point).
constexpr std::string_view crash_plan = R"(planproof: 1
integration: {name: crash-check}
auth: {method: none}
endpoints:
  - id: items
    method: GET
    path: /v1/items
    response: {example: {data: []}}
    statuses: {success: [200]}
retry:
  max_attempts: 1
  retry_on: [503]
  dead_letter: {path: dead-letter/crash.jsonl}
traffic: {endpoint: items, rate: 200/s, concurrency: 8, duration: 60s}
failure_modes:
  - id: down
    inject: {fault: status, status: 503}
    expect: {success_rate: ">= 0.99"}
)";

constexpr int kill_points = 20;

TEST(crash_safety, a_run_killed_anywhere_leaves_a_readable_dead_letter_file) {
  test::temp_dir dir;
  {
    std::ofstream(dir / "crash.plan.yaml") << crash_plan;
  }
  const auto file = dir / "dead-letter/crash.jsonl";
  std::size_t records_before = 0;
  std::size_t damaged_before = 0;
  int killed_with_records = 0;
  for (int point = 0; point < kill_points; ++point) {
    // --verbose prints a line per request that ends, each one dead-lettered: the kill comes after
    // `lines` of them, from the first few to several hundred, so it falls at a different place of
    // the file each time.
    const int lines = 1 + (point * 37) % 400;
    test::child_process run(
        "/bin/sh", {"-c", "exec " + test::planproof_executable() + " run crash.plan.yaml --verbose --seed " +
                              std::to_string(point + 1) + " 2>&1"},
        {.cwd = dir.path().string()});
    ASSERT_TRUE(run.started()) << run.error();
    int seen = 0;
    while (seen < lines) {
      const auto line = run.read_line(20s);
      ASSERT_TRUE(line) << "point " << point << ": no dead letter within 20s\n" << run.output();
      if (line->find("outcome=dead_lettered") != std::string::npos) ++seen;
    }
    ASSERT_TRUE(run.signal(SIGKILL));
    const auto code = run.wait(20s);
    ASSERT_TRUE(code) << "point " << point;
    EXPECT_EQ(*code, 128 + SIGKILL);

    const auto letters = client::read_dead_letters(file);
    ASSERT_FALSE(letters.error) << letters.error.message();
    // The kill can tear the line being written, one per kill; a later run ends it and moves on.
    EXPECT_LE(letters.damaged - damaged_before, 1u) << "point " << point;
    std::set<std::uint64_t> ids;
    for (std::size_t i = records_before; i < letters.records.size(); ++i) {
      const auto& r = letters.records[i].fields;
      for (const char* field : {"plan", "failure_mode", "request_id", "endpoint", "reason", "last_error", "attempts",
                                "dead_lettered_at"}) {
        EXPECT_TRUE(r.contains(field)) << "point " << point << ", line " << letters.records[i].line << ": no " << field;
      }
      if (const auto* id = r.if_contains("request_id"); id != nullptr && id->is_int64()) {
        EXPECT_TRUE(ids.insert(static_cast<std::uint64_t>(id->as_int64())).second)
            << "point " << point << ": request " << *id << " dead-lettered twice";
      }
      EXPECT_EQ(r.at("reason").as_string(), "attempts_exhausted");
    }
    if (letters.records.size() > records_before) ++killed_with_records;
    records_before = letters.records.size();
    damaged_before = letters.damaged;
  }
  // The kills did land while dead letters were being written, not before the first.
  EXPECT_GE(killed_with_records, kill_points - 1);
  EXPECT_GT(records_before, 1000u);
}

}  // namespace
}  // namespace planproof
