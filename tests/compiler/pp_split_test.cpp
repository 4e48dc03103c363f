// Pipeline stage plans (SplitPipeline through Compile --pp) for every architecture: each stage's plan is valid,
// holds exactly its contiguous range of layers (all stages together: every layer once, KV layers summing to the
// model's), starts from a stage_input (after the first stage) and ends in the residual stream (before the last),
// and the global ranks come in stage * tp + tp_rank order, --only-rank picking the same plan.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "compiler/pass_manager.h"
#include "compiler/plan_printer.h"
#include "model/bench_models.h"
#include "model/model.h"
#include "testdata.h"

namespace strata::ir {
namespace {

struct ArchCase {
  const char* arch;
  const char* shape;
};

const ArchCase kArchs[] = {{"llama", "tiny"},  {"llama", "mixtral-tiny"}, {"qwen2", "tiny"},    {"qwen3", "tiny"},
                           {"phi3", "tiny"},   {"gemma2", "tiny"},        {"gemma3", "tiny"},   {"qwen2moe", "tiny"},
                           {"qwen3moe", "tiny"}};
constexpr int kLayers = 5;  // odd, so stages of 2 and 3 are uneven

std::unique_ptr<Model> TinyModel(const ArchCase& a) {
  BenchModelOptions o;
  o.arch = a.arch, o.shape = a.shape, o.dtype = "f32", o.layers = kLayers, o.threads = 2;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/pp-" + a.arch + "-" + a.shape + ".gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return nullptr;
  auto model = Model::Load(o.out_path, nullptr, {.load_tokenizer = false});
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return model.ok() ? std::move(model).value() : nullptr;
}

// The model layer a node name is in ("blk.3.attn_q" -> 3), or -1.
int NameLayer(const std::string& name) {
  if (!name.starts_with("blk.")) return -1;
  return std::stoi(name.substr(4));
}

int Count(const Plan& p, Op op) {
  int n = 0;
  for (const Node& node : p.nodes) n += node.op == op;
  return n;
}

// Checks one stage plan; returns the model layers it holds.
std::set<int> CheckStagePlan(const Plan& p, int stage, int stages, int tp_rank, int tp, int64_t dim) {
  EXPECT_TRUE(p.Validate().ok()) << p.Validate().ToString();
  EXPECT_EQ(p.parallel.stage, stage);
  EXPECT_EQ(p.parallel.stages, stages);
  EXPECT_EQ(p.parallel.rank, tp_rank);
  EXPECT_EQ(p.parallel.size, tp);
  EXPECT_EQ(p.parallel.global_rank(), stage * tp + tp_rank);
  const LayerRange r = StageLayers(kLayers, stage, stages);
  EXPECT_EQ(p.parallel.first_layer, r.begin);
  EXPECT_EQ(p.kv.n_layers, r.end - r.begin);
  std::set<int> layers;
  for (const Node& n : p.nodes) {
    const int l = NameLayer(n.name);
    if (l >= 0) {
      layers.insert(l);
      EXPECT_GE(l, r.begin) << n.name;
      EXPECT_LT(l, r.end) << n.name;
    }
    if (n.layer >= 0) {
      EXPECT_EQ(n.layer + p.parallel.first_layer, l) << n.name << " local layer " << n.layer;
    }
  }
  // Only the stage's weights stay (the other layers' tensor-parallel slices are dropped).
  for (const WeightRef& w : p.weights) {
    const int l = NameLayer(w.name);
    if (l >= 0) {
      EXPECT_TRUE(l >= r.begin && l < r.end) << w.name;
    }
  }
  const bool first = stage == 0, last = stage == stages - 1;
  EXPECT_EQ(Count(p, Op::kStageInput), first ? 0 : 1);
  EXPECT_EQ(Count(p, Op::kEmbedding), first ? 1 : 0);
  EXPECT_EQ(Count(p, Op::kGatherRows), last ? 1 : 0);
  EXPECT_EQ(p.node(p.input).op, Op::kTokens);
  if (!first) {
    for (const Node& n : p.nodes)
      if (n.op == Op::kStageInput) {
        EXPECT_EQ(n.shape, (std::vector<int64_t>{kSymTokens, dim}));
      }
  }
  const Node& out = p.node(p.output);
  if (!last) {
    EXPECT_EQ(out.shape, (std::vector<int64_t>{kSymTokens, dim})) << out.name;
    EXPECT_EQ(NameLayer(out.name), r.end - 1) << out.name;
  } else {
    EXPECT_EQ(out.shape[0], kSymOutRows);
  }
  return layers;
}

TEST(PipelineSplit, StagePlansOfEveryArchitecture) {
  STRATA_REQUIRE_TESTDATA();
  for (const ArchCase& a : kArchs) {
    const auto model = TinyModel(a);
    ASSERT_NE(model, nullptr) << a.arch;
    const int64_t dim = model->config().dim;
    for (int tp : {1, 2})
      for (int pp : {2, 3, kLayers})
        for (bool fused : {false, true}) {
          SCOPED_TRACE(std::string(a.arch) + "/" + a.shape + " tp " + std::to_string(tp) + " pp " + std::to_string(pp) +
                       (fused ? " fused" : " unfused"));
          const CompileOptions o{.passes = fused ? DefaultPasses() : std::vector<std::string>{}, .tp = tp, .pp = pp};
          auto plans = Compile(*model, o);
          ASSERT_TRUE(plans.ok()) << plans.status().ToString();
          ASSERT_EQ(plans->size(), static_cast<size_t>(tp * pp));
          int64_t kv_layers = 0;
          for (int stage = 0; stage < pp; ++stage) {
            std::set<int> stage_layers;
            for (int r = 0; r < tp; ++r) {
              const Plan& p = (*plans)[static_cast<size_t>(stage * tp + r)];
              stage_layers = CheckStagePlan(p, stage, pp, r, tp, dim);
            }
            const LayerRange range = StageLayers(kLayers, stage, pp);
            EXPECT_EQ(static_cast<int64_t>(stage_layers.size()), range.end - range.begin);
            kv_layers += (*plans)[static_cast<size_t>(stage * tp)].kv.n_layers;
          }
          EXPECT_EQ(kv_layers, kLayers);
        }
  }
}

TEST(PipelineSplit, StageLayersAreContiguousAndEven) {
  for (int64_t n : {1, 2, 5, 7, 32})
    for (int stages = 1; stages <= n; ++stages) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int s = 0; s < stages; ++s) {
        const LayerRange r = StageLayers(n, s, stages);
        EXPECT_EQ(r.begin, next);
        smallest = std::min(smallest, r.end - r.begin);
        largest = std::max(largest, r.end - r.begin);
        next = r.end;
      }
      EXPECT_EQ(next, n);
      EXPECT_GE(smallest, 1);
      EXPECT_LE(largest - smallest, 1);
    }
}

TEST(PipelineSplit, OnlyRankCompilesThatGlobalRank) {
  STRATA_REQUIRE_TESTDATA();
  const auto model = TinyModel(kArchs[0]);
  ASSERT_NE(model, nullptr);
  auto all = Compile(*model, {.passes = DefaultPasses(), .tp = 2, .pp = 2});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  for (int g = 0; g < 4; ++g) {
    auto one = Compile(*model, {.passes = DefaultPasses(), .tp = 2, .only_rank = g, .pp = 2});
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    ASSERT_EQ(one->size(), 1u);
    EXPECT_EQ(PrintPlan(one->front()), PrintPlan((*all)[static_cast<size_t>(g)])) << "global rank " << g;
    EXPECT_EQ(one->front().parallel.global_rank(), g);
  }
  EXPECT_FALSE(Compile(*model, {.tp = 2, .only_rank = 4, .pp = 2}).ok());
  EXPECT_FALSE(Compile(*model, {.pp = 0}).ok());
  const auto too_many = Compile(*model, {.pp = kLayers + 1});
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("layers"), std::string::npos) << too_many.status().message();
}

// Placement runs on the stage plans like on any other: the stage input is a device tensor, host ops get copies.
TEST(PipelineSplit, PlacementOnStagePlans) {
  STRATA_REQUIRE_TESTDATA();
  const auto model = TinyModel(kArchs[0]);
  ASSERT_NE(model, nullptr);
  auto plans = Compile(*model, {.passes = DefaultPasses(), .tp = 2, .device_lacks = {"rope", "attention"}, .pp = 2});
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  for (const Plan& p : *plans) {
    EXPECT_TRUE(p.Validate().ok()) << p.Validate().ToString();
    EXPECT_GT(Count(p, Op::kCopy), 0);
  }
}

TEST(PipelineSplit, PrinterShowsTheStage) {
  STRATA_REQUIRE_TESTDATA();
  const auto model = TinyModel(kArchs[0]);
  ASSERT_NE(model, nullptr);
  auto plans = Compile(*model, {.passes = DefaultPasses(), .pp = 2});
  ASSERT_TRUE(plans.ok()) << plans.status().ToString();
  const std::string text = PrintPlan((*plans)[1]);
  std::printf("%s", text.c_str());
  EXPECT_NE(text.find("pipeline stage 1 of 2 (layers 3..4, global rank 1)"), std::string::npos);
  EXPECT_NE(text.find("stage_input"), std::string::npos);
  // Attention keeps the model's layer in its name; `layer` is the stage's KV index.
  EXPECT_NE(text.find("blk.3.attn "), std::string::npos);
  const auto j = PlanToJson((*plans)[1]);
  EXPECT_EQ(j["pipeline"]["stage"], 1);
  EXPECT_EQ(j["pipeline"]["stages"], 2);
  EXPECT_EQ(j["pipeline"]["first_layer"], 3);
}

// Fusion passes see only the stage: the output of a stage before the last stays the residual stream (a fused
// residual add at most), never folded into something the next stage would need.
TEST(PipelineSplit, FusionDoesNotCrossTheCut) {
  STRATA_REQUIRE_TESTDATA();
  const auto model = TinyModel(kArchs[0]);
  ASSERT_NE(model, nullptr);
  auto unfused = Compile(*model, {.passes = {}, .pp = 2});
  auto fused = Compile(*model, {.passes = DefaultPasses(), .pp = 2});
  ASSERT_TRUE(unfused.ok() && fused.ok());
  const Node& out0 = (*unfused)[0].node((*unfused)[0].output);
  const Node& out1 = (*fused)[0].node((*fused)[0].output);
  EXPECT_EQ(out0.op, Op::kAdd);
  EXPECT_EQ(out0.name, "blk.2.ffn_residual");
  EXPECT_EQ(out1.name, "blk.2.ffn_residual");
  EXPECT_TRUE(out1.op == Op::kAdd || out1.residual) << NodeLabel(out1);
  EXPECT_EQ(out1.norm_weight, -1);  // the next layer's attn_norm stays with the next stage
  // Stage 1 reads the stage input through its fused norms; nothing of stage 0 remains.
  for (const Node& n : (*fused)[1].nodes) EXPECT_GE(NameLayer(n.name) < 0 ? 3 : NameLayer(n.name), 3) << n.name;
}

// A hand-built 3-layer residual plan: tokens -> emb -> per layer: blk.L.scale(x) + x -> rows -> head. With
// `skip`, layer 2 also reads layer 0's output (a connection across any cut), which the split must refuse; with
// `between`, a node outside the layers sits between layers 1 and 2.
Plan ResidualPlan(bool skip, bool between) {
  Plan p;
  p.kv = {3, 4, 8};
  const int w = p.AddWeight("emb", Tensor::Empty(DType::kF32, {10, 8}));
  p.input = p.AddNode({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32});
  int x = p.AddNode({.op = Op::kEmbedding, .name = "emb", .inputs = {p.input}, .shape = {kSymTokens, 8}, .weight = w});
  int layer0 = -1;
  for (int l = 0; l < 3; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    if (between && l == 2) x = p.AddNode({.op = Op::kScale, .name = "between", .inputs = {x}, .shape = {kSymTokens, 8}, .scale = 1});
    const int h = p.AddNode({.op = Op::kScale, .name = b + "scale", .inputs = {x}, .shape = {kSymTokens, 8}, .scale = 0.5f});
    const int other = skip && l == 2 ? layer0 : x;
    x = p.AddNode({.op = Op::kAdd, .name = b + "residual", .inputs = {other, h}, .shape = {kSymTokens, 8}});
    if (l == 0) layer0 = x;
  }
  const int r = p.AddNode({.op = Op::kGatherRows, .name = "rows", .inputs = {x}, .shape = {kSymOutRows, 8}});
  p.output = p.AddNode({.op = Op::kMatMul, .name = "head", .inputs = {r}, .shape = {kSymOutRows, 10}, .weight = w});
  return p;
}

TEST(PipelineSplit, CutsAHandBuiltPlanAtTheResidualStream) {
  Plan base = ResidualPlan(false, false);
  ASSERT_TRUE(base.Validate().ok());
  Plan mid = base;
  ASSERT_TRUE(SplitPipeline(mid, 1, 3).ok());
  // tokens, stage_input (was blk.0.residual), blk.1.scale, blk.1.residual (the output).
  ASSERT_EQ(mid.nodes.size(), 4u) << PrintPlan(mid);
  EXPECT_EQ(mid.nodes[1].op, Op::kStageInput);
  EXPECT_EQ(mid.node(mid.output).name, "blk.1.residual");
  EXPECT_TRUE(mid.weights.empty());
  Plan last = base;
  ASSERT_TRUE(SplitPipeline(last, 2, 3).ok());
  EXPECT_EQ(last.node(last.output).name, "head");
  EXPECT_EQ(last.weights.size(), 1u);
}

TEST(PipelineSplit, RefusesAPlanWithoutAClearCut) {
  for (bool skip : {false, true}) {
    Plan p = ResidualPlan(skip, !skip);
    const Status st = SplitPipeline(p, 1, 3);
    ASSERT_FALSE(st.ok()) << (skip ? "skip connection" : "node between layers");
    EXPECT_NE(st.message().find(skip ? "reads more than one earlier node" : "sits between"), std::string::npos)
        << st.message();
  }
  Plan p = ResidualPlan(false, false);
  EXPECT_FALSE(SplitPipeline(p, 0, 4).ok());  // more stages than layers
}

}  // namespace
}  // namespace strata::ir
