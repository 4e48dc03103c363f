#include "coe/embedding_router.h"

#include <cmath>

#include "compiler/plan_builder.h"

namespace strata::coe {

namespace {

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot;
}

}  // namespace

Result<std::unique_ptr<EmbeddingRouter>> EmbeddingRouter::Create(const std::filesystem::path& model,
                                                                  const std::vector<ExpertSpec>& experts,
                                                                  int threads) {
  std::unique_ptr<EmbeddingRouter> r(new EmbeddingRouter());
  STRATA_RETURN_IF_ERROR(r->Build(model, threads));
  for (const ExpertSpec& e : experts) {
    std::vector<float> centroid(static_cast<size_t>(r->dim_), 0.0f);
    for (const std::string& t : ExpertTexts(e)) {
      auto v = r->Embed(t);
      if (!v.ok()) return Status(v.status().code(), "router: expert '" + e.name + "': " + v.status().message());
      for (size_t i = 0; i < centroid.size(); ++i) centroid[i] += (*v)[i];
    }
    NormalizeL2(centroid);
    r->experts_.push_back(std::move(centroid));
  }
  return r;
}

Status EmbeddingRouter::Build(const std::filesystem::path& path, int threads) {
  auto model = Model::Load(path.string());
  if (!model.ok()) return Status(model.status().code(), "router model: " + model.status().message());
  model_ = std::move(*model);
  auto plan = ir::BuildPlan(*model_);
  if (!plan.ok()) return Status(plan.status().code(), "router model: " + plan.status().message());
  plan_ = std::move(*plan);
  max_tokens_ = std::min<int64_t>(plan_.kv.n_ctx, 512);
  pool_ = std::make_unique<ThreadPool>(threads);
  auto embedder = Embedder::Create(std::make_unique<PlanExecutor>(plan_, *pool_), max_tokens_);
  if (!embedder.ok()) return Status(embedder.status().code(), "router model: " + embedder.status().message());
  embedder_ = std::move(*embedder);
  dim_ = embedder_->dim();
  return Status::Ok();
}

Result<std::vector<float>> EmbeddingRouter::Embed(std::string_view text) {
  const Tokenizer& tok = model_->tokenizer();
  std::vector<int32_t> ids = tok.Encode(text, tok.add_bos());
  if (static_cast<int64_t>(ids.size()) > max_tokens_) ids.resize(static_cast<size_t>(max_tokens_));
  if (ids.empty()) return std::vector<float>(static_cast<size_t>(dim_), 0.0f);
  std::lock_guard lock(mu_);
  // The BOS row is the same for every text: left out of the mean.
  STRATA_ASSIGN_OR_RETURN(auto v, embedder_->Embed(std::span(&ids, 1), Pooling::kMean, tok.add_bos() ? 1 : 0));
  return std::move(v[0]);
}

Result<std::vector<double>> EmbeddingRouter::Scores(std::string_view text) {
  auto v = Embed(text);
  if (!v.ok()) return v.status();
  std::vector<double> scores;
  for (const auto& e : experts_) scores.push_back(Dot(*v, e));
  return scores;
}

}  // namespace strata::coe
