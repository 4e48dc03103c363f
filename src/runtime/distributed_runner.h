// Ranks spread over processes (and hosts): rank 0 owns the engine; before each step it broadcasts the batch
// (step_message.h) over the job's `world` group, and every rank runs its own plan (its pipeline stage, its
// tensor-parallel shard) on its own KV share: the ranks of a stage meet in the plan's collectives, stages pass
// activations point to point (pipeline_step.h). DistributedRunner is rank 0's side, a StepExecutor like
// ModelRunner; RunWorker is every other rank's whole life. Both only need the Collectives and PointToPoint
// interfaces, so the protocol runs over MPI between processes and over the in-process ones between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "compiler/ir.h"
#include "core/thread_pool.h"
#include "runtime/collectives.h"
#include "runtime/pipeline_step.h"
#include "runtime/plan_executor.h"
#include "runtime/point_to_point.h"
#include "runtime/step_executor.h"
#include "runtime/step_message.h"

namespace strata {

// How one rank reaches the others. All must outlive the runner or worker that uses them.
struct RankLinks {
  Collectives* world = nullptr;   // every rank of the job; rank 0 broadcasts the steps over it
  Collectives* group = nullptr;   // the tensor-parallel ranks of this rank's stage (null: a plan without collectives)
  PointToPoint* p2p = nullptr;    // between pipeline stages (null with one stage)
  int world_rank = 0;             // stage * tp + tensor-parallel rank
  int micro_batches = 0;          // per step with several stages; 0: one per stage
  bool overlap = false;           // one stage of several tensor-parallel ranks: overlap halves (pipeline_step.h)
  std::function<void()> packed;   // called once the rank's executor holds its own copies of the weights
};

class DistributedRunner final : public StepExecutor {
 public:
  // `plan` is rank 0's; `n_vocab` the model's (stage 0 of several does not compute logits itself). The workers
  // learn the KV geometry from the first message.
  DistributedRunner(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links, int64_t n_vocab,
                    int64_t num_blocks, int64_t block_size);
  ~DistributedRunner() override;  // tells the workers to stop (when the job is still whole)

  Result<Logits> Run(const Batch& batch, int stop_after = -1) override;
  int64_t n_vocab() const override { return n_vocab_; }
  int64_t kv_cache_bytes() const override { return kv_.bytes(); }
  Status health() const override;

  static StepExecutorFactory Factory(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links, int64_t n_vocab);

 private:
  Status Send(StepCommand command, std::vector<int64_t> words);  // by value: the broadcast takes a mutable buffer
  Status Check(const Batch& batch);
  void Fail(const Status& st);

  RankLinks links_;
  PlanExecutor exec_;
  PagedKvCache kv_;
  PipelineStep step_;
  int64_t n_vocab_, num_blocks_, block_size_;
  bool initialized_ = false;
  int64_t serial_ = 0;
  BatchLayout layout_;  // for checking a batch before it is sent
  mutable std::mutex mu_;
  Status broken_;  // under mu_: the first lost peer; set once
};

// A worker rank (not 0): waits for rank 0's messages and runs each step with its plan until told to stop.
// Returns Ok on stop; the error when the job broke (a peer lost, a timeout) or a message did not parse.
[[nodiscard]] Status RunWorker(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links);

}  // namespace strata
