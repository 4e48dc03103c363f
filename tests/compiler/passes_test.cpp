// IR in -> IR out: what each pass changes in the tiny model's plan, and what it must leave alone. (That each
// pass keeps the outputs is tests/runtime/passes_equivalence_test.cpp.)
#include <gtest/gtest.h>

#include <map>

#include "compiler/plan_builder.h"
#include "compiler/pass_manager.h"
#include "compiler/passes/memory_plan.h"
#include "compiler/passes/passes.h"
#include "testdata.h"

namespace strata::ir::passes_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

std::unique_ptr<Model>& TinyModel() {
  static std::unique_ptr<Model> model = [] {
    auto m = Model::Load(testing::TestDataPath("models/tiny-llama-q8_0.gguf"));
    return m.ok() ? std::move(m).value() : nullptr;
  }();
  return model;
}

Plan Unoptimised() {
  auto plan = BuildPlan(*TinyModel());
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return std::move(plan).value();
}

std::map<std::string, int> CountLabels(const Plan& p) {
  std::map<std::string, int> n;
  for (const Node& node : p.nodes) ++n[NodeLabel(node)];
  return n;
}

const std::string& WeightName(const Plan& p, int w) { return p.weights[static_cast<size_t>(w)].name; }

class PassTest : public ::testing::Test {
 protected:
  void SetUp() override {
    STRATA_REQUIRE_TESTDATA();
    ASSERT_NE(TinyModel(), nullptr);
    plan_ = Unoptimised();
  }
  Plan plan_;
  PassContext ctx_;
};

TEST_F(PassTest, FuseAttentionReplacesTheFourPartsOfEachLayer) {
  const auto before = CountLabels(plan_);
  EXPECT_EQ(before.at("attn_scores"), 4);
  ASSERT_TRUE(FuseAttention(plan_, ctx_).ok());
  const auto after = CountLabels(plan_);
  EXPECT_EQ(after.at("attention"), 4);
  for (const char* gone : {"kv_store", "attn_scores", "softmax", "attn_values"}) EXPECT_EQ(after.count(gone), 0u) << gone;
  EXPECT_EQ(plan_.nodes.size(), Unoptimised().nodes.size() - 12);
  for (const Node& n : plan_.nodes)
    if (n.op == Op::kAttention) {
      EXPECT_EQ(plan_.node(n.inputs[0]).name, "blk." + std::to_string(n.layer) + ".q_rope");
      EXPECT_EQ(plan_.node(n.inputs[1]).name, "blk." + std::to_string(n.layer) + ".k_rope");
      EXPECT_EQ(plan_.node(n.inputs[2]).name, "blk." + std::to_string(n.layer) + ".attn_v");
    }
}

TEST_F(PassTest, FuseGatedFfnTakesGateUpSiluAndMul) {
  ASSERT_TRUE(FuseGatedFfn(plan_, ctx_).ok());
  const auto after = CountLabels(plan_);
  EXPECT_EQ(after.at("swiglu"), 4);
  EXPECT_EQ(after.count("silu"), 0u);
  EXPECT_EQ(after.count("mul"), 0u);
  for (const Node& n : plan_.nodes)
    if (n.op == Op::kGatedFfn) {
      EXPECT_NE(WeightName(plan_, n.weight).find("ffn_gate"), std::string::npos);
      EXPECT_NE(WeightName(plan_, n.weight2).find("ffn_up"), std::string::npos);
      EXPECT_EQ(plan_.node(n.inputs[0]).op, Op::kRmsNorm);
      EXPECT_EQ(n.shape.back(), 512);
    }
}

TEST_F(PassTest, FuseRopeMovesTheRotationIntoQAndKProjections) {
  ASSERT_TRUE(FuseRope(plan_, ctx_).ok());
  const auto after = CountLabels(plan_);
  EXPECT_EQ(after.count("rope"), 0u);
  EXPECT_EQ(after.at("matmul+rope"), 8);
  for (const Node& n : plan_.nodes)
    if (n.rope) { EXPECT_TRUE(n.name.ends_with("attn_q") || n.name.ends_with("attn_k")) << n.name; }
}

TEST_F(PassTest, FuseRmsNormGivesEveryConsumerTheNorm) {
  ASSERT_TRUE(FuseRmsNorm(plan_, ctx_).ok());
  const auto after = CountLabels(plan_);
  EXPECT_EQ(after.count("rms_norm"), 0u);
  EXPECT_EQ(after.at("rms_norm+matmul"), 4 * 5 + 1);  // q, k, v, gate, up per layer; the output head
}

TEST_F(PassTest, FuseResidualFoldsTheAddsIntoTheirProducers) {
  ASSERT_TRUE(FuseResidual(plan_, ctx_).ok());
  const auto after = CountLabels(plan_);
  EXPECT_EQ(after.count("add"), 0u);
  EXPECT_EQ(after.at("matmul+add"), 8);
  for (const Node& n : plan_.nodes)
    if (n.residual) { EXPECT_LT(n.inputs.back(), n.id); }
}

TEST_F(PassTest, PassesWithNothingToFuseChangeNothing) {
  ASSERT_TRUE(FuseGatedFfn(plan_, ctx_).ok());
  const size_t n = plan_.nodes.size();
  ASSERT_TRUE(FuseGatedFfn(plan_, ctx_).ok());
  EXPECT_EQ(plan_.nodes.size(), n);
}

TEST_F(PassTest, DefaultPipelineGivesSevenNodesPerLayer) {
  auto ranks = Compile(*TinyModel(), {.passes = DefaultPasses()});
  ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
  // tokens, embedding, per layer: q, k, v, attention, o+add, norm+swiglu, down+add; gather_rows, norm+head.
  EXPECT_EQ(ranks->front().nodes.size(), 2u + 7u * 4u + 2u);
  const auto labels = CountLabels(ranks->front());
  EXPECT_EQ(labels.at("rms_norm+matmul+rope"), 8);
  EXPECT_EQ(labels.at("rms_norm+swiglu"), 4);
  EXPECT_EQ(labels.at("matmul+add"), 8);
}

TEST(PassList, ParsesNamesNoneAndDefaultAndRejectsUnknown) {
  EXPECT_EQ(*ParsePassList("none"), std::vector<std::string>{});
  EXPECT_EQ(*ParsePassList("default"), DefaultPasses());
  EXPECT_EQ(*ParsePassList("fuse_rope,fuse_gated_ffn"), (std::vector<std::string>{"fuse_rope", "fuse_gated_ffn"}));
  auto bad = ParsePassList("fuse_rope,fuse_everything");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fuse_everything"), std::string::npos);
}

TEST_F(PassTest, TensorParallelSplitDividesHeadsAndAddsCollectives) {
  ctx_ = {.tp = 2, .rank = 1};
  ASSERT_TRUE(SplitTensorParallel(plan_, ctx_).ok());
  const auto labels = CountLabels(plan_);
  EXPECT_EQ(labels.at("all_reduce"), 8);  // after the output and down projections of every layer
  EXPECT_EQ(labels.at("all_gather"), 2);  // embedding columns and vocabulary rows
  EXPECT_EQ(plan_.kv.kv_dim, 32);         // one of the two KV heads
  EXPECT_EQ(plan_.parallel.rank, 1);
  for (const Node& n : plan_.nodes) {
    if (n.op == Op::kAttnScores) { EXPECT_EQ(n.n_heads, 3); }
    if (n.op == Op::kMatMul && WeightName(plan_, n.weight).starts_with("blk.0.attn_q")) {
      EXPECT_EQ(WeightName(plan_, n.weight), "blk.0.attn_q.weight[96:192, :]");
    }
    if (n.op == Op::kMatMul && WeightName(plan_, n.weight).starts_with("blk.0.ffn_down")) {
      EXPECT_EQ(plan_.weight(n.weight).shape(), (std::vector<int64_t>{192, 256}));
    }
  }
  EXPECT_EQ(plan_.node(plan_.output).op, Op::kAllGather);
  EXPECT_EQ(plan_.node(plan_.output).shape.back(), 1024);
}

TEST_F(PassTest, FourRanksReplicateKvHeadsAndSplitTheirQueryGroups) {
  int total_heads = 0;
  for (int rank = 0; rank < 4; ++rank) {
    Plan p = Unoptimised();
    ASSERT_TRUE(SplitTensorParallel(p, {.tp = 4, .rank = rank}).ok());
    EXPECT_EQ(p.kv.kv_dim, 32);
    for (const Node& n : p.nodes)
      if (n.op == Op::kAttnScores && n.layer == 0) total_heads += static_cast<int>(n.n_heads);
  }
  EXPECT_EQ(total_heads, 6);  // 2 + 1 + 2 + 1: every query head on exactly one rank
  Plan p = Unoptimised();
  auto st = SplitTensorParallel(p, {.tp = 3, .rank = 0});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("KV heads"), std::string::npos) << st.message();
}

TEST_F(PassTest, PlacementPutsLackingOpsOnTheHostWithCopies) {
  ASSERT_TRUE(PlaceOps(plan_, {.device_lacks = {"rope"}}).ok());
  int host = 0, to_host = 0, to_device = 0;
  for (const Node& n : plan_.nodes) {
    if (n.op == Op::kRope) {
      EXPECT_EQ(n.placement, Placement::kHost);
      EXPECT_EQ(plan_.node(n.inputs[0]).op, Op::kCopy);
    }
    host += n.placement == Placement::kHost;
    to_host += n.op == Op::kCopy && n.to_host;
    to_device += n.op == Op::kCopy && !n.to_host;
  }
  EXPECT_EQ(to_host, 8);    // each projection's output goes to the host for its rope
  EXPECT_EQ(to_device, 8);  // and the rotated result comes back
  EXPECT_EQ(host, 8 + 8);   // the ropes and the copies that land on the host
  // Fused ops need every op fused into them: matmul+rope falls back as a whole.
  Plan fused = Unoptimised();
  ASSERT_TRUE(FuseRope(fused, ctx_).ok());
  ASSERT_TRUE(PlaceOps(fused, {.device_lacks = {"rope"}}).ok());
  for (const Node& n : fused.nodes)
    if (n.rope) { EXPECT_EQ(n.placement, Placement::kHost); }
}

TEST_F(PassTest, MemoryPlanIsValidAndBelowTheNaiveSumForEveryModelAndPipeline) {
  for (const char* file : {"f32", "f16", "q8_0", "q4_0"}) {
    auto model = Model::Load(testing::TestDataPath(std::string("models/tiny-llama-") + file + ".gguf"));
    ASSERT_TRUE(model.ok());
    for (const auto& passes : {std::vector<std::string>{}, DefaultPasses()})
      for (int tp : {1, 2}) {
        auto ranks = Compile(**model, {.passes = passes, .tp = tp});
        ASSERT_TRUE(ranks.ok()) << ranks.status().ToString();
        for (const Plan& p : *ranks)
          for (const Binding b : {Binding{1, 1, 7}, Binding{64, 1, 64}, Binding{256, 256, 256}}) {
            const MemoryPlan mp = PlanMemory(p, b, ScratchBytes(p, b));
            EXPECT_TRUE(ValidateMemoryPlan(mp).ok()) << file;
            EXPECT_LT(mp.arena_bytes, mp.naive_bytes) << file;
            std::printf("%-5s passes=%-7s tp=%d T=%-3lld %s\n", file, passes.empty() ? "none" : "default", tp,
                        static_cast<long long>(b.tokens), DescribeMemoryPlan(mp).c_str());
          }
      }
  }
}

TEST_F(PassTest, MemoryValidatorCatchesOverlappingLiveTensors) {
  const Binding b{4, 1, 4};
  MemoryPlan mp = PlanMemory(plan_, b);
  ASSERT_TRUE(ValidateMemoryPlan(mp).ok());
  // Node 2 (the first norm) is live until the v projection reads it: node 4, written meanwhile, takes its space.
  mp.offset[4] = mp.offset[2];
  const Status st = ValidateMemoryPlan(mp);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("overlap"), std::string::npos);
}

}  // namespace
}  // namespace strata::ir::passes_test
