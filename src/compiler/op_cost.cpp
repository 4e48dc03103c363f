#include "compiler/op_cost.h"

namespace strata::ir {

OpCost EstimateOpCost(const Plan& plan, const Node& n, const Binding& b) {
  OpCost c;
  auto numel = [&](int id) { return b.Numel(plan.node(id).shape); };
  for (int in : n.inputs) c.activation_bytes += OutputBytes(plan.node(in), b);
  c.activation_bytes += OutputBytes(n, b);
  for (int w : {n.weight, n.weight2, n.norm_weight})
    if (w >= 0 && n.op != Op::kEmbedding) c.weight_bytes += plan.weight(w).nbytes();
  const int64_t out = b.Numel(n.shape);
  switch (n.op) {
    case Op::kEmbedding:  // only the looked-up rows are read
      c.weight_bytes = b.tokens * plan.weight(n.weight).row_bytes();
      break;
    case Op::kMatMul: case Op::kSwiGLU: {
      const int64_t k = plan.node(n.inputs[0]).shape.back();
      c.flops = 2 * out * k * (n.op == Op::kSwiGLU ? 2 : 1) + (n.norm_weight >= 0 ? 3 * numel(n.inputs[0]) : 0) +
                (n.rope ? 6 * out : 0) + (n.residual ? out : 0) + (n.op == Op::kSwiGLU ? 6 * out : 0);
      break;
    }
    case Op::kAttention: case Op::kAttnScores: case Op::kAttnValues: {
      // Each row attends to about half the context on average in prefill, all of it in decode: C is the bound.
      const int64_t work = b.tokens * n.n_heads * b.context * n.head_dim;
      c.flops = n.op == Op::kAttention ? 4 * work : 2 * work;
      c.activation_bytes += 2 * b.context * plan.kv.kv_dim * static_cast<int64_t>(sizeof(float));
      break;
    }
    case Op::kRmsNorm: case Op::kSoftmax: c.flops = 3 * out; break;
    case Op::kRope: c.flops = 6 * out; break;
    case Op::kSilu: c.flops = 4 * out; break;
    case Op::kAdd: case Op::kMul: case Op::kAllReduce: c.flops = out; break;
    default: break;
  }
  return c;
}

}  // namespace strata::ir
