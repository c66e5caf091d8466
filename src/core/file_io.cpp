#include "core/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace planproof::core {
namespace {
std::error_code last_error() { return {errno, std::generic_category()}; }
}  // namespace

std::error_code write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::error_code sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec;
  if (::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  return ec;
}

std::error_code check_writable_directory(const std::filesystem::path& dir) {
  const auto where = dir.empty() ? std::filesystem::path(".") : dir;
  std::error_code ec;
  const auto status = std::filesystem::status(where, ec);
  if (ec) return ec;
  if (!std::filesystem::is_directory(status)) return std::make_error_code(std::errc::not_a_directory);
  // Permission bits do not tell (root, read-only mounts, ACLs): only creating a file does.
  auto probe = (where / ".planproof-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return last_error();
  ::close(fd);
  ::unlink(probe.c_str());
  return {};
}

std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view data, file_access access) {
  const auto tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());  // a leftover keeps its mode: the new file is created with ours
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        access == file_access::owner_only ? 0600 : 0644);
  if (fd < 0) return last_error();
  std::error_code ec = write_all(fd, data);
  if (!ec && ::fsync(fd) != 0) ec = last_error();
  ::close(fd);
  if (!ec && ::rename(tmp.c_str(), path.c_str()) != 0) ec = last_error();
  if (ec) {
    ::unlink(tmp.c_str());
    return ec;
  }
  return sync_directory(path.parent_path());
}

}  // namespace planproof::core
