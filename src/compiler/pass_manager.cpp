#include "compiler/pass_manager.h"

#include <sstream>

#include "compiler/plan_builder.h"

namespace strata::ir {

const std::vector<PassInfo>& FusionPasses() {
  static const std::vector<PassInfo> passes = {
      {"fuse_attention", "KV store + scores + softmax + values -> one attention op with online softmax", FuseAttention},
      {"fuse_gated_ffn", "gate and up projections, activation and product -> one gated_ffn op (swiglu, geglu)", FuseGatedFfn},
      {"fuse_rope", "RoPE applied by the Q/K projection that produces its input", FuseRope},
      {"fuse_rms_norm", "RMSNorm computed by the matmul/gated_ffn ops that consume it", FuseRmsNorm},
      {"fuse_residual", "residual add done by the matmul/gated_ffn op that produces the sum's other term", FuseResidual},
  };
  return passes;
}

std::vector<std::string> DefaultPasses() {
  std::vector<std::string> names;
  for (const PassInfo& p : FusionPasses()) names.push_back(p.name);
  return names;
}

Result<std::vector<std::string>> ParsePassList(const std::string& spec) {
  if (spec.empty() || spec == "default") return DefaultPasses();
  if (spec == "none") return std::vector<std::string>{};
  std::vector<std::string> names;
  std::stringstream ss(spec);
  for (std::string name; std::getline(ss, name, ',');) {
    bool known = false;
    for (const PassInfo& p : FusionPasses()) known |= name == p.name;
    if (!known) {
      std::string all;
      for (const PassInfo& p : FusionPasses()) all += std::string(all.empty() ? "" : ", ") + p.name;
      return Status::InvalidArgument("unknown pass '" + name + "' (passes: " + all + "; or 'none', 'default')");
    }
    names.push_back(name);
  }
  return names;
}

namespace {

// One global rank's plan from the built one: its tensor-parallel share, its pipeline stage, then the fusions
// (after the cut, so none crosses it) and placement.
Result<Plan> CompileRank(const Plan& base, const CompileOptions& options, int global, const PassObserver& observe) {
  const int stage = global / options.tp, rank = global % options.tp;
  const PassContext ctx{.tp = options.tp, .rank = rank, .device_lacks = options.device_lacks};
  Plan plan = base;
  if (options.tp > 1) {
    STRATA_RETURN_IF_ERROR(SplitTensorParallel(plan, ctx));
    if (observe) observe("tp_split", global, plan);
  }
  STRATA_RETURN_IF_ERROR(SplitPipeline(plan, stage, options.pp));
  if (options.pp > 1 && observe) observe("pp_split", global, plan);
  for (const std::string& name : options.passes)
    for (const PassInfo& p : FusionPasses())
      if (name == p.name) {
        STRATA_RETURN_IF_ERROR(p.run(plan, ctx));
        if (observe) observe(name, global, plan);
      }
  if (!options.device_lacks.empty()) {
    STRATA_RETURN_IF_ERROR(PlaceOps(plan, ctx));
    if (observe) observe("placement", global, plan);
  }
  return plan;
}

// Q8_0 blocks must not straddle heads: the attention kernels read one head's slice of a row at a time.
Status SetKvDtype(Plan& plan, DType t) {
  if (t != DType::kF32 && t != DType::kF16 && t != DType::kQ8_0)
    return Status::InvalidArgument(std::string("the KV cache holds f32, f16 or q8_0, not ") + Traits(t).name);
  if (t == DType::kQ8_0 && plan.kv.head_dim % kQK != 0)
    return Status::InvalidArgument("a q8_0 KV cache needs heads of a multiple of 32 values; this model's have " +
                                   std::to_string(plan.kv.head_dim) + " (use f16)");
  plan.kv.dtype = t;
  return Status::Ok();
}

}  // namespace

Result<std::vector<Plan>> Compile(const Model& model, const CompileOptions& options, const PassObserver& observe) {
  if (options.tp < 1) return Status::InvalidArgument("--tp must be at least 1");
  if (options.pp < 1) return Status::InvalidArgument("--pp must be at least 1");
  const int world = options.tp * options.pp;
  if (options.only_rank >= world)
    return Status::InvalidArgument("rank " + std::to_string(options.only_rank) + " of " + std::to_string(world) +
                                   " (--tp " + std::to_string(options.tp) + " x --pp " + std::to_string(options.pp) + ")");
  STRATA_ASSIGN_OR_RETURN(Plan base, BuildPlan(model));
  STRATA_RETURN_IF_ERROR(SetKvDtype(base, options.kv_dtype));
  if (observe) observe("build", 0, base);
  if (options.pp > base.kv.n_layers)
    return Status::InvalidArgument("--pp " + std::to_string(options.pp) + " exceeds the model's " +
                                   std::to_string(base.kv.n_layers) + " layers");
  std::vector<Plan> ranks;
  for (int global = 0; global < world; ++global) {
    if (options.only_rank >= 0 && global != options.only_rank) continue;
    STRATA_ASSIGN_OR_RETURN(Plan plan, CompileRank(base, options, global, observe));
    ranks.push_back(std::move(plan));
  }
  return ranks;
}

}  // namespace strata::ir
