#include "engine/draft_model_drafter.h"

#include <algorithm>

#include "engine/token_mask.h"
#include "runtime/profiler.h"

namespace strata {

DraftModelDrafter::DraftModelDrafter(std::unique_ptr<StepExecutor> exec, const Tokenizer& tokenizer)
    : exec_(std::move(exec)), tokenizer_(tokenizer) {}

Status DraftModelDrafter::Propose(const SchedulerOutput& step, std::span<DraftJob> jobs) {
  TraceScope scope(Track::kHost, 0, "draft");
  for (DraftJob& job : jobs) {
    job.tokens.clear();
    job.probs.clear();
  }
  STRATA_RETURN_IF_ERROR(CatchUp(step, jobs));
  for (int64_t s = 1;; ++s) {
    bool more = false;
    for (const DraftJob& job : jobs) more |= static_cast<int64_t>(job.tokens.size()) == s && s < job.k;
    if (!more) break;
    STRATA_RETURN_IF_ERROR(DraftStep(jobs, s));
  }
  if (scope.on()) scope.set_args("\"jobs\":" + std::to_string(jobs.size()));
  return Status::Ok();
}

// One step over everything the target runs now (which the draft's cache must hold too) and, for the jobs,
// through the last sampled token: its logits give the first draft.
Status DraftModelDrafter::CatchUp(const SchedulerOutput& step, std::span<DraftJob> jobs) {
  batch_.tokens.clear();
  batch_.seqs.clear();
  rows_.clear();
  job_of_.clear();
  for (DraftJob& j : jobs) job_of_[j.seq] = &j;
  for (const ScheduledSequence& s : step.scheduled) {
    Sequence& q = *s.seq;
    const auto it = job_of_.find(&q);
    DraftJob* job = it == job_of_.end() ? nullptr : it->second;
    const int64_t end = job ? q.num_tokens() : q.num_computed + s.num_tokens;
    const int64_t from = std::min(q.num_draft_computed, end);
    if (from == end) continue;
    batch_.seqs.push_back({.first_row = static_cast<int64_t>(batch_.tokens.size()), .num_rows = end - from,
                           .start_pos = from, .block_table = q.block_table, .want_logits = job != nullptr});
    batch_.tokens.insert(batch_.tokens.end(), q.tokens.begin() + from, q.tokens.begin() + end);
    if (job) rows_.push_back(job);
  }
  if (batch_.seqs.empty()) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(Logits logits, exec_->Run(batch_));
  // The draft's cache now holds what the target's will after this step, and each job's last token.
  for (const ScheduledSequence& s : step.scheduled)
    s.seq->num_draft_computed = job_of_.count(s.seq) ? s.seq->num_tokens() : s.seq->num_computed + s.num_tokens;
  for (size_t r = 0; r < rows_.size(); ++r) Choose(*rows_[r], logits.row(static_cast<int64_t>(r)));
  return Status::Ok();
}

// Feeds each job's draft number `step` (1-based) to the draft model at the position after the previous one.
Status DraftModelDrafter::DraftStep(std::span<DraftJob> jobs, int64_t step) {
  batch_.tokens.clear();
  batch_.seqs.clear();
  rows_.clear();
  for (DraftJob& job : jobs) {
    if (static_cast<int64_t>(job.tokens.size()) != step || step >= job.k) continue;
    Sequence& q = *job.seq;
    batch_.seqs.push_back({.first_row = static_cast<int64_t>(batch_.tokens.size()), .num_rows = 1,
                           .start_pos = q.num_draft_computed, .block_table = q.block_table, .want_logits = true});
    batch_.tokens.push_back(job.tokens.back());
    rows_.push_back(&job);
  }
  if (rows_.empty()) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(Logits logits, exec_->Run(batch_));
  for (size_t r = 0; r < rows_.size(); ++r) {
    ++rows_[r]->seq->num_draft_computed;
    Choose(*rows_[r], logits.row(static_cast<int64_t>(r)));
  }
  return Status::Ok();
}

void DraftModelDrafter::Choose(DraftJob& job, const float* logits) {
  const Sequence& q = *job.seq;
  const auto n_vocab = static_cast<size_t>(exec_->n_vocab());
  const std::span<const float> row(logits, n_vocab);
  history_.assign(q.generated().begin(), q.generated().end());
  history_.insert(history_.end(), job.tokens.begin(), job.tokens.end());
  const std::vector<uint8_t>* mask = nullptr;
  if (job.matcher) {
    ComputeTokenMask(*job.matcher, *job.trie, job.eos_id, mask_);
    mask = &mask_;
  }
  int32_t token;
  if (job.sampler->greedy()) {
    token = job.sampler->Sample(row, q.prompt(), history_, mask).token;
  } else {
    std::vector<float> probs;
    job.sampler->Distribution(row, q.prompt(), history_, mask, probs);
    token = job.sampler->DrawFrom(probs);
    job.probs.push_back(std::move(probs));
  }
  job.tokens.push_back(token);
  // A draft past the end of the text, or one the grammar cannot follow, is the last.
  const bool ends = token == job.eos_id || token == tokenizer_.eos_id();
  if (ends || (job.matcher && !job.matcher->Accept(tokenizer_.TokenBytes(token)))) job.k = static_cast<int64_t>(job.tokens.size());
}

}  // namespace strata
