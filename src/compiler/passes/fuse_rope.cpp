#include "compiler/passes/passes.h"

namespace strata::ir {

Status FuseRope(Plan& plan, const PassContext&) {
  const std::vector<int> uses = plan.UseCounts();
  for (Node& rope : plan.nodes) {
    if (rope.op != Op::kRope) continue;
    Node& mm = plan.node(rope.inputs[0]);
    if (mm.op != Op::kMatMul || mm.rope || mm.residual || uses[static_cast<size_t>(mm.id)] != 1) continue;
    mm.rope = true;
    mm.head_dim = rope.head_dim;
    mm.rope_mode = rope.rope_mode;
    mm.rope_dim = rope.rope_dim;
    mm.rope_base = rope.rope_base;
    mm.rope_freq_scale = rope.rope_freq_scale;
    mm.rope_freqs = rope.rope_freqs;
    plan.ReplaceUses(rope.id, mm.id);
  }
  plan.RemoveDeadNodes();
  return plan.Validate();
}

}  // namespace strata::ir
