// A paginated pull as a sync walks it: page after page from the first, reading each page's records,
// and (with the endpoint's `on_page_shift: refetch`) dropping records already read in the pull and
// fetching a short or shifted page again. Pure decisions over the answers it is given; the traffic
// generator carries them out. What it counts is what processed_exactly_once judges on a pull.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plan/model.hpp"
#include "scenario/run_stats.hpp"

namespace planproof::scenario {

// The records of a page as a client reads them from a success answer.
struct page_records {
  std::vector<std::string> ids;  // each record's id (mocks::record_id_field), in the page's order
  // Whether another page follows: the plan's has_more field, else whether a next_cursor is given;
  // true when the plan names neither (then the walk ends after the collection's page count).
  bool has_more = true;
};

// The records of `body`, a page of an endpoint with `pagination`: the array at its `items` field
// (`data` by default; the body itself when it is an array and no `items` is named). None when the
// body is not JSON or holds no such array.
std::optional<page_records> read_page(std::string_view body, const plan::pagination_config& pagination);

// What the pulls of a run came to. A pull is one walk of the collection from its first page to its
// last (or to where the run ended).
struct pull_tally {
  std::uint64_t pulls = 0;              // pulls walked, the last of each walker cut by the run's end included
  std::uint64_t pages_read = 0;         // success answers whose records were read
  std::uint64_t refetches = 0;          // pages fetched again (on_page_shift: refetch)
  std::uint64_t records_expected = 0;   // records of the pages the pulls asked for
  std::uint64_t processed_once = 0;     // ...processed exactly once in their pull
  std::uint64_t processed_twice = 0;    // ...processed more than once in their pull
  std::uint64_t missed = 0;             // ...never processed in their pull
  std::uint64_t duplicates_dropped = 0; // records of an answer already read in the pull, not processed again
  std::vector<evidence_item> evidence;  // the first pages where records were missed or processed twice

  bool exactly_once() const noexcept { return missed == 0 && processed_twice == 0; }
};

// One walker's pulls, one after the other. The collection holds `records` records whose ids
// `id_of(index)` gives, in pages of `page_size`; the walker asks page page() next.
class pull_walk {
 public:
  struct settings {
    std::size_t records = 0;
    std::size_t page_size = 1;
    bool refetch = false;          // on_page_shift: refetch
    std::uint32_t max_fetches = 1; // fetches of one page in all (retry.max_attempts)
  };

  pull_walk(settings s, std::function<std::string(std::size_t)> id_of, pull_tally& tally);

  std::size_t page() const noexcept { return page_; }
  std::size_t page_count() const noexcept;
  // The next request fetches the same page again: its last answer was short, or held records first
  // read on another page of the pull.
  bool refetching() const noexcept { return fetches_ > 0; }

  // What came of the request for page(): `read` holds its records when it succeeded (none when it
  // did not, or its body could not be read: the page's records are then missed); `restarted` when
  // the client read the first page instead (a refused cursor), which starts a new pull. `request`,
  // `at_ms` and `target` are for the evidence.
  void on_answer(const std::optional<page_records>& read, bool restarted, std::uint64_t request, double at_ms,
                 std::string_view target);
  // The run is over: the pull under way counts as far as it got.
  void finish();

 private:
  struct page_note {
    std::uint64_t request = 0;
    double at_ms = 0;
    std::string target;
    bool read = false;  // its records were read
    std::uint64_t repeated = 0;  // records of other pages its answer held
  };
  struct record_seen {
    std::uint32_t times = 0;  // processed
    std::uint32_t page = 0;   // where it was first read
  };
  void end_pull();
  void begin_pull();
  void note(std::size_t page, std::string what);

  settings s_;
  std::function<std::string(std::size_t)> id_of_;
  pull_tally& tally_;
  std::size_t page_ = 0;
  std::uint32_t fetches_ = 0;   // re-fetches of page_ so far
  std::size_t asked_ = 0;       // pages of this pull asked for: [0, asked_)
  std::unordered_map<std::string, record_seen> processed_;  // this pull's records, by id
  std::vector<page_note> pages_;  // the last answer to each page of this pull
};

}  // namespace planproof::scenario
