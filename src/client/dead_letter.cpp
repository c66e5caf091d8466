#include "client/dead_letter.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/file_io.hpp"
#include "core/logging.hpp"

namespace planproof::client {
namespace {
std::error_code last_error() { return {errno, std::generic_category()}; }

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
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
  // Read as well as append: the last byte tells whether a crash tore the last record.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return last_error();
  if (!existed) return core::sync_directory(dir);
  if (auto ec2 = end_torn_record()) {
    // Appending now would glue the next record to the torn bytes and lose it as well.
    ::close(fd_);
    fd_ = -1;
    return ec2;
  }
  return {};
}

std::error_code dead_letter_queue::end_torn_record() {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return last_error();
  if (st.st_size == 0) return {};
  char last = '\n';
  for (;;) {
    const auto n = ::pread(fd_, &last, 1, st.st_size - 1);
    if (n == 1) break;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 ? last_error() : std::make_error_code(std::errc::io_error);
  }
  if (last == '\n') return {};
  if (auto ec = core::write_all(fd_, "\n")) return ec;
  if (::fdatasync(fd_) != 0) return last_error();
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

dead_letter_file read_dead_letters(const std::filesystem::path& path, std::size_t max_line) noexcept {
  dead_letter_file out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.error = last_error();
    return out;
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } close_at_exit{fd};
  try {
    std::size_t line_no = 0;
    std::string line;
    bool too_long = false;
    auto damaged = [&] {
      ++out.damaged;
      if (out.damaged_lines.size() < max_listed_damaged_lines) out.damaged_lines.push_back(line_no);
    };
    auto finish_line = [&] {
      ++line_no;
      if (too_long) {
        damaged();
      } else if (!blank(line)) {
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        if (ec || !value.is_object()) damaged();
        else out.records.push_back({line_no, std::move(value.as_object())});
      }
      line.clear();
      too_long = false;
    };
    char buf[64 * 1024];
    for (;;) {
      const auto n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        out.error = last_error();
        break;
      }
      if (n == 0) break;
      std::string_view chunk(buf, static_cast<std::size_t>(n));
      while (!chunk.empty()) {
        const auto nl = chunk.find('\n');
        const auto piece = chunk.substr(0, nl);
        if (!too_long) {
          if (line.size() + piece.size() > max_line) {
            too_long = true;  // the rest of this line is skipped, never held
            line.clear();
          } else {
            line.append(piece);
          }
        }
        if (nl == std::string_view::npos) break;
        finish_line();
        chunk.remove_prefix(nl + 1);
      }
    }
    // A last line without its '\n': whole if it parses, torn otherwise.
    if (!out.error && (too_long || !line.empty())) finish_line();
  } catch (const std::bad_alloc&) {
    out.error = std::make_error_code(std::errc::not_enough_memory);
  }
  return out;
}

}  // namespace planproof::client
