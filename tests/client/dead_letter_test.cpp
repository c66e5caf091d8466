#include "client/dead_letter.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "core/logging.hpp"
#include "support/process.hpp"

namespace planproof::client {
namespace {

TEST(dead_letter_queue, appends_one_json_line_per_record_creating_the_directory) {
  test::temp_dir dir;
  dead_letter_queue q(dir / "nested/dl.jsonl");
  ASSERT_FALSE(q.append({{"request_id", 1}, {"reason", "attempts_exhausted"}}));
  ASSERT_FALSE(q.append({{"request_id", 2}, {"reason", "fatal_status"}}));
  EXPECT_EQ(q.appended(), 2u);
  const auto text = test::read_file(dir / "nested/dl.jsonl");
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(boost::json::parse(text.substr(0, text.find('\n'))).at("request_id").as_int64(), 1);
}

TEST(dead_letter_queue, appends_to_what_is_there) {
  test::temp_dir dir;
  {
    dead_letter_queue q(dir / "dl.jsonl");
    ASSERT_FALSE(q.append({{"request_id", 1}}));
  }
  dead_letter_queue q(dir / "dl.jsonl");
  ASSERT_FALSE(q.append({{"request_id", 2}}));
  const auto text = test::read_file(dir / "dl.jsonl");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
}

TEST(dead_letter_queue, secrets_are_redacted) {
  core::redactor::instance().add("sk_dead_letter_secret");
  test::temp_dir dir;
  dead_letter_queue q(dir / "dl.jsonl");
  ASSERT_FALSE(q.append({{"last_error", "401 for key sk_dead_letter_secret"}}));
  const auto text = test::read_file(dir / "dl.jsonl");
  EXPECT_EQ(text.find("sk_dead_letter_secret"), std::string::npos) << text;
  EXPECT_NE(text.find("[redacted]"), std::string::npos);
}

TEST(dead_letter_queue, unwritable_path_is_an_error_not_a_crash) {
  dead_letter_queue q("/proc/planproof-cannot-write-here/dl.jsonl");
  EXPECT_TRUE(q.append({{"request_id", 1}}));
}

}  // namespace
}  // namespace planproof::client
