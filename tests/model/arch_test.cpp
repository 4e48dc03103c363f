// The architecture registry and what it rejects: unknown architectures, keys and tensors an architecture does
// not understand (experts in a file that does not say it has them), wrong shapes; and the configs it reads.
#include "model/arch/architecture.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace strata
