#include "client/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/logging.hpp"

namespace planproof::client {
namespace {
std::error_code last_error() { return {errno, std::generic_category()}; }
}  // namespace

dead_letter_queue::dead_letter_queue(std::filesystem::path path) : path_(std::move(path)) {}

dead_letter_queue::~dead_letter_queue() {
  if (fd_ >= 0) ::close(fd_);
}

std::error_code dead_letter_queue::open() {
  if (fd_ >= 0) return {};
  std::error_code ec;
  const auto dir = path_.parent_path();
  if (!dir.empty()) {
    std::filesystem::create_directories(dir, ec);
    if (ec) return ec;
  }
  const bool existed = std::filesystem::exists(path_, ec);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return last_error();
  if (!existed) return core::sync_directory(dir);
  return {};
}

std::error_code dead_letter_queue::append(const boost::json::object& record) {
  if (auto ec = open()) return ec;
  std::string line = core::redact(boost::json::serialize(record));
  line += '\n';
  // O_APPEND makes each write land at the end of the file.
  if (auto ec = core::write_all(fd_, line)) return ec;
  if (::fdatasync(fd_) != 0) return last_error();
  ++appended_;
  return {};
}

}  // namespace planproof::client
