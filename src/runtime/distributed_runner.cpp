#include "runtime/distributed_runner.h"

#include <string>

#include "core/log.h"

namespace strata {
namespace {

// A worker waits for the next header as long as rank 0 stays idle (a server without requests); everything
// after a header is bounded by the collectives' timeout.
constexpr bool kIdleWait = true;

Status ExchangeHeader(Collectives& world, int rank, StepHeader& h, bool idle) {
  return world.Broadcast(rank, &h, sizeof(h), 0, idle);
}

Status ExchangeWords(Collectives& world, int rank, std::vector<int64_t>& words) {
  if (words.empty()) return Status::Ok();
  return world.Broadcast(rank, words.data(), static_cast<int64_t>(words.size() * sizeof(int64_t)), 0, false);
}

}  // namespace

DistributedRunner::DistributedRunner(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links, int64_t n_vocab,
                                     int64_t num_blocks, int64_t block_size)
    : links_(links), exec_(plan, pool, links.group), kv_(exec_.MakeKvCache(num_blocks, block_size)),
      step_(exec_, kv_, links.p2p, 0, n_vocab, links.micro_batches, links.overlap), n_vocab_(n_vocab), num_blocks_(num_blocks),
      block_size_(block_size) {
  if (links.packed) links.packed();
}

DistributedRunner::~DistributedRunner() {
  if (!health().ok()) return;  // the others are gone or stuck in a broken collective: nothing to tell
  if (Status st = Send(StepCommand::kStop, {}); !st.ok()) spdlog::warn("stopping the other ranks: {}", st.message());
}

StepExecutorFactory DistributedRunner::Factory(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links,
                                               int64_t n_vocab) {
  return [&plan, &pool, links, n_vocab](int64_t num_blocks, int64_t block_size) {
    return std::make_unique<DistributedRunner>(plan, pool, links, n_vocab, num_blocks, block_size);
  };
}

Status DistributedRunner::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return broken_;
}

void DistributedRunner::Fail(const Status& st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!broken_.ok()) return;
  broken_ = st;
  spdlog::error("rank 0: {}", st.message());
}

Status DistributedRunner::Send(StepCommand command, std::vector<int64_t> words) {
  StepHeader h{.command = static_cast<int64_t>(command), .words = static_cast<int64_t>(words.size()), .serial = serial_++};
  STRATA_RETURN_IF_ERROR(ExchangeHeader(*links_.world, 0, h, false));
  return ExchangeWords(*links_.world, 0, words);
}

// A batch that some stage would refuse must be refused before it is sent: a later stage waiting for activations
// an earlier one never sends would take the job down.
Status DistributedRunner::Check(const Batch& batch) {
  for (int32_t id : batch.tokens)
    if (id < 0 || id >= n_vocab_)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                     std::to_string(n_vocab_) + ")");
  return LayoutBatch(batch, block_size_, num_blocks_, layout_);
}

Result<Logits> DistributedRunner::Run(const Batch& batch, int stop_after) {
  if (Status st = health(); !st.ok()) return st;
  STRATA_RETURN_IF_ERROR(Check(batch));
  Status sent = initialized_ ? Status::Ok() : Send(StepCommand::kInit, EncodeInit(num_blocks_, block_size_));
  initialized_ = true;
  if (sent.ok()) sent = Send(StepCommand::kStep, EncodeStep(batch, stop_after));
  if (!sent.ok()) {
    Fail(sent);
    return sent;
  }
  Result<Logits> logits = step_.Run(batch, stop_after);
  // A bad batch fails alike on every rank before any message; a failed collective or link breaks the job.
  if (!logits.ok() && logits.status().code() == Status::Code::kUnavailable) Fail(logits.status());
  return logits;
}

Status RunWorker(const ir::Plan& plan, ThreadPool& pool, const RankLinks& links) {
  const int rank = links.world_rank;
  PlanExecutor exec(plan, pool, links.group);
  if (links.packed) links.packed();
  std::unique_ptr<PagedKvCache> kv;
  std::unique_ptr<PipelineStep> step;
  Batch batch;
  std::vector<int32_t> tables;
  std::vector<int64_t> words;
  for (int64_t expected = 0;; ++expected) {
    StepHeader h{.magic = 0};
    STRATA_RETURN_IF_ERROR(ExchangeHeader(*links.world, rank, h, kIdleWait));
    if (h.magic != StepHeader::kMagic || h.serial != expected || h.words < 0 || h.words > (int64_t{1} << 32))
      return Status::Corrupt("rank " + std::to_string(rank) + ": message " + std::to_string(expected) +
                             " from rank 0 is out of step");
    words.assign(static_cast<size_t>(h.words), 0);
    STRATA_RETURN_IF_ERROR(ExchangeWords(*links.world, rank, words));
    switch (static_cast<StepCommand>(h.command)) {
      case StepCommand::kStop: return Status::Ok();
      case StepCommand::kInit: {
        int64_t num_blocks = 0, block_size = 0;
        STRATA_RETURN_IF_ERROR(DecodeInit(words, num_blocks, block_size));
        kv = std::make_unique<PagedKvCache>(exec.MakeKvCache(num_blocks, block_size));
        step = std::make_unique<PipelineStep>(exec, *kv, links.p2p, rank, exec.n_vocab(), links.micro_batches, links.overlap);
        break;
      }
      case StepCommand::kStep: {
        int stop_after = -1;
        STRATA_RETURN_IF_ERROR(DecodeStep(words, batch, tables, stop_after));
        if (!step) return Status::Corrupt("rank " + std::to_string(rank) + ": a step before the KV geometry");
        Result<Logits> out = step->Run(batch, stop_after);
        if (!out.ok() && out.status().code() == Status::Code::kUnavailable) return out.status();
        break;  // any other error is rank 0's too: it answers its caller, the job goes on
      }
      default: return Status::Corrupt("rank " + std::to_string(rank) + ": unknown command from rank 0");
    }
  }
}

}  // namespace strata
