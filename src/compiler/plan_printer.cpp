#include "compiler/plan_printer.h"

#include <cstdio>

namespace strata::ir {
namespace {

std::string WeightText(const Plan& plan, int w) {
  const WeightRef& ref = plan.weights[static_cast<size_t>(w)];
  return ref.name + " " + Name(ref.tensor.dtype()) + " " + ref.tensor.ShapeString();
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
  if (n.weight >= 0) line += std::string(n.op == Op::kSwiGLU ? "  gate=" : "  weight=") + WeightText(plan, n.weight);
  if (n.weight2 >= 0) line += "  up=" + WeightText(plan, n.weight2);
  if (n.op == Op::kRmsNorm || n.norm_weight >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " eps=%g", static_cast<double>(n.eps));
    line += buf;
  }
  if (n.op == Op::kRope || n.rope)
    line += " head_dim=" + std::to_string(n.head_dim) + " base=" + std::to_string(static_cast<int64_t>(n.rope_base));
  if (n.n_heads > 0)
    line += " layer=" + std::to_string(n.layer) + " heads=" + std::to_string(n.n_heads) + " kv_heads=" +
            std::to_string(n.n_kv_heads) + " head_dim=" + std::to_string(n.head_dim);
  return line;
}

}  // namespace

std::string PrintPlan(const Plan& plan) {
  std::string out = "plan: " + std::to_string(plan.nodes.size()) + " nodes, " + std::to_string(plan.weights.size()) +
                    " weights; T = tokens per step, R = logit rows (1 or T), C = longest context; KV cache " +
                    std::to_string(plan.kv.n_layers) + " layers x " + std::to_string(plan.kv.n_ctx) + " positions x " +
                    std::to_string(plan.kv.kv_dim);
  if (plan.parallel.size > 1)
    out += "; tensor-parallel rank " + std::to_string(plan.parallel.rank) + " of " + std::to_string(plan.parallel.size);
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
    if (n.n_heads > 0) j["heads"] = {{"layer", n.layer}, {"q", n.n_heads}, {"kv", n.n_kv_heads}, {"head_dim", n.head_dim}};
    nodes.push_back(std::move(j));
  }
  return {{"nodes", std::move(nodes)},
          {"input", plan.input},
          {"output", plan.output},
          {"kv_cache", {{"layers", plan.kv.n_layers}, {"positions", plan.kv.n_ctx}, {"kv_dim", plan.kv.kv_dim}}},
          {"tensor_parallel", {{"rank", plan.parallel.rank}, {"size", plan.parallel.size}}}};
}

}  // namespace strata::ir
