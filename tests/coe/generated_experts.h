// Many small experts for the CoE tests: `strata gen-model`'s tiny Llama (1.5 MB in Q8_0) with a different seed
// each, written once per test process into its scratch folder, and CoE configs over them.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "coe/coe_config.h"
#include "coe/coe_engine.h"
#include "model/bench_models.h"
#include "testdata.h"

namespace strata::testing {

// Paths of `n` generated experts (seeds 1..n); generated on first use.
inline std::vector<std::string> GeneratedExperts(int n) {
  std::vector<std::string> paths;
  for (int i = 0; i < n; ++i) {
    const std::string path = ScratchDir() + "/expert-" + std::to_string(i) + ".gguf";
    if (!std::filesystem::exists(path)) {
      BenchModelOptions o{.arch = "llama", .shape = "tiny", .dtype = "q8_0", .out_path = path,
                          .vocab_path = TestDataPath("models/tiny-llama-q8_0.gguf"), .seed = static_cast<uint64_t>(i + 1),
                          .weight_std = 0.2f, .threads = 1};
      if (Status st = GenerateBenchModel(o); !st.ok()) throw std::runtime_error(st.message());
    }
    paths.push_back(path);
  }
  return paths;
}

inline coe::CoeConfig GeneratedCoe(int n, int64_t ram_budget) {
  coe::CoeConfig c{.name = "many", .ram_budget = ram_budget, .kv_per_expert = 0, .router = {.model = {}, .method = "lexical"}};
  const auto paths = GeneratedExperts(n);
  for (int i = 0; i < n; ++i)
    c.experts.push_back({.name = "e" + std::to_string(i), .model = paths[static_cast<size_t>(i)],
                         .description = "expert number " + std::to_string(i), .examples = {}});
  return c;
}

// Small steps, a short context: a few MiB per resident expert.
inline coe::CoeEngineOptions SmallExpertOptions() {
  coe::CoeEngineOptions o;
  o.engine.max_model_len = 128;
  o.engine.scheduler.max_num_seqs = 4;
  o.engine.scheduler.max_num_batched_tokens = 64;
  o.threads = 2;
  return o;
}

// The resident set size of this process, from /proc/self/status (bytes).
inline int64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

}  // namespace strata::testing
