// The dead-letter queue: one JSON line per logical request that could not be delivered, appended
// and fsynced before the request counts as ended, with every registered secret redacted. And its
// reader, which survives what a crash can leave behind.
#pragma once

#include <cstddef>
#include <filesystem>
#include <system_error>
#include <vector>

#include <boost/json/object.hpp>

namespace planproof::client {

class dead_letter_queue {
 public:
  explicit dead_letter_queue(std::filesystem::path path);
  ~dead_letter_queue();
  dead_letter_queue(const dead_letter_queue&) = delete;
  dead_letter_queue& operator=(const dead_letter_queue&) = delete;

  // Opens (creating the file and its directory if needed) for appending. A file whose last byte is
  // not '\n' ends in a record torn by a crash: a '\n' is written first, so the torn bytes stay on a
  // line of their own and the next record starts on a fresh one.
  std::error_code open();
  // Writes one record as a line and makes it durable (fdatasync) before returning.
  std::error_code append(const boost::json::object& record);

  const std::filesystem::path& path() const noexcept { return path_; }
  std::size_t appended() const noexcept { return appended_; }

 private:
  std::error_code end_torn_record();

  std::filesystem::path path_;
  int fd_ = -1;
  std::size_t appended_ = 0;
};

struct dead_letter_record {
  std::size_t line = 0;  // 1-based line number in the file
  boost::json::object fields;
};

struct dead_letter_file {
  std::vector<dead_letter_record> records;
  // Lines that are not one JSON object (torn by a crash, edited by hand, longer than the bound):
  // how many, and the numbers of the first `max_listed_damaged_lines` of them.
  std::size_t damaged = 0;
  std::vector<std::size_t> damaged_lines;
  std::error_code error;  // the file could not be opened or read; `records` holds what came before
};

inline constexpr std::size_t max_dead_letter_line = std::size_t{1} << 20;  // bytes, the '\n' excluded
inline constexpr std::size_t max_listed_damaged_lines = 1000;

// Reads a dead-letter file line by line, never holding more than `max_line` bytes of one line and
// never throwing: damaged lines are skipped and counted, blank lines ignored.
dead_letter_file read_dead_letters(const std::filesystem::path& path,
                                   std::size_t max_line = max_dead_letter_line) noexcept;

}  // namespace planproof::client
