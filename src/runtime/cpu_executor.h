// One sequence on the CPU, step by step: the simple interface `strata run` and the golden tests use. It owns a
// paged KV cache sized for n_ctx whose block table is just 0, 1, 2, ... and runs the plan (or the plans of its
// tensor-parallel ranks) through a ModelRunner, or through any other StepExecutor.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "runtime/model_runner.h"

namespace strata {

class CpuExecutor {
 public:
  // `plan` and `pool` must outlive the executor. n_ctx <= 0 keeps the plan's context length.
  CpuExecutor(const ir::Plan& plan, ThreadPool& pool, int64_t n_ctx = 0)
      : CpuExecutor(std::span<const ir::Plan>(&plan, 1), pool, n_ctx) {}
  CpuExecutor(std::span<const ir::Plan> ranks, ThreadPool& pool, int64_t n_ctx = 0)
      : CpuExecutor(ModelRunner::Factory(ranks, pool), n_ctx > 0 ? n_ctx : ranks[0].kv.n_ctx) {}
  // Over whatever `make` builds (ranks in other processes, say); n_ctx > 0.
  CpuExecutor(const StepExecutorFactory& make, int64_t n_ctx);

  // Runs `tokens` at positions n_past() .. n_past()+T-1 and appends them to the KV cache. Returns the logits
  // of the last position, or of every position when all_logits. Bad ids or an over-long input give an error
  // and leave the cache unchanged.
  Result<Logits> Forward(std::span<const int32_t> tokens, bool all_logits);
  // Runs `tokens` only up to plan node `node_id` (without advancing the context); that node's output of rank
  // `rank` is then at NodeOutput().
  Status ForwardUntil(std::span<const int32_t> tokens, int node_id);
  // Only for the in-process runner (the first constructor).
  const float* NodeOutput(int node_id, int rank = 0) { return local().executor(rank).Output(node_id); }
  const ir::MemoryPlan& memory_plan(int rank = 0) { return local().executor(rank).memory_plan(); }
  Status health() const { return runner_->health(); }

  int64_t n_past() const { return n_past_; }
  int64_t n_ctx() const { return n_ctx_; }
  void Reset() { n_past_ = 0; }
  // Drops cached positions from n onwards (n <= n_past()).
  void Truncate(int64_t n) { n_past_ = std::min(n, n_past_); }

 private:
  static constexpr int64_t kBlockSize = 16;
  static int64_t Blocks(int64_t n_ctx) { return (n_ctx + kBlockSize - 1) / kBlockSize; }
  Status Prepare(std::span<const int32_t> tokens, bool all_logits);

  ModelRunner& local() { return dynamic_cast<ModelRunner&>(*runner_); }

  int64_t n_ctx_;
  std::unique_ptr<StepExecutor> runner_;
  std::vector<int32_t> block_table_;
  Batch batch_;
  int64_t n_past_ = 0;
};

}  // namespace strata
