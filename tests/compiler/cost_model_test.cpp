// The cost model: each op's time from the rate that belongs to it (a matmul's weight dtype, attention's KV
// read and FLOP rates, the plain bandwidth for the rest), plus one dispatch per op that runs a kernel.
#include "compiler/cost_model.h"

#include <gtest/gtest.h>

#include "compiler/op_cost.h"

namespace strata::ir {
namespace {

// tokens -> embedding (F32 [64, 256]) -> matmul (Q4_0 [512, 256]) -> matmul (Q8_0 [64, 512]).
Plan TwoDtypePlan() {
  Plan p;
  p.kv = {1, 16, 256};
  const int emb = p.AddWeight("emb", Tensor::Empty(DType::kF32, {64, 256}));
  const int w4 = p.AddWeight("w4", Tensor::Empty(DType::kQ4_0, {512, 256}));
  const int w8 = p.AddWeight("w8", Tensor::Empty(DType::kQ8_0, {64, 512}));
  p.input = p.AddNode({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32});
  const int e = p.AddNode({.op = Op::kEmbedding, .name = "emb", .inputs = {p.input}, .shape = {kSymTokens, 256}, .weight = emb});
  const int a = p.AddNode({.op = Op::kMatMul, .name = "a", .inputs = {e}, .shape = {kSymTokens, 512}, .weight = w4});
  p.output = p.AddNode({.op = Op::kMatMul, .name = "b", .inputs = {a}, .shape = {kSymTokens, 64}, .weight = w8});
  return p;
}

CostRates Rates() {
  CostRates r;
  r.bandwidth_gbs = 10;
  r.gflops = 100;
  return r;
}

TEST(CostModel, DecodeMatmulsTakeTheirDtypesGemvRate) {
  const Plan p = TwoDtypePlan();
  ASSERT_TRUE(p.Validate().ok());
  CostRates r = Rates();
  const PlanCost base = EstimatePlanCost(p, {1, 1, 1}, r);
  r.gemv_gbs[DType::kQ4_0] = 5;  // half the plain bandwidth: the Q4_0 matmul's weight time doubles
  const PlanCost slow = EstimatePlanCost(p, {1, 1, 1}, r);
  const double w4 = static_cast<double>(p.weight(1).nbytes());
  EXPECT_NEAR(slow.op_seconds[2] - base.op_seconds[2], w4 / 5e9 - w4 / 10e9, 1e-12);
  EXPECT_DOUBLE_EQ(slow.op_seconds[3], base.op_seconds[3]);  // Q8_0 still on the plain bandwidth
  EXPECT_DOUBLE_EQ(slow.op_seconds[1], base.op_seconds[1]);
}

TEST(CostModel, PrefillMatmulsTakeTheirDtypesGemmRate) {
  const Plan p = TwoDtypePlan();
  CostRates r = Rates();
  r.gemm_gflops[DType::kQ8_0] = 1000;
  const Binding b{4096, 1, 4096};
  const PlanCost c = EstimatePlanCost(p, b, r);
  const OpCost q8 = EstimateOpCost(p, p.node(3), b);
  // compute-bound at this size: the FLOPs over the Q8_0 GEMM rate, plus the activations over the bandwidth
  EXPECT_NEAR(c.op_seconds[3], static_cast<double>(q8.flops) / 1e12 + static_cast<double>(q8.activation_bytes) / 10e9,
              1e-12);
  const OpCost q4 = EstimateOpCost(p, p.node(2), b);
  EXPECT_GE(c.op_seconds[2], static_cast<double>(q4.flops) / 100e9);  // no Q4_0 rate: the F32 one
}

TEST(CostModel, EveryKernelPaysOneDispatch) {
  const Plan p = TwoDtypePlan();
  CostRates r = Rates();
  const PlanCost base = EstimatePlanCost(p, {1, 1, 1}, r);
  r.op_seconds = 1e-3;
  const PlanCost c = EstimatePlanCost(p, {1, 1, 1}, r);
  EXPECT_DOUBLE_EQ(c.op_seconds[0], base.op_seconds[0]);  // the token input runs nothing
  EXPECT_NEAR(c.total_seconds - base.total_seconds, 3e-3, 1e-12);
}

// Tokens, then one fused attention op (node 1): 2 query heads of 64 sharing one KV head.
Plan AttentionPlan() {
  Plan p;
  p.kv = {1, 4096, 64, 64};
  p.input = p.AddNode({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32});
  Node n{.op = Op::kAttention, .name = "attn", .inputs = {p.input, p.input, p.input}, .shape = {kSymTokens, 128}};
  n.n_heads = 2, n.n_kv_heads = 1, n.head_dim = 64;
  p.AddNode(n);
  return p;
}

TEST(CostModel, PrefillAttentionCountsTheMeanAttendedSpan) {
  const Plan p = AttentionPlan();
  const int id = 1;
  // 512 new rows ending at context 1024 attend to 513..1024 positions: 768.5 on average (768 in integers)
  EXPECT_EQ(EstimateOpCost(p, p.node(id), {512, 1, 1024}).flops, 4 * 512 * 2 * 768 * 64);
  EXPECT_EQ(EstimateOpCost(p, p.node(id), {1, 1, 1024}).flops, 4 * 1 * 2 * 1024 * 64);
  CostRates r = Rates();
  r.attention_gbs = 1;  // decode: the KV bytes over the attention's own read rate
  const OpCost oc = EstimateOpCost(p, p.node(id), {1, 1, 1024});
  EXPECT_NEAR(EstimatePlanCost(p, {1, 1, 1024}, r).op_seconds[static_cast<size_t>(id)],
              static_cast<double>(oc.bytes()) / 1e9, 1e-12);
}

TEST(CostModel, PrefillAttentionPaysAFixedTimePerRowAndHeadBesidesItsFlops) {
  const Plan p = AttentionPlan();
  const int id = 1;
  CostRates r = Rates();
  r.attention_gbs = 1e6;  // reads never the bound here
  r.attention_gflops = 10;
  r.attention_row_seconds = 1e-6;
  for (const Binding b : {Binding{512, 1, 512}, Binding{512, 1, 4096}}) {
    const double flops = static_cast<double>(EstimateOpCost(p, p.node(id), b).flops);
    // 512 rows x 2 heads at 1 us each, plus the FLOPs at 10 GFLOP/s
    EXPECT_NEAR(EstimatePlanCost(p, b, r).op_seconds[static_cast<size_t>(id)], 1024e-6 + flops / 10e9, 1e-12);
  }
}

TEST(CostModel, FasterOfTakesEachRateFromTheFasterProbe) {
  CostRates a = Rates(), b = Rates();
  a.bandwidth_gbs = 30, b.bandwidth_gbs = 25;
  a.gflops = 150, b.gflops = 180;
  a.gemv_gbs[DType::kQ4_0] = 20, b.gemv_gbs[DType::kQ4_0] = 24;
  a.gemv_gbs[DType::kQ8_0] = 18;  // measured by one probe only
  b.gemm_gflops[DType::kQ6_K] = 400;
  a.attention_gbs = 12, b.attention_gbs = 10;
  // a pair: both from b, the faster at 2048 positions of 64 (a: 0.1 + 6.6 us, b: 0.2 + 5.7 us)
  a.attention_gflops = 80, a.attention_row_seconds = 1e-7;
  b.attention_gflops = 92, b.attention_row_seconds = 2e-7;
  a.op_seconds = 2e-7, b.op_seconds = 1e-6;
  const CostRates r = FasterOf(a, b);
  EXPECT_EQ(r.bandwidth_gbs, 30);
  EXPECT_EQ(r.gflops, 180);
  EXPECT_EQ(r.gemv_gbs.at(DType::kQ4_0), 24);
  EXPECT_EQ(r.gemv_gbs.at(DType::kQ8_0), 18);
  EXPECT_EQ(r.gemm_gflops.at(DType::kQ6_K), 400);
  EXPECT_EQ(r.attention_gbs, 12);
  EXPECT_EQ(r.attention_gflops, 92);
  EXPECT_EQ(r.attention_row_seconds, 2e-7);
  EXPECT_EQ(r.op_seconds, 2e-7);
  // the same either way round, and a faster probe never predicts a plan slower
  const CostRates swapped = FasterOf(b, a);
  EXPECT_EQ(swapped.gemv_gbs, r.gemv_gbs);
  EXPECT_EQ(swapped.attention_row_seconds, r.attention_row_seconds);
  // a higher rate whose fixed time more than makes up for it is not taken: 100 GFLOP/s with 5 us a row loses
  // to 80 with 0.1 us
  CostRates slow_rows = b;
  slow_rows.attention_gflops = 100, slow_rows.attention_row_seconds = 5e-6;
  EXPECT_EQ(FasterOf(a, slow_rows).attention_gflops, 80);
  EXPECT_EQ(FasterOf(slow_rows, a).attention_row_seconds, 1e-7);
}

}  // namespace
}  // namespace strata::ir
