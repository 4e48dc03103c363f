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
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata {
namespace {

using Bytes = std::vector<uint8_t>;

// The F32 model with every ffn_down weight requantized to `dtype`, written to the scratch folder.
std::string WriteModelWithKQuantFfnDown(DType dtype) {
  const std::string src = testing::TestDataPath("models/tiny-llama-f32.gguf");
  std::ifstream in(src, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto gguf = GgufFile::Open(src);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  int patched = 0;
  for (const GgufTensorInfo& t : (*gguf)->tensors()) {
    if (t.name.find("ffn_down") == std::string::npos) continue;
    EXPECT_EQ(t.ggml_type, static_cast<uint32_t>(DType::kF32));
    const int64_t K = t.dims[0], rows = t.dims[1];
    // The data, rows quantized in place (they only shrink, and the data start stays aligned).
    uint8_t* data = bytes.data() + (*gguf)->data_offset() + t.offset;
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t r = 0; r < rows; ++r) {
      std::memcpy(row.data(), data + r * K * 4, static_cast<size_t>(K) * 4);
      QuantizeRow(dtype, row.data(), data + r * RowBytes(dtype, K), K);
    }
    // The tensor info: name (u64 length, bytes), n_dims (u32), n_dims u64 dims, then the u32 type.
    const uint64_t name_len = t.name.size();
    Bytes key(8);
    std::memcpy(key.data(), &name_len, 8);
    key.insert(key.end(), t.name.begin(), t.name.end());
    const auto at = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
    EXPECT_NE(at, bytes.end()) << t.name;
    const size_t type_pos = static_cast<size_t>(at - bytes.begin()) + key.size() + 4 + 8 * t.dims.size();
    const uint32_t type = static_cast<uint32_t>(dtype);
    std::memcpy(bytes.data() + type_pos, &type, 4);
    ++patched;
  }
  EXPECT_EQ(patched, 4);
  const std::string path = testing::ScratchDir() + "/tiny-llama-ffn-down-" + Name(dtype) + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
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
