#include "compiler/op_cost.h"

#include "compiler/op_defs.h"

namespace strata::ir {

OpCost EstimateOpCost(const Plan& plan, const Node& n, const Binding& b) {
  OpCost c;
  for (int in : n.inputs) c.activation_bytes += OutputBytes(plan.node(in), b);
  c.activation_bytes += OutputBytes(n, b);
  for (int w : {n.weight, n.weight2, n.norm_weight, n.bias, n.rope_freqs})
    if (w >= 0) c.weight_bytes += plan.weight(w).nbytes();
  Def(n.op).cost(plan, n, b, c);
  return c;
}

}  // namespace strata::ir
