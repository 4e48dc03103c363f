// Strata's next-token distributions against llama.cpp's (node-llama-cpp's prebuilt binaries, F32 KV cache,
// flash attention off) on the tiny F32 Llama: llama.cpp continues a prompt of ids greedily and gives its top-5
// probabilities at each step (bench/llama_cpp/topk.mjs); Strata, teacher-forced on the same tokens, must give
// each of those ids its probability within 1e-3 and, wherever llama.cpp's choice is clear, make the same one.
// Both ways Strata reaches a step are checked: prefill then one decode per token, as llama.cpp ran, and one
// prefill of the whole sequence with every position's logits. Skipped without node or the install of
// bench/llama_cpp/setup.sh ($STRATA_LLAMA_CPP, else /tmp/strata-llama-cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "compiler/pass_manager.h"
#include "core/status.h"
#include "llama_cpp_topk.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata {
namespace {

using testing::LlamaCppTopK;

constexpr int kGen = 24;
constexpr int kTop = 5;
constexpr double kMaxDp = 1e-3;

std::vector<float> Row(const Logits& l, int64_t r) { return {l.row(r), l.row(r) + l.n_vocab}; }

// Strata's logits at each of llama.cpp's steps: the prompt, then llama.cpp's tokens one at a time.
Result<std::vector<std::vector<float>>> DecodeSteps(CpuExecutor& exec, const std::vector<int32_t>& prompt,
                                                    const LlamaCppTopK& ref) {
  std::vector<std::vector<float>> rows;
  exec.Reset();
  STRATA_ASSIGN_OR_RETURN(Logits first, exec.Forward(prompt, false));
  rows.push_back(Row(first, first.rows - 1));
  for (size_t i = 0; i + 1 < ref.tokens.size(); ++i) {
    const int32_t t = ref.tokens[i];
    STRATA_ASSIGN_OR_RETURN(Logits next, exec.Forward(std::span(&t, 1), false));
    rows.push_back(Row(next, next.rows - 1));
  }
  return rows;
}

// The same rows from one forward pass over the prompt and all but the last of llama.cpp's tokens.
Result<std::vector<std::vector<float>>> PrefillSteps(CpuExecutor& exec, const std::vector<int32_t>& prompt,
                                                     const LlamaCppTopK& ref) {
  std::vector<int32_t> seq = prompt;
  seq.insert(seq.end(), ref.tokens.begin(), ref.tokens.end() - 1);
  exec.Reset();
  STRATA_ASSIGN_OR_RETURN(Logits all, exec.Forward(seq, true));
  std::vector<std::vector<float>> rows;
  for (int64_t r = static_cast<int64_t>(prompt.size()) - 1; r < all.rows; ++r) rows.push_back(Row(all, r));
  return rows;
}

TEST(LlamaCppTopK, TinyLlamaF32MatchesLlamaCppProbabilities) {
  STRATA_REQUIRE_TESTDATA();
  if (!testing::HaveLlamaCppNode())
    GTEST_SKIP() << "no node-llama-cpp install at " << testing::LlamaCppInstallDir() << " (bench/llama_cpp/setup.sh)";
  const std::string path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  const std::vector<int32_t> prompt = {1, 15, 27, 300, 42, 7, 99, 450, 13, 900};  // BOS and some ids
  const auto ref = testing::RunLlamaCppTopK(path, prompt, kGen, kTop);
  ASSERT_TRUE(ref.has_value()) << "bench/llama_cpp/topk.mjs failed (its command is on stderr)";
  ASSERT_EQ(ref->tokens.size(), static_cast<size_t>(kGen));
  for (const auto& top : ref->top) {
    ASSERT_EQ(top.size(), static_cast<size_t>(kTop));
    EXPECT_GE(top[0].second, top[1].second) << "llama.cpp's top-k comes most probable first";
  }

  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses()});
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ThreadPool pool(2);
  CpuExecutor exec(plans->front(), pool, 64);
  for (const bool decode : {true, false}) {
    auto rows = decode ? DecodeSteps(exec, prompt, *ref) : PrefillSteps(exec, prompt, *ref);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    const testing::TopKAgreement a = testing::CompareTopK(*ref, *rows, 2 * kMaxDp);
    const char* how = decode ? "decode" : "prefill";
    std::printf("[ %-7s ] tiny-llama-f32 vs llama.cpp: %s\n", how, a.Summary().c_str());
    EXPECT_EQ(a.positions, kGen) << how;
    EXPECT_LT(a.max_abs_dp, kMaxDp) << how << ": " << a.Summary();
    EXPECT_TRUE(a.GreedyAgrees()) << how << ": " << a.Summary();
    EXPECT_GT(a.clear_steps, kGen / 2) << how << ": too few clear steps for the greedy rule to mean anything";
  }
}

// The comparison itself, on made-up distributions: a probability off by more than the tolerance and a
// disagreeing clear step are both seen, and a near tie does not count against the greedy rule.
TEST(LlamaCppTopK, CompareTopKMeasuresWhatItSays) {
  LlamaCppTopK ref;
  ref.tokens = {0, 1};
  // Step 0: logits {log .5, log .3, log .2}; step 1: a near tie between ids 1 and 2.
  ref.top = {{{0, 0.5f}, {1, 0.3f}, {2, 0.2f}}, {{1, 0.4005f}, {2, 0.3995f}, {0, 0.2f}}};
  const std::vector<std::vector<float>> same = {
      {std::log(0.5f), std::log(0.3f), std::log(0.2f)}, {std::log(0.2f), std::log(0.4005f), std::log(0.3995f)}};
  testing::TopKAgreement a = testing::CompareTopK(ref, same);
  EXPECT_EQ(a.positions, 2);
  EXPECT_EQ(a.clear_steps, 1);
  EXPECT_EQ(a.top1_equal, 1);
  EXPECT_EQ(a.top1_equal_any, 2);
  EXPECT_LT(a.max_abs_dp, 1e-6);
  EXPECT_TRUE(a.GreedyAgrees());

  // Step 1's tie goes the other way, step 0's probabilities move by 0.1 and its choice flips.
  const std::vector<std::vector<float>> other = {
      {std::log(0.4f), std::log(0.45f), std::log(0.15f)}, {std::log(0.2f), std::log(0.3995f), std::log(0.4005f)}};
  a = testing::CompareTopK(ref, other);
  EXPECT_EQ(a.top1_equal, 0);
  EXPECT_EQ(a.top1_equal_any, 0);
  EXPECT_FALSE(a.GreedyAgrees());
  EXPECT_NEAR(a.max_abs_dp, 0.15, 1e-6);
  EXPECT_EQ(a.worst_step, 0);
  EXPECT_EQ(a.worst_token, 1);
}

}  // namespace
}  // namespace strata
