// A child process for tests that run `strata` (or `mpirun … strata`) in the background: argv executed
// directly, stderr and stdout to a log file the test reads while it runs (the serve log names the port).
// Killed with its whole process group when the test ends.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace strata::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv) {
    char tmpl[] = "/tmp/strata_child_log_XXXXXX";
    const int fd = mkstemp(tmpl);
    log_ = tmpl;
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);  // its own group, so the test can end mpirun and every rank together
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(fd);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exited_) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    unlink(log_.c_str());
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::string Log() const {
    std::ifstream f(log_);
    std::stringstream text;
    text << f.rdbuf();
    return text.str();
  }
  // Whether the process has exited (reaping it and keeping its exit code).
  bool Exited() {
    if (exited_) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  // Waits up to `seconds` for the exit; false if still running.
  bool WaitExit(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!Exited()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }
  int exit_code() const { return exit_code_; }
  // The first capture of `pattern` in the log, waiting up to `seconds` for it to appear ("" if it did not).
  std::string WaitForLog(const std::string& pattern, double seconds) {
    const std::regex re(pattern);
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    do {
      const std::string s = Log();
      std::smatch m;
      if (std::regex_search(s, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (Exited()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < end);
    return "";
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
  bool exited_ = false;
  int exit_code_ = -1;
};

}  // namespace strata::testing
