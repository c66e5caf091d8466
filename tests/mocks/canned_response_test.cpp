#include "mocks/canned_response.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace planproof::mocks {
namespace {

using namespace std::chrono_literals;

bool parses(std::string_view text) {
  boost::system::error_code ec;
  (void)boost::json::parse(text, ec);
  return !ec;
}

TEST(retry_after_value, whole_seconds_rounded_up) {
  EXPECT_EQ(retry_after_value(2s), "2");
  EXPECT_EQ(retry_after_value(1500ms), "2");
  EXPECT_EQ(retry_after_value(1ms), "1");
  EXPECT_EQ(retry_after_value(1s), "1");
  EXPECT_EQ(retry_after_value(1s + 1ns), "2");
  EXPECT_EQ(retry_after_value(0ms), "0");
  EXPECT_EQ(retry_after_value(2min), "120");
}

TEST(truncate_body, is_shorter_and_never_valid_json) {
  EXPECT_EQ(truncate_body("{}"), "{");
  const std::string body = R"({"id":"ch_1","amount":1200,"currency":"eur"})";
  const auto cut = truncate_body(body);
  EXPECT_LT(cut.size(), body.size());
  EXPECT_EQ(cut, body.substr(0, cut.size()));
  EXPECT_FALSE(parses(cut));
  // Halves that are still JSON are shortened further.
  EXPECT_FALSE(parses(truncate_body("1234")));
  EXPECT_FALSE(parses(truncate_body("{}    ")));
  EXPECT_FALSE(parses(truncate_body("[1]      ")));
  EXPECT_EQ(truncate_body(""), "");
}

TEST(make_canned_response, writes_status_line_length_and_extra_headers) {
  const std::pair<std::string_view, std::string_view> extra[] = {{"Retry-After", "2"}};
  const auto r = make_json_error(429, "injected", extra);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"error":"injected"})");
  EXPECT_TRUE(r.head.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
  EXPECT_NE(r.head.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(r.head.find("Content-Length: 20\r\n"), std::string::npos);
  EXPECT_NE(r.head.find("Retry-After: 2\r\n"), std::string::npos);
  EXPECT_TRUE(r.head.ends_with("\r\n"));
  EXPECT_FALSE(r.head.ends_with("\r\n\r\n"));  // the blank line is added per request
}

TEST(make_canned_response, statuses_without_a_body_carry_none) {
  const auto r = make_canned_response(204, "application/json", "{}");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.head.find("Content-Length"), std::string::npos);
  const auto odd = make_canned_response(799, "", "x");
  EXPECT_TRUE(odd.head.starts_with("HTTP/1.1 799 \r\n"));
  EXPECT_EQ(odd.head.find("Content-Type"), std::string::npos);
}

}  // namespace
}  // namespace planproof::mocks
