// The acceptance rule of speculative sampling (Leviathan et al. 2023; Chen et al. 2023) for one drafted
// position: with p the target's distribution there (what Sampler would draw from) and q the draft's, the draft
// x is kept with probability min(1, p(x) / q(x)); otherwise the token is drawn from max(0, p - q),
// renormalised. The emitted token is then distributed exactly as p. Greedy requests reduce this to "the draft
// equals the target's argmax".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/sampler.h"

namespace strata {

struct DraftVerdict {
  bool accepted = false;
  SampleResult result;  // the draft when accepted, else the token drawn in its place
};

// `logits`: the target's raw row at the drafted position; `prompt` / `generated`: the history before it (for the
// penalties); `allowed`: the structured-output mask or null; `draft_probs`: q, empty when the draft was
// deterministic (prompt lookup, or a greedy draft model), which counts as q = one-hot at the draft.
DraftVerdict VerifyDraft(Sampler& sampler, std::span<const float> logits, std::span<const int32_t> prompt,
                         std::span<const int32_t> generated, const std::vector<uint8_t>* allowed, int32_t draft,
                         std::span<const float> draft_probs);

}  // namespace strata
