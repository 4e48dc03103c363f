#include "runtime/pipeline_step.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace strata {
namespace {

constexpr int kLogitsTag = 1 << 20;  // activations use the micro-batch index as their tag

int64_t SeqLogitRows(const BatchSequence& s) { return s.want_logits ? (s.all_logits ? s.num_rows : 1) : 0; }

}  // namespace

int64_t LogitRows(const Batch& batch) {
  int64_t rows = 0;
  for (const BatchSequence& s : batch.seqs) rows += SeqLogitRows(s);
  return rows;
}

std::vector<Batch> SplitMicroBatches(const Batch& batch, int m) {
  const auto rows = static_cast<int64_t>(batch.tokens.size());
  m = static_cast<int>(std::clamp<int64_t>(m, 1, std::max<int64_t>(rows, 1)));
  std::vector<Batch> out(static_cast<size_t>(m));
  for (int i = 0; i < m; ++i) {
    const int64_t r0 = rows * i / m, r1 = rows * (i + 1) / m;
    Batch& mb = out[static_cast<size_t>(i)];
    mb.tokens.assign(batch.tokens.begin() + r0, batch.tokens.begin() + r1);
    for (const BatchSequence& s : batch.seqs) {
      const int64_t a = std::max(r0, s.first_row), b = std::min(r1, s.first_row + s.num_rows);
      if (a >= b) continue;
      const bool holds_last = b == s.first_row + s.num_rows;
      mb.seqs.push_back({.first_row = a - r0, .num_rows = b - a, .start_pos = s.start_pos + (a - s.first_row),
                         .block_table = s.block_table, .want_logits = s.want_logits && (s.all_logits || holds_last),
                         .all_logits = s.all_logits});
    }
  }
  return out;
}

PipelineStep::PipelineStep(PlanExecutor& exec, PagedKvCache& kv, PointToPoint* p2p, int world_rank, int64_t n_vocab,
                           int micro_batches)
    : exec_(exec), kv_(kv), p2p_(p2p), world_rank_(world_rank), tp_(exec.plan().parallel.size),
      tp_rank_(exec.plan().parallel.rank), stage_(exec.plan().parallel.stage), stages_(exec.plan().parallel.stages),
      n_vocab_(n_vocab), micro_batches_(micro_batches > 0 ? micro_batches : stages_) {}

Result<Logits> PipelineStep::RunMicroBatch(Batch& mb, int index) {
  const auto i = static_cast<size_t>(index);
  const auto rows = static_cast<int64_t>(mb.tokens.size());
  if (stage_ > 0) {
    inbox_[i].resize(static_cast<size_t>(rows * exec_.stage_input_width()));
    STRATA_RETURN_IF_ERROR(p2p_->Recv(world_rank_, Peer(stage_ - 1), inbox_[i].data(), static_cast<int64_t>(inbox_[i].size()), index));
    mb.stage_input = inbox_[i].data();
  }
  STRATA_ASSIGN_OR_RETURN(Logits out, exec_.Run(mb, kv_));
  const bool last = stage_ == stages_ - 1;
  // Rank 0 keeps its own logits; the other tensor-parallel ranks drop theirs; no rows, no message.
  if (last && (tp_rank_ != 0 || world_rank_ == 0 || out.rows == 0)) return out;
  // The outbox keeps the data alive until WaitSends: the executor's arena is reused by the next micro-batch.
  outbox_[i].assign(out.data, out.data + out.rows * out.n_vocab);
  const int dest = last ? 0 : Peer(stage_ + 1);
  STRATA_RETURN_IF_ERROR(p2p_->Send(world_rank_, dest, outbox_[i].data(), static_cast<int64_t>(outbox_[i].size()),
                                    last ? kLogitsTag + index : index));
  return out;
}

Result<Logits> PipelineStep::Run(const Batch& batch, int stop_after) {
  if (stages_ == 1) return exec_.Run(batch, kv_, stop_after);
  if (stop_after >= 0) return Status::Unsupported("stopping after a node is not supported with pipeline stages");
  std::vector<Batch> mbs = SplitMicroBatches(batch, micro_batches_);
  inbox_.resize(mbs.size());
  outbox_.resize(mbs.size());
  Result<Logits> out = Status::Internal("no micro-batch");
  for (size_t i = 0; i < mbs.size(); ++i) {
    out = RunMicroBatch(mbs[i], static_cast<int>(i));
    if (!out.ok()) return out;
  }
  if (world_rank_ == 0) {  // stage 0 (not the last): the logits come back from the last stage
    logits_.resize(static_cast<size_t>(LogitRows(batch) * n_vocab_));
    int64_t row = 0;
    for (size_t i = 0; i < mbs.size(); ++i) {
      const int64_t n = LogitRows(mbs[i]);
      if (n > 0)
        STRATA_RETURN_IF_ERROR(p2p_->Recv(0, (stages_ - 1) * tp_, logits_.data() + row * n_vocab_, n * n_vocab_,
                                          kLogitsTag + static_cast<int>(i)));
      row += n;
    }
    out = Logits{logits_.data(), row, n_vocab_};
  }
  STRATA_RETURN_IF_ERROR(p2p_->WaitSends(world_rank_));
  return out;
}

}  // namespace strata
