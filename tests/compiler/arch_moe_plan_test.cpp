// The IR a qwen3moe and a qwen2moe layer build: attention as qwen3 / qwen2 (q/k norms, biases, NEOX RoPE),
// the MoE node's routing attributes, and qwen2moe's shared expert with its replicated one-column gate.
#include <gtest/gtest.h>

#include <cstdio>

#include "compiler/ir.h"
#include "compiler/plan_builder.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata::ir {
namespace {

// Layer 0 of a generated tiny file: its nodes in order; empty (and a failure) when the file cannot be built.
std::vector<Node> LayerZero(const std::string& arch, Plan& plan) {
  BenchModelOptions o;
  o.arch = arch, o.shape = "tiny", o.dtype = "f32", o.layers = 1, o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/ir-" + arch + "-tiny.gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return {};
  auto model = Model::Load(o.out_path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  auto built = BuildPlan(**model);
  EXPECT_TRUE(built.ok()) << built.status().ToString();
  if (!built.ok()) return {};
  plan = std::move(*built);
  std::vector<Node> layer;
  for (const Node& n : plan.nodes)
    if (n.name.starts_with("blk.0.")) layer.push_back(n);
  return layer;
}

std::string Ops(const std::vector<Node>& nodes) {
  std::string s;
  for (const Node& n : nodes) s += std::string(s.empty() ? "" : " ") + OpName(n.op);
  return s;
}

const Node* Named(const std::vector<Node>& nodes, const std::string& name) {
  for (const Node& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

TEST(MoeArchPlan, Qwen3MoeLayer) {
  STRATA_REQUIRE_TESTDATA();
  Plan plan;
  const std::vector<Node> layer = LayerZero("qwen3moe", plan);
  ASSERT_FALSE(layer.empty());
  std::printf("qwen3moe layer 0: %s\n", Ops(layer).c_str());
  int norms = 0, ropes = 0, moes = 0, biases = 0;
  for (const Node& n : layer) {
    norms += n.op == Op::kRmsNorm;
    biases += n.bias >= 0;
    if (n.op == Op::kRope) {
      ++ropes;
      EXPECT_EQ(n.rope_mode, RopeMode::kNeox) << n.name;
      EXPECT_EQ(n.rope_dim, 64);
    }
    if (n.op == Op::kMoe) {
      ++moes;
      EXPECT_EQ(n.n_experts_used, 4);
      EXPECT_TRUE(n.moe_renormalize);
      EXPECT_EQ(n.act, Activation::kSilu);
      EXPECT_EQ(plan.weight(n.weight).shape(), (std::vector<int64_t>{16, 256}));
      EXPECT_EQ(plan.weight(n.expert_weights[0]).shape(), (std::vector<int64_t>{16, 128, 256}));
      EXPECT_EQ(plan.weight(n.expert_weights[2]).shape(), (std::vector<int64_t>{16, 256, 128}));
    }
  }
  EXPECT_EQ(norms, 4);  // attn_norm, q_norm, k_norm, ffn_norm
  EXPECT_EQ(ropes, 2);
  EXPECT_EQ(moes, 1);
  EXPECT_EQ(biases, 0);
  // Queries are heads * key_length = 512 wide though the model is 256 wide; q is normed per head before RoPE.
  const Node* q = Named(layer, "blk.0.attn_q");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->shape.back(), 512);
  int q_norm = -1;
  for (const Node& n : layer)
    if (n.op == Op::kRmsNorm && plan.weights[static_cast<size_t>(n.weight)].name == "blk.0.attn_q_norm.weight") q_norm = n.id;
  ASSERT_GE(q_norm, 0);
  EXPECT_EQ(plan.node(q_norm).inputs[0], q->id);
}

TEST(MoeArchPlan, Qwen2MoeLayer) {
  STRATA_REQUIRE_TESTDATA();
  Plan plan;
  const std::vector<Node> layer = LayerZero("qwen2moe", plan);
  ASSERT_FALSE(layer.empty());
  std::printf("qwen2moe layer 0: %s\n", Ops(layer).c_str());
  for (const char* m : {"blk.0.attn_q", "blk.0.attn_k", "blk.0.attn_v"}) {
    const Node* n = Named(layer, m);
    ASSERT_NE(n, nullptr) << m;
    EXPECT_GE(n->bias, 0) << m;
  }
  const Node* moe = nullptr;
  for (const Node& n : layer)
    if (n.op == Op::kMoe) moe = &n;
  ASSERT_NE(moe, nullptr);
  EXPECT_EQ(moe->n_experts_used, 2);
  EXPECT_FALSE(moe->moe_renormalize);
  // The shared expert: gate/up column-split, down row-split, and a replicated one-column sigmoid gate that
  // scales its rows before it joins the routed output.
  const Node* gate_inp = Named(layer, "blk.0.ffn_gate_inp_shexp");
  const Node* sigmoid = Named(layer, "blk.0.ffn_shexp_gate");
  const Node* gated = Named(layer, "blk.0.ffn_shexp_scaled");
  const Node* sum = Named(layer, "blk.0.ffn_moe_shexp");
  ASSERT_TRUE(gate_inp && sigmoid && gated && sum) << Ops(layer);
  EXPECT_EQ(gate_inp->tp, TpSplit::kReplicated);
  EXPECT_EQ(gate_inp->shape, (std::vector<int64_t>{kSymTokens, 1}));
  EXPECT_EQ(sigmoid->act, Activation::kSigmoid);
  EXPECT_EQ(gated->inputs[1], sigmoid->id);
  EXPECT_EQ(gated->shape, (std::vector<int64_t>{kSymTokens, 256}));
  EXPECT_EQ(sum->inputs[0], moe->id);
  EXPECT_EQ(sum->inputs[1], gated->id);
  const Node* up = Named(layer, "blk.0.ffn_up_shexp");
  const Node* down = Named(layer, "blk.0.ffn_down_shexp");
  ASSERT_TRUE(up && down) << Ops(layer);
  EXPECT_EQ(up->tp, TpSplit::kColumns);
  EXPECT_EQ(down->tp, TpSplit::kRowsReduce);
}

}  // namespace
}  // namespace strata::ir
