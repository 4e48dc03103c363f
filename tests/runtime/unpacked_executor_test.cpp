// PlanExecutor::Unpacked reads the weights where they lie (no packed copies): its logits equal the packed
// executor's on the shared Q8_0 model within the integer path's error (it quantizes activations to 8 bits:
// up to 0.07 on single logits here, 0.2 allowed; the mean difference under 0.02) and its top token agrees at
// every position.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compiler/plan_builder.h"
#include "model/model.h"
#include "runtime/plan_executor.h"
#include "testdata.h"

namespace strata {
namespace {

std::vector<float> AllLogits(PlanExecutor& exec, const std::vector<int32_t>& ids) {
  PagedKvCache kv = exec.MakeKvCache(4, 16);
  std::vector<int32_t> table(4);
  std::iota(table.begin(), table.end(), 0);
  Batch b;
  b.tokens = ids;
  b.seqs.push_back({.first_row = 0, .num_rows = static_cast<int64_t>(ids.size()), .start_pos = 0,
                    .block_table = table, .want_logits = true, .all_logits = true});
  auto out = exec.Run(b, kv);
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  return std::vector<float>(out->data, out->data + out->rows * out->n_vocab);
}

TEST(UnpackedExecutor, MatchesThePackedExecutor) {
  STRATA_REQUIRE_TESTDATA();
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-q8_0.gguf"));
  ASSERT_TRUE(model.ok());
  auto plan = ir::BuildPlan(**model);
  ASSERT_TRUE(plan.ok());
  ThreadPool pool(2);
  PlanExecutor packed(*plan, pool);
  auto unpacked = PlanExecutor::Unpacked(*plan, pool);
  const auto ids = (*model)->tokenizer().Encode("The old man looked at the sea and smiled", true);
  const auto a = AllLogits(packed, ids), b = AllLogits(*unpacked, ids);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_FALSE(a.empty());
  const auto n_vocab = static_cast<size_t>(packed.n_vocab());
  for (size_t r = 0; r < a.size() / n_vocab; ++r) {
    const auto row_a = a.begin() + static_cast<std::ptrdiff_t>(r * n_vocab);
    const auto row_b = b.begin() + static_cast<std::ptrdiff_t>(r * n_vocab);
    EXPECT_EQ(std::max_element(row_a, row_a + static_cast<std::ptrdiff_t>(n_vocab)) - row_a,
              std::max_element(row_b, row_b + static_cast<std::ptrdiff_t>(n_vocab)) - row_b) << "row " << r;
    for (size_t v = 0; v < n_vocab; ++v) EXPECT_NEAR(row_a[v], row_b[v], 0.2f) << "row " << r << " token " << v;
  }
  double mean_abs = 0;
  for (size_t i = 0; i < a.size(); ++i) mean_abs += std::abs(a[i] - b[i]);
  EXPECT_LT(mean_abs / static_cast<double>(a.size()), 0.02);
}

}  // namespace
}  // namespace strata
