#include "client/dead_letter.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <boost/json/serialize.hpp>

#include "core/logging.hpp"

namespace planproof::client {
namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

// A new file is durable only once its directory entry is: sync the directory as well.
std::error_code sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

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
  if (!existed) return sync_directory(dir);
  return {};
}

std::error_code dead_letter_queue::append(const boost::json::object& record) {
  if (auto ec = open()) return ec;
  std::string line = core::redact(boost::json::serialize(record));
  line += '\n';
  // O_APPEND makes each write land at the end; loop over partial writes.
  std::string_view rest = line;
  while (!rest.empty()) {
    const auto n = ::write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fdatasync(fd_) != 0) return last_error();
  ++appended_;
  return {};
}

}  // namespace planproof::client
