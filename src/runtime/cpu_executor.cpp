#include "runtime/cpu_executor.h"

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

ir::KvCacheSpec WithContext(ir::KvCacheSpec spec, int64_t n_ctx) {
  if (n_ctx > 0) spec.n_ctx = n_ctx;
  return spec;
}

int64_t BoundNumel(const std::vector<int64_t>& shape, int64_t T, int64_t R) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d == ir::kSymTokens ? T : d == ir::kSymOutRows ? R : d;
  return n;
}

}  // namespace

CpuExecutor::CpuExecutor(const ir::Plan& plan, ThreadPool& pool, int64_t n_ctx)
    : plan_(plan), pool_(pool), kv_(WithContext(plan.kv, n_ctx)), buffers_(plan.nodes.size()) {
  n_vocab_ = plan.node(plan.output).shape.back();
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kEmbedding) n_embd_rows_ = plan.weights[static_cast<size_t>(n.weight)].tensor.dim(0);
}

Status CpuExecutor::CheckInput(std::span<const int32_t> tokens) const {
  if (tokens.empty()) return Status::InvalidArgument("no tokens to run");
  const int64_t vocab = n_embd_rows_;
  for (int32_t id : tokens)
    if (id < 0 || id >= vocab)
      return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                     std::to_string(vocab) + ")");
  const int64_t total = kv_.size() + static_cast<int64_t>(tokens.size());
  if (total > kv_.n_ctx())
    return Status::OutOfRange(std::to_string(tokens.size()) + " tokens after " + std::to_string(kv_.size()) +
                              " already in context exceed the context length " + std::to_string(kv_.n_ctx()));
  return Status::Ok();
}

void CpuExecutor::Bind(int64_t T, int64_t R) {
  R_ = R;
  for (const ir::Node& n : plan_.nodes) {
    if (n.op == ir::Op::kTokens) continue;
    auto& b = buffers_[static_cast<size_t>(n.id)];
    const auto need = static_cast<size_t>(BoundNumel(n.shape, T, R));
    if (b.size() < need) b.resize(need);
  }
}

Result<Logits> CpuExecutor::Forward(std::span<const int32_t> tokens, bool all_logits) {
  STRATA_RETURN_IF_ERROR(CheckInput(tokens));
  const auto T = static_cast<int64_t>(tokens.size());
  tokens_.assign(tokens.begin(), tokens.end());
  positions_.resize(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) positions_[static_cast<size_t>(t)] = static_cast<int32_t>(kv_.size() + t);
  Bind(T, all_logits ? T : 1);
  for (const ir::Node& n : plan_.nodes) RunNode(n, T);
  kv_.set_size(kv_.size() + T);
  return Logits{Buf(plan_.output), R_, n_vocab_};
}

void CpuExecutor::RunNode(const ir::Node& n, int64_t T) {
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
      return kernels::Embedding(*w, tokens_.data(), T, out, pool_);
    case ir::Op::kRmsNorm:
      return kernels::RmsNorm(in(0), w->data_as<float>(), out, rows, width, n.eps, pool_);
    case ir::Op::kMatMul:
      return kernels::MatMul(*w, in(0), out, rows, pool_);
    case ir::Op::kRope:
      std::memcpy(out, in(0), static_cast<size_t>(T * width) * sizeof(float));
      return kernels::Rope(out, T, width, n.head_dim, positions_.data(), n.rope_base, pool_);
    case ir::Op::kAttention: {
      const int64_t kv_dim = in_width(1);
      const auto row_bytes = static_cast<size_t>(kv_dim) * sizeof(float);
      std::memcpy(kv_.k(n.layer) + kv_.size() * kv_dim, in(1), static_cast<size_t>(T) * row_bytes);
      std::memcpy(kv_.v(n.layer) + kv_.size() * kv_dim, in(2), static_cast<size_t>(T) * row_bytes);
      return kernels::Attention(in(0), T, positions_.data(), kv_.k(n.layer), kv_.v(n.layer),
                                {n.n_heads, n.n_kv_heads, n.head_dim}, out, pool_);
    }
    case ir::Op::kAdd:
      return kernels::Add(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kMul:
      return kernels::Mul(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kSilu:
      return kernels::Silu(in(0), out, rows * width, pool_);
    case ir::Op::kLastRows:
      std::memcpy(out, in(0) + (T - R_) * width, static_cast<size_t>(R_ * width) * sizeof(float));
      return;
  }
}

}  // namespace strata
