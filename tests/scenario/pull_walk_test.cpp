// The pull walk against the mock's own collection (pure, no socket): every pagination breakage the
// mock serves, taken as it comes or de-duplicated and fetched again, and the processed_exactly_once
// verdict it leads to.
#include "scenario/pull_walk.hpp"

#include <variant>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mocks/pagination.hpp"
#include "scenario/expectations.hpp"

namespace planproof::scenario {
namespace {

using ::testing::HasSubstr;
using plan::page_breakage;

// 25 employees in pages of 10, numbered pages: pages 1 and 2 are whole, page 3 holds 5.
plan::endpoint employees(plan::pagination_style style = plan::pagination_style::page) {
  plan::endpoint e;
  e.id = "list_employees";
  e.method = "GET";
  e.path = "/v1/employees";
  e.response_example = boost::json::parse(R"({"data": [{"id": "emp_01HV3K9QW2", "name": "Ada"}], "meta": {"more": false}})");
  plan::pagination_config p;
  p.style = style;
  p.param = style == plan::pagination_style::page ? "page" : "starting_after";
  p.max_page_size = 10;
  p.has_more = "meta.more";
  p.items = "data";
  p.collection = 25;
  e.pagination = p;
  return e;
}

// The walk, driven by the mock's collection: each step asks the page the walk wants next.
struct pull_driver {
  explicit pull_driver(bool refetch, std::uint32_t max_fetches = 5, plan::endpoint e = employees())
      : endpoint(std::move(e)),
        pages(endpoint),
        walk({pages.size(), pages.page_size(), refetch, max_fetches}, [this](std::size_t i) { return pages.record_id(i); },
             tally) {}

  // Asks for walk.page(), broken as `breakage` says; the request succeeds.
  void step(std::optional<page_breakage> breakage = {}) {
    const auto target = pages.target_for_page(walk.page());
    const auto at = std::get<mocks::page_position>(pages.locate(target));
    const auto answer = pages.serve(at, breakage);
    ++request;
    walk.on_answer(read_page(answer.body, *endpoint.pagination), false, request, 100.0 * request, target);
  }
  void failed_step() {
    ++request;
    walk.on_answer(std::nullopt, false, request, 100.0 * request, pages.target_for_page(walk.page()));
  }

  plan::endpoint endpoint;
  mocks::paged_collection pages;
  pull_tally tally;
  pull_walk walk;
  std::uint64_t request = 0;
};

plan::expectation exactly_once(bool value = true) {
  plan::expectation e;
  e.name = "processed_exactly_once";
  e.boolean = value;
  e.text = value ? "true" : "false";
  return e;
}

TEST(pull_walk, a_whole_pull_processes_every_record_once_and_starts_the_next_pull) {
  pull_driver d(false);
  EXPECT_EQ(d.walk.page_count(), 3u);
  for (int i = 0; i < 3; ++i) d.step();
  EXPECT_EQ(d.walk.page(), 0u) << "the last page ends the pull; the next one starts from the first page";
  EXPECT_EQ(d.tally.pulls, 1u);
  EXPECT_EQ(d.tally.pages_read, 3u);
  EXPECT_EQ(d.tally.records_expected, 25u);
  EXPECT_EQ(d.tally.processed_once, 25u);
  EXPECT_TRUE(d.tally.exactly_once());
  EXPECT_TRUE(d.tally.evidence.empty());
}

TEST(pull_walk, a_repeated_page_taken_as_it_comes_processes_records_twice_and_misses_the_page_asked_for) {
  pull_driver d(false);
  d.step();
  d.step(page_breakage::repeated_page);  // page 2 answers page 1's records
  d.step();
  EXPECT_EQ(d.tally.pulls, 1u);
  EXPECT_EQ(d.tally.processed_twice, 10u);
  EXPECT_EQ(d.tally.missed, 10u);
  EXPECT_EQ(d.tally.processed_once, 5u);
  EXPECT_EQ(d.tally.refetches, 0u);
  EXPECT_FALSE(d.tally.exactly_once());
  ASSERT_EQ(d.tally.evidence.size(), 2u);
  // Both on page 2, asked by request 2: its own records missed, page 1's processed again.
  EXPECT_EQ(d.tally.evidence[0].request, 2u);
  EXPECT_EQ(d.tally.evidence[0].at_ms, 200.0);
  EXPECT_THAT(d.tally.evidence[0].what, HasSubstr("page 2 (/v1/employees?page=2): 10 records of this page never processed"));
  EXPECT_EQ(d.tally.evidence[1].request, 2u);
  EXPECT_THAT(d.tally.evidence[1].what,
              HasSubstr("page 2 (/v1/employees?page=2): its answer held 10 records of other pages already processed "
                        "in the pull, processed again"));
}

TEST(pull_walk, a_repeated_page_is_dropped_and_fetched_again_with_refetch) {
  pull_driver d(true);
  d.step();
  d.step(page_breakage::repeated_page);
  EXPECT_TRUE(d.walk.refetching());
  EXPECT_EQ(d.walk.page(), 1u) << "the same page again";
  d.step();
  d.step();
  EXPECT_EQ(d.tally.refetches, 1u);
  EXPECT_EQ(d.tally.duplicates_dropped, 10u);
  EXPECT_EQ(d.tally.processed_once, 25u);
  EXPECT_TRUE(d.tally.exactly_once());
}

TEST(pull_walk, a_short_page_misses_records_unless_fetched_again) {
  pull_driver ignore(false);
  ignore.step(page_breakage::short_page);  // 5 of 10, more to come
  ignore.step();
  ignore.step();
  EXPECT_EQ(ignore.tally.missed, 5u);
  EXPECT_FALSE(ignore.tally.exactly_once());
  EXPECT_THAT(ignore.tally.evidence.at(0).what, HasSubstr("page 1 (/v1/employees): 5 records of this page never processed"));

  pull_driver refetch(true);
  refetch.step(page_breakage::short_page);
  EXPECT_TRUE(refetch.walk.refetching());
  refetch.step();
  EXPECT_FALSE(refetch.walk.refetching()) << "the whole page again: its first half read twice is no reason to refetch";
  refetch.step();
  refetch.step();
  EXPECT_EQ(refetch.tally.duplicates_dropped, 5u) << "the first half, read twice, processed once";
  EXPECT_TRUE(refetch.tally.exactly_once());
}

TEST(pull_walk, a_shifted_page_holding_one_record_read_already_is_fetched_again_with_refetch) {
  pull_driver ignore(false);
  ignore.step();
  ignore.step(page_breakage::shifted_page);  // starts one early: repeats record 10, misses record 20
  ignore.step();
  EXPECT_EQ(ignore.tally.processed_twice, 1u);
  EXPECT_EQ(ignore.tally.missed, 1u);

  pull_driver refetch(true);
  refetch.step();
  refetch.step(page_breakage::shifted_page);
  EXPECT_TRUE(refetch.walk.refetching());
  refetch.step();
  refetch.step();
  EXPECT_EQ(refetch.tally.duplicates_dropped, 10u) << "the shifted page's 9 records read again and the one repeated";
  EXPECT_TRUE(refetch.tally.exactly_once());
}

TEST(pull_walk, a_page_is_fetched_at_most_max_fetches_times) {
  pull_driver d(true, 2);
  d.step();
  d.step(page_breakage::repeated_page);
  d.step(page_breakage::repeated_page);  // the second and last fetch of page 2: the walk moves on
  EXPECT_FALSE(d.walk.refetching());
  EXPECT_EQ(d.walk.page(), 2u);
  d.step();
  EXPECT_EQ(d.tally.refetches, 1u);
  EXPECT_EQ(d.tally.missed, 10u);
  EXPECT_EQ(d.tally.processed_twice, 0u) << "what was read again was dropped";
  EXPECT_FALSE(d.tally.exactly_once());
}

TEST(pull_walk, records_of_a_page_whose_request_failed_are_missed) {
  pull_driver d(true);
  d.step();
  d.failed_step();
  EXPECT_FALSE(d.walk.refetching()) << "the retry policy had its attempts; the walk goes on";
  d.step();
  EXPECT_EQ(d.tally.missed, 10u);
  EXPECT_THAT(d.tally.evidence.at(0).what, HasSubstr("(its request did not succeed)"));
}

TEST(pull_walk, a_restarted_read_ends_the_pull_and_begins_another) {
  pull_driver d(false, 5, employees(plan::pagination_style::cursor));
  d.step();
  // The cursor of page 2 was refused and the client read the first page instead.
  const auto first = d.pages.serve(std::get<mocks::page_position>(d.pages.locate(d.pages.target_for_page(0))));
  d.walk.on_answer(read_page(first.body, *d.endpoint.pagination), true, 2, 200, d.pages.target_for_page(0));
  EXPECT_EQ(d.walk.page(), 1u);
  EXPECT_EQ(d.tally.pulls, 1u) << "the pull that only got its first page";
  d.step();
  d.step();
  EXPECT_EQ(d.tally.pulls, 2u);
  EXPECT_EQ(d.tally.records_expected, 10u + 25u);
  EXPECT_TRUE(d.tally.exactly_once());
}

TEST(pull_walk, finish_counts_the_pull_under_way_as_far_as_it_got) {
  pull_driver d(false);
  d.step();
  d.walk.finish();
  EXPECT_EQ(d.tally.pulls, 1u);
  EXPECT_EQ(d.tally.records_expected, 10u);
  EXPECT_TRUE(d.tally.exactly_once());
  d.walk.finish();
  EXPECT_EQ(d.tally.pulls, 1u) << "nothing asked since";
}

TEST(read_page, reads_ids_and_whether_more_follows) {
  plan::pagination_config p;
  p.items = "result.rows";
  p.has_more = "result.more";
  auto page = read_page(R"({"result": {"rows": [{"id": 7}, {"Id": "a"}, {"emp_id": "b", "x": 1}, {"v": 2}], "more": true}})", p);
  ASSERT_TRUE(page);
  EXPECT_THAT(page->ids, ::testing::ElementsAre("7", "a", "b", R"({"v":2})"));
  EXPECT_TRUE(page->has_more);
  EXPECT_FALSE(read_page(R"({"result": {"rows": []}})", p)->has_more) << "an absent has_more: no more";

  plan::pagination_config cursor;
  cursor.next_cursor = "next";
  EXPECT_TRUE(read_page(R"({"data": [], "next": "abc"})", cursor)->has_more);
  EXPECT_FALSE(read_page(R"({"data": [], "next": null})", cursor)->has_more);
  EXPECT_TRUE(read_page(R"([{"id": 1}])", plan::pagination_config{})->has_more) << "nothing says: the page count decides";
  EXPECT_EQ(read_page(R"([{"id": 1}])", plan::pagination_config{})->ids.size(), 1u);

  EXPECT_FALSE(read_page(R"({"data": [)", p));
  EXPECT_FALSE(read_page(R"({"result": {"rows": {}}})", p));
}

TEST(processed_exactly_once, holds_when_every_record_was_processed_once_and_breaks_otherwise) {
  pull_driver clean(true);
  clean.step();
  clean.step(page_breakage::repeated_page);
  for (int i = 0; i < 2; ++i) clean.step();
  run_metrics m;
  m.pull = clean.tally;
  const auto held = evaluate(exactly_once(), run_stats(core::time_point{}), m);
  EXPECT_TRUE(held.held);
  EXPECT_EQ(held.observed, boost::json::value(true));
  EXPECT_EQ(held.note, "25 records expected over 1 pulls (4 pages read, 1 fetched again): 25 processed once, "
                       "0 processed twice or more, 0 missed; 10 repeated records dropped");

  pull_driver broken(false);
  broken.step();
  broken.step(page_breakage::repeated_page);
  broken.step();
  m.pull = broken.tally;
  const auto r = evaluate(exactly_once(), run_stats(core::time_point{}), m);
  EXPECT_FALSE(r.held);
  EXPECT_EQ(r.observed, boost::json::value(false));
  EXPECT_THAT(r.note, HasSubstr("10 processed twice or more, 10 missed"));
  ASSERT_EQ(r.evidence.size(), 2u);
  EXPECT_EQ(r.evidence[0].request, 2u);
  // Expecting false holds on the broken pull.
  EXPECT_TRUE(evaluate(exactly_once(false), run_stats(core::time_point{}), m).held);
}

TEST(processed_exactly_once, is_not_judged_without_a_pull_or_a_page_read) {
  run_metrics m;
  const auto none = evaluate(exactly_once(), run_stats(core::time_point{}), m);
  EXPECT_FALSE(none.held);
  EXPECT_THAT(none.note, HasSubstr("no webhook event was delivered"));
  m.pull = pull_tally{};
  const auto empty = evaluate(exactly_once(), run_stats(core::time_point{}), m);
  EXPECT_FALSE(empty.held);
  EXPECT_TRUE(empty.observed.is_null());
  EXPECT_EQ(empty.note, "no page of the collection was read");
}

}  // namespace
}  // namespace planproof::scenario
