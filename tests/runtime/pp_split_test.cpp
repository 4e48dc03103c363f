// Pipeline stages chained in one process: stage 0's plan runs, its output (the residual stream) is fed as the
// next stage's Batch::stage_input, and so on; each stage keeps its own paged KV cache of its own layers. Over
// a multi-step, multi-sequence run (prefill, a mixed prefill + decode batch, decode steps) the last stage's
// logits must be bit-identical to the unsplit plan's (the same kernels in the same order), with and without
// the fusion passes; tp 2 x pp 2 (each stage's tensor-parallel ranks in an in-process ModelRunner) must be
// bit-identical to tp 2 alone and close to tp 1.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "arch_checks.h"
#include "compiler/pass_manager.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "runtime/model_runner.h"
#include "testdata.h"

namespace strata::pp_split_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

constexpr int64_t kBlockSize = 16, kBlocks = 12;

// Runs the plans of tp ranks x pp stages (global-rank order) step by step: one ModelRunner (its own KV caches)
// per stage, the activations handed from stage to stage as a pipeline runtime would send them.
class StageChain {
 public:
  StageChain(const std::vector<ir::Plan>& plans, int tp, ThreadPool& pool) {
    const int pp = static_cast<int>(plans.size()) / tp;
    for (int s = 0; s < pp; ++s)
      stages_.push_back(std::make_unique<ModelRunner>(std::span(plans).subspan(static_cast<size_t>(s * tp), static_cast<size_t>(tp)),
                                                      pool, kBlocks, kBlockSize));
  }

  // The last stage's logits, copied.
  Result<std::vector<float>> Run(Batch batch) {
    std::vector<float> carried;
    for (size_t s = 0; s < stages_.size(); ++s) {
      batch.stage_input = s == 0 ? nullptr : carried.data();
      STRATA_ASSIGN_OR_RETURN(const Logits out, stages_[s]->Run(batch));
      if (s + 1 < stages_.size() && out.rows != static_cast<int64_t>(batch.tokens.size()))
        return Status::Internal("a stage before the last returned " + std::to_string(out.rows) + " rows for " +
                                std::to_string(batch.tokens.size()) + " tokens");
      carried.assign(out.data, out.data + out.rows * out.n_vocab);  // what the transport would send
    }
    return carried;
  }

 private:
  std::vector<std::unique_ptr<ModelRunner>> stages_;
};

// Two sequences over separate blocks: A's prompt alone, then A decoding while B's prompt prefills (B wants every
// row's logits), then both decoding. Returns every step's logits, concatenated.
Result<std::vector<float>> RunSteps(StageChain& chain) {
  static const std::vector<int32_t> table_a = {3, 0, 7, 1}, table_b = {5, 2, 9, 4};
  const std::vector<int32_t> prompt_a = {1, 15, 27, 300, 42, 7, 99, 450, 13, 900, 5, 6, 7, 8, 9, 10, 11, 12};
  const std::vector<int32_t> prompt_b = {1, 512, 3, 77, 1000, 250, 251};
  std::vector<float> all;
  auto step = [&](const Batch& b) -> Status {
    STRATA_ASSIGN_OR_RETURN(const std::vector<float> logits, chain.Run(b));
    all.insert(all.end(), logits.begin(), logits.end());
    return Status::Ok();
  };
  Batch b;
  b.tokens = prompt_a;
  b.seqs = {{.first_row = 0, .num_rows = static_cast<int64_t>(prompt_a.size()), .start_pos = 0, .block_table = table_a,
             .want_logits = true}};
  STRATA_RETURN_IF_ERROR(step(b));
  int64_t pos_a = static_cast<int64_t>(prompt_a.size());
  b.tokens = {33};
  b.tokens.insert(b.tokens.end(), prompt_b.begin(), prompt_b.end());
  b.seqs = {{.first_row = 0, .num_rows = 1, .start_pos = pos_a, .block_table = table_a, .want_logits = true},
            {.first_row = 1, .num_rows = static_cast<int64_t>(prompt_b.size()), .start_pos = 0, .block_table = table_b,
             .want_logits = true, .all_logits = true}};
  STRATA_RETURN_IF_ERROR(step(b));
  pos_a += 1;
  int64_t pos_b = static_cast<int64_t>(prompt_b.size());
  for (int i = 0; i < 5; ++i) {
    b.tokens = {static_cast<int32_t>(100 + 37 * i), static_cast<int32_t>(800 - 91 * i)};
    b.seqs = {{.first_row = 0, .num_rows = 1, .start_pos = pos_a++, .block_table = table_a, .want_logits = true},
              {.first_row = 1, .num_rows = 1, .start_pos = pos_b++, .block_table = table_b, .want_logits = true}};
    STRATA_RETURN_IF_ERROR(step(b));
  }
  return all;
}

std::vector<float> RunCompiled(const Model& model, const ir::CompileOptions& o) {
  auto plans = ir::Compile(model, o);
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  if (!plans.ok()) return {};
  EXPECT_EQ(plans->size(), static_cast<size_t>(o.tp * o.pp));
  ThreadPool pool(2);
  StageChain chain(*plans, o.tp, pool);
  auto out = RunSteps(chain);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::move(out).value() : std::vector<float>{};
}

bool BitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
  return !a.empty() && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every pp up to max_pp, passes off and on: bit-identical to the unsplit plan; tp 2 x pp 2 bit-identical to tp 2
// and within `tp_tolerance` of tp 1.
void ExpectStagesChainExactly(const std::string& path, const std::string& what, int max_pp, float tp_tolerance,
                              bool int8_activations = false) {
  auto model = Model::Load(path, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_GE((*model)->config().n_layers, max_pp);
  kernels::SetQuantizedActivations(int8_activations);
  for (bool fused : {false, true}) {
    const std::vector<std::string> passes = fused ? ir::DefaultPasses() : std::vector<std::string>{};
    const char* label = fused ? "fused" : "unfused";
    const std::vector<float> whole = RunCompiled(**model, {.passes = passes});
    ASSERT_FALSE(whole.empty());
    for (int pp = 2; pp <= max_pp; ++pp) {
      const std::vector<float> staged = RunCompiled(**model, {.passes = passes, .pp = pp});
      std::printf("[ pp      ] %s %s pp %d: %s (%zu logits)\n", what.c_str(), label, pp,
                  BitIdentical(whole, staged) ? "bit-identical" : "DIFFERENT", staged.size());
      EXPECT_TRUE(BitIdentical(whole, staged)) << what << " " << label << " pp " << pp << " max |diff| "
                                               << testing::MaxAbsDiff(whole, staged);
    }
    const std::vector<float> tp2 = RunCompiled(**model, {.passes = passes, .tp = 2});
    const std::vector<float> tp2pp2 = RunCompiled(**model, {.passes = passes, .tp = 2, .pp = 2});
    const float d = testing::MaxAbsDiff(whole, tp2pp2);
    std::printf("[ pp      ] %s %s tp 2 x pp 2: %s tp 2, max |diff| vs tp 1 %.2e\n", what.c_str(), label,
                BitIdentical(tp2, tp2pp2) ? "bit-identical to" : "DIFFERENT from", static_cast<double>(d));
    EXPECT_TRUE(BitIdentical(tp2, tp2pp2)) << what << " " << label << " max |diff| " << testing::MaxAbsDiff(tp2, tp2pp2);
    EXPECT_LE(d, tp_tolerance) << what << " " << label;
  }
  kernels::SetQuantizedActivations(true);
}

TEST(PipelineStages, LlamaGoldenModelChainsExactly) {
  STRATA_REQUIRE_TESTDATA();
  ExpectStagesChainExactly(testing::TestDataPath("models/tiny-llama-f32.gguf"), "tiny-llama f32", 3, 1e-5f);
}

// Q8_0 weights on the integer path (activations quantized per block, as `strata run` computes by default).
TEST(PipelineStages, LlamaQ8IntegerPathChainsExactly) {
  STRATA_REQUIRE_TESTDATA();
  // tp 1 against tp 2: the all-reduce adds a row-split matmul's halves in another order (~3e-6), and where an
  // activation lies near a rounding boundary of its 8-bit quantization that flips it by one step, which moved
  // logits by 4.4e-2 once (the vectorised SiLU's last bits moved which one: the F32 path stays within 1e-5); a
  // wrong split is off by whole units. pp and tp x pp stay bit-identical.
  ExpectStagesChainExactly(testing::TestDataPath("models/tiny-llama-q8_0.gguf"), "tiny-llama q8_0 int8", 3, 0.1f, true);
}

TEST(PipelineStages, Gemma2ChainsExactly) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::GenArchFile({.arch = "gemma2", .std = 0.05f});
  ASSERT_FALSE(path.empty());
  ExpectStagesChainExactly(path, "gemma2 tiny", 3, 1e-5f);
}

TEST(PipelineStages, Qwen2MoeChainsExactly) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::GenArchFile({.arch = "qwen2moe", .layers = 3});
  ASSERT_FALSE(path.empty());
  // tp 2 alone differs from tp 1 by the same 3.6e-5 (measured; tp 2 x pp 2 is bit-identical to it): expert
  // parallelism sums each token's experts in another order. The tp equivalence tests allow 1e-4.
  ExpectStagesChainExactly(path, "qwen2moe tiny", 3, 1e-4f);
}

// The other architectures' layers (fused QKV, q/k norms, post-norms, per-layer rope bases, MoE without a
// shared expert) at pp 2; their tp 2 tolerance is the tp equivalence tests' (arch_checks.h).
TEST(PipelineStages, EveryOtherArchitectureChainsExactly) {
  STRATA_REQUIRE_TESTDATA();
  const testing::ArchFile files[] = {{.arch = "qwen2"}, {.arch = "qwen3"}, {.arch = "phi3"}, {.arch = "gemma3", .std = 0.05f},
                                     {.arch = "qwen3moe"}, {.arch = "llama", .shape = "mixtral-tiny"}};
  for (const testing::ArchFile& f : files) {
    const std::string path = testing::GenArchFile(f);
    ASSERT_FALSE(path.empty()) << f.arch;
    ExpectStagesChainExactly(path, f.arch + " " + f.shape, 2, 1e-4f);
  }
}

// Misuse fails with an error instead of computing nonsense or waiting forever in a collective: a later stage
// without its activations, the first stage given some, and stage plans run together as if they were
// tensor-parallel ranks (the in-process runners have no pipeline).
TEST(PipelineStages, MisuseIsAnError) {
  STRATA_REQUIRE_TESTDATA();
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses(), .pp = 2});
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  ThreadPool pool(2);
  const std::vector<int32_t> table = {0, 1};
  Batch b;
  b.tokens = {1, 2, 3};
  b.seqs = {{.first_row = 0, .num_rows = 3, .start_pos = 0, .block_table = table, .want_logits = true}};
  PlanExecutor second((*plans)[1], pool);
  EXPECT_EQ(second.stage_input_width(), (*model)->config().dim);
  EXPECT_FALSE(second.outputs_stage());
  PagedKvCache kv = second.MakeKvCache(4, kBlockSize);
  const auto missing = second.Run(b, kv);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("stage_input"), std::string::npos) << missing.status().message();
  PlanExecutor first((*plans)[0], pool);
  EXPECT_EQ(first.stage_input_width(), 0);
  EXPECT_TRUE(first.outputs_stage());
  EXPECT_EQ(first.n_vocab(), (*model)->config().dim);
  PagedKvCache kv0 = first.MakeKvCache(4, kBlockSize);
  const std::vector<float> junk(3 * 1024, 0.0f);
  b.stage_input = junk.data();
  EXPECT_FALSE(first.Run(b, kv0).ok());

  for (int tp : {1, 2}) {
    auto ranks = ir::Compile(**model, {.passes = ir::DefaultPasses(), .tp = tp, .pp = 2});
    ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
    CpuExecutor exec(*ranks, pool, 32);
    const auto l = exec.Forward(b.tokens, false);
    ASSERT_FALSE(l.ok()) << "tp " << tp;
    std::printf("tp %d x pp 2 in one CpuExecutor: %s\n", tp, l.status().message().c_str());
  }
}

}  // namespace
}  // namespace strata::pp_split_test
