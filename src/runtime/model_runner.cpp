#include "runtime/model_runner.h"

#include <algorithm>

namespace strata {

ModelRunner::ModelRunner(std::span<const ir::Plan> ranks, ThreadPool& pool, int64_t num_blocks, int64_t block_size) {
  const int n = static_cast<int>(ranks.size());
  if (n > 1) {
    collectives_ = std::make_unique<InProcessCollectives>(n);
    drivers_ = std::make_unique<ThreadPool>(n);
  }
  for (const ir::Plan& plan : ranks) {
    Rank r;
    if (n > 1) r.own_pool = std::make_unique<ThreadPool>(std::max(1, pool.size() / n));
    r.exec = std::make_unique<PlanExecutor>(plan, n > 1 ? *r.own_pool : pool, collectives_.get());
    r.kv = std::make_unique<PagedKvCache>(r.exec->MakeKvCache(num_blocks, block_size));
    ranks_.push_back(std::move(r));
  }
  results_.resize(ranks_.size(), Status::Internal("not run"));
}

ModelRunner::~ModelRunner() = default;

int64_t ModelRunner::kv_cache_bytes() const {
  int64_t total = 0;
  for (const Rank& r : ranks_) total += r.kv->bytes();
  return total;
}

int64_t ModelRunner::KvBytesPerToken(std::span<const ir::Plan> ranks) {
  int64_t total = 0;
  for (const ir::Plan& p : ranks) total += PagedKvCache::BytesPerToken(p.kv.n_layers, p.kv.kv_dim, p.kv.dtype);
  return total;
}

StepExecutorFactory ModelRunner::Factory(std::span<const ir::Plan> ranks, ThreadPool& pool) {
  return [ranks, &pool](int64_t num_blocks, int64_t block_size) {
    return std::make_unique<ModelRunner>(ranks, pool, num_blocks, block_size);
  };
}

Result<Logits> ModelRunner::Run(const Batch& batch, int stop_after) {
  if (ranks_.size() == 1) return ranks_[0].exec->Run(batch, *ranks_[0].kv, stop_after);
  // Every rank checks the same batch the same way, so either all fail before their first collective or none.
  drivers_->Run([&](int r, int) {
    Rank& rank = ranks_[static_cast<size_t>(r)];
    results_[static_cast<size_t>(r)] = rank.exec->Run(batch, *rank.kv, stop_after);
  });
  return results_[0];
}

}  // namespace strata
