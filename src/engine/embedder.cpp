#include "engine/embedder.h"

#include <cmath>

namespace strata {
namespace {

int64_t BlocksFor(int64_t tokens, int64_t block_size) { return (tokens + block_size - 1) / block_size; }

// Adds the RMS-normalised `row` to `sum`.
void AddNormalizedRow(const float* row, int64_t dim, std::vector<float>& sum) {
  double ms = 0;
  for (int64_t i = 0; i < dim; ++i) ms += static_cast<double>(row[i]) * row[i];
  const double inv = 1.0 / std::sqrt(ms / static_cast<double>(dim) + 1e-6);
  for (int64_t i = 0; i < dim; ++i) sum[static_cast<size_t>(i)] += static_cast<float>(row[i] * inv);
}

}  // namespace

void NormalizeL2(std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& x : v) x = static_cast<float>(x / norm);
}

Result<Pooling> ParsePooling(std::string_view name) {
  if (name == "mean") return Pooling::kMean;
  if (name == "last") return Pooling::kLast;
  return Status::InvalidArgument("pooling '" + std::string(name) + "': expected mean or last");
}

const char* PoolingName(Pooling p) { return p == Pooling::kMean ? "mean" : "last"; }

Result<std::unique_ptr<Embedder>> Embedder::Create(std::unique_ptr<PlanExecutor> exec, int64_t max_tokens) {
  if (max_tokens <= 0) return Status::InvalidArgument("embeddings need room for at least one token");
  std::unique_ptr<Embedder> e(new Embedder());
  const ir::Plan& plan = exec->plan();
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kGatherRows) e->pooled_node_ = n.inputs[0];
  if (e->pooled_node_ < 0 || plan.parallel.size > 1)
    return Status::Unsupported("embeddings need the whole model's plan with its output head in one process");
  e->dim_ = plan.node(e->pooled_node_).shape.back();
  e->max_tokens_ = max_tokens;
  // A partly filled block per sequence besides the full ones: room for many short inputs in one batch.
  const int64_t num_blocks = BlocksFor(max_tokens, kBlockSize) + 64;
  e->kv_ = std::make_unique<PagedKvCache>(exec->MakeKvCache(num_blocks, kBlockSize));
  for (int32_t b = 0; b < num_blocks; ++b) e->blocks_.push_back(b);
  e->exec_ = std::move(exec);
  return e;
}

Result<std::vector<std::vector<float>>> Embedder::Embed(std::span<const std::vector<int32_t>> inputs,
                                                       Pooling pooling, int64_t skip_first) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int64_t n = static_cast<int64_t>(inputs[i].size());
    if (n == 0) return Status::InvalidArgument("input " + std::to_string(i) + " is empty");
    if (n > max_tokens_)
      return Status::InvalidArgument("input " + std::to_string(i) + " is " + std::to_string(n) +
                                     " tokens; embeddings take at most " + std::to_string(max_tokens_));
  }
  std::vector<std::vector<float>> out;
  out.reserve(inputs.size());
  // As many inputs a batch as its tokens and the cache's blocks allow.
  size_t begin = 0;
  while (begin < inputs.size()) {
    size_t end = begin;
    int64_t tokens = 0, blocks = 0;
    while (end < inputs.size()) {
      const int64_t n = static_cast<int64_t>(inputs[end].size());
      if (end > begin && (tokens + n > max_tokens_ || blocks + BlocksFor(n, kBlockSize) > std::ssize(blocks_))) break;
      tokens += n, blocks += BlocksFor(n, kBlockSize), ++end;
    }
    STRATA_RETURN_IF_ERROR(RunBatch(inputs.subspan(begin, end - begin), pooling, skip_first, out));
    begin = end;
  }
  return out;
}

Status Embedder::RunBatch(std::span<const std::vector<int32_t>> inputs, Pooling pooling, int64_t skip_first,
                          std::vector<std::vector<float>>& out) {
  Batch batch;
  int64_t block = 0;
  for (const std::vector<int32_t>& ids : inputs) {
    const int64_t n = static_cast<int64_t>(ids.size());
    const int64_t nb = BlocksFor(n, kBlockSize);
    batch.seqs.push_back({.first_row = static_cast<int64_t>(batch.tokens.size()), .num_rows = n, .start_pos = 0,
                          .block_table = std::span<const int32_t>(blocks_).subspan(static_cast<size_t>(block),
                                                                                   static_cast<size_t>(nb)),
                          .want_logits = false});  // the run stops before the head: no logit rows to plan
    batch.tokens.insert(batch.tokens.end(), ids.begin(), ids.end());
    block += nb;
  }
  auto run = exec_->Run(batch, *kv_, pooled_node_);
  if (!run.ok()) return run.status();
  const float* rows = exec_->Output(pooled_node_);
  for (const BatchSequence& s : batch.seqs) {
    std::vector<float> v(static_cast<size_t>(dim_), 0.0f);
    const int64_t first = pooling == Pooling::kLast ? s.num_rows - 1 : std::min(skip_first, s.num_rows - 1);
    for (int64_t r = first; r < s.num_rows; ++r) AddNormalizedRow(rows + (s.first_row + r) * dim_, dim_, v);
    NormalizeL2(v);
    out.push_back(std::move(v));
  }
  return Status::Ok();
}

}  // namespace strata
