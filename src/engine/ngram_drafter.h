// Prompt lookup decoding (Saxena 2023; vLLM's "ngram" method): the drafts are the tokens that followed the
// latest earlier occurrence of the sequence's last n tokens, trying n from ngram_max down to ngram_min. No
// second model: it pays off where output repeats its input (editing code, quoting, extracting).
#pragma once

#include "engine/drafter.h"
#include "model/tokenizer.h"

namespace strata {

class NgramDrafter final : public Drafter {
 public:
  // `tokenizer` (for the token bytes that structured output checks) must outlive the drafter.
  NgramDrafter(const Tokenizer& tokenizer, int ngram_min, int ngram_max);
  Status Propose(const SchedulerOutput& step, std::span<DraftJob> jobs) override;
  const char* name() const override { return "ngram"; }

  // The lookup alone: up to k tokens following the latest earlier match of `tokens`' last n tokens.
  static std::vector<int32_t> Lookup(std::span<const int32_t> tokens, int ngram_min, int ngram_max, int64_t k);

 private:
  const Tokenizer& tokenizer_;
  int ngram_min_, ngram_max_;
};

}  // namespace strata
