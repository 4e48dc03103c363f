// Runs a compiled model step by step: one plan, or one plan per tensor-parallel rank. Each rank is an
// in-process CPU device with its own threads, activation arena and KV cache (its share of the heads); ranks
// run concurrently and meet in the plans' collective ops.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "compiler/ir.h"
#include "core/thread_pool.h"
#include "runtime/collectives.h"
#include "runtime/plan_executor.h"
#include "runtime/step_executor.h"

namespace strata {

class ModelRunner final : public StepExecutor {
 public:
  // `ranks` and `pool` must outlive the runner. With one rank the plan runs on `pool`; with N, each rank gets
  // a pool of pool.size() / N threads (at least one).
  ModelRunner(std::span<const ir::Plan> ranks, ThreadPool& pool, int64_t num_blocks, int64_t block_size);
  ~ModelRunner() override;

  // One step over every rank; the logits are rank 0's (after the all-gather every rank holds them all).
  Result<Logits> Run(const Batch& batch, int stop_after = -1) override;

  int tp() const { return static_cast<int>(ranks_.size()); }
  int64_t n_vocab() const override { return ranks_[0].exec->n_vocab(); }
  int64_t kv_cache_bytes() const override;
  PlanExecutor& executor(int rank) { return *ranks_[static_cast<size_t>(rank)].exec; }
  // KV bytes one token takes over every rank and layer: what a memory budget divides by.
  static int64_t KvBytesPerToken(std::span<const ir::Plan> ranks);
  // A factory of runners over `ranks` on `pool` (both must outlive what it makes).
  static StepExecutorFactory Factory(std::span<const ir::Plan> ranks, ThreadPool& pool);

 private:
  struct Rank {
    std::unique_ptr<ThreadPool> own_pool;
    std::unique_ptr<PlanExecutor> exec;
    std::unique_ptr<PagedKvCache> kv;
  };
  std::unique_ptr<InProcessCollectives> collectives_;
  std::unique_ptr<ThreadPool> drivers_;  // one thread per rank drives that rank's plan
  std::vector<Rank> ranks_;
  std::vector<Result<Logits>> results_;
};

}  // namespace strata
