#include "runtime/pipeline_step.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "runtime/profiler.h"

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
                           int micro_batches, bool overlap)
    : exec_(exec), kv_(kv), p2p_(p2p), world_rank_(world_rank), tp_(exec.plan().parallel.size),
      tp_rank_(exec.plan().parallel.rank), stage_(exec.plan().parallel.stage), stages_(exec.plan().parallel.stages),
      n_vocab_(n_vocab), micro_batches_(micro_batches > 0 ? micro_batches : stages_), overlap_(overlap) {}

// Each round, each unfinished half waits for its collective in flight (if any), then runs to its next one and
// posts it. Every rank posts in the same order (A1 B1 A2 B2 ...), and A always runs a layer before B does, so
// a sequence cut between the halves finds its first piece's keys and values written.
Status PipelineStep::RunHalves(PlanExecutor* const (&ex)[2]) {
  while (!ex[0]->done() || !ex[1]->done())
    for (PlanExecutor* e : ex) {
      if (e->pending()) STRATA_RETURN_IF_ERROR(e->FinishCollective());
      if (!e->done()) STRATA_RETURN_IF_ERROR(e->RunToCollective());
    }
  return Status::Ok();
}

// The halves' results are those of running the two micro-batches one after the other (same nodes, same
// order within each); rank 0's logits are A's rows then B's.
Result<Logits> PipelineStep::RunOverlapped(const Batch& batch) {
  if (!twin_) twin_ = exec_.Twin();
  halves_ = SplitMicroBatches(batch, 2);
  PlanExecutor* const ex[2] = {&exec_, twin_.get()};
  // One step slice around both halves' ops (named "(A)", "(B)"); their collectives are on two lanes.
  TraceScope step(Track::kCompute, exec_.plan().parallel.global_rank(), "step");
  if (step.on()) step.set_args("\"tokens\":" + std::to_string(batch.tokens.size()) + ",\"overlapped_halves\":2");
  exec_.set_trace(" (A)", false, Track::kCollectives);
  twin_->set_trace(" (B)", false, Track::kCollectivesB);
  Status st = ex[0]->Begin(halves_[0], kv_);
  if (st.ok()) st = ex[1]->Begin(halves_[1], kv_);
  if (st.ok()) st = RunHalves(ex);
  exec_.set_trace("", true, Track::kCollectives);
  if (!st.ok()) {
    for (PlanExecutor* e : ex) e->Abandon();
    return st;
  }
  const Logits a = ex[0]->output(), b = ex[1]->output();
  logits_.resize(static_cast<size_t>((a.rows + b.rows) * a.n_vocab));
  std::copy(a.data, a.data + a.rows * a.n_vocab, logits_.begin());
  std::copy(b.data, b.data + b.rows * b.n_vocab, logits_.begin() + a.rows * a.n_vocab);
  return Logits{logits_.data(), a.rows + b.rows, a.n_vocab};
}

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
  if (stages_ == 1 && overlap_ && tp_ > 1 && stop_after < 0 && batch.tokens.size() >= 2) return RunOverlapped(batch);
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
