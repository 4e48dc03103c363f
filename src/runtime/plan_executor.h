// Executes a plan on the CPU for one batch step: binds the symbolic dims (T rows, R logit rows), runs every
// node's kernel in order on the pool's threads, writing new keys/values into a paged KV cache and attending
// through each sequence's block table. This is the only forward pass.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "runtime/batch.h"
#include "runtime/paged_kv_cache.h"

namespace strata {

// Logits of one step: `rows` rows of n_vocab floats, valid until the next step.
struct Logits {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t n_vocab = 0;
  const float* row(int64_t r) const { return data + r * n_vocab; }
  const float* last() const { return row(rows - 1); }
};

class PlanExecutor {
 public:
  // `plan` and `pool` must outlive the executor.
  PlanExecutor(const ir::Plan& plan, ThreadPool& pool);

  // Runs every sequence's new tokens; returns one logits row per sequence with want_logits, in batch order.
  // Bad token ids or an inconsistent batch give an error before anything is written to the cache.
  Result<Logits> Run(const Batch& batch, PagedKvCache& kv);

  int64_t n_vocab() const { return n_vocab_; }
  const ir::Plan& plan() const { return plan_; }
  // A KV cache of `num_blocks` blocks shaped for this plan.
  PagedKvCache MakeKvCache(int64_t num_blocks, int64_t block_size) const;

 private:
  Status CheckTokens(const std::vector<int32_t>& tokens) const;
  void Bind(int64_t T, int64_t R);
  void RunNode(const ir::Node& n, int64_t T, PagedKvCache& kv);
  float* Buf(int id) { return buffers_[static_cast<size_t>(id)].data(); }

  const ir::Plan& plan_;
  ThreadPool& pool_;
  int64_t n_vocab_ = 0;       // logits width
  int64_t n_embd_rows_ = 0;   // valid token ids are below this
  std::vector<std::vector<float>> buffers_;  // one per node, sized for the bound T and R
  const Batch* batch_ = nullptr;
  BatchLayout layout_;
  std::vector<const int32_t*> row_tables_;
  int64_t R_ = 0;
};

}  // namespace strata
