#include "scenario/replay.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace planproof::scenario {
namespace {

plan::integration_plan two_endpoints() {
  plan::integration_plan p;
  plan::endpoint create;
  create.id = "create_order";
  create.method = "POST";
  create.path = "/v1/orders";
  create.idempotency_header = "Idempotency-Key";
  plan::endpoint list;
  list.id = "list_orders";
  list.method = "GET";
  list.path = "/v1/orders";
  plan::endpoint hook;
  hook.id = "events";
  hook.method = "POST";
  hook.path = "/hooks";
  hook.direction = plan::endpoint_direction::inbound;
  p.endpoints = {create, list, hook};
  return p;
}

client::dead_letter_file file_of(std::initializer_list<std::string_view> lines) {
  client::dead_letter_file f;
  std::size_t n = 0;
  for (const auto l : lines) f.records.push_back({++n, boost::json::parse(l).as_object()});
  return f;
}

TEST(select_replay, turns_records_into_what_the_client_sends) {
  const auto plan = two_endpoints();
  auto file = file_of({
      R"({"endpoint":"create_order","method":"POST","target":"/v1/orders?x=1","idempotency_key":"k-1","correlation_id":"k-1","body":{"a":1}})",
      R"({"endpoint":"create_order","method":"POST","path":"/v1/orders","idempotency_key":"k-2","body":"{\"p\":9.99}"})",
      R"({"endpoint":"list_orders","method":"GET","target":"/v1/orders?after=c","correlation_id":"c-3"})",
      R"({"endpoint":"list_orders"})",
  });
  file.damaged = 1;
  file.damaged_lines = {5};
  const auto s = select_replay(plan, file);
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.items.size(), 4u);
  EXPECT_EQ(s.items[0].line, 1u);
  EXPECT_EQ(s.items[0].endpoint, &plan.endpoints[0]);
  EXPECT_EQ(s.items[0].target, "/v1/orders?x=1");
  EXPECT_EQ(s.items[0].body, R"({"a":1})");
  EXPECT_EQ(s.items[0].idempotency_key, "k-1");
  EXPECT_EQ(s.items[1].target, "/v1/orders") << "older records name only the path";
  EXPECT_EQ(s.items[1].body, R"({"p":9.99})") << "exact text, sent as is";
  EXPECT_EQ(s.items[2].idempotency_key, "c-3") << "without a key, the X-Request-Id it carried";
  EXPECT_TRUE(s.items[2].body.empty());
  EXPECT_EQ(s.items[3].target, "/v1/orders");
  EXPECT_TRUE(s.items[3].idempotency_key.empty()) << "none recorded: the client makes a fresh one";
  EXPECT_EQ(s.skipped_count, 1u);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_EQ(s.skipped[0].line, 5u);
}

// The client also sets aside records a mapping rejected from a response that succeeded; those
// lines describe data, not a request to send again.
TEST(select_replay, leaves_rejected_records_lines_alone) {
  const auto plan = two_endpoints();
  const auto s = select_replay(plan, file_of({
                                         R"({"kind":"rejected_records","endpoint":"list_orders","rejected":2,"records":50})",
                                         R"({"endpoint":"list_orders","target":"/v1/orders"})",
                                     }));
  EXPECT_TRUE(s.errors.empty());
  EXPECT_EQ(s.skipped_count, 0u);
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].line, 2u);
  ASSERT_EQ(s.other_records.size(), 1u);
  EXPECT_EQ(s.other_records[0].line, 1u);
  EXPECT_EQ(s.other_records[0].why, "rejected_records");
}

TEST(select_replay, records_the_plan_contradicts_are_errors_naming_their_line) {
  const auto plan = two_endpoints();
  const auto s = select_replay(plan, file_of({
                                         R"({"endpoint":"create_order","method":"POST"})",
                                         R"({"endpoint":"refund","method":"POST"})",
                                         R"({"endpoint":"list_orders","method":"DELETE"})",
                                         R"({"endpoint":"events","method":"POST"})",
                                     }));
  ASSERT_EQ(s.errors.size(), 3u);
  EXPECT_EQ(s.errors[0], "line 2: no endpoint 'refund' in the plan (endpoints: create_order, list_orders, events)");
  EXPECT_EQ(s.errors[1], "line 3: the record says DELETE but endpoint 'list_orders' is GET in the plan");
  EXPECT_NE(s.errors[2].find("line 4: endpoint 'events' is inbound"), std::string::npos) << s.errors[2];
  EXPECT_EQ(s.items.size(), 1u);
}

// A record is data from disk: nothing in it may end the request line or add a header.
TEST(select_replay, what_cannot_go_on_the_wire_is_skipped) {
  const auto plan = two_endpoints();
  const auto s = select_replay(plan, file_of({
                                         R"({"method":"POST"})",
                                         R"({"endpoint":"list_orders","target":"/v1/orders HTTP/1.1\r\nX-Evil: 1"})",
                                         R"({"endpoint":"list_orders","target":"http://elsewhere/v1/orders"})",
                                         R"({"endpoint":"create_order","idempotency_key":"k\r\nX-Evil: 1"})",
                                         R"({"endpoint":"list_orders","target":"/v1/orders"})",
                                     }));
  EXPECT_TRUE(s.errors.empty());
  ASSERT_EQ(s.items.size(), 1u);
  EXPECT_EQ(s.items[0].line, 5u);
  ASSERT_EQ(s.skipped.size(), 4u);
  EXPECT_EQ(s.skipped_count, 4u);
  EXPECT_EQ(s.skipped[0].why, "no \"endpoint\" in the record");
  EXPECT_EQ(s.skipped[1].line, 2u);
  EXPECT_EQ(s.skipped[3].why, "its idempotency key is not a header value the client can send");
}

}  // namespace
}  // namespace planproof::scenario
