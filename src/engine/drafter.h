// Where speculative decoding's drafts come from. Each step the engine asks the drafter for up to k tokens that
// may follow each decoding sequence; the target model then checks them all in one batched step
// (engine/speculator.h). Two kinds: a small draft model with the same vocabulary (draft_model_drafter.h) and
// prompt lookup, which copies what followed an earlier occurrence of the sequence's last tokens
// (ngram_drafter.h).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/status.h"
#include "engine/json_matcher.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "engine/sequence.h"

namespace strata {

class TokenTrie;

// One sequence that wants drafts this step. Its tokens end with the token sampled last, which the target
// computes in this step together with the drafts.
struct DraftJob {
  Sequence* seq = nullptr;
  int64_t k = 0;                // at most this many drafts (>= 1)
  Sampler* sampler = nullptr;   // the draft model samples with the request's parameters on its own generator
  // Structured output: the request's grammar state after its tokens (a copy the drafter may advance), the
  // vocabulary trie and EOS; drafts that leave the grammar are cut. Null for free text.
  std::unique_ptr<JsonMatcher> matcher;
  const TokenTrie* trie = nullptr;
  int32_t eos_id = -1;

  // Filled by the drafter: the drafts, and for each the distribution it was drawn from (empty when drafts are
  // deterministic: greedy, or copied from the text; the verifier then treats it as one-hot).
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> probs;
};

class Drafter {
 public:
  virtual ~Drafter() = default;
  // Called once per engine step before the target runs, with everything the target runs in that step (a
  // drafter with a cache of its own follows it) and the jobs among them that want drafts.
  [[nodiscard]] virtual Status Propose(const SchedulerOutput& step, std::span<DraftJob> jobs) = 0;
  virtual const char* name() const = 0;
};

}  // namespace strata
