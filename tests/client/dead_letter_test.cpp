#include "client/dead_letter.hpp"

#include <fstream>

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

void write_raw(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// A crash mid-write leaves the last record torn; opening the file again must not glue the next
// record to it, and reading must give back every whole record and name the torn line.
TEST(dead_letter_queue, a_torn_last_record_stays_on_its_own_line) {
  test::temp_dir dir;
  const auto path = dir / "dl.jsonl";
  write_raw(path, "{\"request_id\":1}\n{\"request_id\":2}\n{\"request_id\":3,\"endp");
  {
    dead_letter_queue q(path);
    ASSERT_FALSE(q.open());
    ASSERT_FALSE(q.append({{"request_id", 4}}));
    ASSERT_FALSE(q.append({{"request_id", 5}}));
  }
  EXPECT_EQ(test::read_file(path),
            "{\"request_id\":1}\n{\"request_id\":2}\n{\"request_id\":3,\"endp\n{\"request_id\":4}\n{\"request_id\":5}\n");

  const auto file = read_dead_letters(path);
  EXPECT_FALSE(file.error);
  ASSERT_EQ(file.records.size(), 4u);
  const std::vector<std::int64_t> ids{1, 2, 4, 5};
  const std::vector<std::size_t> lines{1, 2, 4, 5};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(file.records[i].fields.at("request_id").as_int64(), ids[i]);
    EXPECT_EQ(file.records[i].line, lines[i]);
  }
  EXPECT_EQ(file.damaged, 1u);
  EXPECT_EQ(file.damaged_lines, std::vector<std::size_t>{3});
}

TEST(dead_letter_queue, a_whole_file_is_not_touched_on_open) {
  test::temp_dir dir;
  const auto path = dir / "dl.jsonl";
  write_raw(path, "{\"request_id\":1}\n");
  dead_letter_queue q(path);
  ASSERT_FALSE(q.open());
  EXPECT_EQ(test::read_file(path), "{\"request_id\":1}\n");
  write_raw(dir / "empty.jsonl", "");
  dead_letter_queue empty(dir / "empty.jsonl");
  ASSERT_FALSE(empty.open());
  EXPECT_EQ(test::read_file(dir / "empty.jsonl"), "");
}

TEST(read_dead_letters, skips_and_counts_what_is_not_one_json_object) {
  test::temp_dir dir;
  const auto path = dir / "dl.jsonl";
  const std::string long_line = "{\"body\":\"" + std::string(300, 'x') + "\"}";
  write_raw(path, "{\"request_id\":1}\n"   // 1
                  "not json\n"               // 2
                  "\n"                       // 3: blank, ignored
                  "[1,2]\n"                  // 4: JSON, not an object
                  + long_line + "\n"         // 5: over the bound
                  "{\"request_id\":6}\n"     // 6
                  "   \r\n"                   // 7: blank
                  "{\"request_id\":8}");      // 8: whole, though its '\n' is missing
  const auto file = read_dead_letters(path, 256);
  EXPECT_FALSE(file.error);
  ASSERT_EQ(file.records.size(), 3u);
  EXPECT_EQ(file.records[0].line, 1u);
  EXPECT_EQ(file.records[1].line, 6u);
  EXPECT_EQ(file.records[2].line, 8u);
  EXPECT_EQ(file.damaged, 3u);
  EXPECT_EQ(file.damaged_lines, (std::vector<std::size_t>{2, 4, 5}));
  // The same line is whole under a larger bound.
  EXPECT_EQ(read_dead_letters(path, 1024).records.size(), 4u);
}

TEST(read_dead_letters, a_line_longer_than_a_read_buffer_is_bounded_not_held) {
  test::temp_dir dir;
  const auto path = dir / "dl.jsonl";
  write_raw(path, std::string(200 * 1024, 'x') + "\n{\"request_id\":2}\n" + std::string(100 * 1024, 'y'));
  const auto file = read_dead_letters(path, 1024);
  EXPECT_FALSE(file.error);
  ASSERT_EQ(file.records.size(), 1u);
  EXPECT_EQ(file.records[0].line, 2u);
  EXPECT_EQ(file.damaged_lines, (std::vector<std::size_t>{1, 3}));
}

TEST(read_dead_letters, an_unreadable_file_is_an_error_not_a_throw) {
  test::temp_dir dir;
  EXPECT_EQ(read_dead_letters(dir / "missing.jsonl").error, std::errc::no_such_file_or_directory);
  EXPECT_TRUE(read_dead_letters(dir.path()).error);  // a directory
}

}  // namespace
}  // namespace planproof::client
