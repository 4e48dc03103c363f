#include "compiler/passes/passes.h"

namespace strata::ir {

// A norm is fused only when every consumer can take it: then the norm's output never exists. With several
// consumers (Q, K and V) each recomputes the norm, a pass over one row per consumer instead of a stored tensor.
Status FuseRmsNorm(Plan& plan, const PassContext&) {
  std::vector<std::vector<int>> consumers(plan.nodes.size());
  for (const Node& n : plan.nodes)
    for (int in : n.inputs) consumers[static_cast<size_t>(in)].push_back(n.id);
  for (const Node& norm : plan.nodes) {
    if (norm.op != Op::kRmsNorm || norm.id == plan.output) continue;
    // A per-group norm (per head) is not a row norm a matmul could apply to its input.
    if (plan.weight(norm.weight).numel() != norm.shape.back()) continue;
    const auto& users = consumers[static_cast<size_t>(norm.id)];
    bool all_fusable = !users.empty();
    for (int u : users) {
      const Node& c = plan.node(u);
      all_fusable &= (c.op == Op::kMatMul || c.op == Op::kGatedFfn) && c.norm_weight < 0 && c.inputs[0] == norm.id &&
                     (!c.residual || c.inputs.back() != norm.id);
    }
    if (!all_fusable) continue;
    for (int u : users) {
      Node& c = plan.node(u);
      c.norm_weight = norm.weight;
      c.eps = norm.eps;
      c.inputs[0] = norm.inputs[0];
    }
  }
  plan.RemoveDeadNodes();
  return plan.Validate();
}

}  // namespace strata::ir
