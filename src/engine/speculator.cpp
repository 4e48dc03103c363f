#include "engine/speculator.h"

#include <algorithm>

#include "engine/draft_model_drafter.h"
#include "engine/ngram_drafter.h"

namespace strata {

const char* SpecMethodName(SpecConfig::Method m) {
  switch (m) {
    case SpecConfig::Method::kDraftModel: return "draft_model";
    case SpecConfig::Method::kNgram: return "ngram";
    case SpecConfig::Method::kNone: break;
  }
  return "none";
}

Status CheckSameVocabulary(const Tokenizer& target, const Tokenizer& draft) {
  if (target.n_vocab() != draft.n_vocab())
    return Status::InvalidArgument("the draft model's vocabulary has " + std::to_string(draft.n_vocab()) +
                                   " tokens, the target's " + std::to_string(target.n_vocab()));
  if (target.eos_id() != draft.eos_id())
    return Status::InvalidArgument("the draft model's end-of-sequence token is " + std::to_string(draft.eos_id()) +
                                   ", the target's " + std::to_string(target.eos_id()));
  for (int32_t id = 0; id < target.n_vocab(); ++id)
    if (target.TokenBytes(id) != draft.TokenBytes(id))
      return Status::InvalidArgument("the draft model's token " + std::to_string(id) +
                                     " differs from the target's: the vocabularies must be the same");
  return Status::Ok();
}

Result<std::unique_ptr<Speculator>> Speculator::Create(const SpecConfig& config, const Tokenizer& target,
                                                       int64_t n_vocab, int64_t num_blocks, int64_t block_size) {
  if (config.num_tokens < 1 || config.num_tokens > 64)
    return Status::InvalidArgument("--spec-tokens must be in [1, 64], got " + std::to_string(config.num_tokens));
  switch (config.method) {
    case SpecConfig::Method::kNgram:
      if (config.ngram_min < 1 || config.ngram_max < config.ngram_min)
        return Status::InvalidArgument("prompt lookup needs 1 <= --spec-ngram-min <= --spec-ngram-max");
      return std::unique_ptr<Speculator>(
          new Speculator(config, std::make_unique<NgramDrafter>(target, config.ngram_min, config.ngram_max), 0));
    case SpecConfig::Method::kDraftModel: {
      if (!config.draft.make || !config.draft_tokenizer) return Status::InvalidArgument("no draft model to run");
      STRATA_RETURN_IF_ERROR(CheckSameVocabulary(target, *config.draft_tokenizer));
      std::unique_ptr<StepExecutor> exec = config.draft.make(num_blocks, block_size);
      if (exec->n_vocab() != n_vocab)
        return Status::InvalidArgument("the draft model's logits are " + std::to_string(exec->n_vocab()) +
                                       " wide, the target's " + std::to_string(n_vocab));
      const int64_t bytes = exec->kv_cache_bytes();
      return std::unique_ptr<Speculator>(
          new Speculator(config, std::make_unique<DraftModelDrafter>(std::move(exec), target), bytes));
    }
    case SpecConfig::Method::kNone: break;
  }
  return Status::InvalidArgument("speculative decoding is off");
}

int32_t Speculator::Wanted(int32_t k, int64_t tokens_left) const {
  return static_cast<int32_t>(std::clamp<int64_t>(std::min<int64_t>(k, tokens_left - 1), 0, config_.num_tokens));
}

int32_t Speculator::Adapt(int32_t k, int64_t drafted, int64_t accepted) const {
  if (!config_.adaptive || drafted == 0) return k;
  return std::clamp(accepted == drafted ? k + 2 : k - 1, 1, config_.num_tokens);
}

}  // namespace strata
