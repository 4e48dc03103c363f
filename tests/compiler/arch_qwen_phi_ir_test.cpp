// The IR that qwen2, qwen3 and phi3 build for one layer of their tiny generated files: the op sequence with
// its weights (Q/K/V biases, per-head q/k norms, row parts of phi3's fused tensors), what the fusion passes
// make of it, and how --tp 2 splits the parts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compiler/pass_manager.h"
#include "compiler/plan_builder.h"
#include "compiler/plan_printer.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata::ir {
namespace {

std::unique_ptr<Model> LoadOneLayer(const std::string& arch) {
  BenchModelOptions o;
  o.arch = arch, o.shape = "tiny", o.dtype = "f32", o.layers = 1, o.seed = 3, o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/ir-" + arch + "-tiny-l1.gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto m = Model::Load(o.out_path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

std::string WeightName(const Plan& p, int w) { return w < 0 ? "" : p.weights[static_cast<size_t>(w)].name; }

// "label name w=weight b=bias" for each node of layer 0, in plan order.
std::vector<std::string> LayerOps(const Plan& p) {
  std::vector<std::string> ops;
  for (const Node& n : p.nodes) {
    if (!n.name.starts_with("blk.0.")) continue;
    std::string s = NodeLabel(n) + " " + n.name;
    if (n.weight >= 0) s += " w=" + WeightName(p, n.weight);
    if (n.bias >= 0) s += " b=" + WeightName(p, n.bias);
    ops.push_back(s);
  }
  return ops;
}

std::vector<std::string> Attention(const std::vector<std::string>& qkv, const std::vector<std::string>& qk_norms) {
  std::vector<std::string> ops = {"rms_norm blk.0.attn_norm w=blk.0.attn_norm.weight"};
  ops.insert(ops.end(), qkv.begin(), qkv.end());
  ops.insert(ops.end(), qk_norms.begin(), qk_norms.end());
  ops.insert(ops.end(), {"rope blk.0.q_rope", "rope blk.0.k_rope", "kv_store blk.0.attn_kv_store",
                         "attn_scores blk.0.attn_scores", "softmax blk.0.attn_softmax", "attn_values blk.0.attn_values",
                         "matmul blk.0.attn_output w=blk.0.attn_output.weight", "add blk.0.attn_residual",
                         "rms_norm blk.0.ffn_norm w=blk.0.ffn_norm.weight"});
  return ops;
}

std::vector<std::string> Ffn(const std::string& gate, const std::string& up) {
  return {gate, "silu blk.0.ffn_silu", up, "mul blk.0.ffn_gated", "matmul blk.0.ffn_down w=blk.0.ffn_down.weight",
          "add blk.0.ffn_residual"};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void ExpectNeoxRopes(const Plan& p, int64_t head_dim, int64_t rope_dim) {
  int ropes = 0;
  for (const Node& n : p.nodes) {
    if (n.op != Op::kRope && !n.rope) continue;
    ++ropes;
    EXPECT_EQ(n.rope_mode, RopeMode::kNeox) << n.name;
    EXPECT_EQ(n.head_dim, head_dim) << n.name;
    EXPECT_EQ(n.rope_dim, rope_dim) << n.name;
    EXPECT_LT(n.rope_freqs, 0) << n.name << " has frequency factors";
  }
  EXPECT_EQ(ropes, 2);
}

TEST(ArchIrTest, Qwen2LayerHasBiasedQkvAndNeoxRope) {
  STRATA_REQUIRE_TESTDATA();
  auto m = LoadOneLayer("qwen2");
  ASSERT_NE(m, nullptr);
  auto plan = BuildPlan(*m);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto qkv = std::vector<std::string>{
      "matmul+bias blk.0.attn_q w=blk.0.attn_q.weight b=blk.0.attn_q.bias",
      "matmul+bias blk.0.attn_k w=blk.0.attn_k.weight b=blk.0.attn_k.bias",
      "matmul+bias blk.0.attn_v w=blk.0.attn_v.weight b=blk.0.attn_v.bias"};
  EXPECT_EQ(LayerOps(*plan), Concat(Attention(qkv, {}), Ffn("matmul blk.0.ffn_gate w=blk.0.ffn_gate.weight",
                                                            "matmul blk.0.ffn_up w=blk.0.ffn_up.weight")))
      << PrintPlan(*plan);
  ExpectNeoxRopes(*plan, 32, 32);
  EXPECT_EQ(WeightName(*plan, plan->node(plan->output).weight), "output.weight");

  // The passes fold norm, bias and RoPE into one Q (and K) projection.
  auto fused = Compile(*m, {.passes = DefaultPasses()});
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  const std::string text = PrintPlan(fused->front());
  EXPECT_NE(text.find("rms_norm+matmul+bias+rope"), std::string::npos) << text;
  EXPECT_NE(text.find("bias=blk.0.attn_k.bias"), std::string::npos) << text;
}

TEST(ArchIrTest, Qwen3LayerNormsEachHeadOfQAndKBeforeRope) {
  STRATA_REQUIRE_TESTDATA();
  auto m = LoadOneLayer("qwen3");
  ASSERT_NE(m, nullptr);
  auto plan = BuildPlan(*m);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto qkv = std::vector<std::string>{"matmul blk.0.attn_q w=blk.0.attn_q.weight",
                                            "matmul blk.0.attn_k w=blk.0.attn_k.weight",
                                            "matmul blk.0.attn_v w=blk.0.attn_v.weight"};
  const auto norms = std::vector<std::string>{"rms_norm blk.0.attn_q_norm w=blk.0.attn_q_norm.weight",
                                              "rms_norm blk.0.attn_k_norm w=blk.0.attn_k_norm.weight"};
  EXPECT_EQ(LayerOps(*plan), Concat(Attention(qkv, norms), Ffn("matmul blk.0.ffn_gate w=blk.0.ffn_gate.weight",
                                                               "matmul blk.0.ffn_up w=blk.0.ffn_up.weight")))
      << PrintPlan(*plan);
  ExpectNeoxRopes(*plan, 64, 64);
  for (const Node& n : plan->nodes) {
    if (n.name == "blk.0.q_rope") {
      EXPECT_EQ(plan->node(n.inputs[0]).name, "blk.0.attn_q_norm");
    }
    if (n.name == "blk.0.attn_q_norm") {
      EXPECT_EQ(n.shape.back(), 8 * 64);  // 8 heads normed by one [64] weight
    }
  }
  EXPECT_EQ(WeightName(*plan, plan->node(plan->output).weight), "token_embd.weight");  // tied

  // Per-head norms stay separate nodes under the passes (a matmul can only take a whole-row norm) and split by
  // heads under --tp 2: each rank norms its 4 query heads with the same [64] weight.
  auto ranks = Compile(*m, {.passes = DefaultPasses(), .tp = 2});
  ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
  ASSERT_EQ(ranks->size(), 2u);
  int per_head_norms = 0;
  for (const Node& n : ranks->back().nodes) {
    if (n.op != Op::kRmsNorm || !n.name.ends_with("_norm") || n.name.find("attn_") == std::string::npos) continue;
    ++per_head_norms;
    EXPECT_EQ(ranks->back().weight(n.weight).numel(), 64) << n.name;
    EXPECT_EQ(n.shape.back(), n.name == "blk.0.attn_q_norm" ? 4 * 64 : 1 * 64) << n.name;
  }
  EXPECT_EQ(per_head_norms, 2) << PrintPlan(ranks->back());
}

TEST(ArchIrTest, Phi3LayerReadsRowPartsOfItsFusedTensors) {
  STRATA_REQUIRE_TESTDATA();
  auto m = LoadOneLayer("phi3");
  ASSERT_NE(m, nullptr);
  auto plan = BuildPlan(*m);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // Q is 8 heads x 32 = 256 rows of attn_qkv, K and V 4 heads x 32 = 128 each; gate and up 512 rows each.
  const auto qkv = std::vector<std::string>{
      "matmul blk.0.attn_qkv[0:256] w=blk.0.attn_qkv.weight[0:256, :]",
      "matmul blk.0.attn_qkv[256:384] w=blk.0.attn_qkv.weight[256:384, :]",
      "matmul blk.0.attn_qkv[384:512] w=blk.0.attn_qkv.weight[384:512, :]"};
  EXPECT_EQ(LayerOps(*plan), Concat(Attention(qkv, {}), Ffn("matmul blk.0.ffn_up[0:512] w=blk.0.ffn_up.weight[0:512, :]",
                                                            "matmul blk.0.ffn_up[512:1024] w=blk.0.ffn_up.weight[512:1024, :]")))
      << PrintPlan(*plan);
  ExpectNeoxRopes(*plan, 32, 24);  // partial rotation: 24 of 32 dims
  for (const Node& n : plan->nodes) {
    if (n.op == Op::kAttnScores) {
      EXPECT_EQ(n.window, 0) << "llama.cpp turns phi3's sliding window off";
    }
  }

  // The gate/up parts fuse into one SwiGLU like separate tensors do.
  auto fused = Compile(*m, {.passes = DefaultPasses()});
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  const std::string text = PrintPlan(fused->front());
  EXPECT_NE(text.find("gate=blk.0.ffn_up.weight[0:512, :] f32 [512, 256]  up=blk.0.ffn_up.weight[512:1024, :] f32 [512, 256]"),
            std::string::npos) << text;

  // --tp 2: rank 1 holds query heads 4..7 and KV heads 2..3 of the fused rows, and half of gate and of up.
  auto ranks = Compile(*m, {.tp = 2});
  ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
  ASSERT_EQ(ranks->size(), 2u);
  const std::string r1 = PrintPlan(ranks->back());
  for (const char* part : {"blk.0.attn_qkv.weight[0:256, :][128:256, :]", "blk.0.attn_qkv.weight[256:384, :][64:128, :]",
                           "blk.0.attn_qkv.weight[384:512, :][64:128, :]", "blk.0.ffn_up.weight[0:512, :][256:512, :]",
                           "blk.0.ffn_up.weight[512:1024, :][256:512, :]"})
    EXPECT_NE(r1.find(part), std::string::npos) << part << "\n" << r1;
}

}  // namespace
}  // namespace strata::ir
