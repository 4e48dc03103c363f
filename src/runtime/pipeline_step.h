// One rank's part of a step when the model is split into pipeline stages (and each stage into tensor-parallel
// ranks): the batch is cut into micro-batches of contiguous rows; each stage runs them in order, receiving a
// micro-batch's activations from the previous stage and sending its own to the next as soon as it is done,
// so stage s works on micro-batch i while stage s+1 works on i-1. The last stage's tensor-parallel rank 0
// sends the logits back to rank 0. With one stage it is the plan's run, or with `overlap` (tensor-parallel
// ranks, a batch of at least two rows) two halves interleaved so that each half's all-reduce is in flight
// while the other half computes (NanoFlow's nano-batches): see RunOverlapped.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/batch.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/plan_executor.h"
#include "runtime/point_to_point.h"

namespace strata {

// Cuts `batch` into at most `m` micro-batches of contiguous rows, as even as possible. A sequence cut in two
// keeps its positions (the second piece starts where the first ended, and attends to the first piece's KV
// written just before in the same stage); only the piece holding its last row wants its logits, unless it
// wants every row's. Block tables are shared views; `tokens` are copied.
std::vector<Batch> SplitMicroBatches(const Batch& batch, int m);
// Rows of logits a batch asks for.
int64_t LogitRows(const Batch& batch);

class PipelineStep {
 public:
  // `exec` runs this rank's plan (its stage, its shard) on `kv`; `p2p` links the stages (unused with one);
  // `world_rank` is this rank's place in the job (stage * tp + tensor-parallel rank). `n_vocab`: the logits'
  // width, which a stage before the last does not compute itself.
  PipelineStep(PlanExecutor& exec, PagedKvCache& kv, PointToPoint* p2p, int world_rank, int64_t n_vocab,
               int micro_batches, bool overlap = false);
  // This rank's part of one step; rank 0 gets the logits of the whole batch, other ranks their own output.
  [[nodiscard]] Result<Logits> Run(const Batch& batch, int stop_after = -1);

 private:
  Result<Logits> RunMicroBatch(Batch& mb, int index);
  Result<Logits> RunOverlapped(const Batch& batch);
  Status RunHalves(PlanExecutor* const (&ex)[2]);
  int Peer(int stage) const { return stage * tp_ + tp_rank_; }

  PlanExecutor& exec_;
  PagedKvCache& kv_;
  PointToPoint* p2p_;
  int world_rank_, tp_, tp_rank_, stage_, stages_;
  int64_t n_vocab_;
  int micro_batches_;
  bool overlap_;
  std::unique_ptr<PlanExecutor> twin_;  // the second half's executor (shares exec_'s weights), made on first use
  std::vector<Batch> halves_;
  std::vector<std::vector<float>> inbox_, outbox_;  // per micro-batch: activations in, activations/logits out
  std::vector<float> logits_;                       // rank 0: every micro-batch's logits, in batch order
};

}  // namespace strata
