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
// Pipeline stage `stage` of `stages` (run after SplitTensorParallel, before the fusion passes, so no fusion
// crosses the cut): keeps only the nodes of the stage's contiguous range of layers (StageLayers). A stage after
// the first reads the residual stream entering its first layer from a kStageInput node; a stage before the last
// outputs the residual stream leaving its last layer ([T, dim], every row); the last stage keeps the output
// head. The KV cache and each node's `layer` become the stage's own (layer 0 = model layer `first_layer`).
// Layers are found by node name ("blk.L.*"), each a contiguous run; a plan cut any other way is refused.
Status SplitPipeline(Plan& plan, int stage, int stages);
// Layers [begin, end) of stage `stage` of `stages`: contiguous, sizes differing by at most one (earlier
// stages take the extra layers).
struct LayerRange {
  int64_t begin = 0, end = 0;
};
LayerRange StageLayers(int64_t n_layers, int stage, int stages);
// Ops the device lacks go to the host, with copy ops where data crosses between host and device.
Status PlaceOps(Plan& plan, const PassContext& ctx);

}  // namespace strata::ir
