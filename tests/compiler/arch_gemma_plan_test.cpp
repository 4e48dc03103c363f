// The plans gemma2 and gemma3 build (IR, before any pass): the sqrt(dim) scale after the embedding, the norms
// after attention and after the FFN, GELU(tanh), the sliding window on the sliding layers only, the query
// scale, the attention and final soft-caps, gemma3's q/k norms and per-layer rope (local base unscaled,
// global base with linear scaling).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "compiler/plan_builder.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata::ir {
namespace {

Plan GemmaPlan(const std::string& arch) {
  BenchModelOptions o;
  o.arch = arch, o.shape = "tiny", o.dtype = "f32", o.seed = 3, o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/plan-" + arch + "-tiny.gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto model = Model::Load(o.out_path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  auto plan = BuildPlan(**model);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? std::move(plan).value() : Plan{};
}

const Node* Find(const Plan& p, const std::string& name) {
  for (const Node& n : p.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

// The node named `name` reads the node named `input` as its input `i`.
void ExpectInput(const Plan& p, const std::string& name, const std::string& input, size_t i = 0) {
  const Node* n = Find(p, name);
  ASSERT_NE(n, nullptr) << name;
  ASSERT_GT(n->inputs.size(), i) << name;
  EXPECT_EQ(p.node(n->inputs[i]).name, input) << name << " input " << i;
}

void ExpectGemmaLayer(const Plan& p, int l) {
  const std::string b = "blk." + std::to_string(l) + ".";
  ExpectInput(p, b + "post_attention_norm", b + "attn_output");
  ExpectInput(p, b + "attn_residual", b + "post_attention_norm", 1);
  ExpectInput(p, b + "ffn_down", b + "ffn_gated");
  ExpectInput(p, b + "post_ffw_norm", b + "ffn_down");
  ExpectInput(p, b + "ffn_residual", b + "post_ffw_norm", 1);
  const Node* act = Find(p, b + "ffn_" + ActivationName(Activation::kGeluTanh));
  ASSERT_NE(act, nullptr) << b << " has no GELU(tanh)";
  EXPECT_EQ(act->act, Activation::kGeluTanh);
}

void ExpectEmbeddingScaled(const Plan& p, float s) {
  const Node* scale = Find(p, "embd_scale");
  ASSERT_NE(scale, nullptr);
  EXPECT_EQ(scale->op, Op::kScale);
  EXPECT_FLOAT_EQ(scale->scale, s);
  EXPECT_EQ(p.node(scale->inputs[0]).op, Op::kEmbedding);
  ExpectInput(p, "blk.0.attn_norm", "embd_scale");
}

TEST(GemmaPlan, Gemma2ScalesSlidesOnEvenLayersAndSoftCaps) {
  STRATA_REQUIRE_TESTDATA();
  const Plan p = GemmaPlan("gemma2");
  ASSERT_FALSE(p.nodes.empty());
  ExpectEmbeddingScaled(p, 16.0f);  // sqrt(256)
  for (int l = 0; l < 4; ++l) {
    SCOPED_TRACE(l);
    ExpectGemmaLayer(p, l);
    const Node* scores = Find(p, "blk." + std::to_string(l) + ".attn_scores");
    ASSERT_NE(scores, nullptr);
    EXPECT_EQ(scores->window, l % 2 == 0 ? 8 : 0) << "gemma2 slides on even layers";
    EXPECT_FLOAT_EQ(scores->softcap, 50.0f);
    EXPECT_FLOAT_EQ(scores->scale, 1.0f / std::sqrt(128.0f));
    const Node* rope = Find(p, "blk." + std::to_string(l) + ".q_rope");
    ASSERT_NE(rope, nullptr);
    EXPECT_EQ(rope->rope_mode, RopeMode::kNeox);
    EXPECT_FLOAT_EQ(rope->rope_base, 10000.0f);
    EXPECT_EQ(Find(p, "blk." + std::to_string(l) + ".attn_q_norm"), nullptr);
  }
  const Node& out = p.node(p.output);
  EXPECT_EQ(out.op, Op::kSoftcap);
  EXPECT_FLOAT_EQ(out.softcap, 30.0f);
  EXPECT_EQ(p.weights[static_cast<size_t>(p.node(out.inputs[0]).weight)].name, "token_embd.weight") << "tied output";
}

TEST(GemmaPlan, Gemma3NormsQkSlidesFiveOfSixAndRopesPerLayer) {
  STRATA_REQUIRE_TESTDATA();
  const Plan p = GemmaPlan("gemma3");
  ASSERT_FALSE(p.nodes.empty());
  ExpectEmbeddingScaled(p, 16.0f);
  for (int l = 0; l < 8; ++l) {
    SCOPED_TRACE(l);
    const std::string b = "blk." + std::to_string(l) + ".";
    ExpectGemmaLayer(p, l);
    const bool global = l == 5;
    const Node* scores = Find(p, b + "attn_scores");
    ASSERT_NE(scores, nullptr);
    EXPECT_EQ(scores->window, global ? 0 : 8);
    EXPECT_EQ(scores->softcap, 0.0f);
    EXPECT_FLOAT_EQ(scores->scale, 1.0f / 16.0f);  // 1/sqrt(256)
    ExpectInput(p, b + "q_rope", b + "attn_q_norm");
    ExpectInput(p, b + "k_rope", b + "attn_k_norm");
    ExpectInput(p, b + "attn_q_norm", b + "attn_q");
    for (const char* r : {"q_rope", "k_rope"}) {
      const Node* rope = Find(p, b + r);
      ASSERT_NE(rope, nullptr);
      EXPECT_EQ(rope->rope_mode, RopeMode::kNeox);
      EXPECT_FLOAT_EQ(rope->rope_base, global ? 1000000.0f : 10000.0f);
      EXPECT_FLOAT_EQ(rope->rope_freq_scale, global ? 0.125f : 1.0f) << "linear scaling on global layers only";
    }
  }
  const Node& out = p.node(p.output);
  EXPECT_EQ(out.op, Op::kMatMul) << "gemma3 has no final soft-cap unless its file says so";
}

}  // namespace
}  // namespace strata::ir
