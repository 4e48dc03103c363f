// Every plan pass keeps the outputs: logits of a prompt (every position) and of decode steps after it, run
// with the pass, equal those of the unoptimised plan; tensor-parallel plans (--tp 2, 4) equal --tp 1 in logits
// and greedy continuations; a backend lacking an op (host fallback) changes nothing. On every shared model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compiler/pass_manager.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata {
namespace {

// Fusions reuse the unfused kernels except attention (online softmax: another rounding order), and tensor
// parallelism sums partial products in another order; logits are of order 10.
constexpr float kTolerance = 1e-4f;
constexpr int kDecodeSteps = 10;

const std::vector<int32_t> kPrompt = {1, 9038, 2501, 263, 931, 29892, 727, 471, 263, 2217, 7826, 4257, 365, 2354};

struct Outputs {
  std::vector<float> logits;    // prompt rows, then one row per decode step
  std::vector<int32_t> greedy;  // tokens chosen along the way
};

Outputs RunPlans(const std::vector<ir::Plan>& ranks, int64_t n_vocab) {
  ThreadPool pool(2);
  CpuExecutor exec(ranks, pool);
  Outputs out;
  std::vector<int32_t> prompt = kPrompt;
  for (int32_t& t : prompt) t %= static_cast<int32_t>(n_vocab);
  auto logits = exec.Forward(prompt, true);
  EXPECT_TRUE(logits.ok()) << logits.status().ToString();
  out.logits.assign(logits->data, logits->data + logits->rows * logits->n_vocab);
  for (int step = 0; step < kDecodeSteps; ++step) {
    const int32_t next = static_cast<int32_t>(std::max_element(logits->last(), logits->last() + n_vocab) - logits->last());
    out.greedy.push_back(next);
    const int32_t one[1] = {next};
    logits = exec.Forward(one, false);
    EXPECT_TRUE(logits.ok());
    out.logits.insert(out.logits.end(), logits->last(), logits->last() + n_vocab);
  }
  return out;
}

class PassEquivalence : public ::testing::TestWithParam<std::string> {
 protected:
  // Float activations: a pass that reorders float sums (fused attention, tensor-parallel all-reduce) moves
  // values by ~1e-6, which 8-bit activation rounding can turn into one quantization step further on; the
  // passes' equivalence is about the float computation. quant_matmul_test covers the integer kernels.
  void SetUp() override {
    STRATA_REQUIRE_TESTDATA();
    kernels::SetQuantizedActivations(false);
    auto m = Model::Load(testing::TestDataPath("models/tiny-llama-" + GetParam() + ".gguf"));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value();
    baseline_ = Run({});
  }
  void TearDown() override { kernels::SetQuantizedActivations(true); }
  Outputs Run(const ir::CompileOptions& o) {
    auto ranks = ir::Compile(*model_, o);
    EXPECT_TRUE(ranks.ok()) << ranks.status().ToString();
    return RunPlans(*ranks, model_->config().n_vocab);
  }
  void ExpectSame(const Outputs& got, const std::string& what, float tolerance = kTolerance) {
    ASSERT_EQ(got.logits.size(), baseline_.logits.size());
    float worst = 0;
    for (size_t i = 0; i < got.logits.size(); ++i) worst = std::max(worst, std::fabs(got.logits[i] - baseline_.logits[i]));
    EXPECT_LE(worst, tolerance) << what;
    EXPECT_EQ(got.greedy, baseline_.greedy) << what;
    std::printf("%-5s %-28s max |logit diff| %.2e\n", GetParam().c_str(), what.c_str(), static_cast<double>(worst));
  }
  std::unique_ptr<Model> model_;
  Outputs baseline_;
};

TEST_P(PassEquivalence, EachPassAloneKeepsTheOutputs) {
  for (const std::string& pass : ir::DefaultPasses()) ExpectSame(Run({.passes = {pass}}), pass);
}

TEST_P(PassEquivalence, AllPassesTogetherKeepTheOutputs) { ExpectSame(Run({.passes = ir::DefaultPasses()}), "default"); }

TEST_P(PassEquivalence, TensorParallelRanksEqualOneRank) {
  for (int tp : {2, 4}) {
    ExpectSame(Run({.tp = tp}), "tp " + std::to_string(tp) + " unfused");
    ExpectSame(Run({.passes = ir::DefaultPasses(), .tp = tp}), "tp " + std::to_string(tp) + " default");
  }
}

TEST_P(PassEquivalence, HostFallbackKeepsTheOutputsExactly) {
  // The host runs the same kernels, so the copies around it must not change a bit.
  ExpectSame(Run({.device_lacks = {"rope"}}), "lacks rope", 0.0f);
  ExpectSame(Run({.device_lacks = {"softmax", "silu"}}), "lacks softmax, silu", 0.0f);
  auto fused = ir::Compile(*model_, {.passes = ir::DefaultPasses()});
  ASSERT_TRUE(fused.ok());
  const Outputs reference = RunPlans(*fused, model_->config().n_vocab);
  auto fallback = ir::Compile(*model_, {.passes = ir::DefaultPasses(), .device_lacks = {"attention"}});
  ASSERT_TRUE(fallback.ok());
  const Outputs got = RunPlans(*fallback, model_->config().n_vocab);
  EXPECT_EQ(got.logits, reference.logits);
}

INSTANTIATE_TEST_SUITE_P(SharedModels, PassEquivalence, ::testing::Values("f32", "f16", "q8_0", "q4_0"));

}  // namespace
}  // namespace strata
