// The seam between the engine and whatever runs a model step: the tensor-parallel ranks of this process
// (ModelRunner), or rank 0's side of ranks spread over processes and hosts (DistributedRunner). The engine and
// `strata run` see only this.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/status.h"
#include "runtime/batch.h"
#include "runtime/plan_executor.h"

namespace strata {

class StepExecutor {
 public:
  virtual ~StepExecutor() = default;
  // One forward step of `batch` over every rank; the logits are valid until the next call. `stop_after` >= 0
  // stops after that plan node (for inspection).
  [[nodiscard]] virtual Result<Logits> Run(const Batch& batch, int stop_after = -1) = 0;
  virtual int64_t n_vocab() const = 0;
  // KV cache bytes this process holds.
  virtual int64_t kv_cache_bytes() const = 0;
  // Ok while steps can run; once a peer rank is lost every later Run fails with this status.
  virtual Status health() const { return Status::Ok(); }
};

// Makes the executor once the engine knows how many KV blocks of how many tokens it wants.
using StepExecutorFactory = std::function<std::unique_ptr<StepExecutor>(int64_t num_blocks, int64_t block_size)>;

// What an engine runs its steps on, before it has decided the KV cache size: the context length of the model,
// the KV bytes one token takes over all ranks (what the memory budget divides by), and how to make the
// executor once the number of blocks is known.
struct ExecutorSource {
  int64_t n_ctx = 0;
  int64_t kv_bytes_per_token = 0;
  StepExecutorFactory make;
};

}  // namespace strata
