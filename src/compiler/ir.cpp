#include "compiler/ir.h"

#include <algorithm>

namespace strata::ir {
namespace {

int BaseArity(Op op) {
  switch (op) {
    case Op::kTokens: return 0;
    case Op::kEmbedding: case Op::kRmsNorm: case Op::kMatMul: case Op::kRope: case Op::kSilu: case Op::kGatherRows:
    case Op::kSoftmax: case Op::kSwiGLU: case Op::kAllReduce: case Op::kAllGather: case Op::kCopy:
      return 1;
    case Op::kAdd: case Op::kMul: case Op::kKvStore: case Op::kAttnScores: case Op::kAttnValues: return 2;
    case Op::kAttention: return 3;
  }
  return -1;
}

bool NeedsWeight(Op op) { return op == Op::kEmbedding || op == Op::kRmsNorm || op == Op::kMatMul || op == Op::kSwiGLU; }
bool Fusable(Op op) { return op == Op::kMatMul || op == Op::kSwiGLU; }

Status NodeError(const Node& n, const std::string& what) {
  return Status::Internal("plan node %" + std::to_string(n.id) + " (" + NodeLabel(n) + " " + n.name + "): " + what);
}

Status CheckAttentionWidths(const Node& n, const Node& q, int64_t kv_width) {
  if (q.shape.back() != n.n_heads * n.head_dim || kv_width != n.n_kv_heads * n.head_dim || n.n_kv_heads <= 0 ||
      n.n_heads % n.n_kv_heads != 0)
    return NodeError(n, "q/k/v widths do not match heads x head_dim");
  return Status::Ok();
}

// The output shape each op must produce from its inputs and weights.
Status CheckShape(const Plan& plan, const Node& n) {
  auto in = [&](int i) -> const Node& { return plan.node(n.inputs[static_cast<size_t>(i)]); };
  const Tensor* w = n.weight >= 0 ? &plan.weight(n.weight) : nullptr;
  std::vector<int64_t> want;
  switch (n.op) {
    case Op::kTokens: want = {kSymTokens}; break;
    case Op::kEmbedding: want = {in(0).shape[0], w->dim(1)}; break;
    case Op::kRmsNorm:
      if (w->numel() != in(0).shape.back()) return NodeError(n, "norm weight size differs from row size");
      want = in(0).shape;
      break;
    case Op::kMatMul: case Op::kSwiGLU:
      if (w->rank() != 2 || w->dim(1) != in(0).shape.back()) return NodeError(n, "weight inner dim differs from input");
      if (n.op == Op::kSwiGLU && (n.weight2 < 0 || plan.weight(n.weight2).shape() != w->shape()))
        return NodeError(n, "gate and up projections differ in shape");
      if (n.norm_weight >= 0 && plan.weight(n.norm_weight).numel() != in(0).shape.back())
        return NodeError(n, "fused norm weight size differs from row size");
      want = {in(0).shape[0], w->dim(0)};
      break;
    case Op::kRope:
      if (n.head_dim <= 0 || in(0).shape.back() % n.head_dim != 0) return NodeError(n, "row not a multiple of head_dim");
      want = in(0).shape;
      break;
    case Op::kKvStore:
      if (in(0).shape != in(1).shape || in(0).shape.back() != plan.kv.kv_dim) return NodeError(n, "k/v rows differ from the KV cache's");
      want = {0};
      break;
    case Op::kAttnScores:
      STRATA_RETURN_IF_ERROR(CheckAttentionWidths(n, in(0), plan.kv.kv_dim));
      want = {kSymTokens, n.n_heads, kSymContext};
      break;
    case Op::kSoftmax: want = in(0).shape; break;
    case Op::kAttnValues:
      if (in(0).shape != std::vector<int64_t>{kSymTokens, n.n_heads, kSymContext}) return NodeError(n, "expects [T, heads, C] probabilities");
      want = {kSymTokens, n.n_heads * n.head_dim};
      break;
    case Op::kAttention:
      STRATA_RETURN_IF_ERROR(CheckAttentionWidths(n, in(0), in(1).shape.back()));
      if (in(2).shape != in(1).shape) return NodeError(n, "k and v shapes differ");
      want = in(0).shape;
      break;
    case Op::kAdd: case Op::kMul:
      if (in(0).shape != in(1).shape) return NodeError(n, "operand shapes differ");
      want = in(0).shape;
      break;
    case Op::kSilu: case Op::kAllReduce: case Op::kCopy: want = in(0).shape; break;
    case Op::kAllGather: want = {in(0).shape[0], in(0).shape.back() * plan.parallel.size}; break;
    case Op::kGatherRows: want = {kSymOutRows, in(0).shape.back()}; break;
  }
  if (n.residual && in(static_cast<int>(n.inputs.size()) - 1).shape != want) return NodeError(n, "residual shape differs");
  if (want != n.shape) return NodeError(n, "shape " + DimsToString(n.shape) + ", expected " + DimsToString(want));
  return Status::Ok();
}

}  // namespace

const char* OpName(Op op) {
  switch (op) {
    case Op::kTokens: return "tokens";
    case Op::kEmbedding: return "embedding";
    case Op::kRmsNorm: return "rms_norm";
    case Op::kMatMul: return "matmul";
    case Op::kRope: return "rope";
    case Op::kKvStore: return "kv_store";
    case Op::kAttnScores: return "attn_scores";
    case Op::kSoftmax: return "softmax";
    case Op::kAttnValues: return "attn_values";
    case Op::kAttention: return "attention";
    case Op::kAdd: return "add";
    case Op::kSilu: return "silu";
    case Op::kMul: return "mul";
    case Op::kSwiGLU: return "swiglu";
    case Op::kGatherRows: return "gather_rows";
    case Op::kAllReduce: return "all_reduce";
    case Op::kAllGather: return "all_gather";
    case Op::kCopy: return "copy";
  }
  return "?";
}

std::string NodeLabel(const Node& n) {
  std::string s = n.norm_weight >= 0 ? "rms_norm+" : "";
  s += n.op == Op::kCopy ? (n.to_host ? "copy_to_host" : "copy_to_device") : OpName(n.op);
  if (n.rope) s += "+rope";
  if (n.residual) s += "+add";
  return s;
}

std::string DimsToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    const int64_t d = shape[i];
    s += d == kSymTokens ? "T" : d == kSymOutRows ? "R" : d == kSymContext ? "C" : std::to_string(d);
  }
  return s + "]";
}

int64_t Binding::Numel(const std::vector<int64_t>& shape) const {
  int64_t n = 1;
  for (int64_t d : shape) n *= Dim(d);
  return n;
}

int64_t OutputBytes(const Node& n, const Binding& b) {
  if (n.op == Op::kTokens || n.op == Op::kKvStore) return 0;
  return b.Numel(n.shape) * static_cast<int64_t>(sizeof(float));
}

int Plan::AddWeight(const std::string& name, const Tensor& t) {
  weights.push_back({name, t});
  return static_cast<int>(weights.size()) - 1;
}

int Plan::AddNode(Node n) {
  n.id = static_cast<int>(nodes.size());
  nodes.push_back(std::move(n));
  return nodes.back().id;
}

std::vector<int> Plan::UseCounts() const {
  std::vector<int> uses(nodes.size(), 0);
  for (const Node& n : nodes)
    for (int i : n.inputs) ++uses[static_cast<size_t>(i)];
  if (output >= 0) ++uses[static_cast<size_t>(output)];
  return uses;
}

void Plan::ReplaceUses(int from, int to) {
  for (Node& n : nodes)
    for (int& i : n.inputs)
      if (i == from) i = to;
  if (output == from) output = to;
}

void Plan::RemoveDeadNodes() {
  std::vector<char> live(nodes.size(), 0);
  live[static_cast<size_t>(output)] = 1;
  live[static_cast<size_t>(input)] = 1;
  for (size_t i = nodes.size(); i-- > 0;)
    if (live[i])
      for (int in : nodes[i].inputs) live[static_cast<size_t>(in)] = 1;
  std::vector<int> new_id(nodes.size(), -1);
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!live[i]) continue;
    new_id[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(nodes[i]));
    kept.back().id = new_id[i];
    for (int& in : kept.back().inputs) in = new_id[static_cast<size_t>(in)];
  }
  nodes = std::move(kept);
  input = new_id[static_cast<size_t>(input)];
  output = new_id[static_cast<size_t>(output)];
}

Status Plan::Validate() const {
  if (input < 0 || output < 0 || input >= static_cast<int>(nodes.size()) || output >= static_cast<int>(nodes.size()))
    return Status::Internal("plan has no input or output node");
  for (const Node& n : nodes) {
    const int arity = BaseArity(n.op) + (n.residual ? 1 : 0);
    if (static_cast<int>(n.inputs.size()) != arity)
      return NodeError(n, "has " + std::to_string(n.inputs.size()) + " inputs, expected " + std::to_string(arity));
    for (int i : n.inputs)
      if (i < 0 || i >= n.id) return NodeError(n, "input %" + std::to_string(i) + " does not precede it");
    const auto n_weights = static_cast<int>(weights.size());
    if (NeedsWeight(n.op) != (n.weight >= 0) || n.weight >= n_weights || n.weight2 >= n_weights || n.norm_weight >= n_weights)
      return NodeError(n, "weight reference is wrong for this op");
    if ((n.norm_weight >= 0 || n.rope || n.residual) && !Fusable(n.op)) return NodeError(n, "op takes no fusions");
    if ((n.op == Op::kAttention || n.op == Op::kKvStore || n.op == Op::kAttnScores || n.op == Op::kAttnValues) &&
        (n.layer < 0 || n.layer >= kv.n_layers))
      return NodeError(n, "layer outside the KV cache");
    STRATA_RETURN_IF_ERROR(CheckShape(*this, n));
  }
  return Status::Ok();
}

}  // namespace strata::ir
