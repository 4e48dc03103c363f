#include "compiler/passes/passes.h"

namespace strata::ir {

Status FuseResidual(Plan& plan, const PassContext&) {
  const std::vector<int> uses = plan.UseCounts();
  for (const Node& add : plan.nodes) {
    if (add.op != Op::kAdd) continue;
    // Either operand may be the product; the other is the residual stream, which must already exist.
    for (int side = 1; side >= 0; --side) {
      Node& prod = plan.node(add.inputs[static_cast<size_t>(side)]);
      const int residual = add.inputs[static_cast<size_t>(1 - side)];
      if ((prod.op != Op::kMatMul && prod.op != Op::kGatedFfn) || prod.residual || residual >= prod.id ||
          uses[static_cast<size_t>(prod.id)] != 1 || prod.placement != add.placement)
        continue;
      prod.residual = true;
      prod.inputs.push_back(residual);
      prod.name = add.name;
      plan.ReplaceUses(add.id, prod.id);
      break;
    }
  }
  plan.RemoveDeadNodes();
  return plan.Validate();
}

}  // namespace strata::ir
