// llama.cpp next to Strata in `strata bench -m FILE --llama-cpp DIR`: runs `node DIR/bench.mjs` (our runner,
// bench/llama_cpp/bench.mjs, over the prebuilt llama.cpp of the node-llama-cpp npm package, both installed in
// DIR by bench/llama_cpp/setup.sh) on the same file with the same prompt and decode lengths, once per thread
// count, and keeps llama.cpp's best prompt and best decode speed. llama.cpp's spinning workers compete with
// node's own threads for the cores, so its best thread count is measured, not assumed.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace strata::cli {

struct LlamaCppBenchArgs {
  std::string dir;    // where setup.sh installed node-llama-cpp and bench.mjs
  std::string model;  // the GGUF file
  int prompt = 512, generate = 128, batch = 512;
  std::vector<int> threads = {1, 2};
};

// One run of bench.mjs at one thread count.
struct LlamaCppRun {
  int threads = 0;
  double pp_tps = 0, tg_tps = 0;
};

struct LlamaCppFigures {
  std::string version;  // llama.cpp's release and the node-llama-cpp version
  std::vector<LlamaCppRun> runs;
  LlamaCppRun best_pp, best_tg;  // the runs with the highest prompt and decode tok/s
};

// OK when DIR holds bench.mjs and node-llama-cpp; else an error that says to run setup.sh.
Status CheckLlamaCppInstall(const std::string& dir);

// Runs bench.mjs once per thread count (its log passes through to stderr). Errors name the failing run.
Result<LlamaCppFigures> BenchLlamaCpp(const LlamaCppBenchArgs& args);

// "1,2" -> {1, 2}; error on anything but positive integers.
Result<std::vector<int>> ParseThreadList(const std::string& list);

}  // namespace strata::cli
