#include "runtime/plan_executor.h"

#include <algorithm>
#include <cstring>

#include "runtime/kernels/attention.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/embedding.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/rms_norm.h"
#include "runtime/kernels/rope.h"

namespace strata {
namespace {

int64_t BoundNumel(const std::vector<int64_t>& shape, int64_t T, int64_t R) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d == ir::kSymTokens ? T : d == ir::kSymOutRows ? R : d;
  return n;
}

}  // namespace

PlanExecutor::PlanExecutor(const ir::Plan& plan, ThreadPool& pool)
    : plan_(plan), pool_(pool), buffers_(plan.nodes.size()) {
  n_vocab_ = plan.node(plan.output).shape.back();
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kEmbedding) n_embd_rows_ = plan.weights[static_cast<size_t>(n.weight)].tensor.dim(0);
}

PagedKvCache PlanExecutor::MakeKvCache(int64_t num_blocks, int64_t block_size) const {
  return PagedKvCache(plan_.kv.n_layers, num_blocks, block_size, plan_.kv.kv_dim);
}

Status PlanExecutor::CheckTokens(const std::vector<int32_t>& tokens) const {
  for (int32_t id : tokens)
    if (id < 0 || id >= n_embd_rows_)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                     std::to_string(n_embd_rows_) + ")");
  return Status::Ok();
}

void PlanExecutor::Bind(int64_t T, int64_t R) {
  R_ = R;
  for (const ir::Node& n : plan_.nodes) {
    if (n.op == ir::Op::kTokens) continue;
    auto& b = buffers_[static_cast<size_t>(n.id)];
    const auto need = static_cast<size_t>(BoundNumel(n.shape, T, R));
    if (b.size() < need) b.resize(need);
  }
}

Result<Logits> PlanExecutor::Run(const Batch& batch, PagedKvCache& kv) {
  if (kv.n_layers() != plan_.kv.n_layers || kv.kv_dim() != plan_.kv.kv_dim)
    return Status::InvalidArgument("KV cache shape does not match the plan");
  STRATA_RETURN_IF_ERROR(CheckTokens(batch.tokens));
  STRATA_RETURN_IF_ERROR(LayoutBatch(batch, kv.block_size(), kv.num_blocks(), layout_));
  const auto T = static_cast<int64_t>(batch.tokens.size());
  row_tables_.resize(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t)
    row_tables_[static_cast<size_t>(t)] = batch.seqs[static_cast<size_t>(layout_.row_seq[static_cast<size_t>(t)])].block_table.data();
  batch_ = &batch;
  Bind(T, static_cast<int64_t>(layout_.logit_rows.size()));
  for (const ir::Node& n : plan_.nodes) RunNode(n, T, kv);
  batch_ = nullptr;
  return Logits{Buf(plan_.output), R_, n_vocab_};
}

void PlanExecutor::RunNode(const ir::Node& n, int64_t T, PagedKvCache& kv) {
  auto in = [&](int i) { return Buf(n.inputs[static_cast<size_t>(i)]); };
  auto in_width = [&](int i) { return plan_.node(n.inputs[static_cast<size_t>(i)]).shape.back(); };
  const Tensor* w = n.weight >= 0 ? &plan_.weights[static_cast<size_t>(n.weight)].tensor : nullptr;
  float* out = n.op == ir::Op::kTokens ? nullptr : Buf(n.id);
  const int64_t rows = n.shape[0] == ir::kSymOutRows ? R_ : T;
  const int64_t width = n.shape.back();
  switch (n.op) {
    case ir::Op::kTokens:
      return;
    case ir::Op::kEmbedding:
      return kernels::Embedding(*w, batch_->tokens.data(), T, out, pool_);
    case ir::Op::kRmsNorm:
      return kernels::RmsNorm(in(0), w->data_as<float>(), out, rows, width, n.eps, pool_);
    case ir::Op::kMatMul:
      return kernels::MatMul(*w, in(0), out, rows, pool_);
    case ir::Op::kRope:
      std::memcpy(out, in(0), static_cast<size_t>(T * width) * sizeof(float));
      return kernels::Rope(out, T, width, n.head_dim, layout_.positions.data(), n.rope_base, pool_);
    case ir::Op::kAttention: {
      const int64_t kv_dim = in_width(1);
      const auto row_bytes = static_cast<size_t>(kv_dim) * sizeof(float);
      for (int64_t t = 0; t < T; ++t) {
        const int64_t slot = layout_.slots[static_cast<size_t>(t)];
        std::memcpy(kv.k(n.layer, slot), in(1) + t * kv_dim, row_bytes);
        std::memcpy(kv.v(n.layer, slot), in(2) + t * kv_dim, row_bytes);
      }
      const kernels::PagedKvView view{kv.k_layer(n.layer), kv.v_layer(n.layer), kv.block_size(), row_tables_.data()};
      return kernels::Attention(in(0), T, layout_.positions.data(), view, {n.n_heads, n.n_kv_heads, n.head_dim},
                                out, pool_);
    }
    case ir::Op::kAdd:
      return kernels::Add(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kMul:
      return kernels::Mul(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kSilu:
      return kernels::Silu(in(0), out, rows * width, pool_);
    case ir::Op::kGatherRows:
      for (int64_t r = 0; r < R_; ++r)
        std::memcpy(out + r * width, in(0) + layout_.logit_rows[static_cast<size_t>(r)] * width,
                    static_cast<size_t>(width) * sizeof(float));
      return;
  }
}

}  // namespace strata
