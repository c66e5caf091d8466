// The dead-letter queue: one JSON line per logical request that could not be delivered, appended
// and fsynced before the request counts as ended, with every registered secret redacted.
#pragma once

#include <filesystem>
#include <system_error>

#include <boost/json/object.hpp>

namespace planproof::client {

class dead_letter_queue {
 public:
  explicit dead_letter_queue(std::filesystem::path path);
  ~dead_letter_queue();
  dead_letter_queue(const dead_letter_queue&) = delete;
  dead_letter_queue& operator=(const dead_letter_queue&) = delete;

  // Opens (creating the file and its directory if needed) for appending.
  std::error_code open();
  // Writes one record as a line and makes it durable (fdatasync) before returning.
  std::error_code append(const boost::json::object& record);

  const std::filesystem::path& path() const noexcept { return path_; }
  std::size_t appended() const noexcept { return appended_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::size_t appended_ = 0;
};

}  // namespace planproof::client
