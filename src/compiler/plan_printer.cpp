#include "compiler/plan_printer.h"

#include <cstdio>

namespace strata::ir {
namespace {

std::string NodeLine(const Plan& plan, const Node& n) {
  std::string line = "%" + std::to_string(n.id) + " = " + OpName(n.op);
  line.resize(std::max<size_t>(line.size() + 1, 18), ' ');
  line += "(";
  for (size_t i = 0; i < n.inputs.size(); ++i) line += (i ? ", %" : "%") + std::to_string(n.inputs[i]);
  line += ")";
  line.resize(std::max<size_t>(line.size() + 1, 36), ' ');
  line += DimsToString(n.shape) + " " + Name(n.dtype);
  line.resize(std::max<size_t>(line.size() + 1, 56), ' ');
  line += n.name;
  if (n.weight >= 0) {
    const WeightRef& w = plan.weights[static_cast<size_t>(n.weight)];
    line += "  weight=" + w.name + " " + Name(w.tensor.dtype()) + " " + w.tensor.ShapeString();
  }
  if (n.op == Op::kRmsNorm) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " eps=%g", static_cast<double>(n.eps));
    line += buf;
  }
  if (n.op == Op::kRope) line += " head_dim=" + std::to_string(n.head_dim) + " base=" + std::to_string(static_cast<int64_t>(n.rope_base));
  if (n.op == Op::kAttention)
    line += " layer=" + std::to_string(n.layer) + " heads=" + std::to_string(n.n_heads) + " kv_heads=" +
            std::to_string(n.n_kv_heads) + " head_dim=" + std::to_string(n.head_dim);
  return line;
}

}  // namespace

std::string PrintPlan(const Plan& plan) {
  std::string out = "plan: " + std::to_string(plan.nodes.size()) + " nodes, " + std::to_string(plan.weights.size()) +
                    " weights; T = tokens per step, R = logit rows (1 or T); KV cache " +
                    std::to_string(plan.kv.n_layers) + " layers x " + std::to_string(plan.kv.n_ctx) + " positions x " +
                    std::to_string(plan.kv.kv_dim) + "\n";
  for (const Node& n : plan.nodes) out += NodeLine(plan, n) + "\n";
  out += "output: %" + std::to_string(plan.output) + "\n";
  return out;
}

}  // namespace strata::ir
