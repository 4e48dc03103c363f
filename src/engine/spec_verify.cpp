#include "engine/spec_verify.h"

#include <algorithm>

namespace strata {

DraftVerdict VerifyDraft(Sampler& sampler, std::span<const float> logits, std::span<const int32_t> prompt,
                         std::span<const int32_t> generated, const std::vector<uint8_t>* allowed, int32_t draft,
                         std::span<const float> draft_probs) {
  DraftVerdict v;
  if (sampler.greedy()) {
    v.result = sampler.Sample(logits, prompt, generated, allowed);
    v.accepted = v.result.token == draft;
    return v;
  }
  std::vector<float> p;
  sampler.Distribution(logits, prompt, generated, allowed, p);
  const auto d = static_cast<size_t>(draft);
  const double pd = d < p.size() ? p[d] : 0.0;
  const double qd = draft_probs.empty() ? 1.0 : (d < draft_probs.size() ? draft_probs[d] : 0.0);
  // u < p/q, written without the division (q may be 0 for a token the draft could not have drawn).
  if (pd > 0 && sampler.Uniform() * qd < pd) {
    v.accepted = true;
    v.result = sampler.Describe(logits, draft);
    return v;
  }
  // The residual max(0, p - q); if it is empty (p == q up to rounding), p itself.
  std::vector<float> residual(p);
  double mass = 0;
  for (size_t i = 0; i < residual.size(); ++i) {
    const float q = draft_probs.empty() ? (i == d ? 1.0f : 0.0f) : (i < draft_probs.size() ? draft_probs[i] : 0.0f);
    residual[i] = std::max(0.0f, residual[i] - q);
    mass += residual[i];
  }
  v.result = sampler.Describe(logits, sampler.DrawFrom(mass > 0 ? std::span<const float>(residual) : std::span<const float>(p)));
  return v;
}

}  // namespace strata
