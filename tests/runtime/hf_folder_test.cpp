// A Hugging Face folder written by numpy/torch (tests/model/make_hf_folder.py: HF names, HF's q/k row order,
// hand-written safetensors) computes what the GGUF of the same weights computes, through the same plan; and
// `strata convert` turns it back into that GGUF.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler/plan_cache.h"
#include "compiler/plan_printer.h"
#include "hf_folder.h"
#include "model/hf_convert.h"

namespace strata::hf_folder_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

using testing::AllLogits;
using testing::LoadIdsOnly;

const std::vector<int32_t> kPrompt = {1, 15, 300, 42, 77, 900, 5, 600, 1023, 3};

void ExpectSameModel(const std::string& folder, const std::string& gguf) {
  auto a = LoadIdsOnly(folder), b = LoadIdsOnly(gguf);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->gguf_file(), nullptr);
  EXPECT_EQ(ir::PrintPlan(testing::CompileDefault(*a)), ir::PrintPlan(testing::CompileDefault(*b)));
  EXPECT_EQ(ir::ModelHash(*a), ir::ModelHash(*b));
  const std::vector<float> la = AllLogits(*a, kPrompt), lb = AllLogits(*b, kPrompt);
  ASSERT_EQ(la.size(), kPrompt.size() * 1024);
  EXPECT_TRUE(la == lb) << "the folder's logits differ from " << gguf;
}

TEST(HfFolder, F32ShardedFolderComputesTheGgufLogitsExactly) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 2, dir);
  ExpectSameModel(dir, testing::TestDataPath("models/tiny-llama-f32.gguf"));
}

TEST(HfFolder, F16FolderComputesTheGgufLogitsExactly) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f16.gguf", "f16+f32", 1, dir);
  ExpectSameModel(dir, testing::TestDataPath("models/tiny-llama-f16.gguf"));
}

TEST(HfFolder, Bf16FolderIsTheF32ModelWithinBf16Rounding) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "bf16", 1, dir);
  auto a = LoadIdsOnly(dir), b = LoadIdsOnly(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ((**a->Weight("blk.0.attn_q.weight")).dtype(), DType::kBF16);
  const std::vector<float> la = AllLogits(*a, kPrompt), lb = AllLogits(*b, kPrompt);
  ASSERT_EQ(la.size(), lb.size());
  float worst = 0;
  for (size_t i = 0; i < la.size(); ++i) worst = std::max(worst, std::fabs(la[i] - lb[i]));
  std::printf("[ bf16 folder ] max |logit - f32 logit| = %.3g\n", static_cast<double>(worst));
  // bf16 keeps 8 bits of mantissa (relative error 2^-9 per weight); logits are of order 10. Measured 0.086.
  EXPECT_LT(worst, 0.25f);
  EXPECT_GT(worst, 0.0f);  // the weights really are bf16
}

TEST(HfFolder, CraftedFoldersAreClearErrors) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  const std::string bad = testing::ScratchDir() + "/hf-bad";
  std::filesystem::remove_all(bad);
  std::filesystem::copy(dir, bad);
  auto load = [&] { return Model::Load(bad, nullptr, {.load_tokenizer = false}).status(); };
  // A tensor missing from the safetensors file.
  {
    std::fstream f(bad + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    std::string head(64, '\0');
    f.read(head.data(), 64);
    const size_t at = head.find("lm_head");
    ASSERT_NE(at, std::string::npos);
    f.seekp(static_cast<std::streamoff>(at));
    f.write("xx", 2);
  }
  Status st = load();
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("lm_head.weight is missing"), std::string::npos) << st.message();
  // A truncated safetensors file.
  std::filesystem::resize_file(bad + "/model.safetensors", 1000);
  st = load();
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  // No config.json.
  std::filesystem::remove(bad + "/config.json");
  EXPECT_NE(load().message().find("config.json"), std::string::npos) << load().message();
}

TEST(HfFolder, TokenizerOfTheFolderEncodesLikeTheGguf) {
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  auto folder = Model::Load(dir);
  if (!folder.ok() && folder.status().message().find("not built yet") != std::string::npos)
    GTEST_SKIP() << folder.status().message();
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  auto gguf = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(gguf.ok());
  for (const char* text : {"Hello world", "The quick brown fox, 1234 times.", " leading space\nand lines"})
    EXPECT_EQ((*folder)->tokenizer().Encode(text, true), (*gguf)->tokenizer().Encode(text, true)) << text;
  EXPECT_EQ((*folder)->ChatTemplate()->source, (*gguf)->ChatTemplate()->source);
}

}  // namespace
}  // namespace strata::hf_folder_test
