// qwen2, qwen3 and phi3 configs as llama.cpp reads them, and the files they reject: qwen2's optional biases,
// qwen3's required q/k norms and key_length, phi3's ignored sliding window and its unsupported longrope.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "gguf_rewrite.h"
#include "model/arch/architecture.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata::arch_qwen_phi_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

std::string Gen(const std::string& arch) {
  BenchModelOptions o;
  o.arch = arch;
  o.shape = "tiny";
  o.dtype = "f32";
  o.seed = 7;
  o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/arch-qp-" + arch + "-tiny.gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o.out_path;
}

// Loads `arch`'s tiny file after `edit`.
Result<std::unique_ptr<Model>> LoadEdited(const std::string& arch, const std::string& tag,
                                          const std::function<void(testing::GgufEdit&)>& edit) {
  const std::string dst = testing::ScratchDir() + "/arch-qp-" + arch + "-" + tag + ".gguf";
  STRATA_RETURN_IF_ERROR(testing::RewriteGguf(Gen(arch), dst, edit));
  return Model::Load(dst, nullptr, {.load_tokenizer = false});
}

void DropTensors(testing::GgufEdit& e, const std::string& part) {
  std::erase_if(e.tensors, [&](const auto& t) { return t.name.find(part) != std::string::npos; });
}

const Tensor* FindTensor(testing::GgufEdit& e, const std::string& name) {
  for (const auto& t : e.tensors)
    if (t.name == name) return &t.tensor;
  return nullptr;
}

void ExpectError(const Result<std::unique_ptr<Model>>& m, Status::Code code, const std::string& needle) {
  ASSERT_FALSE(m.ok()) << "loaded, expected an error naming " << needle;
  EXPECT_EQ(m.status().code(), code) << m.status().ToString();
  EXPECT_NE(m.status().message().find(needle), std::string::npos) << m.status().message();
}

TEST(ArchQwen2Test, TinyLoadsWithBiasesNeoxAndAnUntiedHead) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(Gen("qwen2"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.arch, "qwen2");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.tied_output);
  EXPECT_EQ(c.rope_base, 1000000.0f);
  EXPECT_TRUE((*m)->Weight("blk.1.attn_v.bias").ok());
  EXPECT_TRUE((*m)->Weight("output.weight").ok());
}

TEST(ArchQwen2Test, BiasesAreOptionalAndOutputTiesWhenAbsent) {
  STRATA_REQUIRE_TESTDATA();
  auto m = LoadEdited("qwen2", "nobias-tied", [](testing::GgufEdit& e) {
    DropTensors(e, ".bias");
    std::erase_if(e.tensors, [](const auto& t) { return t.name == "output.weight"; });
  });
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->config().qkv_bias);
  EXPECT_TRUE((*m)->config().tied_output);
}

TEST(ArchQwen2Test, PartialBiasesAreCorruptNamingTheMissingOne) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("qwen2", "partial-bias", [](testing::GgufEdit& e) { DropTensors(e, "blk.1.attn_k.bias"); }),
              Status::Code::kCorrupt, "blk.1.attn_k.bias' is missing");
}

// llama.cpp's qwen2 loads no attn_output.bias; a file with one is refused there, and here by name.
TEST(ArchQwen2Test, OutputProjectionBiasIsUnsupported) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("qwen2", "o-bias", [](testing::GgufEdit& e) {
                e.tensors.push_back({"blk.0.attn_output.bias", *FindTensor(e, "blk.0.attn_norm.weight")});
              }),
              Status::Code::kUnsupported, "blk.0.attn_output.bias");
}

TEST(ArchQwen3Test, TinyLoadsWithKeyLengthHeadsAndQkNorms) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(Gen("qwen3"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_NE(c.n_heads * c.head_dim, c.dim);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_TRUE(c.tied_output);
  auto norm = (*m)->Weight("blk.0.attn_k_norm.weight");
  ASSERT_TRUE(norm.ok());
  EXPECT_EQ((*norm)->shape(), (std::vector<int64_t>{64}));
}

TEST(ArchQwen3Test, MissingQNormIsCorruptNamingIt) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("qwen3", "no-qnorm", [](testing::GgufEdit& e) { DropTensors(e, "blk.0.attn_q_norm"); }),
              Status::Code::kCorrupt, "blk.0.attn_q_norm.weight' is missing");
}

// Without key_length the head dimension falls back to embedding_length / head_count (32), as in llama.cpp,
// and the q/k norms no longer fit: the file is corrupt, not silently misread.
TEST(ArchQwen3Test, MissingKeyLengthIsCaughtByTheShapes) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("qwen3", "no-keylen", [](testing::GgufEdit& e) {
                testing::DropKey(e, "qwen3.attention.key_length");
                testing::DropKey(e, "qwen3.attention.value_length");
                testing::SetU32(e, "qwen3.rope.dimension_count", 32);
              }),
              Status::Code::kCorrupt, "blk.0.attn_q.weight' has shape [512, 256], expected [256, 256]");
}

TEST(ArchPhi3Test, TinyLoadsFusedWithPartialRopeAndNoWindow) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(Gen("phi3"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.rope_dim, 24);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.sliding_window, 0) << "llama.cpp turns phi3's sliding window off";
  auto qkv = (*m)->Weight("blk.0.attn_qkv.weight");
  ASSERT_TRUE(qkv.ok());
  EXPECT_EQ((*qkv)->shape(), (std::vector<int64_t>{256 + 2 * 128, 256}));
  auto up = (*m)->Weight("blk.0.ffn_up.weight");
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)->shape(), (std::vector<int64_t>{2 * 512, 256}));
}

TEST(ArchPhi3Test, LongRopeFactorsAreUnsupportedNamingThem) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("phi3", "longrope", [](testing::GgufEdit& e) {
                const Tensor factors = FindTensor(e, "output_norm.weight")->Rows(0, 12);
                e.tensors.push_back({"rope_factors_long.weight", factors});
                e.tensors.push_back({"rope_factors_short.weight", factors});
              }),
              Status::Code::kUnsupported, "rope_factors_long.weight");
}

TEST(ArchPhi3Test, RopeAttnFactorIsUnsupportedNamingIt) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("phi3", "attn-factor", [](testing::GgufEdit& e) {
                e.metadata.emplace_back("phi3.rope.scaling.attn_factor", GgufValue{GgufType::kF32, 1.19});
              }),
              Status::Code::kUnsupported, "rope.scaling.attn_factor");
}

TEST(ArchPhi3Test, SeparateQkvIsUnsupportedNamingIt) {
  STRATA_REQUIRE_TESTDATA();
  ExpectError(LoadEdited("phi3", "split-qkv", [](testing::GgufEdit& e) {
                for (auto& t : e.tensors)
                  if (t.name == "blk.0.attn_qkv.weight") t.name = "blk.0.attn_q.weight";
              }),
              Status::Code::kUnsupported, "blk.0.attn_q.weight");
}

TEST(ArchQwenPhiShapes, EachHasATinyShapeAndConsistentConfigs) {
  for (const char* arch : {"qwen2", "qwen3", "phi3"}) {
    const Architecture* a = FindArchitecture(arch);
    ASSERT_NE(a, nullptr) << arch;
    bool tiny = false;
    for (const ArchShape& s : a->shapes()) {
      tiny |= std::string(s.name) == std::string(arch) + "-tiny";
      EXPECT_EQ(s.config.arch, arch) << s.name;
      EXPECT_EQ(s.config.n_heads % s.config.n_kv_heads, 0) << s.name;
      EXPECT_FALSE(a->weights(s.config).empty()) << s.name;
    }
    EXPECT_TRUE(tiny) << arch << " has no tiny shape";
  }
}

}  // namespace
}  // namespace strata::arch_qwen_phi_test
