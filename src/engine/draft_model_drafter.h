// Drafts from a small model with the target's vocabulary. The draft model keeps its own KV cache with the
// target's geometry (same number of blocks of the same size), so every sequence's block table serves both:
// the draft follows each step of the target (prefill chunks included) and then runs k single-token steps for
// the sequences that want drafts, all batched. Its cached length per sequence is Sequence::num_draft_computed;
// the engine lowers it after a rejection, so rejected drafts are overwritten like the target's.
#pragma once

#include <memory>
#include <unordered_map>

#include "engine/drafter.h"
#include "model/tokenizer.h"
#include "runtime/step_executor.h"

namespace strata {

class DraftModelDrafter final : public Drafter {
 public:
  // `exec` runs the draft model over a cache of the target's geometry; `tokenizer` (the target's) must outlive
  // the drafter.
  DraftModelDrafter(std::unique_ptr<StepExecutor> exec, const Tokenizer& tokenizer);
  Status Propose(const SchedulerOutput& step, std::span<DraftJob> jobs) override;
  const char* name() const override { return "draft_model"; }
  int64_t kv_cache_bytes() const { return exec_->kv_cache_bytes(); }

 private:
  Status CatchUp(const SchedulerOutput& step, std::span<DraftJob> jobs);
  Status DraftStep(std::span<DraftJob> jobs, int64_t step);
  // Draws job's next draft from a logits row (penalties, the grammar's mask and the request's sampling).
  void Choose(DraftJob& job, const float* logits);

  std::unique_ptr<StepExecutor> exec_;
  const Tokenizer& tokenizer_;
  Batch batch_;
  std::vector<DraftJob*> rows_;         // the job behind each logits row of the last run
  std::unordered_map<const Sequence*, DraftJob*> job_of_;
  std::vector<int32_t> history_;        // generated tokens and drafts so far (for the penalties)
  std::vector<uint8_t> mask_;
};

}  // namespace strata
