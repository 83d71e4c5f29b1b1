// A child process for tests: a built binary run with its own stdin, stdout
// and log, signalled and reaped by the test.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sagaflow::testing {

// A child process. stdin: a pipe (WriteLine) or /dev/null; stdout: a pipe
// (ReadLine) or a file; stderr: a log file. Killed and reaped on destruction.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& log_path,
        bool with_stdin) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (with_stdin) {
      EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    }
    if (stdout_path.empty()) {
      EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    }
    const int out_file =
        stdout_path.empty() ? -1 : ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int log_file = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(with_stdin ? in[0] : null_file, 0);
      ::dup2(stdout_path.empty() ? out[1] : out_file, 1);
      ::dup2(log_file, 2);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    EXPECT_GT(pid_, 0) << "fork failed";
    for (int fd : {in[0], out[1], out_file, log_file, null_file}) {
      if (fd >= 0) ::close(fd);
    }
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Child() {
    if (!status_) {
      Kill(SIGKILL);
      Wait();
    }
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The next line of its stdout without the newline; nullopt on end or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  bool WriteLine(const std::string& line) {
    std::string l = line + "\n";
    return ::write(stdin_, l.data(), l.size()) == static_cast<ssize_t>(l.size());
  }
  void Kill(int sig) {
    if (!status_) ::kill(pid_, sig);
  }
  // Exit status, or 128 + the signal that ended it.
  int Wait() {
    if (!status_) {
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return *status_;
  }
  // Wait(), giving up (nullopt) after `timeout`.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      } else if (std::chrono::steady_clock::now() >= deadline) {
        return std::nullopt;
      } else {
        ::usleep(20000);
      }
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string buffer_;
  std::optional<int> status_;
};

}  // namespace sagaflow::testing
