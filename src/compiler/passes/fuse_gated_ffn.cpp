#include "compiler/passes/passes.h"

namespace strata::ir {
namespace {

bool PlainMatMul(const Node& n) {
  return n.op == Op::kMatMul && n.norm_weight < 0 && n.bias < 0 && !n.rope && !n.residual;
}

}  // namespace

Status FuseGatedFfn(Plan& plan, const PassContext&) {
  const std::vector<int> uses = plan.UseCounts();
  for (Node& mul : plan.nodes) {
    if (mul.op != Op::kMul) continue;
    const Node& act = plan.node(mul.inputs[0]);
    const Node& up = plan.node(mul.inputs[1]);
    if (act.op != Op::kActivate || uses[static_cast<size_t>(act.id)] != 1 || !PlainMatMul(up) ||
        uses[static_cast<size_t>(up.id)] != 1 || up.shape != mul.shape)
      continue;
    const Node& gate = plan.node(act.inputs[0]);
    if (!PlainMatMul(gate) || uses[static_cast<size_t>(gate.id)] != 1 || gate.inputs[0] != up.inputs[0] ||
        plan.weight(gate.weight).shape() != plan.weight(up.weight).shape() || gate.tp != up.tp)
      continue;
    const int x = gate.inputs[0], wg = gate.weight, wu = up.weight;
    mul.op = Op::kGatedFfn;
    mul.act = act.act;
    mul.tp = gate.tp;
    mul.inputs = {x};
    mul.weight = wg;
    mul.weight2 = wu;
  }
  plan.RemoveDeadNodes();
  return plan.Validate();
}

}  // namespace strata::ir
