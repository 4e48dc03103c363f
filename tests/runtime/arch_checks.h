// Shared checks for an architecture's generated files (strata gen-model --arch): agreement with llama.cpp
// (teacher-forced on its greedy continuation of several prompts: top-5 probabilities for float files, top-1
// for quantized ones), and plan equivalences (every fusion pass off vs on, --tp 2 vs --tp 1).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compiler/pass_manager.h"
#include "llama_cpp_topk.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "runtime/kernels/quant_matmul.h"
#include "testdata.h"

namespace strata::testing {

struct ArchFile {
  std::string arch, shape = "tiny", dtype = "f32";
  int layers = 0;  // 0: the shape's
  uint64_t seed = 11;
  // Weight std: 0.2 gives decisive but unsaturated next-token distributions at the tiny shapes (|dp| ~1e-6, and
  // a wrong rope pairing moves it to ~0.9). Architectures that scale embeddings up (gemma: sqrt(dim)) saturate
  // at 0.2 (|dp| ~1e-8 whatever the model computes) and need smaller values: check that an injected error is
  // seen at the chosen value.
  float std = 0.2f;
};

// Writes the file once per test process (scratch dir); empty on failure (the test has failed then).
inline std::string GenArchFile(const ArchFile& f) {
  BenchModelOptions o;
  o.arch = f.arch, o.shape = f.shape, o.dtype = f.dtype, o.layers = f.layers, o.seed = f.seed, o.threads = 2, o.weight_std = f.std;
  o.vocab_path = TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = ScratchDir() + "/" + f.arch + "-" + f.shape + "-" + f.dtype + "-l" + std::to_string(f.layers) + "-s" +
               std::to_string(static_cast<int>(f.std * 1000)) + ".gguf";
  if (std::FILE* exists = std::fopen(o.out_path.c_str(), "rb")) {
    std::fclose(exists);
    return o.out_path;
  }
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return st.ok() ? o.out_path : "";
}

// Prompts of ids (BOS first) over the tiny vocabulary (1024 tokens).
inline std::vector<std::vector<int32_t>> AgreementPrompts() {
  return {{1, 15, 27, 300, 42, 7, 99, 450, 13, 900},
          {1, 512, 3, 77, 1000, 250, 251, 252, 8, 640, 333, 17},
          {1, 700, 701, 702, 5, 6}};
}

// Strata's logits at each of llama.cpp's steps: the prompt, then llama.cpp's tokens one at a time.
inline std::vector<std::vector<float>> StrataSteps(CpuExecutor& exec, const std::vector<int32_t>& prompt,
                                                  const LlamaCppTopK& ref) {
  std::vector<std::vector<float>> rows;
  exec.Reset();
  auto l = exec.Forward(prompt, false);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  if (!l.ok()) return rows;
  rows.emplace_back(l->last(), l->last() + l->n_vocab);
  for (size_t i = 0; i + 1 < ref.tokens.size(); ++i) {
    const int32_t t = ref.tokens[i];
    l = exec.Forward(std::span(&t, 1), false);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (!l.ok()) return rows;
    rows.emplace_back(l->last(), l->last() + l->n_vocab);
  }
  return rows;
}

struct ArchAgreement {
  int positions = 0, clear_steps = 0, top1_equal = 0;
  double max_abs_dp = 0;
  std::string Summary() const {
    char s[160];
    std::snprintf(s, sizeof s, "%d positions, top-1 equal at %d of %d clear steps, max top-5 |dp| %.3g", positions,
                  top1_equal, clear_steps, max_abs_dp);
    return s;
  }
};

// Runs llama.cpp and Strata on every prompt; `margin` decides which steps are clear (llama.cpp's top-1 minus
// top-2 probability above it). Skips (returns positions 0) without node-llama-cpp.
inline ArchAgreement CompareWithLlamaCpp(const std::string& path, double margin, int gen = 24) {
  ArchAgreement out;
  auto model = Model::Load(path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return out;
  auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses()});
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  if (!plans.ok()) return out;
  ThreadPool pool(2);
  CpuExecutor exec(plans->front(), pool, 128);
  for (const auto& prompt : AgreementPrompts()) {
    const auto ref = RunLlamaCppTopK(path, prompt, gen, 5);
    EXPECT_TRUE(ref.has_value()) << "bench/llama_cpp/topk.mjs failed on " << path << " (llama.cpp could not load it?)";
    if (!ref) return out;
    const TopKAgreement a = CompareTopK(*ref, StrataSteps(exec, prompt, *ref), margin);
    out.positions += a.positions;
    out.clear_steps += a.clear_steps;
    out.top1_equal += a.top1_equal;
    out.max_abs_dp = std::max(out.max_abs_dp, a.max_abs_dp);
  }
  return out;
}

#define STRATA_REQUIRE_LLAMA_CPP()                                                                         \
  do {                                                                                                     \
    STRATA_REQUIRE_TESTDATA();                                                                             \
    if (!::strata::testing::HaveLlamaCppNode())                                                            \
      GTEST_SKIP() << "no node-llama-cpp install at " << ::strata::testing::LlamaCppInstallDir()           \
                   << " (bench/llama_cpp/setup.sh)";                                                       \
  } while (0)

// Float files: every top-5 probability within max_dp, and llama.cpp's greedy token wherever it leads by 0.01.
inline void ExpectFloatAgreement(const ArchFile& f, double max_dp = 1e-3) {
  const std::string path = GenArchFile(f);
  ASSERT_FALSE(path.empty());
  const ArchAgreement a = CompareWithLlamaCpp(path, 0.01);
  std::printf("[ agree   ] %s %s %s vs llama.cpp: %s\n", f.arch.c_str(), f.shape.c_str(), f.dtype.c_str(), a.Summary().c_str());
  EXPECT_EQ(a.positions, 24 * static_cast<int>(AgreementPrompts().size()));
  EXPECT_LT(a.max_abs_dp, max_dp) << a.Summary();
  EXPECT_EQ(a.top1_equal, a.clear_steps) << a.Summary();
}

// Quantized files: llama.cpp's top-1 at >= 95% of the steps where it leads by more than 0.3.
inline void ExpectQuantAgreement(const ArchFile& f) {
  const std::string path = GenArchFile(f);
  ASSERT_FALSE(path.empty());
  const ArchAgreement a = CompareWithLlamaCpp(path, 0.3);
  std::printf("[ agree   ] %s %s %s vs llama.cpp: %s\n", f.arch.c_str(), f.shape.c_str(), f.dtype.c_str(), a.Summary().c_str());
  EXPECT_EQ(a.positions, 24 * static_cast<int>(AgreementPrompts().size()));
  EXPECT_GT(a.clear_steps, 0) << "no step with a clear choice: the file says nothing";
  EXPECT_GE(a.top1_equal, 0.95 * a.clear_steps) << a.Summary();
}

// Logits of a prompt (every row) and 6 greedy decode steps under compile options.
inline std::vector<float> RunOptions(const Model& m, const ir::CompileOptions& o) {
  auto ranks = ir::Compile(m, o);
  EXPECT_TRUE(ranks.ok()) << ranks.status().ToString();
  if (!ranks.ok()) return {};
  ThreadPool pool(2);
  CpuExecutor exec(*ranks, pool, 64);
  std::vector<int32_t> prompt = AgreementPrompts()[1];
  auto l = exec.Forward(prompt, true);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  if (!l.ok()) return {};
  std::vector<float> out(l->data, l->data + l->rows * l->n_vocab);
  for (int step = 0; step < 6; ++step) {
    const auto next = static_cast<int32_t>(std::max_element(l->last(), l->last() + l->n_vocab) - l->last());
    l = exec.Forward(std::span(&next, 1), false);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    if (!l.ok()) return {};
    out.insert(out.end(), l->last(), l->last() + l->n_vocab);
  }
  return out;
}

inline float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size() || a.empty()) return INFINITY;
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

// Unfused = each fusion pass alone = all passes = --tp 2 (and --tp 4 with max_tp 4) (float activations: the
// passes reorder float sums).
inline void ExpectPlansEquivalent(const ArchFile& f, float tolerance = 1e-4f, int max_tp = 2) {
  const std::string path = GenArchFile(f);
  ASSERT_FALSE(path.empty());
  auto model = Model::Load(path, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  kernels::SetQuantizedActivations(false);
  const std::vector<float> base = RunOptions(**model, {});
  std::vector<std::pair<std::string, ir::CompileOptions>> variants;
  for (const std::string& p : ir::DefaultPasses()) variants.push_back({p, {.passes = {p}}});
  variants.push_back({"all passes", {.passes = ir::DefaultPasses()}});
  variants.push_back({"tp 2", {.tp = 2}});
  variants.push_back({"tp 2 + all passes", {.passes = ir::DefaultPasses(), .tp = 2}});
  if (max_tp >= 4) variants.push_back({"tp 4 + all passes", {.passes = ir::DefaultPasses(), .tp = 4}});
  for (const auto& [what, o] : variants) {
    const float d = MaxAbsDiff(base, RunOptions(**model, o));
    std::printf("[ equiv   ] %s %s %-22s max |logit diff| %.2e\n", f.arch.c_str(), f.dtype.c_str(), what.c_str(), static_cast<double>(d));
    EXPECT_LE(d, tolerance) << f.arch << " " << what;
  }
  kernels::SetQuantizedActivations(true);
}

}  // namespace strata::testing
