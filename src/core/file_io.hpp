// Durable file writes: what the dead-letter queue and the reports need to survive a crash.
#pragma once

#include <filesystem>
#include <string_view>
#include <system_error>

namespace planproof::core {

// Writes all of `data` to `fd`, retrying partial writes and EINTR.
std::error_code write_all(int fd, std::string_view data);
// fsyncs a directory, so that a file created or renamed in it survives a crash.
std::error_code sync_directory(const std::filesystem::path& dir);
// Whether a new file can be created in `dir` ("" is the working directory): it exists, is a
// directory, and takes a file (a probe file is created there and removed again).
std::error_code check_writable_directory(const std::filesystem::path& dir);
// Who may read a file planproof writes: anyone (0644, before the umask), or only its owner (0600)
// for what may hold payloads (reports, journals, delivery records; dead letters always are).
enum class file_access { shared, owner_only };

// Replaces `path` atomically: a temporary file beside it, written, fsynced, renamed, directory synced.
std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view data,
                                      file_access access = file_access::shared);

}  // namespace planproof::core
