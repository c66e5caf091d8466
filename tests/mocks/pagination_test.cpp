// Paginated endpoints in the mock upstream: the collection and its pages (pure), then the same
// walked over real sockets, with each breakage of the `pagination` fault seen by a client.
#include "mocks/pagination.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plan/loader.hpp"
#include "server_fixture.hpp"

namespace planproof::mocks::testing {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

// Five list endpoints, one per way of paging, 25 records in pages of 10, and query_more taking
// query_contacts' cursor in its path (Salesforce's nextRecordsUrl).
constexpr std::string_view endpoints_yaml = R"(endpoints:
  - id: by_cursor
    path: /v1/events
    response: {example: {data: [{id: evt_0A1B2C3D4E5F, type: created}], has_more: false, next: null}}
    pagination: {style: cursor, param: starting_after, limit_param: limit, max_page_size: 10, has_more: has_more,
                 next_cursor: next, items: data, collection: 25}
  - id: by_page
    path: /v1/employees
    response: {example: {data: [{id: emp_01HV3K9QW2, name: Ada}, {id: emp_01HV3M2ZT8, name: Grace}],
                         meta: {has_next_page: true}}}
    pagination: {style: page, param: page, limit_param: per_page, max_page_size: 10, has_more: meta.has_next_page,
                 items: data, collection: 25}
  - id: by_offset
    path: /v1/changes
    response: {example: {changes: [{change_id: 7, employee_id: emp_1}]}}
    pagination: {style: offset, param: offset, limit_param: limit, max_page_size: 10, items: changes, collection: 25}
  - id: by_link
    path: /v1/repos
    response: {example: [{id: 1296269, name: hello}]}
    pagination: {style: link_header, max_page_size: 10, collection: 25}
  - id: query_contacts
    path: /services/query
    response: {example: {done: false, nextRecordsUrl: /services/query/x, records: [{Id: 003RM00000Xy7QbYAJ}]}}
    pagination: {style: cursor, param: query_locator, max_page_size: 10, next_cursor: nextRecordsUrl, items: records,
                 collection: 25}
  - id: query_more
    path: /services/query/{query_locator}
    path_params: {query_locator: {type: string, example: abc}}
    response: {example: {done: false, records: [{Id: 003RM00000Xy7QbYAJ}]}}
    pagination: {style: cursor, param: query_locator, max_page_size: 10, next_cursor: nextRecordsUrl, items: records,
                 collection: 25}
  - id: get_thing
    path: /v1/things/{thing_id}
    response: {example: {id: th_1}}
)";

std::string plan_text(std::string_view failure_modes) {
  return "planproof: 1\nintegration: {name: pages}\nauth: {method: none}\n" + std::string(endpoints_yaml) +
         "retry: {max_attempts: 1}\ntraffic: {endpoint: by_cursor, rate: 1/s, duration: 1s}\n" +
         std::string(failure_modes) + "\n";
}

plan::integration_plan load(std::string_view faults = "{fault: hang, endpoint: get_thing}") {
  return plan::load_string(plan_text("failure_modes: [{id: f, inject: " + std::string(faults) + "}]"), "pages.yaml");
}

const plan::endpoint& endpoint_of(const plan::integration_plan& p, std::string_view id) {
  const auto* e = p.find_endpoint(std::string(id));
  EXPECT_NE(e, nullptr) << id;
  return *e;
}

// --- the collection, without a server ------------------------------------------------------------

TEST(paged_collection, records_are_copies_of_the_example_with_distinct_ids_of_the_same_shape) {
  const auto p = load();
  const auto c = make_collection(p, endpoint_of(p, "by_page"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->size(), 25u);
  EXPECT_EQ(c->page_size(), 10u);
  EXPECT_EQ(c->page_count(), 3u);
  std::set<std::string> ids;
  for (std::size_t i = 0; i < c->size(); ++i) {
    const auto id = c->record_id(i);
    EXPECT_EQ(id.size(), std::string_view("emp_01HV3K9QW2").size()) << id;
    EXPECT_TRUE(id.starts_with("emp_01HV")) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 25u);
  // The example's records are used in turn, other fields kept.
  EXPECT_EQ(c->record(0).as_object().at("name"), "Ada");
  EXPECT_EQ(c->record(1).as_object().at("name"), "Grace");
  EXPECT_EQ(c->record(2).as_object().at("name"), "Ada");
  // The first string `*_id` when there is no `id`: a short one gets the index appended.
  const auto changes = make_collection(p, endpoint_of(p, "by_offset"));
  EXPECT_EQ(changes->record(3).as_object().at("employee_id"), "emp_1_000003");
  EXPECT_EQ(changes->record(3).as_object().at("change_id"), 7);
  // Integer ids count up from the example's.
  EXPECT_EQ(make_collection(p, endpoint_of(p, "by_link"))->record(2).as_object().at("id"), 1296271);
  EXPECT_FALSE(make_collection(p, endpoint_of(p, "get_thing")));
}

TEST(paged_collection, default_size_is_three_pages_and_default_page_is_max_page_size) {
  auto p = load();
  auto e = endpoint_of(p, "by_cursor");
  e.pagination->collection.reset();
  EXPECT_EQ(paged_collection(e).size(), 30u);
  e.pagination->max_page_size.reset();
  EXPECT_EQ(paged_collection(e).page_size(), paged_collection::default_page_size);
  EXPECT_EQ(paged_collection(e).size(), 3 * paged_collection::default_page_size);
}

TEST(paged_collection, cursors_are_deterministic_and_a_forged_one_is_rejected) {
  const auto p = load();
  const auto c = make_collection(p, endpoint_of(p, "by_cursor"));
  EXPECT_EQ(c->cursor(10, 10), c->cursor(10, 10));
  EXPECT_NE(c->cursor(10, 10), c->cursor(20, 10));
  const auto ok = c->locate("/v1/events?starting_after=" + c->cursor(20, 10));
  ASSERT_TRUE(std::holds_alternative<page_position>(ok));
  EXPECT_EQ(std::get<page_position>(ok).offset, 20u);
  EXPECT_TRUE(std::get<page_position>(ok).continuation);
  // One digit changed: the checksum no longer matches.
  std::string forged = c->cursor(10, 10);
  forged.back() = forged.back() == '0' ? '1' : '0';
  for (const std::string& target : {"/v1/events?starting_after=" + forged, std::string("/v1/events?starting_after=abc"),
                                   std::string("/v1/events?starting_after=")}) {
    const auto bad = c->locate(target);
    ASSERT_TRUE(std::holds_alternative<page_error>(bad)) << target;
    EXPECT_EQ(std::get<page_error>(bad).code, "invalid_cursor");
  }
  const auto first = std::get<page_position>(c->locate("/v1/events"));
  EXPECT_EQ(first.offset, 0u);
  EXPECT_FALSE(first.continuation);
}

TEST(paged_collection, bad_page_offset_and_limit_are_errors) {
  const auto p = load();
  const auto pages = make_collection(p, endpoint_of(p, "by_page"));
  EXPECT_EQ(std::get<page_error>(pages->locate("/v1/employees?page=0")).code, "invalid_page");
  EXPECT_EQ(std::get<page_error>(pages->locate("/v1/employees?page=two")).code, "invalid_page");
  EXPECT_EQ(std::get<page_error>(pages->locate("/v1/employees?per_page=-1")).code, "invalid_limit");
  const auto offsets = make_collection(p, endpoint_of(p, "by_offset"));
  EXPECT_EQ(std::get<page_error>(offsets->locate("/v1/changes?offset=1e3")).code, "invalid_offset");
  // Past the end is no error: an empty last page.
  const auto past = std::get<page_position>(pages->locate("/v1/employees?page=9"));
  const auto a = pages->serve(past);
  EXPECT_EQ(a.count, 0u);
  EXPECT_FALSE(a.next);
}

TEST(paged_collection, breakages_change_the_records_served_as_documented) {
  const auto p = load();
  const auto c = make_collection(p, endpoint_of(p, "by_cursor"));
  const page_position second{10, 10, true};
  const auto normal = c->serve(second);
  EXPECT_EQ(normal.first, 10u);
  EXPECT_EQ(normal.count, 10u);
  EXPECT_EQ(normal.next, 20u);

  const auto short_page = c->serve(second, plan::page_breakage::short_page);
  EXPECT_EQ(short_page.first, 10u);
  EXPECT_EQ(short_page.count, 5u);
  EXPECT_EQ(short_page.next, 15u);
  // Even the last page, shortened, says more follows.
  const auto short_last = c->serve({20, 10, true}, plan::page_breakage::short_page);
  EXPECT_EQ(short_last.count, 2u);
  EXPECT_EQ(short_last.next, 22u);

  const auto repeated = c->serve(second, plan::page_breakage::repeated_page);
  EXPECT_EQ(repeated.first, 0u);
  EXPECT_EQ(repeated.count, 10u);
  EXPECT_EQ(repeated.next, 10u);  // back to the page asked for

  const auto shifted = c->serve(second, plan::page_breakage::shifted_page);
  EXPECT_EQ(shifted.first, 9u);
  EXPECT_EQ(shifted.count, 10u);
  EXPECT_EQ(shifted.next, 19u);

  // On the first page there is nothing to repeat or shift.
  for (auto b : {plan::page_breakage::repeated_page, plan::page_breakage::shifted_page}) {
    const auto first = c->serve({0, 10, false}, b);
    EXPECT_EQ(first.first, 0u);
    EXPECT_EQ(first.count, 10u);
  }
}

TEST(match_path, braces_match_one_segment) {
  std::vector<std::pair<std::string, std::string>> captures;
  EXPECT_TRUE(match_path("/q/{loc}", "/q/abc", &captures));
  ASSERT_EQ(captures.size(), 1u);
  EXPECT_EQ(captures[0], (std::pair<std::string, std::string>{"loc", "abc"}));
  EXPECT_FALSE(match_path("/q/{loc}", "/q/", &captures));
  EXPECT_FALSE(match_path("/q/{loc}", "/q/a/b"));
  EXPECT_FALSE(match_path("/q/{loc}", "/q"));
  EXPECT_FALSE(match_path("/q/{loc}", "/r/abc"));
  EXPECT_TRUE(match_path("/a/{x}/b/{y}", "/a/1/b/2"));
  EXPECT_TRUE(match_path("/plain", "/plain"));
}

// --- over sockets ---------------------------------------------------------------------------------

struct served {
  std::vector<route> routes;
  std::vector<plan::fault> faults;
};

served from_plan(const plan::integration_plan& p) { return {routes_from_plan(p), p.failure_modes.at(0).inject}; }

running_server start(const plan::integration_plan& p, std::uint64_t seed = 1) {
  auto s = from_plan(p);
  return running_server({.routes = std::move(s.routes), .faults = std::move(s.faults), .options = {.seed = seed}});
}

// A client walking every page the way the style says, as far as the server says there is more.
struct walk_result {
  std::vector<std::string> ids;
  std::vector<std::size_t> page_sizes;
  std::vector<int> statuses;
  std::string last_body;
};

std::string text_at(const json::value& body, std::string_view field) {
  const json::value* at = &body;
  std::size_t start = 0;
  while (at != nullptr && start <= field.size()) {
    const auto dot = field.find('.', start);
    const auto part = field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    const auto* obj = at->if_object();
    at = obj == nullptr ? nullptr : obj->if_contains(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (at == nullptr) return "";
  if (at->is_string()) return std::string(at->get_string());
  return json::serialize(*at);
}

walk_result walk(unsigned short port, std::string_view endpoint_id, std::string first_target, std::size_t max_pages = 20) {
  walk_result w;
  test_client c(port);
  std::string target = std::move(first_target);
  std::size_t offset = 0;
  for (std::size_t page = 1; page <= max_pages; ++page) {
    const auto r = c.get(target);
    EXPECT_FALSE(r.ec) << r.ec.message();
    if (r.ec) break;
    w.statuses.push_back(r.res.result_int());
    w.last_body = r.res.body();
    if (r.res.result_int() != 200) break;
    const auto body = json::parse(r.res.body());
    const json::array* items = nullptr;
    if (body.is_array()) {
      items = &body.get_array();
    } else {
      for (const char* field : {"data", "changes", "records"}) {
        if (const auto* v = body.get_object().if_contains(field)) items = &v->get_array();
      }
    }
    EXPECT_NE(items, nullptr) << r.res.body();
    if (items == nullptr) break;
    w.page_sizes.push_back(items->size());
    for (const auto& item : *items) {
      const auto& obj = item.get_object();
      const auto* id = obj.if_contains("id");
      if (id == nullptr) id = obj.if_contains("Id");
      if (id == nullptr) id = obj.if_contains("employee_id");
      w.ids.push_back(id->is_string() ? std::string(id->get_string()) : json::serialize(*id));
    }
    offset += items->size();
    std::string next;
    if (endpoint_id == "by_cursor") {
      if (text_at(body, "has_more") != "true") break;
      next = "/v1/events?starting_after=" + text_at(body, "next");
    } else if (endpoint_id == "by_page") {
      if (text_at(body, "meta.has_next_page") != "true") break;
      next = "/v1/employees?page=" + std::to_string(page + 1);
    } else if (endpoint_id == "by_offset") {
      if (items->empty()) break;
      next = "/v1/changes?offset=" + std::to_string(offset);
    } else if (endpoint_id == "by_link") {
      const auto link = header(r.res, "Link");
      if (link == "<absent>") break;
      EXPECT_THAT(link, HasSubstr("rel=\"next\""));
      next = link.substr(1, link.find('>') - 1);
    } else {  // Salesforce: follow nextRecordsUrl until there is none
      next = text_at(body, "nextRecordsUrl");
      if (next.empty()) break;
    }
    target = next;
  }
  return w;
}

std::vector<std::string> all_ids(const plan::integration_plan& p, std::string_view endpoint_id) {
  const auto c = make_collection(p, endpoint_of(p, endpoint_id));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < c->size(); ++i) out.push_back(c->record_id(i));
  return out;
}

TEST(paginated_server, walking_every_style_reads_each_record_exactly_once) {
  const auto p = load();
  running_server s = start(p);
  for (auto [id, first] : {std::pair{"by_cursor", "/v1/events"}, std::pair{"by_page", "/v1/employees"},
                           std::pair{"by_offset", "/v1/changes"}, std::pair{"by_link", "/v1/repos"},
                           std::pair{"query_contacts", "/services/query"}}) {
    SCOPED_TRACE(id);
    const auto w = walk(s.port(), id, first);
    EXPECT_EQ(w.ids, all_ids(p, id));
    if (std::string_view(id) != "by_offset") {
      EXPECT_EQ(w.page_sizes, (std::vector<std::size_t>{10, 10, 5}));
    }
  }
  // Salesforce's continuation went through query_more, the cursor in its path.
  const auto records = s.srv().records();
  EXPECT_TRUE(std::any_of(records.begin(), records.end(), [](const request_record& r) {
    return r.endpoint_id == "query_more" && r.status == 200;
  }));
}

TEST(paginated_server, the_page_size_asked_is_honoured_up_to_max_page_size) {
  const auto p = load();
  running_server s = start(p);
  test_client c(s.port());
  auto r = c.get("/v1/events?limit=4");
  ASSERT_FALSE(r.ec);
  auto body = json::parse(r.res.body());
  EXPECT_EQ(body.as_object().at("data").as_array().size(), 4u);
  // The cursor remembers the size; a request may change it.
  r = c.get("/v1/events?starting_after=" + text_at(body, "next"));
  body = json::parse(r.res.body());
  EXPECT_EQ(body.as_object().at("data").as_array().size(), 4u);
  EXPECT_EQ(text_at(body.as_object().at("data").as_array()[0], "id"), make_collection(p, endpoint_of(p, "by_cursor"))->record_id(4));
  r = c.get("/v1/employees?per_page=500");
  EXPECT_EQ(json::parse(r.res.body()).as_object().at("data").as_array().size(), 10u);
  r = c.get("/v1/employees?per_page=3&page=2");
  body = json::parse(r.res.body());
  ASSERT_EQ(body.as_object().at("data").as_array().size(), 3u);
  EXPECT_EQ(text_at(body.as_object().at("data").as_array()[0], "id"), make_collection(p, endpoint_of(p, "by_page"))->record_id(3));
}

TEST(paginated_server, a_cursor_never_issued_is_a_400_with_a_json_error) {
  const auto p = load();
  running_server s = start(p);
  test_client c(s.port());
  for (const char* target : {"/v1/events?starting_after=0123456789abcdef", "/services/query/not-a-locator",
                             "/v1/employees?page=x"}) {
    const auto r = c.get(target);
    ASSERT_FALSE(r.ec);
    EXPECT_EQ(r.res.result_int(), 400) << target;
    EXPECT_TRUE(parses_as_json(r.res.body())) << r.res.body();
    EXPECT_THAT(r.res.body(), HasSubstr("\"error\":\"invalid_")) << r.res.body();
  }
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].outcome, fate::bad_request);
  EXPECT_EQ(records[1].endpoint_id, "query_more");
}

TEST(paginated_server, invalid_cursor_answers_continuations_with_its_status_and_error_code) {
  const auto p = load("{fault: pagination, breakage: invalid_cursor, status: 410, error_code: INVALID_QUERY_LOCATOR}");
  running_server s = start(p);
  // The first page carries no cursor: out of the fault's reach.
  const auto w = walk(s.port(), "query_contacts", "/services/query");
  ASSERT_EQ(w.statuses, (std::vector<int>{200, 410}));
  EXPECT_THAT(w.last_body, HasSubstr("INVALID_QUERY_LOCATOR"));
  const auto records = s.srv().records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fault, "");
  EXPECT_EQ(records[1].fault, "pagination");
  EXPECT_EQ(records[1].outcome, fate::fault_status);
  // Page and offset numbering: past the first page is a continuation.
  EXPECT_EQ(walk(s.port(), "by_page", "/v1/employees").statuses, (std::vector<int>{200, 410}));
}

TEST(paginated_server, short_page_still_says_more_and_a_client_following_it_misses_nothing) {
  const auto p = load("{fault: pagination, breakage: short_page, endpoint: by_cursor, first: 1}");
  running_server s = start(p);
  const auto w = walk(s.port(), "by_cursor", "/v1/events");
  EXPECT_EQ(w.page_sizes, (std::vector<std::size_t>{5, 10, 10}));
  EXPECT_EQ(w.ids, all_ids(p, "by_cursor"));
  // A client that took the short page for the last would have read 5 of 25.
}

TEST(paginated_server, repeated_page_serves_the_previous_page_again) {
  const auto p = load("{fault: pagination, breakage: repeated_page, endpoint: by_cursor, first: 1}");
  running_server s = start(p);
  const auto w = walk(s.port(), "by_cursor", "/v1/events");
  const auto expected = all_ids(p, "by_cursor");
  ASSERT_EQ(w.ids.size(), 35u);
  EXPECT_TRUE(std::equal(w.ids.begin(), w.ids.begin() + 10, w.ids.begin() + 10));  // page 1 twice
  const std::set<std::string> distinct(w.ids.begin(), w.ids.end());
  EXPECT_EQ(distinct.size(), expected.size());  // nothing missed
  // With page numbers the client moves on: the page asked for is missed.
  const auto p2 = load("{fault: pagination, breakage: repeated_page, endpoint: by_page, first: 1}");
  running_server s2 = start(p2);
  const auto pages = walk(s2.port(), "by_page", "/v1/employees");
  const std::set<std::string> seen(pages.ids.begin(), pages.ids.end());
  EXPECT_EQ(seen.size(), 15u);
}

TEST(paginated_server, shifted_page_reads_one_record_twice) {
  const auto p = load("{fault: pagination, breakage: shifted_page, endpoint: by_cursor, first: 1}");
  running_server s = start(p);
  const auto w = walk(s.port(), "by_cursor", "/v1/events");
  const auto expected = all_ids(p, "by_cursor");
  ASSERT_EQ(w.ids.size(), 26u);
  EXPECT_EQ(w.ids[9], w.ids[10]);  // the last of page 1 opens page 2
  EXPECT_EQ(std::set<std::string>(w.ids.begin(), w.ids.end()).size(), expected.size());
  const auto records = s.srv().records();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[1].fault, "pagination");
  EXPECT_EQ(records[1].outcome, fate::malformed);
}

TEST(paginated_server, a_pagination_fault_never_touches_an_endpoint_without_pages) {
  const auto p = load("{fault: pagination, breakage: short_page}");
  running_server s = start(p);
  test_client c(s.port());
  const auto r = c.get("/v1/things/th_9");  // matched through its path parameter
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(r.res.result_int(), 200);
  EXPECT_EQ(r.res.body(), R"({"id":"th_1"})");
  EXPECT_EQ(s.srv().records().at(0).fault, "");
}

TEST(paginated_server, the_same_seed_breaks_the_same_pages) {
  const auto p = load("{fault: pagination, breakage: short_page, endpoint: by_offset, probability: 0.5}");
  auto sizes = [&](std::uint64_t seed) {
    running_server s = start(p, seed);
    std::vector<std::size_t> out;
    test_client c(s.port());
    for (int i = 0; i < 16; ++i) {
      const auto r = c.get("/v1/changes?offset=" + std::to_string(i));
      EXPECT_FALSE(r.ec);
      out.push_back(json::parse(r.res.body()).as_object().at("changes").as_array().size());
    }
    return out;
  };
  const auto first = sizes(7);
  EXPECT_EQ(first, sizes(7));
  // Probability 0.5 over 16 pages: some are short, some whole.
  EXPECT_NE(std::count(first.begin(), first.end(), 5u), 0);
  EXPECT_NE(std::count(first.begin(), first.end(), 10u), 0);
}

}  // namespace
}  // namespace planproof::mocks::testing
