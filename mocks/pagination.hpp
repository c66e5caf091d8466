// A paginated list endpoint as the mock upstream serves it: a finite collection of records made
// from the endpoint's example record, the same for the whole run, cut into pages by cursor, page
// number, offset or Link header, and the ways a `pagination` fault breaks a page. Pure: a request
// target in, a page out; no socket, so every style and breakage is tested without a server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "plan/model.hpp"

namespace planproof::mocks {

// Which records a request asks for.
struct page_position {
  std::size_t offset = 0;     // index of the first record asked for
  std::size_t size = 1;       // records per page
  // The request continues a walk: it carries a cursor (cursor, link_header), or asks for a page
  // past the first (page > 1, offset > 0). Only such requests can meet an invalid cursor.
  bool continuation = false;
};

// A page as served: its body, the records it holds, and where the next page starts.
struct page_answer {
  std::string body;                        // JSON
  std::string link;                        // link_header style: the Link header value; empty on the last page
  std::size_t first = 0, count = 0;        // records [first, first + count) of the collection
  std::optional<std::size_t> next;         // offset the next page starts at; none = this was the last
};

// A request the collection cannot serve: a cursor it never issued, a page or limit that is not a number.
struct page_error {
  std::string code;     // invalid_cursor | invalid_page | invalid_offset | invalid_limit
  std::string message;
  std::string body() const;  // {"error": code, "message": message}
};

// The field that tells a record apart: its `id`, `Id` or `ID` (a string or a whole number), else its
// first string field named `*_id`; empty when it has none. The mock makes this field distinct in
// every record it serves, and a client walking the pages knows a record by it.
std::string record_id_field(const boost::json::object& record);

class paged_collection {
 public:
  static constexpr std::size_t default_page_size = 20;  // when the plan gives no max_page_size
  static constexpr std::size_t max_records = 1'000'000;
  static constexpr std::string_view link_param = "cursor";  // link_header style: the query parameter in the Link URL

  // `e` must have `pagination`. `next_link` is a path template holding `{param}` (the endpoint that
  // takes the cursor in its path, e.g. Salesforce's `/query/{query_locator}`): when not empty, the
  // body's next_cursor field carries that path with the cursor in it instead of the bare cursor.
  paged_collection(const plan::endpoint& e, std::string next_link = {});

  std::size_t size() const noexcept { return records_; }
  // Records per page when the request names no size: max_page_size, else default_page_size.
  std::size_t page_size() const noexcept { return page_size_; }
  std::size_t page_count() const noexcept;  // pages of page_size(), at least 1

  // The page `target` (path and query string) asks for, or why it cannot be served.
  std::variant<page_position, page_error> locate(std::string_view target) const;

  // The page at `at`, whole or broken by a `pagination` fault (invalid_cursor is answered by the
  // server with an error status and never reaches here):
  // - short_page: the first half of the page's records (rounded down), with has_more true and a
  //   next cursor right after the last record served, even when the page was the last. A client
  //   that follows the cursor (or, with offsets, counts what it received) loses nothing; one that
  //   takes a short page for the end, or moves to the next page number, misses records.
  // - repeated_page: the previous page again (records [offset - size, offset)), with has_more true
  //   and a next cursor pointing back at the page asked for: a cursor client reads those records
  //   twice and misses none; with page or offset numbering the client moves on and the page asked
  //   for is missed too, unless it notices the duplicates and asks again.
  // - shifted_page: as if a record had been inserted at the head of the collection: the page
  //   starts one record early, so its first record repeats the last of the previous page. The next
  //   cursor continues after the last record served (one record read twice, none missed); with
  //   page or offset numbering the next page starts where it would have, so the page's last
  //   record is missed as well.
  // repeated_page and shifted_page change nothing on the first page (offset 0).
  page_answer serve(const page_position& at, std::optional<plan::page_breakage> breakage = {}) const;

  // The cursor standing for a page: opaque to a client, but it encodes the offset and page size
  // with a checksum, so the mock needs no state and can tell a cursor it never issued.
  std::string cursor(std::size_t offset, std::size_t size) const;
  // The request target a client walking the collection sends for page `index` (0-based) of
  // page_size(): the plain path for the first page, then the cursor, page number or offset.
  std::string target_for_page(std::size_t index) const;

  boost::json::value record(std::size_t index) const;
  // The value of record `index`'s id field (record_id_field of the example's first record, else an
  // added `index`), as text.
  std::string record_id(std::size_t index) const;

 private:
  std::optional<std::pair<std::size_t, std::size_t>> decode(std::string_view token) const;
  std::string next_value(std::size_t offset, std::size_t size) const;

  plan::pagination_config config_;
  std::string path_;       // the endpoint's path template
  bool cursor_in_path_ = false;
  std::string next_link_;
  std::size_t page_size_ = default_page_size;
  std::size_t records_ = 0;
  std::size_t max_size_ = max_records;  // a request's size is capped here (max_page_size)
  boost::json::value envelope_;         // the example body, whose items are replaced by the page's
  bool bare_array_ = false;             // the body is the array of records itself
  std::vector<boost::json::value> templates_;  // the example's records, used in turn
  std::string id_key_;                  // the field made distinct in each record
  bool id_is_number_ = false;
  std::int64_t id_base_ = 0;
};

// The collection the mock serves for `e`, or none when it is not paginated. A cursor goes into
// the body as a URL when an endpoint of the plan (`e` itself first) takes it as a path parameter.
// The decoded value (`+` a space, `%XX` a byte) of query parameter `name` in `query` (the part of
// a target after `?`), at its first occurrence; none when absent.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

std::shared_ptr<const paged_collection> make_collection(const plan::integration_plan& p, const plan::endpoint& e);

// Whether request path `path` matches the plan path `pattern`, whose `{name}` segments match any
// one non-empty segment; the matched values go to `captures` (name, value) in order.
bool match_path(std::string_view pattern, std::string_view path,
                std::vector<std::pair<std::string, std::string>>* captures = nullptr);

}  // namespace planproof::mocks
