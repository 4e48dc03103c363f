#include "compiler/ir.h"

#include "compiler/op_defs.h"

#include <algorithm>

namespace strata::ir {
const char* OpName(Op op) { return Def(op).name; }

std::string OpLabel(const Node& n) {
  switch (n.op) {
    case Op::kCopy: return n.to_host ? "copy_to_host" : "copy_to_device";
    case Op::kActivate: return ActivationName(n.act);
    case Op::kGatedFfn:
      return n.act == Activation::kSilu ? "swiglu" : n.act == Activation::kGeluTanh ? "geglu"
                                                                                    : std::string("gated_") + ActivationName(n.act);
    default: return OpName(n.op);
  }
}

std::string NodeLabel(const Node& n) {
  std::string s = n.norm_weight >= 0 ? "rms_norm+" : "";
  s += OpLabel(n);
  if (n.bias >= 0) s += "+bias";
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
  const auto n_weights = static_cast<int>(weights.size());
  auto bad_weight = [&](int w) { return w >= n_weights; };
  for (const Node& n : nodes) {
    const OpDef& def = Def(n.op);
    const int arity = def.arity + (n.residual ? 1 : 0);
    if (static_cast<int>(n.inputs.size()) != arity)
      return NodeError(n, "has " + std::to_string(n.inputs.size()) + " inputs, expected " + std::to_string(arity));
    for (int i : n.inputs)
      if (i < 0 || i >= n.id) return NodeError(n, "input %" + std::to_string(i) + " does not precede it");
    bool weights_ok = def.needs_weight == (n.weight >= 0) && !bad_weight(n.weight) && !bad_weight(n.weight2) &&
                      !bad_weight(n.norm_weight) && !bad_weight(n.bias) && !bad_weight(n.rope_freqs);
    for (int w : n.expert_weights) weights_ok &= w >= 0 && !bad_weight(w);
    if (!weights_ok) return NodeError(n, "weight reference is wrong for this op");
    if ((n.norm_weight >= 0 || n.rope || n.residual) && !def.fusable) return NodeError(n, "op takes no fusions");
    if (def.uses_kv_layer && (n.layer < 0 || n.layer >= kv.n_layers)) return NodeError(n, "layer outside the KV cache");
    STRATA_ASSIGN_OR_RETURN(const std::vector<int64_t> want, def.shape(*this, n));
    if (n.residual && node(n.inputs.back()).shape != want) return NodeError(n, "residual shape differs");
    if (want != n.shape) return NodeError(n, "shape " + DimsToString(n.shape) + ", expected " + DimsToString(want));
  }
  return Status::Ok();
}

}  // namespace strata::ir
