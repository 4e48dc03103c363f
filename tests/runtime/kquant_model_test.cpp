// A model with K-quant weights runs through the whole stack (GGUF load, compile, execute). The shared F32 model
// has dim 192, which is not a whole number of 256-element super-blocks, so only its ffn_down weights (rows of
// 512) can be K-quants: they are requantized to Q4_K or Q6_K in place in a copy of the file, and the copy's
// logits are compared with the F32 model's reference logits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/pass_manager.h"
#include "model/gguf.h"
#include "requantized_model.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata {
namespace {

// The F32 model with every ffn_down weight requantized to `dtype`.
std::string WriteModelWithKQuantFfnDown(DType dtype) {
  int patched = 0;
  const std::string path = testing::WriteRequantizedModel(
      dtype, [](const std::string& name) { return name.find("ffn_down") != std::string::npos; },
      std::string("ffn-down-") + Name(dtype), &patched);
  EXPECT_EQ(patched, 4);
  return path;
}

TEST(KQuantModel, FfnDownInQ4_KAndQ6_KRunsCloseToF32) {
  STRATA_REQUIRE_TESTDATA();
  std::ifstream golden_in(testing::TestDataPath("golden/tiny-llama-f32.json"));
  const nlohmann::json golden = nlohmann::json::parse(golden_in);
  ThreadPool pool(2);
  float worst[2] = {};  // largest |logit - F32 reference| for Q4_K, Q6_K
  for (int i = 0; i < 2; ++i) {
    const DType dtype = i == 0 ? DType::kQ4_K : DType::kQ6_K;
    SCOPED_TRACE(Name(dtype));
    auto model = Model::Load(WriteModelWithKQuantFfnDown(dtype));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses()});
    ASSERT_TRUE(plans.ok()) << plans.status().ToString();
    for (const auto& c : golden["cases"]) {
      CpuExecutor exec(plans->front(), pool);
      auto logits = exec.Forward(c["prompt_ids"].get<std::vector<int32_t>>(), false);
      ASSERT_TRUE(logits.ok()) << logits.status().ToString();
      const auto want = c["final_logits"].get<std::vector<float>>();
      ASSERT_EQ(static_cast<size_t>(logits->n_vocab), want.size());
      for (size_t v = 0; v < want.size(); ++v) worst[i] = std::max(worst[i], std::fabs(logits->last()[v] - want[v]));
    }
    std::printf("[ ffn_down %s ] max |logit - f32 reference| over %zu prompts: %.3g\n", Name(dtype),
                golden["cases"].size(), static_cast<double>(worst[i]));
  }
  // Logits are of order 10; quantization noise in one weight per layer moves them by a few hundredths.
  EXPECT_LT(worst[0], 0.5f);
  EXPECT_LT(worst[1], 0.1f);
  EXPECT_LT(worst[1], worst[0]);
}

}  // namespace
}  // namespace strata
