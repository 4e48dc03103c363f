#include "cli/llama_cpp_runner.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

extern char** environ;

namespace strata::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSetupHint = "run bench/llama_cpp/setup.sh";

// The spawned child's stdout, read to the end, and how it exited.
struct ChildOutput {
  std::string out;
  int exit_code = -1;
};

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  return out;
}

int WaitExitCode(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs argv[0] (looked up on PATH) with stdout into a pipe; stdin and stderr are ours.
Result<ChildOutput> RunCapturingStdout(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::IoError(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears FD_CLOEXEC on the copy
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (err != 0) {
    ::close(fds[0]);
    return Status::NotFound("cannot start '" + argv[0] + "': " + std::strerror(err) +
                            (err == ENOENT ? " (is Node.js installed and on PATH?)" : ""));
  }
  ChildOutput child{.out = ReadAll(fds[0])};
  ::close(fds[0]);
  child.exit_code = WaitExitCode(pid);
  return child;
}

// The last non-empty line of `text`.
std::string LastLine(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

// bench.mjs's JSON line: {"engine":"llama.cpp","version":...,"threads":N,"pp_tps":...,"tg_tps":...}.
Result<LlamaCppRun> ParseRun(const std::string& out, std::string& version) {
  const std::string line = LastLine(out);
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("pp_tps") || !j["pp_tps"].is_number() ||
      !j.contains("tg_tps") || !j["tg_tps"].is_number() || !j.contains("threads") || !j["threads"].is_number())
    return Status::Corrupt("bench.mjs printed no result line (got '" + line.substr(0, 200) + "')");
  if (j.contains("version") && j["version"].is_string()) version = j["version"].get<std::string>();
  return LlamaCppRun{.threads = j["threads"].get<int>(), .pp_tps = j["pp_tps"].get<double>(),
                     .tg_tps = j["tg_tps"].get<double>()};
}

Result<LlamaCppRun> RunOnce(const LlamaCppBenchArgs& a, int threads, std::string& version) {
  const std::vector<std::string> argv = {
      "node", (fs::path(a.dir) / "bench.mjs").string(), "--model", a.model, "--threads", std::to_string(threads),
      "--prompt", std::to_string(a.prompt), "--gen", std::to_string(a.generate), "--batch", std::to_string(a.batch)};
  STRATA_ASSIGN_OR_RETURN(ChildOutput child, RunCapturingStdout(argv));
  const std::string what = "llama.cpp at " + std::to_string(threads) + " thread(s)";
  if (child.exit_code != 0)
    return Status::Internal(what + ": node " + argv[1] + " exited with " + std::to_string(child.exit_code) +
                            " (its error is above)");
  auto run = ParseRun(child.out, version);
  if (!run.ok()) return run.status().WithContext(what);
  return run;
}

}  // namespace

Status CheckLlamaCppInstall(const std::string& dir) {
  std::error_code ec;
  const fs::path root(dir);
  for (const fs::path& need : {root / "bench.mjs", root / "node_modules" / "node-llama-cpp" / "package.json"}) {
    if (!fs::is_regular_file(need, ec))
      return Status::NotFound("llama.cpp is not installed in '" + dir + "' (no " + need.string() + "): " +
                              kSetupHint + " '" + dir + "' first");
  }
  return Status::Ok();
}

Result<LlamaCppFigures> BenchLlamaCpp(const LlamaCppBenchArgs& args) {
  STRATA_RETURN_IF_ERROR(CheckLlamaCppInstall(args.dir));
  if (args.threads.empty()) return Status::InvalidArgument("no llama.cpp thread counts to measure");
  LlamaCppFigures f;
  for (int threads : args.threads) {
    STRATA_ASSIGN_OR_RETURN(LlamaCppRun run, RunOnce(args, threads, f.version));
    if (f.runs.empty() || run.pp_tps > f.best_pp.pp_tps) f.best_pp = run;
    if (f.runs.empty() || run.tg_tps > f.best_tg.tg_tps) f.best_tg = run;
    f.runs.push_back(run);
  }
  return f;
}

Result<std::vector<int>> ParseThreadList(const std::string& list) {
  std::vector<int> out;
  std::istringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    int n = 0;
    try {
      n = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || n < 1)
      return Status::InvalidArgument("bad thread count '" + item + "' in '" + list + "' (want e.g. 1,2)");
    out.push_back(n);
  }
  if (out.empty()) return Status::InvalidArgument("empty thread list");
  return out;
}

}  // namespace strata::cli
