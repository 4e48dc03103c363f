// The architecture registry and what it rejects: unknown architectures, keys and tensors an architecture does
// not understand (experts in a file that does not say it has them), wrong shapes; and the configs it reads.
#include "model/arch/architecture.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "gguf_rewrite.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata {
namespace {

std::string Gen(const std::string& arch, const std::string& shape, const std::string& dtype = "f32") {
  BenchModelOptions o;
  o.arch = arch;
  o.shape = shape;
  o.dtype = dtype;
  o.seed = 7;
  o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/arch-" + arch + "-" + shape + "-" + dtype + ".gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o.out_path;
}

Status LoadStatus(const std::string& path) {
  auto m = Model::Load(path, nullptr, {.load_tokenizer = false});
  return m.ok() ? Status::Ok() : m.status();
}

TEST(ArchRegistryTest, FindsEveryRegisteredArchitectureByName) {
  const std::vector<std::string> names = ArchitectureNames();
  ASSERT_FALSE(names.empty());
  for (const std::string& n : names) {
    const Architecture* a = FindArchitecture(n);
    ASSERT_NE(a, nullptr) << n;
    EXPECT_EQ(a->name, n);
    EXPECT_FALSE(a->shapes().empty()) << n << " has no gen-model shape";
  }
  EXPECT_EQ(FindArchitecture("mamba"), nullptr);
}

TEST(ArchRegistryTest, Llama3TinyLoadsWithRopeFreqsAndKeyLength) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(Gen("llama", "tiny"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.arch, "llama");
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_TRUE(c.rope_freqs);
  EXPECT_TRUE(c.tied_output);
  EXPECT_TRUE((*m)->Weight("rope_freqs.weight").ok());
  EXPECT_FALSE((*m)->Weight("output.weight").ok()) << "a missing weight is an error, not an empty tensor";
}

TEST(ArchRegistryTest, UnknownArchitectureIsUnsupportedAndNamesTheSupportedOnes) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("llama", "tiny"), dst = testing::ScratchDir() + "/mamba.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) {
    for (auto& [k, v] : e.metadata)
      if (k == "general.architecture") v = GgufValue{GgufType::kString, std::string("mamba")};
  }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("'mamba'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("llama"), std::string::npos) << st.message();
}

TEST(ArchRegistryTest, UnknownArchKeyIsUnsupportedNamingIt) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("llama", "tiny"), dst = testing::ScratchDir() + "/llama-odd-key.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) { testing::SetU32(e, "llama.attention.frobnicate", 3); }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("llama.attention.frobnicate"), std::string::npos) << st.message();
}

TEST(ArchRegistryTest, MixtralTinyLoadsAsLlamaWithExperts) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(Gen("llama", "mixtral-tiny"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ((*m)->config().n_experts, 8);
  EXPECT_EQ((*m)->config().n_experts_used, 2);
  EXPECT_TRUE((*m)->config().expert_weights_norm);
}

TEST(ArchRegistryTest, ExpertTensorsWithoutExpertCountAreUnsupported) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("llama", "mixtral-tiny"), dst = testing::ScratchDir() + "/mixtral-no-count.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) {
    testing::DropKey(e, "llama.expert_count");
    testing::DropKey(e, "llama.expert_used_count");
  }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("blk.0.ffn_gate_inp.weight' is not understood"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("expert_count"), std::string::npos) << st.message();
}

TEST(ArchRegistryTest, WrongExpertDimsAreReportedWithTheShape) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("llama", "mixtral-tiny"), dst = testing::ScratchDir() + "/mixtral-bad-ffn.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) { testing::SetU32(e, "llama.feed_forward_length", 256); }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("ffn_gate_exps.weight' has shape [8, 384, 256], expected [8, 256, 256]"), std::string::npos)
      << st.message();
}

TEST(ArchRegistryTest, ExtraTensorIsUnsupportedNamingIt) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("llama", "tiny"), dst = testing::ScratchDir() + "/llama-extra.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) {
    e.tensors.push_back({"blk.0.attn_output.bias", e.tensors.back().tensor});
  }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("blk.0.attn_output.bias"), std::string::npos) << st.message();
}

TEST(ArchRegistryTest, Gemma2WithoutSoftCapKeysIsUnsupportedNamingTheKey) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("gemma2", "tiny");
  ASSERT_TRUE(LoadStatus(src).ok()) << LoadStatus(src).ToString();
  // Stricter than llama.cpp, which falls back to 50 and 30.
  for (const std::string key : {"gemma2.attn_logit_softcapping", "gemma2.final_logit_softcapping"}) {
    const std::string dst = testing::ScratchDir() + "/gemma2-no-" + key + ".gguf";
    ASSERT_TRUE(testing::RewriteGguf(src, dst, [&key](testing::GgufEdit& e) { testing::DropKey(e, key); }).ok());
    const Status st = LoadStatus(dst);
    EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
    EXPECT_NE(st.message().find("'" + key + "' is missing"), std::string::npos) << st.message();
  }
}

TEST(ArchRegistryTest, Gemma2WithOutputWeightIsUnsupported) {
  STRATA_REQUIRE_TESTDATA();
  const std::string src = Gen("gemma2", "tiny"), dst = testing::ScratchDir() + "/gemma2-output.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) {
    e.tensors.push_back({"output.weight", e.tensors.front().tensor});  // token_embd's shape
  }).ok());
  const Status st = LoadStatus(dst);
  EXPECT_EQ(st.code(), Status::Code::kUnsupported) << st.ToString();
  EXPECT_NE(st.message().find("output.weight"), std::string::npos) << st.message();
}

TEST(ArchRegistryTest, GemmaConfigsReadWindowsCapsScalesAndRopeBases) {
  STRATA_REQUIRE_TESTDATA();
  auto g2 = Model::Load(Gen("gemma2", "tiny"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(g2.ok()) << g2.status().ToString();
  const ModelConfig& c2 = (*g2)->config();
  EXPECT_EQ(c2.sliding_window, 8);
  EXPECT_EQ(c2.swa_period, 2);
  EXPECT_TRUE(c2.LayerSlides(0));
  EXPECT_FALSE(c2.LayerSlides(1));
  EXPECT_FLOAT_EQ(c2.attn_softcap, 50.0f);
  EXPECT_FLOAT_EQ(c2.final_softcap, 30.0f);
  EXPECT_FLOAT_EQ(c2.attn_scale, 1.0f / std::sqrt(128.0f));
  EXPECT_TRUE(c2.tied_output);

  const std::string src3 = Gen("gemma3", "tiny");
  auto g3 = Model::Load(src3, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(g3.ok()) << g3.status().ToString();
  const ModelConfig& c3 = (*g3)->config();
  EXPECT_EQ(c3.swa_period, 6);
  EXPECT_TRUE(c3.LayerSlides(4));
  EXPECT_FALSE(c3.LayerSlides(5));
  EXPECT_FLOAT_EQ(c3.rope_base_local, 10000.0f);
  EXPECT_FLOAT_EQ(c3.rope_freq_scale, 0.125f);
  EXPECT_EQ(c3.attn_softcap, 0.0f);
  EXPECT_EQ(c3.final_softcap, 0.0f);

  // As llama.cpp: no sliding_window key, no sliding layers; no freq_base_swa, the local base is 10000.
  const std::string dst = testing::ScratchDir() + "/gemma3-no-swa-base.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src3, dst, [](testing::GgufEdit& e) { testing::DropKey(e, "gemma3.rope.freq_base_swa"); }).ok());
  auto m = Model::Load(dst, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FLOAT_EQ((*m)->config().rope_base_local, 10000.0f);
  ASSERT_TRUE(testing::RewriteGguf(src3, dst, [](testing::GgufEdit& e) {
    testing::DropKey(e, "gemma3.attention.sliding_window");  // the pattern and local base stay, unused
  }).ok());
  m = Model::Load(dst, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  for (int l = 0; l < 8; ++l) EXPECT_FALSE((*m)->config().LayerSlides(l)) << l;

  // The 27B's layer counts scale queries by 1/sqrt(dim / heads) (gemma3-tiny: 256 / 4).
  ASSERT_TRUE(testing::RewriteGguf(src3, dst, [](testing::GgufEdit& e) { testing::SetU32(e, "gemma3.block_count", 62); }).ok());
  auto gguf = GgufFile::Open(dst);  // tensors for 8 layers only: the config alone is what this reads
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto c62 = ReadModelConfig(**gguf);
  ASSERT_TRUE(c62.ok()) << c62.status().ToString();
  EXPECT_FLOAT_EQ(c62->attn_scale, 1.0f / 8.0f);
  const std::string dst2 = testing::ScratchDir() + "/gemma2-46.gguf";  // gemma2's 27B: 46 layers
  ASSERT_TRUE(testing::RewriteGguf(Gen("gemma2", "tiny"), dst2, [](testing::GgufEdit& e) {
    testing::SetU32(e, "gemma2.block_count", 46);
  }).ok());
  gguf = GgufFile::Open(dst2);
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto c46 = ReadModelConfig(**gguf);
  ASSERT_TRUE(c46.ok()) << c46.status().ToString();
  EXPECT_FLOAT_EQ(c46->attn_scale, 1.0f / 8.0f);  // 1/sqrt(256 / 4), not 1/sqrt(head_dim 128)
}

}  // namespace
}  // namespace strata
