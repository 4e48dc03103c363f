// Ranks spread over processes (and hosts): rank 0 owns the engine; before each step it broadcasts the batch
// (step_message.h) over the job's `world` group, and every rank runs its own plan (its tensor-parallel shard)
// on its own KV share, the ranks meeting in the plan's collectives. DistributedRunner is rank 0's side, a
// StepExecutor like ModelRunner; RunWorker is every other rank's whole life. Both only need Collectives, so
// the protocol runs over MPI between processes and over InProcessCollectives between threads (the tests).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "compiler/ir.h"
#include "core/thread_pool.h"
#include "runtime/collectives.h"
#include "runtime/plan_executor.h"
#include "runtime/step_executor.h"
#include "runtime/step_message.h"

namespace strata {

class DistributedRunner final : public StepExecutor {
 public:
  // `plan` is rank 0's; `world` joins every rank of the job (rank 0 is its root), `group` the ranks this plan's
  // collectives join (may be `world` itself, or null for a plan without collectives). All must outlive the
  // runner. The workers learn the KV geometry from the first message.
  DistributedRunner(const ir::Plan& plan, ThreadPool& pool, Collectives& world, Collectives* group,
                    int64_t num_blocks, int64_t block_size);
  ~DistributedRunner() override;  // tells the workers to stop (when the job is still whole)

  Result<Logits> Run(const Batch& batch, int stop_after = -1) override;
  int64_t n_vocab() const override { return exec_.n_vocab(); }
  int64_t kv_cache_bytes() const override { return kv_.bytes(); }
  Status health() const override;

  static StepExecutorFactory Factory(const ir::Plan& plan, ThreadPool& pool, Collectives& world, Collectives* group);

 private:
  Status Send(StepCommand command, const std::vector<int64_t>& words);
  void Fail(const Status& st);

  Collectives& world_;
  PlanExecutor exec_;
  PagedKvCache kv_;
  int64_t num_blocks_, block_size_;
  bool initialized_ = false;
  int64_t serial_ = 0;
  mutable std::mutex mu_;
  Status broken_;  // under mu_: the first lost peer; set once
};

// A worker rank (not 0): waits for rank 0's messages and runs each step with its plan until told to stop.
// Returns Ok on stop; the error when the group broke (a peer lost, a collective timed out) or a message did
// not parse.
[[nodiscard]] Status RunWorker(const ir::Plan& plan, ThreadPool& pool, Collectives& world, Collectives* group,
                               int world_rank);

}  // namespace strata
