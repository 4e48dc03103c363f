#include <gtest/gtest.h>

#include "compiler/ir.h"
#include "compiler/plan_builder.h"
#include "compiler/plan_printer.h"
#include "testdata.h"

namespace strata::ir {
namespace {

// A four-node plan built by hand: tokens -> embedding -> gather_rows -> matmul.
Plan TinyPlan() {
  Plan p;
  p.kv = {1, 4, 8};
  const int w = p.AddWeight("emb", Tensor::Empty(DType::kF32, {10, 8}));
  p.input = p.AddNode({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32});
  const int e = p.AddNode({.op = Op::kEmbedding, .name = "emb", .inputs = {p.input}, .shape = {kSymTokens, 8}, .weight = w});
  const int r = p.AddNode({.op = Op::kGatherRows, .name = "rows", .inputs = {e}, .shape = {kSymOutRows, 8}});
  p.output = p.AddNode({.op = Op::kMatMul, .name = "head", .inputs = {r}, .shape = {kSymOutRows, 10}, .weight = w});
  return p;
}

TEST(PlanValidate, AcceptsAWellFormedPlan) { EXPECT_TRUE(TinyPlan().Validate().ok()); }

TEST(PlanValidate, RejectsWrongShapesInputsAndWeights) {
  Plan p = TinyPlan();
  p.nodes[3].shape = {kSymOutRows, 9};
  auto st = p.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("expected [R, 10]"), std::string::npos) << st.message();

  p = TinyPlan();
  p.nodes[1].inputs = {2};  // an input that does not precede the node
  EXPECT_NE(p.Validate().message().find("does not precede"), std::string::npos);

  p = TinyPlan();
  p.nodes[2].weight = 0;  // gather_rows reads no weight
  EXPECT_FALSE(p.Validate().ok());

  p = TinyPlan();
  p.nodes[1].inputs.clear();
  EXPECT_NE(p.Validate().message().find("expected 1"), std::string::npos);
}

TEST(PlanPrinter, ShowsOpShapesDtypesAndWeights) {
  const std::string text = PrintPlan(TinyPlan());
  EXPECT_NE(text.find("%1 = embedding"), std::string::npos) << text;
  EXPECT_NE(text.find("[T, 8] f32"), std::string::npos) << text;
  EXPECT_NE(text.find("weight=emb f32 [10, 8]"), std::string::npos) << text;
  EXPECT_NE(text.find("%3 = matmul"), std::string::npos) << text;
}

TEST(LlamaBuilder, BuildsTheTinyModelPlan) {
  STRATA_REQUIRE_TESTDATA();
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-q8_0.gguf"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto plan = BuildPlan(**model);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // tokens, embedding, 19 nodes per layer x 4 (attention as kv_store, scores, softmax, values), gather_rows,
  // final norm, output head.
  EXPECT_EQ(plan->nodes.size(), 2u + 19u * 4u + 3u);
  EXPECT_EQ(plan->weights.size(), 39u);
  EXPECT_EQ(plan->kv.n_layers, 4);
  EXPECT_EQ(plan->kv.kv_dim, 64);
  int attention = 0, matmul = 0, rope = 0;
  for (const Node& n : plan->nodes) {
    attention += n.op == Op::kSoftmax;
    matmul += n.op == Op::kMatMul;
    rope += n.op == Op::kRope;
  }
  EXPECT_EQ(attention, 4);
  EXPECT_EQ(matmul, 4 * 7 + 1);
  EXPECT_EQ(rope, 8);
  const Node& out = plan->node(plan->output);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{kSymOutRows, 1024}));
  const std::string text = PrintPlan(*plan);
  EXPECT_NE(text.find("weight=blk.3.ffn_down.weight q8_0 [192, 512]"), std::string::npos) << text;
  EXPECT_NE(text.find("attn_scores"), std::string::npos);
}

}  // namespace
}  // namespace strata::ir
