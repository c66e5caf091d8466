// Runs a shell command for end-to-end tests and captures what it printed and its exit code.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "support/time_stretch.hpp"

namespace planproof::test {

struct process_result {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// The time scale a run asked for at `scale` really gets, written so that it parses back to itself.
inline std::string stretched_time_scale(double scale, int stretch = time_stretch()) {
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), "%.17g", stretched(scale, stretch));
  return buf.data();
}

// `command` with the number after every `--time-scale ` stretched; anything else is left for the
// run to refuse.
inline std::string with_stretched_time_scales(std::string command, int stretch = time_stretch()) {
  if (stretch == 1) return command;
  static constexpr std::string_view flag = "--time-scale ";
  for (auto at = command.find(flag); at != std::string::npos; at = command.find(flag, at)) {
    at += flag.size();
    const auto value = command.substr(at, command.find_first_not_of("0123456789.", at) - at);
    if (value.empty()) continue;
    const auto stretched = stretched_time_scale(std::strtod(value.c_str(), nullptr), stretch);
    command.replace(at, value.size(), stretched);
    at += stretched.size();
  }
  return command;
}

inline process_result run_shell(const std::string& command) {
  process_result r;
  FILE* pipe = ::popen((with_stretched_time_scales(command) + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under the system temp dir, removed when the object goes away.
class temp_dir {
 public:
  temp_dir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("planproof-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace planproof::test
