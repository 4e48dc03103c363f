#include "runtime/plan_executor.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "compiler/op_cost.h"
#include "runtime/kernels/attention.h"
#include "runtime/kernels/elementwise.h"
#include "runtime/kernels/embedding.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/kernels/rms_norm.h"
#include "runtime/kernels/rope.h"
#include "runtime/profiler.h"

namespace strata {
namespace {

int64_t RoundUp(int64_t x) { return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(x, 1)))); }

Track TrackOf(const ir::Node& n) {
  if (n.op == ir::Op::kCopy) return Track::kCopies;
  if (n.op == ir::Op::kAllReduce || n.op == ir::Op::kAllGather) return Track::kCollectives;
  return n.placement == ir::Placement::kHost ? Track::kHost : Track::kCompute;
}

}  // namespace

PlanExecutor::PlanExecutor(const ir::Plan& plan, ThreadPool& pool, Collectives* collectives)
    : plan_(plan), pool_(pool), collectives_(collectives) {
  n_vocab_ = plan.node(plan.output).shape.back();
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kEmbedding) n_embd_rows_ = plan.weight(n.weight).dim(0);
  PackWeights();
}

// Q8_0 / Q4_0 / Q4_K / Q6_K projection weights are repacked once for the integer kernels
// (kernels/quant_matmul.h); the repacked copy is what every step reads. Others (and every weight when the integer path is off) stay as they
// are for MatMul.
void PlanExecutor::PackWeights() {
  packed_.resize(plan_.weights.size());
  for (const ir::Node& n : plan_.nodes) {
    if (n.op != ir::Op::kMatMul && n.op != ir::Op::kSwiGLU) continue;
    for (int w : {n.weight, n.weight2})
      if (w >= 0 && !packed_[static_cast<size_t>(w)]) packed_[static_cast<size_t>(w)] = kernels::PackedWeight::Pack(plan_.weight(w));
  }
}

void PlanExecutor::MatMul(int weight, const float* x, float* y, int64_t rows) {
  if (const kernels::PackedWeight* p = packed_[static_cast<size_t>(weight)].get())
    return kernels::QuantMatMul(*p, x, y, rows, pool_);
  kernels::MatMul(plan_.weight(weight), x, y, rows, pool_);
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

// Plans memory for the binding rounded up to powers of two, so decode steps of a growing context and prefill
// chunks of similar size reuse one plan; the arena grows to the largest plan used.
void PlanExecutor::Bind(const ir::Binding& b) {
  binding_ = b;
  const ir::Binding key{RoundUp(b.tokens), RoundUp(b.out_rows), RoundUp(b.context)};
  auto it = plans_.find({key.tokens, key.out_rows, key.context});
  if (it == plans_.end())
    it = plans_.emplace(std::make_tuple(key.tokens, key.out_rows, key.context),
                        ir::PlanMemory(plan_, key, ir::ScratchBytes(plan_, key))).first;
  mp_ = &it->second;
  const auto need = static_cast<size_t>(mp_->arena_bytes / static_cast<int64_t>(sizeof(float))) + 16;
  if (arena_.size() < need) {
    arena_.assign(need, 0.0f);
    const auto addr = reinterpret_cast<uintptr_t>(arena_.data());
    arena_base_ = arena_.data() + ((64 - addr % 64) % 64) / sizeof(float);
  }
}

Result<Logits> PlanExecutor::Run(const Batch& batch, PagedKvCache& kv, int stop_after) {
  if (kv.n_layers() != plan_.kv.n_layers || kv.kv_dim() != plan_.kv.kv_dim)
    return Status::InvalidArgument("KV cache shape does not match the plan");
  STRATA_RETURN_IF_ERROR(CheckTokens(batch.tokens));
  STRATA_RETURN_IF_ERROR(LayoutBatch(batch, kv.block_size(), kv.num_blocks(), layout_));
  const auto T = static_cast<int64_t>(batch.tokens.size());
  row_tables_.resize(static_cast<size_t>(T));
  int64_t context = 1;
  for (int64_t t = 0; t < T; ++t) {
    row_tables_[static_cast<size_t>(t)] = batch.seqs[static_cast<size_t>(layout_.row_seq[static_cast<size_t>(t)])].block_table.data();
    context = std::max<int64_t>(context, layout_.positions[static_cast<size_t>(t)] + 1);
  }
  batch_ = &batch;
  block_size_ = kv.block_size();
  Bind({T, static_cast<int64_t>(layout_.logit_rows.size()), context});
  TraceScope step(Track::kCompute, plan_.parallel.rank, "step");
  if (step.on())
    step.set_args("\"tokens\":" + std::to_string(T) + ",\"sequences\":" + std::to_string(batch.seqs.size()) +
                  ",\"context\":" + std::to_string(context));
  Profiler* prof = Profiler::active();
  for (const ir::Node& n : plan_.nodes) {
    const int64_t begin = prof ? Profiler::NowUs() : 0;
    RunNode(n, kv);
    if (prof) TraceNode(n, begin);
    if (n.id == stop_after) break;
  }
  batch_ = nullptr;
  return Logits{Buf(plan_.output), binding_.out_rows, n_vocab_};
}

void PlanExecutor::TraceNode(const ir::Node& n, int64_t begin_us) {
  if (n.op == ir::Op::kTokens) return;
  const ir::OpCost c = ir::EstimateOpCost(plan_, n, binding_);
  std::string name = ir::NodeLabel(n);
  if (n.placement == ir::Placement::kHost && n.op != ir::Op::kCopy) name += " (host fallback)";
  Profiler::active()->Slice(TrackOf(n), plan_.parallel.rank, name, begin_us, Profiler::NowUs(),
                            "\"node\":\"" + n.name + "\",\"bytes\":" + std::to_string(c.bytes()) +
                                ",\"flops\":" + std::to_string(c.flops));
}

// MatMul and SwiGLU with whatever was fused into them: an RMSNorm of the input before, RoPE and a residual
// add after. Each part runs the same kernel as its unfused op, so fusion does not change the numbers.
void PlanExecutor::RunLinear(const ir::Node& n) {
  const ir::Node& x_node = plan_.node(n.inputs[0]);
  const float* x = Buf(x_node.id);
  const int64_t rows = Rows(n), k = x_node.shape.back(), width = n.shape.back();
  float* out = Buf(n.id);
  float* scratch = Scratch(n.id);
  if (n.norm_weight >= 0) {
    kernels::RmsNorm(x, plan_.weight(n.norm_weight).data_as<float>(), scratch, rows, k, n.eps, pool_);
    x = scratch;
    scratch += rows * k;
  }
  MatMul(n.weight, x, out, rows);
  if (n.op == ir::Op::kSwiGLU) {
    MatMul(n.weight2, x, scratch, rows);
    kernels::Silu(out, out, rows * width, pool_);
    kernels::Mul(out, scratch, out, rows * width, pool_);
  }
  if (n.rope)
    kernels::Rope(out, rows, width, {.head_dim = n.head_dim, .rope_dim = n.head_dim, .base = n.rope_base},
                  layout_.positions.data(), pool_);
  if (n.residual) kernels::Add(Buf(n.inputs.back()), out, out, rows * width, pool_);
}

void PlanExecutor::RunNode(const ir::Node& n, PagedKvCache& kv) {
  auto in = [&](int i) { return Buf(n.inputs[static_cast<size_t>(i)]); };
  auto in_width = [&](int i) { return plan_.node(n.inputs[static_cast<size_t>(i)]).shape.back(); };
  const Tensor* w = n.weight >= 0 ? &plan_.weight(n.weight) : nullptr;
  if (n.op == ir::Op::kTokens) return;
  float* out = n.op == ir::Op::kKvStore ? nullptr : Buf(n.id);
  const int64_t T = binding_.tokens, C = binding_.context;
  const int64_t rows = n.op == ir::Op::kKvStore ? T : Rows(n);
  const int64_t width = n.shape.back();
  const kernels::PagedKvView view{kv.k_layer(std::max(n.layer, 0)), kv.v_layer(std::max(n.layer, 0)), block_size_,
                                  row_tables_.data()};
  const kernels::AttentionShape heads{n.n_heads, n.n_kv_heads, n.head_dim};
  auto store_kv = [&](const float* k, const float* v) {
    const auto row_bytes = static_cast<size_t>(plan_.kv.kv_dim) * sizeof(float);
    for (int64_t t = 0; t < T; ++t) {
      const int64_t slot = layout_.slots[static_cast<size_t>(t)];
      std::memcpy(kv.k(n.layer, slot), k + t * plan_.kv.kv_dim, row_bytes);
      std::memcpy(kv.v(n.layer, slot), v + t * plan_.kv.kv_dim, row_bytes);
    }
  };
  switch (n.op) {
    case ir::Op::kTokens:
      return;
    case ir::Op::kEmbedding:
      return kernels::Embedding(*w, batch_->tokens.data(), T, out, pool_);
    case ir::Op::kRmsNorm:
      return kernels::RmsNorm(in(0), w->data_as<float>(), out, rows, width, n.eps, pool_);
    case ir::Op::kMatMul: case ir::Op::kSwiGLU:
      return RunLinear(n);
    case ir::Op::kRope:
      std::memcpy(out, in(0), static_cast<size_t>(rows * width) * sizeof(float));
      return kernels::Rope(out, rows, width, {.head_dim = n.head_dim, .rope_dim = n.head_dim, .base = n.rope_base},
                           layout_.positions.data(), pool_);
    case ir::Op::kKvStore:
      return store_kv(in(0), in(1));
    case ir::Op::kAttnScores:
      return kernels::AttnScores(in(0), T, layout_.positions.data(), view, heads, C, out, pool_);
    case ir::Op::kSoftmax:
      return kernels::CausalSoftmax(in(0), T, n.shape[1], C, layout_.positions.data(), /*window=*/0, out, pool_);
    case ir::Op::kAttnValues:
      return kernels::AttnValues(in(0), T, layout_.positions.data(), view, heads, C, out, pool_);
    case ir::Op::kAttention:
      store_kv(in(1), in(2));
      return kernels::Attention(in(0), T, layout_.positions.data(), view, heads, out, pool_);
    case ir::Op::kAdd:
      return kernels::Add(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kMul:
      return kernels::Mul(in(0), in(1), out, rows * width, pool_);
    case ir::Op::kSilu:
      return kernels::Silu(in(0), out, rows * width, pool_);
    case ir::Op::kGatherRows:
      for (int64_t r = 0; r < binding_.out_rows; ++r)
        std::memcpy(out + r * width, in(0) + layout_.logit_rows[static_cast<size_t>(r)] * width,
                    static_cast<size_t>(width) * sizeof(float));
      return;
    case ir::Op::kCopy:
      std::memcpy(out, in(0), static_cast<size_t>(binding_.Numel(n.shape)) * sizeof(float));
      return;
    case ir::Op::kAllReduce:
      return collectives_->AllReduceSum(plan_.parallel.rank, in(0), out, rows * width);
    case ir::Op::kAllGather:
      return collectives_->AllGather(plan_.parallel.rank, in(0), rows, in_width(0), out);
  }
}

}  // namespace strata
