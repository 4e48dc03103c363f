#include "compiler/ir.h"

namespace strata::ir {
namespace {

int Arity(Op op) {
  switch (op) {
    case Op::kTokens: return 0;
    case Op::kEmbedding: case Op::kRmsNorm: case Op::kMatMul: case Op::kRope: case Op::kSilu: case Op::kGatherRows:
      return 1;
    case Op::kAdd: case Op::kMul: return 2;
    case Op::kAttention: return 3;
  }
  return -1;
}

bool NeedsWeight(Op op) { return op == Op::kEmbedding || op == Op::kRmsNorm || op == Op::kMatMul; }

Status NodeError(const Node& n, const std::string& what) {
  return Status::Internal("plan node %" + std::to_string(n.id) + " (" + OpName(n.op) + " " + n.name + "): " + what);
}

// The output shape each op must produce from its inputs and weight.
Status CheckShape(const Plan& plan, const Node& n) {
  auto in = [&](int i) -> const Node& { return plan.node(n.inputs[static_cast<size_t>(i)]); };
  const Tensor* w = n.weight >= 0 ? &plan.weights[static_cast<size_t>(n.weight)].tensor : nullptr;
  std::vector<int64_t> want;
  switch (n.op) {
    case Op::kTokens: want = {kSymTokens}; break;
    case Op::kEmbedding: want = {in(0).shape[0], w->dim(1)}; break;
    case Op::kRmsNorm:
      if (w->numel() != in(0).shape.back()) return NodeError(n, "norm weight size differs from row size");
      want = in(0).shape;
      break;
    case Op::kMatMul:
      if (w->rank() != 2 || w->dim(1) != in(0).shape.back()) return NodeError(n, "weight inner dim differs from input");
      want = {in(0).shape[0], w->dim(0)};
      break;
    case Op::kRope:
      if (n.head_dim <= 0 || in(0).shape.back() % n.head_dim != 0) return NodeError(n, "row not a multiple of head_dim");
      want = in(0).shape;
      break;
    case Op::kAttention:
      if (in(0).shape.back() != n.n_heads * n.head_dim || in(1).shape.back() != n.n_kv_heads * n.head_dim ||
          in(2).shape != in(1).shape || n.n_kv_heads <= 0 || n.n_heads % n.n_kv_heads != 0)
        return NodeError(n, "q/k/v widths do not match heads x head_dim");
      want = in(0).shape;
      break;
    case Op::kAdd: case Op::kMul:
      if (in(0).shape != in(1).shape) return NodeError(n, "operand shapes differ");
      want = in(0).shape;
      break;
    case Op::kSilu: want = in(0).shape; break;
    case Op::kGatherRows: want = {kSymOutRows, in(0).shape.back()}; break;
  }
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
    case Op::kAttention: return "attention";
    case Op::kAdd: return "add";
    case Op::kSilu: return "silu";
    case Op::kMul: return "mul";
    case Op::kGatherRows: return "gather_rows";
  }
  return "?";
}

std::string DimsToString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] == kSymTokens ? "T" : shape[i] == kSymOutRows ? "R" : std::to_string(shape[i]);
  }
  return s + "]";
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

Status Plan::Validate() const {
  if (input < 0 || output < 0 || input >= static_cast<int>(nodes.size()) || output >= static_cast<int>(nodes.size()))
    return Status::Internal("plan has no input or output node");
  for (const Node& n : nodes) {
    if (static_cast<int>(n.inputs.size()) != Arity(n.op))
      return NodeError(n, "has " + std::to_string(n.inputs.size()) + " inputs, expected " + std::to_string(Arity(n.op)));
    for (int i : n.inputs)
      if (i < 0 || i >= n.id) return NodeError(n, "input %" + std::to_string(i) + " does not precede it");
    if (NeedsWeight(n.op) != (n.weight >= 0) || n.weight >= static_cast<int>(weights.size()))
      return NodeError(n, "weight reference is wrong for this op");
    if (n.op == Op::kAttention && (n.layer < 0 || n.layer >= kv.n_layers))
      return NodeError(n, "layer outside the KV cache");
    STRATA_RETURN_IF_ERROR(CheckShape(*this, n));
  }
  return Status::Ok();
}

}  // namespace strata::ir
