// llama.cpp's Q3_K_M / Q4_K_M / Q5_K_M tensor choices for a 16-layer llama model (Llama-3.2-1B's depth), as
// llama-quant.cpp's llama_tensor_get_type_impl makes them: use_more_bits picks layers 0, 1, 4, 7, 10, 13, 14, 15
// (the first and last eighth and every third between); Q3_K_M's first 2 attn_v and first n/16 = 1 ffn_down are
// Q5_K. (bench/llama_cpp/quantize_presets.sh checks the same against llama-quantize's output.)
#include "model/llama_quant_presets.h"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace {

std::string Blk(int i, const char* t) { return "blk." + std::to_string(i) + "." + t + ".weight"; }

TEST(LlamaQuantPresets, KnowsTheThreeMixes) {
  EXPECT_EQ(FindLlamaQuantPreset("q4_k_m")->base, DType::kQ4_K);
  EXPECT_EQ(FindLlamaQuantPreset("q5_k_m")->file_type, 17u);
  EXPECT_EQ(FindLlamaQuantPreset("q3_k_m")->base, DType::kQ3_K);
  EXPECT_EQ(FindLlamaQuantPreset("q4_k"), nullptr);
}

TEST(LlamaQuantPresets, Q4_KMAndQ5_KMUseMoreBitsInTheSameLayers) {
  const bool more[16] = {1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1};
  for (const char* name : {"q4_k_m", "q5_k_m"}) {
    const auto& p = *FindLlamaQuantPreset(name);
    for (int i = 0; i < 16; ++i) {
      const DType v = more[i] ? DType::kQ6_K : p.base;
      EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "attn_v"), 16, true), v) << name << " " << i;
      EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "ffn_down"), 16, true), v) << name << " " << i;
      for (const char* t : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
        EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, t), 16, true), p.base) << name << " " << t;
    }
    EXPECT_EQ(LlamaPresetTensorType(p, "token_embd.weight", 16, true), DType::kQ6_K);  // tied: the output's type
    EXPECT_EQ(LlamaPresetTensorType(p, "token_embd.weight", 16, false), p.base);
    EXPECT_EQ(LlamaPresetTensorType(p, "output.weight", 16, false), DType::kQ6_K);
  }
}

TEST(LlamaQuantPresets, Q3_KM) {
  const auto& p = *FindLlamaQuantPreset("q3_k_m");
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "attn_v"), 16, true), i < 2 ? DType::kQ5_K : DType::kQ4_K) << i;
    EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "ffn_down"), 16, true), i < 1 ? DType::kQ5_K : DType::kQ4_K) << i;
    EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "attn_output"), 16, true), DType::kQ4_K) << i;
    EXPECT_EQ(LlamaPresetTensorType(p, Blk(i, "ffn_up"), 16, true), DType::kQ3_K) << i;
  }
  EXPECT_EQ(LlamaPresetTensorType(p, "output.weight", 16, false), DType::kQ6_K);
}

// phi3's fused attn_qkv falls in llama-quant.cpp's attn_v category (category_is_attn_v): the same layers get
// more bits; its fused ffn_up is an ordinary ffn_up.
TEST(LlamaQuantPresets, FusedQkvIsChosenAsAttnV) {
  const auto& q4 = *FindLlamaQuantPreset("q4_k_m");
  EXPECT_EQ(LlamaPresetTensorType(q4, Blk(0, "attn_qkv"), 32, false), DType::kQ6_K);
  EXPECT_EQ(LlamaPresetTensorType(q4, Blk(5, "attn_qkv"), 32, false), DType::kQ4_K);
  EXPECT_EQ(LlamaPresetTensorType(q4, Blk(0, "ffn_up"), 32, false), DType::kQ4_K);
  const auto& q3 = *FindLlamaQuantPreset("q3_k_m");
  EXPECT_EQ(LlamaPresetTensorType(q3, Blk(1, "attn_qkv"), 32, false), DType::kQ5_K);
  EXPECT_EQ(LlamaPresetTensorType(q3, Blk(2, "attn_qkv"), 32, false), DType::kQ4_K);
}

}  // namespace
}  // namespace strata
