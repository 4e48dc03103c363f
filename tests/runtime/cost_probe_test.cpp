// The cost model's rates as ProbeCostRates measures them on the shared tiny model's plan: every rate the model
// reads is measured (positive, finite) whatever context the caller asks the prefill attention fit at (clamped
// to 4096 .. kMaxProbeContext), and a longer prompt is predicted to take longer. Speeds themselves are not
// asserted (no wall time in tests); bench/RESULTS.md compares predictions with measured runs.
#include "runtime/cost_probe.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compiler/pass_manager.h"
#include "model/model.h"
#include "testdata.h"

namespace strata {
namespace {

bool Measured(double rate) { return std::isfinite(rate) && rate > 0; }

TEST(CostProbe, EveryRateIsMeasuredAtAnyContext) {
  STRATA_REQUIRE_TESTDATA();
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses()});
  ASSERT_TRUE(plans.ok()) << plans.status().message();
  const ir::Plan& plan = plans->front();
  ThreadPool pool(2);
  for (int64_t context : {int64_t{1}, int64_t{8192}, int64_t{1} << 40}) {
    const ir::CostRates r = ProbeCostRates(plan, pool, context);
    EXPECT_TRUE(Measured(r.bandwidth_gbs)) << context;
    EXPECT_TRUE(Measured(r.gflops)) << context;
    EXPECT_TRUE(Measured(r.attention_gbs)) << context;
    EXPECT_TRUE(Measured(r.attention_gflops)) << context;
    EXPECT_TRUE(std::isfinite(r.attention_row_seconds) && r.attention_row_seconds >= 0) << context;
    EXPECT_TRUE(r.op_seconds > 0) << context;
    ASSERT_FALSE(r.gemv_gbs.empty());
    for (const auto& [dtype, gbs] : r.gemv_gbs) EXPECT_TRUE(Measured(gbs)) << Name(dtype);
    for (const auto& [dtype, gflops] : r.gemm_gflops) EXPECT_TRUE(Measured(gflops)) << Name(dtype);
    const double short_prompt = ir::EstimatePlanCost(plan, {512, 1, 512}, r).total_seconds;
    const double long_prompt = ir::EstimatePlanCost(plan, {512, 1, 4096}, r).total_seconds;
    EXPECT_GT(long_prompt, short_prompt) << context;  // the same 512 rows attend to 8x the positions
  }
}

}  // namespace
}  // namespace strata
