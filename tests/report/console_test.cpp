#include "report/console.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "sample_runs.hpp"

namespace planproof::report {
namespace {

using namespace std::chrono_literals;

scenario::run_progress progress_at(std::uint64_t completed) {
  return {.id = "rate_limited", .position = 2, .count = 6, .elapsed = 12340ms, .planned = 60s, .completed = completed,
          .requests = 1200, .failed = 3, .attempts = 902};
}

TEST(console_progress, the_line_says_where_the_failure_mode_stands) {
  EXPECT_EQ(progress_line(progress_at(840), 0, 200),
            "  [2/6] rate_limited  12.3s of 1m  840/1200 requests  3 failed  902 attempts");
  // Padded to the longest id, so the numbers stay in their columns from one mode to the next.
  EXPECT_EQ(progress_line(progress_at(840), 15, 200),
            "  [2/6] rate_limited     12.3s of 1m  840/1200 requests  3 failed  902 attempts");
  // Never wider than the terminal: a wrapped line could not be redrawn in place.
  EXPECT_EQ(progress_line(progress_at(840), 0, 30), "  [2/6] rate_limited  12.3s of");
  auto wide = progress_at(1);
  wide.id = "caf\xc3\xa9";
  EXPECT_EQ(progress_line(wide, 0, 12), "  [2/6] caf");  // not half of the é
}

TEST(console_progress, redraws_in_place_and_clears_before_the_final_lines) {
  std::ostringstream out;
  progress_display display(out, true, 0, 200);
  display.update(progress_at(1000));
  display.update(progress_at(5));  // shorter: the rest of the old line is blanked
  display.clear();
  display.clear();  // nothing left to clear
  const auto first = progress_line(progress_at(1000), 0, 200);
  const auto second = progress_line(progress_at(5), 0, 200);
  // The blanks after the second line are on screen already: clearing covers the second line.
  EXPECT_EQ(out.str(), "\r" + first + "\r" + second + std::string(first.size() - second.size(), ' ') + "\r" +
                           std::string(second.size(), ' ') + "\r");
}

TEST(console_progress, disabled_it_prints_nothing) {
  std::ostringstream out;
  progress_display display(out, false, 0, 200);
  display.update(progress_at(1));
  display.clear();
  EXPECT_EQ(out.str(), "");
}

TEST(console_table, one_row_per_failure_mode_with_its_first_failure) {
  std::ostringstream out;
  print_table(out, test::sample_run());
  EXPECT_EQ(out.str(),
            "  failure mode        verdict  requests  succeeded  dead-lettered  lost      p99  first failed expectation\n"
            "  rate_limited        held         1200       1200              0     0  812.5ms\n"
            "  upstream_503_burst  broken       1200       1138             62     0  812.5ms  success_rate: expected >= 0.99, observed 0.9483\n"
            "  tls_expired         skipped         -          -              -     -        -  fault 'tls' (needs run --tls DIR)\n"
            "  hung                error           -          -              -     -        -  could not start the mock upstream\n");
  std::ostringstream empty;
  auto run = test::sample_run();
  run.failure_modes.clear();
  print_table(empty, run);
  EXPECT_EQ(empty.str(), "");
}

TEST(console_header, a_shard_says_which_and_an_empty_one_says_why) {
  auto run = test::sample_run();
  run.notes.clear();
  run.shard = scenario::shard_info{{2, 3}, 7};
  std::ostringstream out;
  print_header(out, run, 2);
  EXPECT_EQ(out.str(),
            "planproof run acme-payments (phase phase1), shard 2/3: 2 of the 7 selected failure modes, live, seed 42, "
            "time scale 0.05 (times below are plan time)\n");
  run.shard = scenario::shard_info{{4, 4}, 3};
  std::ostringstream empty;
  print_header(empty, run, 0);
  EXPECT_NE(empty.str().find("shard 4/4: 0 of the 3 selected failure modes"), std::string::npos) << empty.str();
  EXPECT_NE(empty.str().find("note: this shard has no failure mode to run (3 selected, 4 shards): an empty run that holds"),
            std::string::npos)
      << empty.str();
}

}  // namespace
}  // namespace planproof::report
