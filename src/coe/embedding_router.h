// The router with a model: a small GGUF model (any architecture the compiler builds) embeds the text (an
// Embedder: the final residual stream, each row RMS-normalised, the rows averaged with the BOS row left out). An expert is the normalised mean of its texts' embeddings; the
// prompt goes to the expert of highest cosine similarity. One forward pass per prompt, serialised by a mutex
// (the router has one KV cache), on its own thread pool.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "coe/expert_router.h"
#include "compiler/ir.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "engine/embedder.h"

namespace strata::coe {

class EmbeddingRouter final : public ExpertRouter {
 public:
  static Result<std::unique_ptr<EmbeddingRouter>> Create(const std::filesystem::path& model,
                                                         const std::vector<ExpertSpec>& experts, int threads);
  Result<std::vector<double>> Scores(std::string_view text) override;
  const char* method() const override { return "embedding"; }
  // The mean-pooled, L2-normalised embedding of `text` (at most max_tokens() tokens of it are read).
  Result<std::vector<float>> Embed(std::string_view text);
  int64_t max_tokens() const { return max_tokens_; }

 private:
  EmbeddingRouter() = default;
  Status Build(const std::filesystem::path& model, int threads);

  std::unique_ptr<Model> model_;
  ir::Plan plan_;
  int64_t dim_ = 0, max_tokens_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Embedder> embedder_;
  std::vector<std::vector<float>> experts_;
  std::mutex mu_;
};

}  // namespace strata::coe
