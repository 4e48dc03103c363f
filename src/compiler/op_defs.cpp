#include "compiler/op_defs.h"

#include <algorithm>
#include <array>

namespace strata::ir {
namespace {

using Shape = std::vector<int64_t>;
const Node& In(const Plan& p, const Node& n, int i) { return p.node(n.inputs[static_cast<size_t>(i)]); }
const Tensor& W(const Plan& p, int w) { return p.weight(w); }

Status CheckAttentionWidths(const Node& n, const Node& q, int64_t kv_width) {
  if (q.shape.back() != n.n_heads * n.head_dim || kv_width != n.n_kv_heads * n.head_dim || n.n_kv_heads <= 0 ||
      n.n_heads % n.n_kv_heads != 0)
    return NodeError(n, "q/k/v widths do not match heads x head_dim");
  return Status::Ok();
}

Result<Shape> SameAsInput(const Plan& p, const Node& n) { return In(p, n, 0).shape; }

Result<Shape> TokensShape(const Plan&, const Node&) { return Shape{kSymTokens}; }
// The received activations' width is the node's own attribute: there is no input to derive it from.
Result<Shape> StageInputShape(const Plan&, const Node& n) {
  if (n.shape.size() != 2 || n.shape[0] != kSymTokens || n.shape[1] <= 0) return NodeError(n, "expects [T, width > 0]");
  return n.shape;
}
Result<Shape> EmbeddingShape(const Plan& p, const Node& n) { return Shape{In(p, n, 0).shape[0], W(p, n.weight).dim(1)}; }

Result<Shape> RmsNormShape(const Plan& p, const Node& n) {
  const int64_t width = In(p, n, 0).shape.back(), group = W(p, n.weight).numel();
  if (group <= 0 || width % group != 0) return NodeError(n, "row size is not a multiple of the norm weight's");
  return In(p, n, 0).shape;
}

Result<Shape> LinearShape(const Plan& p, const Node& n) {
  const Tensor& w = W(p, n.weight);
  const Node& x = In(p, n, 0);
  if (w.rank() != 2 || w.dim(1) != x.shape.back()) return NodeError(n, "weight inner dim differs from input");
  if (n.op == Op::kGatedFfn && (n.weight2 < 0 || W(p, n.weight2).shape() != w.shape()))
    return NodeError(n, "gate and up projections differ in shape");
  if (n.bias >= 0 && W(p, n.bias).numel() != w.dim(0)) return NodeError(n, "bias size differs from output width");
  if (n.norm_weight >= 0 && W(p, n.norm_weight).numel() != x.shape.back())
    return NodeError(n, "fused norm weight size differs from row size");
  if (n.rope && (n.head_dim <= 0 || w.dim(0) % n.head_dim != 0)) return NodeError(n, "row not a multiple of head_dim");
  return Shape{x.shape[0], w.dim(0)};
}

Result<Shape> RopeShape(const Plan& p, const Node& n) {
  if (n.head_dim <= 0 || In(p, n, 0).shape.back() % n.head_dim != 0) return NodeError(n, "row not a multiple of head_dim");
  if (n.rope_dim <= 0 || n.rope_dim > n.head_dim || n.rope_dim % 2) return NodeError(n, "rope_dim must be even, <= head_dim");
  if (n.rope_freqs >= 0 && W(p, n.rope_freqs).numel() != n.rope_dim / 2) return NodeError(n, "rope_freqs size differs from rope_dim/2");
  return In(p, n, 0).shape;
}

Result<Shape> KvStoreShape(const Plan& p, const Node& n) {
  if (In(p, n, 0).shape != In(p, n, 1).shape || In(p, n, 0).shape.back() != p.kv.kv_dim)
    return NodeError(n, "k/v rows differ from the KV cache's");
  return Shape{0};
}

Result<Shape> ScoresShape(const Plan& p, const Node& n) {
  STRATA_RETURN_IF_ERROR(CheckAttentionWidths(n, In(p, n, 0), p.kv.kv_dim));
  return Shape{kSymTokens, n.n_heads, kSymContext};
}

Result<Shape> ValuesShape(const Plan& p, const Node& n) {
  if (In(p, n, 0).shape != Shape{kSymTokens, n.n_heads, kSymContext}) return NodeError(n, "expects [T, heads, C] probabilities");
  return Shape{kSymTokens, n.n_heads * n.head_dim};
}

Result<Shape> AttentionShape(const Plan& p, const Node& n) {
  STRATA_RETURN_IF_ERROR(CheckAttentionWidths(n, In(p, n, 0), In(p, n, 1).shape.back()));
  if (In(p, n, 2).shape != In(p, n, 1).shape) return NodeError(n, "k and v shapes differ");
  return In(p, n, 0).shape;
}

Result<Shape> AddShape(const Plan& p, const Node& n) {
  if (In(p, n, 0).shape != In(p, n, 1).shape) return NodeError(n, "operand shapes differ");
  return In(p, n, 0).shape;
}

Result<Shape> MulShape(const Plan& p, const Node& n) {
  const Shape &a = In(p, n, 0).shape, &b = In(p, n, 1).shape;
  if (a != b && !(b.size() == 2 && a.size() == 2 && b[0] == a[0] && b[1] == 1))
    return NodeError(n, "operand shapes differ (b may be one column)");
  return a;
}

Result<Shape> MoeShape(const Plan& p, const Node& n) {
  const Tensor& router = W(p, n.weight);
  const int64_t dim = In(p, n, 0).shape.back();
  if (n.expert_weights.size() != 3) return NodeError(n, "needs gate, up and down expert tensors");
  const Tensor &g = W(p, n.expert_weights[0]), &u = W(p, n.expert_weights[1]), &d = W(p, n.expert_weights[2]);
  const int64_t local = n.expert_end < 0 ? router.dim(0) : n.expert_end - n.expert_begin;
  if (router.rank() != 2 || router.dim(1) != dim || g.rank() != 3 || g.shape() != u.shape() || g.dim(0) != local ||
      g.dim(2) != dim || d.shape() != Shape{local, dim, g.dim(1)})
    return NodeError(n, "router/expert tensor shapes disagree");
  if (n.n_experts_used <= 0 || n.n_experts_used > router.dim(0)) return NodeError(n, "experts per token out of range");
  return In(p, n, 0).shape;
}

Result<Shape> AllGatherShape(const Plan& p, const Node& n) {
  return Shape{In(p, n, 0).shape[0], In(p, n, 0).shape.back() * p.parallel.size};
}
Result<Shape> GatherRowsShape(const Plan& p, const Node& n) { return Shape{kSymOutRows, In(p, n, 0).shape.back()}; }

int64_t Out(const Node& n, const Binding& b) { return b.Numel(n.shape); }
void NoCost(const Plan&, const Node&, const Binding&, OpCost&) {}
template <int kFlopsPerElement>
void Elementwise(const Plan&, const Node& n, const Binding& b, OpCost& c) { c.flops = kFlopsPerElement * Out(n, b); }

void EmbeddingCost(const Plan& p, const Node& n, const Binding& b, OpCost& c) {
  c.weight_bytes = b.tokens * W(p, n.weight).row_bytes();  // only the looked-up rows are read
}

void LinearCost(const Plan& p, const Node& n, const Binding& b, OpCost& c) {
  const int64_t out = Out(n, b), k = In(p, n, 0).shape.back();
  const bool gated = n.op == Op::kGatedFfn;
  c.flops = 2 * out * k * (gated ? 2 : 1) + (n.norm_weight >= 0 ? 3 * b.Numel(In(p, n, 0).shape) : 0) +
            (n.rope ? 6 * out : 0) + (n.residual ? out : 0) + (gated ? 6 * out : 0) + (n.bias >= 0 ? out : 0);
}

void AttentionCost(const Plan& p, const Node& n, const Binding& b, OpCost& c) {
  // Row t of T attends to the C - T + t + 1 positions up to its own (the step's rows are the context's last):
  // C - (T - 1) / 2 on average (rounded down); all C in decode. A window bounds it.
  const int64_t mean = std::max<int64_t>(1, (2 * b.context - b.tokens + 1) / 2);
  const int64_t span = n.window > 0 ? std::min(mean, n.window) : mean;
  const int64_t work = b.tokens * n.n_heads * span * n.head_dim;
  c.flops = n.op == Op::kAttention ? 4 * work : 2 * work;
  if (n.op != Op::kSoftmax) c.activation_bytes += 2 * span * RowBytes(p.kv.dtype, p.kv.kv_dim);
}

void MoeCost(const Plan& p, const Node& n, const Binding& b, OpCost& c) {
  // Each expert a token reaches is read once per step: at most min(local experts, T * k) of them.
  const Tensor& g = W(p, n.expert_weights[0]);
  const int64_t local = g.dim(0), touched = std::min(local, b.tokens * n.n_experts_used);
  int64_t expert_bytes = 0;
  for (int w : n.expert_weights) expert_bytes += W(p, w).nbytes();
  c.weight_bytes = W(p, n.weight).nbytes() + expert_bytes / std::max<int64_t>(local, 1) * touched;
  const int64_t dim = g.dim(2), ffn = g.dim(1);
  c.flops = 2 * b.tokens * W(p, n.weight).dim(0) * dim + 6 * b.tokens * n.n_experts_used * ffn * dim;
}

std::array<OpDef, kNumOps> MakeDefs() {
  std::array<OpDef, kNumOps> d{};
  auto set = [&](Op op, OpDef def) { d[static_cast<size_t>(op)] = def; };
  //                      name          arity weight fusable kv   shape            cost
  set(Op::kTokens,      {"tokens",      0, false, false, false, TokensShape,     NoCost});
  set(Op::kStageInput,  {"stage_input", 0, false, false, false, StageInputShape, NoCost});
  set(Op::kEmbedding,   {"embedding",   1, true,  false, false, EmbeddingShape,  EmbeddingCost});
  set(Op::kRmsNorm,     {"rms_norm",    1, true,  false, false, RmsNormShape,    Elementwise<3>});
  set(Op::kMatMul,      {"matmul",      1, true,  true,  false, LinearShape,     LinearCost});
  set(Op::kRope,        {"rope",        1, false, false, false, RopeShape,       Elementwise<6>});
  set(Op::kKvStore,     {"kv_store",    2, false, false, true,  KvStoreShape,    NoCost});
  set(Op::kAttnScores,  {"attn_scores", 2, false, false, true,  ScoresShape,     AttentionCost});
  set(Op::kSoftmax,     {"softmax",     1, false, false, false, SameAsInput,     Elementwise<3>});
  set(Op::kAttnValues,  {"attn_values", 2, false, false, true,  ValuesShape,     AttentionCost});
  set(Op::kAttention,   {"attention",   3, false, false, true,  AttentionShape,  AttentionCost});
  set(Op::kAdd,         {"add",         2, false, false, false, AddShape,        Elementwise<1>});
  set(Op::kActivate,    {"activate",    1, false, false, false, SameAsInput,     Elementwise<4>});
  set(Op::kMul,         {"mul",         2, false, false, false, MulShape,        Elementwise<1>});
  set(Op::kGatedFfn,    {"gated_ffn",   1, true,  true,  false, LinearShape,     LinearCost});
  set(Op::kScale,       {"scale",       1, false, false, false, SameAsInput,     Elementwise<1>});
  set(Op::kSoftcap,     {"softcap",     1, false, false, false, SameAsInput,     Elementwise<4>});
  set(Op::kMoe,         {"moe",         1, true,  false, false, MoeShape,        MoeCost});
  set(Op::kGatherRows,  {"gather_rows", 1, false, false, false, GatherRowsShape, NoCost});
  set(Op::kAllReduce,   {"all_reduce",  1, false, false, false, SameAsInput,     Elementwise<1>});
  set(Op::kAllGather,   {"all_gather",  1, false, false, false, AllGatherShape,  NoCost});
  set(Op::kCopy,        {"copy",        1, false, false, false, SameAsInput,     NoCost});
  return d;
}

}  // namespace

const OpDef& Def(Op op) {
  static const std::array<OpDef, kNumOps> defs = MakeDefs();
  return defs[static_cast<size_t>(op)];
}

Status NodeError(const Node& n, const std::string& what) {
  return Status::Internal("plan node %" + std::to_string(n.id) + " (" + NodeLabel(n) + " " + n.name + "): " + what);
}

}  // namespace strata::ir
