// Runs the built `strata` binary for the CLI tests: the command line goes through the shell, stdout and stderr
// are captured through files in the scratch directory.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "testdata.h"

namespace strata::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `s` as one single-quoted shell word.
inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A shell command line (`mpirun … strata …`, say) with its output captured.
inline CommandResult Shell(const std::string& command) {
  static int counter = 0;
  const std::string base = ScratchDir() + "/cmd" + std::to_string(counter++);
  const std::string cmd = command + " >" + base + ".out 2>" + base + ".err";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(base + ".out");
  r.err = ReadFile(base + ".err");
  return r;
}

// `strata <args>`; args are pasted into a shell command line, so quote what needs it.
inline CommandResult Strata(const std::string& args) { return Shell(Quote(StrataBinary()) + " " + args); }

// A shared model file by its dtype ("q8_0").
inline std::string Model(const std::string& dtype) {
  return TestDataPath("models/tiny-llama-" + dtype + ".gguf");
}

}  // namespace strata::testing
