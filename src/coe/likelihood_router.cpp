#include "coe/likelihood_router.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "compiler/plan_builder.h"
#include "runtime/plan_executor.h"

namespace strata::coe {

namespace {

constexpr int64_t kMaxTokens = 256;
constexpr int64_t kBlockSize = 16;

// log softmax(row)[target], in double.
double LogProb(const float* row, int64_t n_vocab, int32_t target) {
  double mx = row[0];
  for (int64_t v = 1; v < n_vocab; ++v) mx = std::max(mx, static_cast<double>(row[v]));
  double z = 0;
  for (int64_t v = 0; v < n_vocab; ++v) z += std::exp(row[v] - mx);
  return row[target] - mx - std::log(z);
}

}  // namespace

LikelihoodRouter::LikelihoodRouter(std::unique_ptr<ExpertRouter> first_stage, std::vector<const Model*> experts,
                                   int shortlist, int threads)
    : first_(std::move(first_stage)), experts_(std::move(experts)), shortlist_(std::max(2, shortlist)),
      pool_(threads) {}

// The unoptimised plan over the mapped file, unpacked: the weights are read where they lie (one pass does not
// repay packing them), the arena lives only for this call, and the file pages read are given back after.
Result<std::optional<double>> LikelihoodRouter::MeanLogProb(int expert, std::string_view text) {
  const Model& model = *experts_[static_cast<size_t>(expert)];
  std::vector<int32_t> ids = model.tokenizer().Encode(text, model.tokenizer().add_bos());
  const int64_t n_ctx = model.config().n_ctx > 0 ? model.config().n_ctx : kMaxTokens;
  ids.resize(std::min<size_t>(ids.size(), static_cast<size_t>(std::min(kMaxTokens, n_ctx))));
  if (ids.size() < 2) return std::optional<double>();
  auto plan = ir::BuildPlan(model);
  if (!plan.ok()) return plan.status();
  double sum = 0;
  {
    std::lock_guard lock(mu_);
    auto exec = PlanExecutor::Unpacked(*plan, pool_);
    const int64_t blocks = (static_cast<int64_t>(ids.size()) + kBlockSize - 1) / kBlockSize;
    PagedKvCache kv = exec->MakeKvCache(blocks, kBlockSize);
    std::vector<int32_t> table(static_cast<size_t>(blocks));
    std::iota(table.begin(), table.end(), 0);
    Batch batch;
    batch.tokens = ids;
    batch.seqs.push_back({.first_row = 0, .num_rows = static_cast<int64_t>(ids.size()), .start_pos = 0,
                          .block_table = table, .want_logits = true, .all_logits = true});
    auto logits = exec->Run(batch, kv);
    if (!logits.ok()) return logits.status();
    for (size_t t = 0; t + 1 < ids.size(); ++t)
      sum += LogProb(logits->row(static_cast<int64_t>(t)), logits->n_vocab, ids[t + 1]);
  }
  model.ReleaseWeightPages();
  return std::optional<double>(sum / static_cast<double>(ids.size() - 1));
}

Result<std::vector<double>> LikelihoodRouter::Scores(std::string_view text) {
  auto first = first_->Scores(text);
  if (!first.ok()) return first.status();
  std::vector<int> order(first->size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return (*first)[a] > (*first)[b]; });
  order.resize(std::min(order.size(), static_cast<size_t>(shortlist_)));
  std::vector<double> scores(first->size(), -std::numeric_limits<double>::infinity());
  for (int e : order) {
    auto lp = MeanLogProb(e, text);
    if (!lp.ok()) return lp.status();
    if (!*lp) return first;  // too short to score: the first stage decides
    scores[static_cast<size_t>(e)] = **lp;
  }
  return scores;
}

}  // namespace strata::coe
