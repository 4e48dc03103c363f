#include "runtime/cpu_executor.h"

#include <numeric>
#include <string>

namespace strata {

CpuExecutor::CpuExecutor(const StepExecutorFactory& make, int64_t n_ctx)
    : n_ctx_(n_ctx),
      runner_(make(Blocks(n_ctx_), kBlockSize)),
      block_table_(static_cast<size_t>(Blocks(n_ctx_))) {
  std::iota(block_table_.begin(), block_table_.end(), 0);
  batch_.seqs.resize(1);
}

Status CpuExecutor::Prepare(std::span<const int32_t> tokens, bool all_logits) {
  if (tokens.empty()) return Status::InvalidArgument("no tokens to run");
  const auto T = static_cast<int64_t>(tokens.size());
  if (n_past_ + T > n_ctx_)
    return Status::OutOfRange(std::to_string(T) + " tokens after " + std::to_string(n_past_) +
                              " already in context exceed the context length " + std::to_string(n_ctx_));
  batch_.tokens.assign(tokens.begin(), tokens.end());
  batch_.seqs[0] = {.first_row = 0, .num_rows = T, .start_pos = n_past_, .block_table = block_table_,
                    .want_logits = true, .all_logits = all_logits};
  return Status::Ok();
}

Result<Logits> CpuExecutor::Forward(std::span<const int32_t> tokens, bool all_logits) {
  STRATA_RETURN_IF_ERROR(Prepare(tokens, all_logits));
  STRATA_ASSIGN_OR_RETURN(Logits logits, runner_->Run(batch_));
  n_past_ += static_cast<int64_t>(tokens.size());
  return logits;
}

Status CpuExecutor::ForwardUntil(std::span<const int32_t> tokens, int node_id) {
  STRATA_RETURN_IF_ERROR(Prepare(tokens, true));
  return runner_->Run(batch_, node_id).status();
}

}  // namespace strata
