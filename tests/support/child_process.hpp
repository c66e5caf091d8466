// A program run as a child process with its standard output and error on pipes, for end-to-end
// tests of commands that keep running (`planproof serve`): read its lines as they come, signal it,
// wait for it to exit, each with a deadline. The child never outlives the object.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace planproof::test {

class child_process {
 public:
  struct options {
    std::vector<std::string> unset_env;                         // variables the child must not see
    std::vector<std::pair<std::string, std::string>> set_env;   // and ones it must
    std::string cwd;                                            // empty: ours
  };

  child_process(const std::string& program, const std::vector<std::string>& args, const options& opt = {}) {
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
      error_ = std::string("pipe: ") + std::strerror(errno);
      close_all({out[0], out[1], err[0], err[1]});
      return;
    }
    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    if (!opt.cwd.empty()) ::posix_spawn_file_actions_addchdir_np(&actions, opt.cwd.c_str());

    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const auto name = entry.substr(0, entry.find('='));
      bool drop = false;
      for (const auto& u : opt.unset_env) drop = drop || u == name;
      for (const auto& [n, v] : opt.set_env) drop = drop || n == name;
      if (!drop) env.push_back(entry);
    }
    for (const auto& [n, v] : opt.set_env) env.push_back(n + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings{program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    const int rc = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    ::posix_spawn_file_actions_destroy(&actions);
    close_all({out[1], err[1]});
    if (rc != 0) {
      error_ = std::string("posix_spawn: ") + std::strerror(rc);
      pid_ = -1;
      close_all({out[0], err[0]});
      return;
    }
    out_.fd = out[0];
    err_.fd = err[0];
    // A descriptor that becomes readable when the child exits: waiting on it is waiting on the
    // event itself, with no polling loop and no sleep.
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  }

  ~child_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    close_all({out_.fd, err_.fd, pidfd_});
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool started() const noexcept { return pid_ > 0; }
  const std::string& error() const noexcept { return error_; }
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0 && !exit_code_; }

  // The next whole line of standard output (without its '\n'); nullopt when the output ended or
  // the deadline passed first.
  std::optional<std::string> read_line(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      if (const auto nl = out_.text.find('\n', line_pos_); nl != std::string::npos) {
        auto line = out_.text.substr(line_pos_, nl - line_pos_);
        line_pos_ = nl + 1;
        return line;
      }
      if (out_.fd < 0 || !pump(until)) return std::nullopt;
    }
  }

  bool signal(int sig) const noexcept { return running() && ::kill(pid_, sig) == 0; }

  // Waits for the child to exit, reading what it prints meanwhile. Its exit code (128 + the
  // signal when one ended it); nullopt when it was still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds deadline) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (!exit_code_) {
      if (reap()) break;
      if (pidfd_ < 0 && out_.fd < 0 && err_.fd < 0) {
        // No pidfd (an old kernel): the output has ended, which a process does when it exits.
        int status = 0;
        if (::waitpid(pid_, &status, 0) == pid_) {
          exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        break;
      }
      if (!pump(until)) return std::nullopt;
    }
    // Whatever it wrote before exiting is still in the pipes.
    while (out_.fd >= 0 || err_.fd >= 0) {
      if (!pump(std::chrono::steady_clock::now() + std::chrono::seconds(5))) break;
    }
    return exit_code_;
  }

  // Everything read so far.
  const std::string& out() const noexcept { return out_.text; }
  const std::string& err() const noexcept { return err_.text; }
  std::string output() const { return "stdout:\n" + out_.text + "\nstderr:\n" + err_.text; }

 private:
  struct stream {
    int fd = -1;
    std::string text;
  };

  static void close_all(std::initializer_list<int> fds) {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }

  bool reap() {
    int status = 0;
    const auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  // Waits until something happens (output, end of output, the child's exit) or `until`; false on
  // the deadline or when there is nothing left to wait on.
  bool pump(std::chrono::steady_clock::time_point until) {
    pollfd fds[3];
    nfds_t n = 0;
    if (out_.fd >= 0) fds[n++] = {out_.fd, POLLIN, 0};
    if (err_.fd >= 0) fds[n++] = {err_.fd, POLLIN, 0};
    const bool watch_exit = pidfd_ >= 0 && !exit_code_;
    if (watch_exit) fds[n++] = {pidfd_, POLLIN, 0};
    if (n == 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    const int ready = ::poll(fds, n, static_cast<int>(left.count()));
    if (ready < 0) return errno == EINTR;
    if (ready == 0) return false;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (watch_exit && fds[i].fd == pidfd_) {
        reap();
        continue;
      }
      auto& s = fds[i].fd == out_.fd ? out_ : err_;
      char buf[4096];
      const auto got = ::read(s.fd, buf, sizeof buf);
      if (got > 0) {
        s.text.append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(s.fd);
        s.fd = -1;
      }
    }
    return true;
  }

  pid_t pid_ = -1;
  int pidfd_ = -1;
  stream out_, err_;
  std::size_t line_pos_ = 0;
  std::optional<int> exit_code_;
  std::string error_;
};

}  // namespace planproof::test
