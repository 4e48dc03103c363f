// Embeddings from a language model's plan: the texts run through the plan up to the residual stream entering
// the output head (the input of its logit-row gather), each row is RMS-normalised (the final norm, without its
// learned scale) and the rows are pooled: their mean, or the last one. The result is L2-normalised, so cosine
// similarity is a dot product. Several inputs run in one batch, each its own sequence, in a small KV cache of
// the embedder's own; the weights are the executor's (a twin shares its packed copy).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/plan_executor.h"

namespace strata {

enum class Pooling { kMean, kLast };

// "mean" or "last".
Result<Pooling> ParsePooling(std::string_view name);
const char* PoolingName(Pooling p);
// Scales `v` to unit length (a zero vector stays zero).
void NormalizeL2(std::vector<float>& v);

class Embedder {
 public:
  // Runs on `exec` (which it keeps), with room for `max_tokens` tokens in one batch: the longest input.
  static Result<std::unique_ptr<Embedder>> Create(std::unique_ptr<PlanExecutor> exec, int64_t max_tokens);

  // One unit vector per input. `skip_first` rows of each input are left out of the mean (a BOS row, the same for
  // every text). An empty input, or one over max_tokens(), is an error and nothing runs.
  Result<std::vector<std::vector<float>>> Embed(std::span<const std::vector<int32_t>> inputs, Pooling pooling,
                                                int64_t skip_first = 0);

  int64_t dim() const { return dim_; }
  int64_t max_tokens() const { return max_tokens_; }

 private:
  Embedder() = default;
  // Inputs [begin, end) in one batch.
  Status RunBatch(std::span<const std::vector<int32_t>> inputs, Pooling pooling, int64_t skip_first,
                  std::vector<std::vector<float>>& out);

  static constexpr int64_t kBlockSize = 16;
  std::unique_ptr<PlanExecutor> exec_;
  std::unique_ptr<PagedKvCache> kv_;
  std::vector<int32_t> blocks_;  // 0, 1, 2, ...: sequences of one batch take consecutive runs of them
  int pooled_node_ = -1;
  int64_t dim_ = 0, max_tokens_ = 0;
};

}  // namespace strata
