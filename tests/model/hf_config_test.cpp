// config.json -> ModelConfig, Hugging Face weight names, the q/k row permutation, and the pre-tokenizer names
// llama.cpp knows, read from the shared tokenizer.json files.
#include <gtest/gtest.h>

#include "model/hf_config.h"
#include "model/hf_vocab.h"
#include "model/hf_weights.h"
#include "model/gguf.h"
#include "model/padded_tokenizer.h"
#include "testdata.h"

namespace strata {
namespace {

constexpr const char* kLlama = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 4096,
  "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 8192, "vocab_size": 128256,
  "tie_word_embeddings": false, "head_dim": 128, "bos_token_id": 128000, "eos_token_id": [128001, 128009],
  "hidden_act": "silu", "rope_scaling": null})";

std::string With(const std::string& key_value) {
  std::string s = kLlama;
  return s.substr(0, s.size() - 1) + ", " + key_value + "}";
}

TEST(HfConfig, ReadsLlamaHyperparameters) {
  auto c = ParseHfConfig("config.json", kLlama);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->llama.dim, 4096);
  EXPECT_EQ(c->llama.ffn_dim, 14336);
  EXPECT_EQ(c->llama.n_layers, 32);
  EXPECT_EQ(c->llama.n_heads, 32);
  EXPECT_EQ(c->llama.n_kv_heads, 8);
  EXPECT_EQ(c->llama.head_dim, 128);
  EXPECT_EQ(c->llama.rope_dim, 128);
  EXPECT_EQ(c->llama.n_vocab, 128256);
  EXPECT_EQ(c->llama.n_ctx, 8192);
  EXPECT_FLOAT_EQ(c->llama.rope_base, 500000.0f);
  EXPECT_FLOAT_EQ(c->llama.rms_eps, 1e-5f);
  EXPECT_FALSE(c->llama.tied_output);
  EXPECT_EQ(c->bos_id, 128000);
  EXPECT_EQ(c->eos_id, 128001);
}

TEST(HfConfig, WhatStrataCannotComputeExactlyIsUnsupported) {
  for (const std::string kv : {R"("rope_scaling": {"rope_type": "llama3", "factor": 8.0})",
                               R"("attention_bias": true)", R"("hidden_act": "gelu")", R"("head_dim": 64)"}) {
    auto c = ParseHfConfig("config.json", With(kv));
    EXPECT_EQ(c.status().code(), Status::Code::kUnsupported) << kv << ": " << c.status().ToString();
  }
  EXPECT_TRUE(ParseHfConfig("config.json", With(R"("rope_scaling": {"rope_type": "default"})")).ok());
  std::string qwen = kLlama;
  qwen.replace(qwen.find("LlamaForCausalLM"), 16, "Qwen3MoeForCausalLM");
  auto c = ParseHfConfig("config.json", qwen);
  EXPECT_NE(c.status().message().find("Qwen3MoeForCausalLM"), std::string::npos) << c.status().message();
}

TEST(HfConfig, BadNumbersAreCorrupt) {
  for (const std::string kv : {R"("num_key_value_heads": 5)", R"("hidden_size": -1)", R"("hidden_size": 1e300)",
                               R"("rms_norm_eps": 0)", R"("vocab_size": "many")", R"("bos_token_id": -3)"}) {
    // A later key of the same name wins in the parser: the bad value is the one read.
    auto c = ParseHfConfig("config.json", With(kv));
    EXPECT_EQ(c.status().code(), Status::Code::kCorrupt) << kv << ": " << c.status().ToString();
    EXPECT_NE(c.status().message().find("config.json"), std::string::npos) << c.status().message();
  }
  EXPECT_EQ(ParseHfConfig("config.json", "{").status().code(), Status::Code::kCorrupt);
}

TEST(HfConfig, SlidingWindowBoundsTheContext) {
  auto c = ParseHfConfig("config.json", With(R"("sliding_window": 4096)"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->llama.n_ctx, 4096);
}

TEST(HfWeights, NamesMapToGgufNames) {
  EXPECT_EQ(HfWeightName("token_embd.weight"), "model.embed_tokens.weight");
  EXPECT_EQ(HfWeightName("output.weight"), "lm_head.weight");
  EXPECT_EQ(HfWeightName("output_norm.weight"), "model.norm.weight");
  EXPECT_EQ(HfWeightName("blk.12.attn_q.weight"), "model.layers.12.self_attn.q_proj.weight");
  EXPECT_EQ(HfWeightName("blk.0.ffn_norm.weight"), "model.layers.0.post_attention_layernorm.weight");
  EXPECT_EQ(HfWeightName("blk.3.ffn_down.weight"), "model.layers.3.mlp.down_proj.weight");
  EXPECT_EQ(HfWeightName("blk.3.nothing.weight"), "");
}

TEST(HfWeights, RopeRowsFollowConvertHfToGgufPermute) {
  // Two heads of head_dim 4, one column: HF row r holds value r. convert_hf_to_gguf.py's permute
  // (reshape(n_head, 2, head_dim/2, ...).swapaxes(1, 2)) gives per head rows [0, 2, 1, 3].
  Tensor w = Tensor::Empty(DType::kF32, {8, 1});
  for (int i = 0; i < 8; ++i) w.mutable_data_as<float>()[i] = static_cast<float>(i);
  const Tensor p = PermuteRopeRows(w, 2);
  const std::vector<float> got(p.data_as<float>(), p.data_as<float>() + 8);
  EXPECT_EQ(got, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
}

TEST(HfVocab, PreTokenizerNamesOfTheSharedTokenizers) {
  STRATA_REQUIRE_TESTDATA();
  const std::pair<const char*, const char*> cases[] = {
      {"llama3", "llama-bpe"}, {"qwen3", "qwen2"}, {"deepseek_v3", "deepseek-v3"}};
  for (const auto& [folder, name] : cases) {
    auto text = ReadTextFile(testing::TestDataPath(std::string("tokenizer-hf/") + folder + "/tokenizer.json"));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto pre = HfPreTokenizerName(*text);
    ASSERT_TRUE(pre.ok()) << folder << ": " << pre.status().ToString();
    EXPECT_EQ(*pre, name) << folder;
  }
  auto other = HfPreTokenizerName(R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\d+"}}})");
  EXPECT_EQ(other.status().code(), Status::Code::kUnsupported);
  EXPECT_EQ(*HfPreTokenizerName(R"({"pre_tokenizer": {"type": "ByteLevel", "use_regex": true}})"), "gpt-2");
}

TEST(PaddedTokenizer, RowsPastTheTokensArePads) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(gguf.ok());
  auto inner = CreateTokenizer(**gguf);
  ASSERT_TRUE(inner.ok());
  const std::vector<int32_t> hello = (*inner)->Encode("Hello world", true);
  const std::string decoded = (*inner)->Decode(hello);
  auto padded = PadTokenizer(std::move(*inner), 1030);
  EXPECT_EQ(padded->n_vocab(), 1030);
  EXPECT_EQ(padded->Encode("Hello world", true), hello);
  EXPECT_EQ(padded->Piece(1027), "[PAD1027]");
  EXPECT_EQ(padded->TokenBytes(1029), "");
  std::vector<int32_t> with_pads = hello;
  with_pads.insert(with_pads.begin() + 1, 1024);
  with_pads.push_back(1029);
  EXPECT_EQ(padded->Decode(with_pads), decoded);
  EXPECT_EQ(padded->Piece(1), "<s>");
}

}  // namespace
}  // namespace strata
