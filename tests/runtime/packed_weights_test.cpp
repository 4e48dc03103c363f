// One packed copy per weight: executors of the same plan share it, and with the sources released (as `strata
// run|serve|bench` do) the file's bytes of packed weights are given back while executors built later still
// compute the same logits from the kept packed copies; a weight another op reads as it is keeps its bytes.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler/plan_builder.h"
#include "runtime/cpu_executor.h"
#include "runtime/packed_weights.h"
#include "testdata.h"

namespace strata {
namespace {

const Tensor* FindWeight(const ir::Plan& plan, const std::string& name) {
  for (const ir::WeightRef& w : plan.weights)
    if (w.name == name) return &w.tensor;
  return nullptr;
}

std::vector<float> LastLogits(const ir::Plan& plan, ThreadPool& pool) {
  CpuExecutor exec(plan, pool);
  const std::vector<int32_t> prompt = {1, 450, 802, 338, 263};
  auto logits = exec.Forward(prompt, false);
  EXPECT_TRUE(logits.ok()) << logits.status().message();
  return logits.ok() ? std::vector<float>(logits->last(), logits->last() + logits->n_vocab) : std::vector<float>{};
}

// A fresh load of the shared Q8_0 model (its own bytes) and its plan.
struct Loaded {
  std::unique_ptr<Model> model;
  ir::Plan plan;
};
Loaded LoadTiny() {
  Loaded l;
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-q8_0.gguf"));
  EXPECT_TRUE(model.ok());
  if (!model.ok()) return l;
  l.model = std::move(*model);
  auto plan = ir::BuildPlan(*l.model);
  EXPECT_TRUE(plan.ok());
  if (plan.ok()) l.plan = std::move(*plan);
  return l;
}

bool AllZero(const Tensor& t, int64_t from, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(t.data()) + from;
  for (int64_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

TEST(PackedWeights, ExecutorsShareOneCopy) {
  STRATA_REQUIRE_TESTDATA();
  const Loaded l = LoadTiny();
  const Tensor* up = FindWeight(l.plan, "blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  const auto a = SharedPack(*up, false), b = SharedPack(*up, false);
  if (!a) GTEST_SKIP() << "no integer path on this CPU: nothing is packed";
  EXPECT_EQ(a.get(), b.get());
  // Another model's copy of the same file is another weight.
  const Loaded again = LoadTiny();
  EXPECT_NE(SharedPack(*FindWeight(again.plan, "blk.0.ffn_up.weight"), false).get(), a.get());
}

TEST(PackedWeights, ReleasedSourcesAreNotReadAgain) {
  STRATA_REQUIRE_TESTDATA();
  const Loaded l = LoadTiny();
  ThreadPool pool(2);
  const std::vector<float> before = LastLogits(l.plan, pool);  // packs without releasing
  if (!SharedPack(*FindWeight(l.plan, "blk.0.ffn_up.weight"), false)) GTEST_SKIP() << "no integer path on this CPU";

  const Loaded fresh = LoadTiny();
  const ir::Plan* plan2 = &fresh.plan;
  SetReleasePackedSources(true);
  const int64_t released_before = ReleasedSourceBytes();
  const std::vector<float> first = LastLogits(*plan2, pool);
  const std::vector<float> second = LastLogits(*plan2, pool);  // a new executor after the release
  SetReleasePackedSources(false);
  EXPECT_GT(ReleasedSourceBytes(), released_before);
  EXPECT_EQ(first, before);
  EXPECT_EQ(second, before);
  // The pages inside a packed weight read back as zeros now (anonymous memory); the embedding, read as it is,
  // kept its bytes.
  const Tensor& up = *FindWeight(*plan2, "blk.0.ffn_up.weight");
  EXPECT_TRUE(AllZero(up, 8192, 8192));
  const Tensor& embd = *FindWeight(*plan2, "token_embd.weight");
  EXPECT_FALSE(AllZero(embd, 8192, 8192));
}

}  // namespace
}  // namespace strata
