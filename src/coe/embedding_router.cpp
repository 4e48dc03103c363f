#include "coe/embedding_router.h"

#include <cmath>

#include "compiler/plan_builder.h"

namespace strata::coe {

namespace {

void Normalize(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x = static_cast<float>(x / norm);
}

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
    Normalize(centroid);
    r->experts_.push_back(std::move(centroid));
  }
  return r;
}

// The unoptimised plan, so the residual stream entering the output head is a node of its own: the input of
// the logit-row gather (rows are gathered before the final norm).
Status EmbeddingRouter::Build(const std::filesystem::path& path, int threads) {
  auto model = Model::Load(path.string());
  if (!model.ok()) return Status(model.status().code(), "router model: " + model.status().message());
  model_ = std::move(*model);
  auto plan = ir::BuildPlan(*model_);
  if (!plan.ok()) return Status(plan.status().code(), "router model: " + plan.status().message());
  plan_ = std::move(*plan);
  for (const ir::Node& n : plan_.nodes)
    if (n.op == ir::Op::kGatherRows) pooled_node_ = n.inputs[0];
  if (pooled_node_ < 0) return Status::InvalidArgument("router model: its plan has no output head to stop before");
  dim_ = plan_.node(pooled_node_).shape.back();
  max_tokens_ = std::min<int64_t>(plan_.kv.n_ctx, 512);
  pool_ = std::make_unique<ThreadPool>(threads);
  exec_ = std::make_unique<PlanExecutor>(plan_, *pool_);
  const int64_t num_blocks = (max_tokens_ + block_size_ - 1) / block_size_;
  kv_ = std::make_unique<PagedKvCache>(exec_->MakeKvCache(num_blocks, block_size_));
  for (int32_t b = 0; b < num_blocks; ++b) blocks_.push_back(b);
  return Status::Ok();
}

Result<std::vector<float>> EmbeddingRouter::Embed(std::string_view text) {
  const Tokenizer& tok = model_->tokenizer();
  std::vector<int32_t> ids = tok.Encode(text, tok.add_bos());
  if (static_cast<int64_t>(ids.size()) > max_tokens_) ids.resize(static_cast<size_t>(max_tokens_));
  const int64_t first = tok.add_bos() && ids.size() > 1 ? 1 : 0;  // the BOS row is the same for every text
  std::vector<float> pooled(static_cast<size_t>(dim_), 0.0f);
  if (ids.empty()) return pooled;
  std::lock_guard lock(mu_);
  Batch batch;
  batch.tokens = ids;
  batch.seqs.push_back({.first_row = 0, .num_rows = static_cast<int64_t>(ids.size()), .start_pos = 0,
                        .block_table = blocks_, .want_logits = true});
  auto out = exec_->Run(batch, *kv_, pooled_node_);
  if (!out.ok()) return out.status();
  const float* rows = exec_->Output(pooled_node_);
  for (int64_t r = first; r < static_cast<int64_t>(ids.size()); ++r) {
    const float* row = rows + r * dim_;
    double ms = 0;
    for (int64_t i = 0; i < dim_; ++i) ms += static_cast<double>(row[i]) * row[i];
    const double inv = 1.0 / std::sqrt(ms / static_cast<double>(dim_) + 1e-6);
    for (int64_t i = 0; i < dim_; ++i) pooled[static_cast<size_t>(i)] += static_cast<float>(row[i] * inv);
  }
  Normalize(pooled);
  return pooled;
}

Result<std::vector<double>> EmbeddingRouter::Scores(std::string_view text) {
  auto v = Embed(text);
  if (!v.ok()) return v.status();
  std::vector<double> scores;
  for (const auto& e : experts_) scores.push_back(Dot(*v, e));
  return scores;
}

}  // namespace strata::coe
