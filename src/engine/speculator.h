// Speculative decoding in the engine: which drafter runs, how many drafts each sequence asks for (k adapts to
// its acceptance: +2 after a step that kept every draft, -1 otherwise, within 1..num_tokens, the rule of
// Hugging Face's assisted generation), and the vocabulary check of a draft model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "core/status.h"
#include "engine/drafter.h"
#include "engine/spec_config.h"
#include "model/tokenizer.h"

namespace strata {

class Speculator {
 public:
  // The drafter for `config`: a draft model over a KV cache of num_blocks x block_size (its vocabulary must be
  // the target's: same size, same token bytes, same EOS; its logits n_vocab wide), or prompt lookup.
  static Result<std::unique_ptr<Speculator>> Create(const SpecConfig& config, const Tokenizer& target, int64_t n_vocab,
                                                    int64_t num_blocks, int64_t block_size);

  // Drafts to ask for: the sequence's current k, bounded so that the step's tokens (accepted drafts plus one)
  // never exceed `tokens_left`, what the request may still produce.
  int32_t Wanted(int32_t k, int64_t tokens_left) const;
  // The sequence's k after a step that kept `accepted` of `drafted` drafts.
  int32_t Adapt(int32_t k, int64_t drafted, int64_t accepted) const;
  int32_t initial_k() const { return config_.num_tokens; }

  [[nodiscard]] Status Propose(const SchedulerOutput& step, std::span<DraftJob> jobs) { return drafter_->Propose(step, jobs); }
  const SpecConfig& config() const { return config_; }
  const char* drafter_name() const { return drafter_->name(); }
  int64_t draft_kv_cache_bytes() const { return draft_kv_bytes_; }

 private:
  Speculator(const SpecConfig& config, std::unique_ptr<Drafter> drafter, int64_t draft_kv_bytes)
      : config_(config), drafter_(std::move(drafter)), draft_kv_bytes_(draft_kv_bytes) {}

  SpecConfig config_;
  std::unique_ptr<Drafter> drafter_;
  int64_t draft_kv_bytes_ = 0;
};

// Whether `draft` can draft for `target`: the same ids mean the same bytes (what speculative decoding needs).
Status CheckSameVocabulary(const Tokenizer& target, const Tokenizer& draft);

}  // namespace strata
