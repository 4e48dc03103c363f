#include "compiler/plan_printer.h"

#include <cstdio>

namespace strata::ir {
namespace {

std::string WeightText(const Plan& plan, int w) {
  const WeightRef& ref = plan.weights[static_cast<size_t>(w)];
  return ref.name + " " + Name(ref.tensor.dtype()) + " " + ref.tensor.ShapeString();
}

std::string Num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

std::string NodeLine(const Plan& plan, const Node& n) {
  std::string line = "%" + std::to_string(n.id) + " = " + NodeLabel(n);
  line.resize(std::max<size_t>(line.size() + 1, 24), ' ');
  line += "(";
  for (size_t i = 0; i < n.inputs.size(); ++i) line += (i ? ", %" : "%") + std::to_string(n.inputs[i]);
  line += ")";
  line.resize(std::max<size_t>(line.size() + 1, 42), ' ');
  line += DimsToString(n.shape) + " " + Name(n.dtype);
  line.resize(std::max<size_t>(line.size() + 1, 62), ' ');
  line += n.name;
  if (n.placement == Placement::kHost) line += "  @host";
  if (n.norm_weight >= 0) line += "  norm=" + WeightText(plan, n.norm_weight);
  const char* first = n.op == Op::kGatedFfn ? "  gate=" : n.op == Op::kMoe ? "  router=" : "  weight=";
  if (n.weight >= 0) line += first + WeightText(plan, n.weight);
  if (n.weight2 >= 0) line += "  up=" + WeightText(plan, n.weight2);
  if (n.bias >= 0) line += "  bias=" + WeightText(plan, n.bias);
  const char* expert_keys[] = {"  gate=", "  up=", "  down="};
  for (size_t i = 0; i < n.expert_weights.size() && i < 3; ++i) line += expert_keys[i] + WeightText(plan, n.expert_weights[i]);
  if (n.op == Op::kMoe) line += " top_k=" + std::to_string(n.n_experts_used) + (n.moe_renormalize ? " renormalized" : "");
  if ((n.op == Op::kMatMul || n.op == Op::kGatedFfn) && n.tp != TpSplit::kReplicated) line += std::string(" tp=") + TpSplitName(n.tp);
  if (n.op == Op::kRmsNorm || n.norm_weight >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " eps=%g", static_cast<double>(n.eps));
    line += buf;
  }
  if (n.op == Op::kRope || n.rope) {
    line += std::string(" rope=") + (n.rope_mode == RopeMode::kNeox ? "neox" : "norm") + " head_dim=" +
            std::to_string(n.head_dim) + " base=" + std::to_string(static_cast<int64_t>(n.rope_base));
    if (n.rope_dim != n.head_dim) line += " rope_dim=" + std::to_string(n.rope_dim);
    if (n.rope_freq_scale != 1.0f) line += " freq_scale=" + Num(n.rope_freq_scale);
    if (n.rope_freqs >= 0) line += " freq_factors=" + plan.weights[static_cast<size_t>(n.rope_freqs)].name;
  }
  if (n.n_heads > 0) {
    line += " layer=" + std::to_string(n.layer) + " heads=" + std::to_string(n.n_heads) + " kv_heads=" +
            std::to_string(n.n_kv_heads) + " head_dim=" + std::to_string(n.head_dim);
    if (n.scale != 0) line += " scale=" + Num(n.scale);
    if (n.softcap != 0) line += " softcap=" + Num(n.softcap);
    if (n.window > 0) line += " window=" + std::to_string(n.window);
  } else if (n.op == Op::kScale) {
    line += " scale=" + Num(n.scale);
  } else if (n.op == Op::kSoftcap) {
    line += " softcap=" + Num(n.softcap);
  }
  return line;
}

}  // namespace

std::string PrintPlan(const Plan& plan) {
  std::string out = "plan: " + std::to_string(plan.nodes.size()) + " nodes, " + std::to_string(plan.weights.size()) +
                    " weights; T = tokens per step, R = logit rows (1 or T), C = longest context; KV cache " +
                    std::to_string(plan.kv.n_layers) + " layers x " + std::to_string(plan.kv.n_ctx) + " positions x " +
                    std::to_string(plan.kv.kv_dim) + " " + Name(plan.kv.dtype);
  if (plan.parallel.size > 1)
    out += "; tensor-parallel rank " + std::to_string(plan.parallel.rank) + " of " + std::to_string(plan.parallel.size);
  if (plan.parallel.stages > 1)
    out += "; pipeline stage " + std::to_string(plan.parallel.stage) + " of " + std::to_string(plan.parallel.stages) +
           " (layers " + std::to_string(plan.parallel.first_layer) + ".." +
           std::to_string(plan.parallel.first_layer + plan.kv.n_layers - 1) + ", global rank " +
           std::to_string(plan.parallel.global_rank()) + ")";
  out += "\n";
  for (const Node& n : plan.nodes) out += NodeLine(plan, n) + "\n";
  out += "output: %" + std::to_string(plan.output) + "\n";
  return out;
}

nlohmann::ordered_json PlanToJson(const Plan& plan) {
  nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
  for (const Node& n : plan.nodes) {
    nlohmann::ordered_json j = {{"id", n.id}, {"op", OpName(n.op)}, {"label", NodeLabel(n)}, {"name", n.name},
                                {"inputs", n.inputs}, {"shape", DimsToString(n.shape)}, {"dtype", Name(n.dtype)},
                                {"placement", n.placement == Placement::kHost ? "host" : "device"}};
    auto weight = [&](const char* key, int w) {
      if (w >= 0) j[key] = {{"name", plan.weights[static_cast<size_t>(w)].name},
                            {"dtype", Name(plan.weight(w).dtype())}, {"shape", plan.weight(w).shape()}};
    };
    weight("weight", n.weight);
    weight("weight2", n.weight2);
    weight("norm_weight", n.norm_weight);
    weight("bias", n.bias);
    weight("rope_freqs", n.rope_freqs);
    if (!n.expert_weights.empty()) {
      nlohmann::ordered_json experts = nlohmann::ordered_json::array();
      for (int w : n.expert_weights)
        experts.push_back({{"name", plan.weights[static_cast<size_t>(w)].name}, {"dtype", Name(plan.weight(w).dtype())},
                           {"shape", plan.weight(w).shape()}});
      j["experts"] = {{"tensors", std::move(experts)}, {"top_k", n.n_experts_used}, {"renormalize", n.moe_renormalize},
                      {"begin", n.expert_begin}, {"end", n.expert_end}};
    }
    if (n.op == Op::kMatMul || n.op == Op::kGatedFfn) j["tp"] = TpSplitName(n.tp);
    if (n.n_heads > 0)
      j["heads"] = {{"layer", n.layer}, {"q", n.n_heads}, {"kv", n.n_kv_heads}, {"head_dim", n.head_dim},
                    {"scale", n.scale}, {"softcap", n.softcap}, {"window", n.window}};
    nodes.push_back(std::move(j));
  }
  return {{"nodes", std::move(nodes)},
          {"input", plan.input},
          {"output", plan.output},
          {"kv_cache", {{"layers", plan.kv.n_layers}, {"positions", plan.kv.n_ctx}, {"kv_dim", plan.kv.kv_dim}, {"dtype", Name(plan.kv.dtype)}}},
          {"tensor_parallel", {{"rank", plan.parallel.rank}, {"size", plan.parallel.size}}},
          {"pipeline", {{"stage", plan.parallel.stage}, {"stages", plan.parallel.stages},
                        {"first_layer", plan.parallel.first_layer}, {"global_rank", plan.parallel.global_rank()}}}};
}

}  // namespace strata::ir
