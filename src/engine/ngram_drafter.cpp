#include "engine/ngram_drafter.h"

#include <algorithm>

namespace strata {

NgramDrafter::NgramDrafter(const Tokenizer& tokenizer, int ngram_min, int ngram_max)
    : tokenizer_(tokenizer), ngram_min_(std::max(1, ngram_min)), ngram_max_(std::max(ngram_min_, ngram_max)) {}

std::vector<int32_t> NgramDrafter::Lookup(std::span<const int32_t> tokens, int ngram_min, int ngram_max, int64_t k) {
  const auto size = static_cast<int64_t>(tokens.size());
  for (int64_t n = std::min<int64_t>(ngram_max, size - 1); n >= ngram_min; --n) {
    const auto suffix = tokens.subspan(static_cast<size_t>(size - n));
    // Latest start j < size - n whose n tokens equal the suffix and that has at least one token after it.
    for (int64_t j = size - n - 1; j >= 0; --j) {
      if (!std::equal(suffix.begin(), suffix.end(), tokens.begin() + j)) continue;
      const int64_t from = j + n, to = std::min(size, from + k);
      return {tokens.begin() + from, tokens.begin() + to};
    }
  }
  return {};
}

Status NgramDrafter::Propose(const SchedulerOutput&, std::span<DraftJob> jobs) {
  for (DraftJob& job : jobs) {
    job.tokens = Lookup(job.seq->tokens, ngram_min_, ngram_max_, job.k);
    job.probs.clear();
    if (!job.matcher) continue;
    // Structured output: keep the drafts up to the first that leaves the grammar (or ends the text).
    size_t keep = 0;
    for (; keep < job.tokens.size() && job.tokens[keep] != job.eos_id; ++keep) {
      const std::string bytes = tokenizer_.TokenBytes(job.tokens[keep]);
      if (bytes.empty() || !job.matcher->Accept(bytes)) break;  // control tokens never fit a grammar
    }
    job.tokens.resize(keep);
  }
  return Status::Ok();
}

}  // namespace strata
