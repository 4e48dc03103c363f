#include "runtime/cpu_executor.h"

#include <numeric>
#include <string>

namespace strata {
namespace {

int64_t Blocks(int64_t n_ctx, int64_t block_size) { return (n_ctx + block_size - 1) / block_size; }

}  // namespace

CpuExecutor::CpuExecutor(const ir::Plan& plan, ThreadPool& pool, int64_t n_ctx)
    : exec_(plan, pool),
      n_ctx_(n_ctx > 0 ? n_ctx : plan.kv.n_ctx),
      kv_(exec_.MakeKvCache(Blocks(n_ctx_, kBlockSize), kBlockSize)),
      block_table_(static_cast<size_t>(Blocks(n_ctx_, kBlockSize))) {
  std::iota(block_table_.begin(), block_table_.end(), 0);
  batch_.seqs.resize(1);
}

Result<Logits> CpuExecutor::Forward(std::span<const int32_t> tokens, bool all_logits) {
  if (tokens.empty()) return Status::InvalidArgument("no tokens to run");
  const int64_t T = static_cast<int64_t>(tokens.size());
  if (n_past_ + T > n_ctx_)
    return Status::OutOfRange(std::to_string(T) + " tokens after " + std::to_string(n_past_) +
                              " already in context exceed the context length " + std::to_string(n_ctx_));
  batch_.tokens.assign(tokens.begin(), tokens.end());
  batch_.seqs[0] = {.first_row = 0, .num_rows = T, .start_pos = n_past_, .block_table = block_table_,
                    .want_logits = true, .all_logits = all_logits};
  STRATA_ASSIGN_OR_RETURN(Logits logits, exec_.Run(batch_, kv_));
  n_past_ += T;
  return logits;
}

}  // namespace strata
