// The plan passes. Each rewrites one rank's plan in place and leaves it valid; the pass manager
// (compiler/pass_manager.h) runs them in the order the options choose.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "core/status.h"

namespace strata::ir {

// What the passes may need to know beyond the plan.
struct PassContext {
  int tp = 1;    // tensor-parallel ranks
  int rank = 0;  // which one this plan becomes
  // Op labels ("rope", "attention", "swiglu", "silu", ...: OpLabel) the device backend lacks: placement runs them on the host.
  std::vector<std::string> device_lacks;
};

// kv_store + attn_scores + softmax + attn_values -> attention (online softmax, no score matrix).
Status FuseAttention(Plan& plan, const PassContext& ctx);
// matmul(gate) -> activation, matmul(up), mul -> gated_ffn (swiglu, geglu).
Status FuseGatedFfn(Plan& plan, const PassContext& ctx);
// matmul -> rope: the rotation applied to the projection's output.
Status FuseRope(Plan& plan, const PassContext& ctx);
// rms_norm -> matmul/gated_ffn consumers: each consumer normalises its input itself.
Status FuseRmsNorm(Plan& plan, const PassContext& ctx);
// matmul/gated_ffn -> add(residual): the residual added as the product is written.
Status FuseResidual(Plan& plan, const PassContext& ctx);
// Rank ctx.rank of a ctx.tp-way split, following each matmul's TpSplit tag: column-parallel Q/K/V (by heads)
// and gate/up, row-parallel output and down projections followed by all_reduce, heads and KV cache divided,
// embedding and output head split by columns / vocabulary rows followed by all_gather; experts divided
// among the ranks (expert parallelism) with the MoE output all-reduced.
Status SplitTensorParallel(Plan& plan, const PassContext& ctx);
// Ops the device lacks go to the host, with copy ops where data crosses between host and device.
Status PlaceOps(Plan& plan, const PassContext& ctx);

}  // namespace strata::ir
