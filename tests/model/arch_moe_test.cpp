// qwen3moe and qwen2moe files: the configs they read, and crafted files they reject with a message that says
// what is wrong (expert widths that disagree with the tensors, more experts per token than experts, no
// experts at all, qwen2moe without its output head).
#include <gtest/gtest.h>

#include <string>

#include "gguf_rewrite.h"
#include "model/arch/architecture.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata {
namespace {

std::string GenTiny(const std::string& arch) {
  BenchModelOptions o;
  o.arch = arch, o.shape = "tiny", o.dtype = "f32", o.seed = 7, o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/arch-moe-" + arch + "-tiny.gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o.out_path;
}

Status LoadEdited(const std::string& arch, const std::string& what, const std::function<void(testing::GgufEdit&)>& edit) {
  const std::string dst = testing::ScratchDir() + "/arch-moe-" + arch + "-" + what + ".gguf";
  const Status rewritten = testing::RewriteGguf(GenTiny(arch), dst, edit);
  if (!rewritten.ok()) return rewritten;
  auto m = Model::Load(dst, nullptr, {.load_tokenizer = false});
  return m.ok() ? Status::Ok() : m.status();
}

TEST(MoeArchFiles, Qwen3MoeTinyConfig) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(GenTiny("qwen3moe"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.arch, "qwen3moe");
  EXPECT_EQ(c.n_experts, 16);
  EXPECT_EQ(c.n_experts_used, 4);
  EXPECT_EQ(c.expert_ffn_dim, 128);
  EXPECT_TRUE(c.expert_weights_norm);
  EXPECT_EQ(c.head_dim, 64);  // key_length, not 256 / 8
}

TEST(MoeArchFiles, Qwen2MoeTinyConfig) {
  STRATA_REQUIRE_TESTDATA();
  auto m = Model::Load(GenTiny("qwen2moe"), nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.n_experts, 8);
  EXPECT_EQ(c.n_experts_used, 2);
  EXPECT_EQ(c.expert_ffn_dim, 128);
  EXPECT_EQ(c.shared_expert_ffn_dim, 256);
  EXPECT_FALSE(c.expert_weights_norm);
}

TEST(MoeArchFiles, WrongExpertWidthIsReportedWithTheShape) {
  STRATA_REQUIRE_TESTDATA();
  const Status st = LoadEdited("qwen3moe", "bad-exp-ffn", [](testing::GgufEdit& e) {
    testing::SetU32(e, "qwen3moe.expert_feed_forward_length", 64);
  });
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("ffn_gate_exps.weight' has shape [16, 128, 256], expected [16, 64, 256]"), std::string::npos)
      << st.message();
}

TEST(MoeArchFiles, WrongSharedExpertWidthIsReportedWithTheShape) {
  STRATA_REQUIRE_TESTDATA();
  const Status st = LoadEdited("qwen2moe", "bad-shexp-ffn", [](testing::GgufEdit& e) {
    testing::SetU32(e, "qwen2moe.expert_shared_feed_forward_length", 128);
  });
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("ffn_gate_shexp.weight' has shape [256, 256], expected [128, 256]"), std::string::npos)
      << st.message();
}

TEST(MoeArchFiles, MoreExpertsPerTokenThanExpertsIsCorrupt) {
  STRATA_REQUIRE_TESTDATA();
  for (const std::string arch : {"qwen3moe", "qwen2moe"}) {
    const Status st = LoadEdited(arch, "used-too-many", [&](testing::GgufEdit& e) {
      testing::SetU32(e, arch + ".expert_used_count", 17);
    });
    EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
    EXPECT_NE(st.message().find("expert_used_count 17 must be 1.."), std::string::npos) << st.message();
  }
}

TEST(MoeArchFiles, NoExpertCountIsCorrupt) {
  STRATA_REQUIRE_TESTDATA();
  const Status st = LoadEdited("qwen3moe", "no-experts", [](testing::GgufEdit& e) {
    testing::DropKey(e, "qwen3moe.expert_count");
    testing::DropKey(e, "qwen3moe.expert_used_count");
  });
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("expert_count is missing"), std::string::npos) << st.message();
}

TEST(MoeArchFiles, Qwen2MoeWithoutOutputHeadIsCorrupt) {
  STRATA_REQUIRE_TESTDATA();
  const Status st = LoadEdited("qwen2moe", "no-output", [](testing::GgufEdit& e) {
    std::erase_if(e.tensors, [](const testing::GgufEdit::Entry& t) { return t.name == "output.weight"; });
  });
  EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
  EXPECT_NE(st.message().find("output.weight"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace strata
