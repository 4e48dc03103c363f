// Executes a plan on the CPU, one step at a time: binds the symbolic dims (T tokens, R logit rows), runs every
// node's kernel in order on the pool's threads, and keeps the KV cache between steps.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "compiler/ir.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "runtime/kv_cache.h"

namespace strata {

// Logits of one step: `rows` rows of n_vocab floats, valid until the next Forward.
struct Logits {
  const float* data = nullptr;
  int64_t rows = 0;
  int64_t n_vocab = 0;
  const float* row(int64_t r) const { return data + r * n_vocab; }
  const float* last() const { return row(rows - 1); }
};

class CpuExecutor {
 public:
  // `plan` and `pool` must outlive the executor. n_ctx <= 0 keeps the plan's context length.
  CpuExecutor(const ir::Plan& plan, ThreadPool& pool, int64_t n_ctx = 0);

  // Runs `tokens` at positions n_past() .. n_past()+T-1 and appends them to the KV cache. Returns the logits
  // of the last position, or of every position when all_logits. Bad ids or an over-long input give an error
  // and leave the cache unchanged.
  Result<Logits> Forward(std::span<const int32_t> tokens, bool all_logits);

  int64_t n_past() const { return kv_.size(); }
  int64_t n_ctx() const { return kv_.n_ctx(); }
  void Reset() { kv_.Clear(); }
  // Drops cached positions from n onwards (n <= n_past()).
  void Truncate(int64_t n) { kv_.set_size(std::min(n, kv_.size())); }

 private:
  Status CheckInput(std::span<const int32_t> tokens) const;
  void Bind(int64_t T, int64_t R);
  void RunNode(const ir::Node& n, int64_t T);
  float* Buf(int id) { return buffers_[static_cast<size_t>(id)].data(); }

  const ir::Plan& plan_;
  ThreadPool& pool_;
  KvCache kv_;
  int64_t n_vocab_ = 0;       // logits width
  int64_t n_embd_rows_ = 0;   // valid token ids are below this
  std::vector<std::vector<float>> buffers_;  // one per node, sized for the bound T and R
  std::vector<int32_t> tokens_;
  std::vector<int32_t> positions_;
  int64_t R_ = 0;
};

}  // namespace strata
