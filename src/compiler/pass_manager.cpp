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

Result<std::vector<Plan>> Compile(const Model& model, const CompileOptions& options, const PassObserver& observe) {
  if (options.tp < 1) return Status::InvalidArgument("--tp must be at least 1");
  STRATA_ASSIGN_OR_RETURN(Plan base, BuildPlan(model));
  if (observe) observe("build", 0, base);
  std::vector<Plan> ranks;
  for (int rank = 0; rank < options.tp; ++rank) {
    if (options.only_rank >= 0 && rank != options.only_rank) continue;
    const PassContext ctx{.tp = options.tp, .rank = rank, .device_lacks = options.device_lacks};
    Plan plan = base;
    if (options.tp > 1) {
      STRATA_RETURN_IF_ERROR(SplitTensorParallel(plan, ctx));
      if (observe) observe("tp_split", rank, plan);
    }
    for (const std::string& name : options.passes)
      for (const PassInfo& p : FusionPasses())
        if (name == p.name) {
          STRATA_RETURN_IF_ERROR(p.run(plan, ctx));
          if (observe) observe(name, rank, plan);
        }
    if (!options.device_lacks.empty()) {
      STRATA_RETURN_IF_ERROR(PlaceOps(plan, ctx));
      if (observe) observe("placement", rank, plan);
    }
    ranks.push_back(std::move(plan));
  }
  return ranks;
}

}  // namespace strata::ir
