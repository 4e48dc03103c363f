#include "compiler/cost_model.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <utility>

#include "compiler/op_cost.h"

namespace strata::ir {

namespace {

double Rate(const std::map<DType, double>& rates, DType t, double fallback) {
  const auto it = rates.find(t);
  return it != rates.end() && it->second > 0 ? it->second : fallback;
}
double Seconds(int64_t amount, double per_second_1e9) {
  return per_second_1e9 > 0 ? static_cast<double>(amount) / (per_second_1e9 * 1e9) : 0.0;
}

// Ops that run a kernel (graph inputs and the never-lowered unfused attention parts aside, every op does).
bool Dispatched(const Node& n) { return n.op != Op::kTokens && n.op != Op::kStageInput; }

double OpSeconds(const Plan& plan, const Node& n, const Binding& b, const OpCost& oc, const CostRates& r) {
  const bool linear = (n.op == Op::kMatMul || n.op == Op::kGatedFfn) && n.weight >= 0;
  if (linear) {
    const DType t = plan.weight(n.weight).dtype();
    return std::max(Seconds(oc.weight_bytes, Rate(r.gemv_gbs, t, r.bandwidth_gbs)),
                    Seconds(oc.flops, Rate(r.gemm_gflops, t, r.gflops))) +
           Seconds(oc.activation_bytes, r.bandwidth_gbs);
  }
  if (n.op == Op::kAttention) {
    const double rows = static_cast<double>(b.tokens) * static_cast<double>(n.n_heads);
    return std::max(Seconds(oc.bytes(), r.attention_gbs > 0 ? r.attention_gbs : r.bandwidth_gbs),
                    rows * r.attention_row_seconds +
                        Seconds(oc.flops, r.attention_gflops > 0 ? r.attention_gflops : r.gflops));
  }
  return std::max(Seconds(oc.bytes(), r.bandwidth_gbs), Seconds(oc.flops, r.gflops));
}

}  // namespace

PlanCost EstimatePlanCost(const Plan& plan, const Binding& b, const CostRates& rates) {
  PlanCost c;
  c.op_seconds.assign(plan.nodes.size(), 0.0);
  for (const Node& n : plan.nodes) {
    const OpCost oc = EstimateOpCost(plan, n, b);
    const double t = OpSeconds(plan, n, b, oc, rates) + (Dispatched(n) ? rates.op_seconds : 0.0);
    c.op_seconds[static_cast<size_t>(n.id)] = t;
    c.total_seconds += t;
    c.total_bytes += oc.bytes();
    c.total_flops += oc.flops;
  }
  return c;
}

CostRates FasterOf(const CostRates& a, const CostRates& b) {
  CostRates r = a;
  r.bandwidth_gbs = std::max(a.bandwidth_gbs, b.bandwidth_gbs);
  r.gflops = std::max(a.gflops, b.gflops);
  for (auto [rates, other] : {std::pair{&r.gemv_gbs, &b.gemv_gbs}, std::pair{&r.gemm_gflops, &b.gemm_gflops}})
    for (const auto& [t, rate] : *other) (*rates)[t] = std::max((*rates)[t], rate);
  r.attention_gbs = std::max(a.attention_gbs, b.attention_gbs);
  // The pair that predicts the shorter time for one (row, head) attending 2048 positions of a 64-wide head: a
  // higher rate with a longer fixed time can be the slower pair for short spans.
  constexpr double kRowFlops = 4.0 * 2048 * 64;
  auto row_time = [&](const CostRates& x) {
    return x.attention_gflops > 0 ? x.attention_row_seconds + kRowFlops / (x.attention_gflops * 1e9) : 1e30;
  };
  if (row_time(b) < row_time(a)) {
    r.attention_gflops = b.attention_gflops;
    r.attention_row_seconds = b.attention_row_seconds;
  }
  r.op_seconds = a.op_seconds > 0 && b.op_seconds > 0 ? std::min(a.op_seconds, b.op_seconds) : std::max(a.op_seconds, b.op_seconds);
  return r;
}

std::string DescribePlanCost(const Plan& plan, const PlanCost& cost, int top) {
  std::vector<int> order(plan.nodes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return cost.op_seconds[static_cast<size_t>(a)] > cost.op_seconds[static_cast<size_t>(b)];
  });
  std::string out;
  char line[256];
  for (int i = 0; i < std::min<int>(top, static_cast<int>(order.size())); ++i) {
    const Node& n = plan.node(order[static_cast<size_t>(i)]);
    std::snprintf(line, sizeof line, "  %%%-4d %-26s %-28s %9.1f us  %5.1f%%\n", n.id, NodeLabel(n).c_str(),
                  n.name.c_str(), cost.op_seconds[static_cast<size_t>(n.id)] * 1e6,
                  cost.total_seconds > 0 ? 100 * cost.op_seconds[static_cast<size_t>(n.id)] / cost.total_seconds : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "  total %.3f ms predicted (%.2f MB moved, %.3f GFLOP)\n", cost.total_seconds * 1e3,
                static_cast<double>(cost.total_bytes) / 1e6, static_cast<double>(cost.total_flops) / 1e9);
  return out + line;
}

}  // namespace strata::ir
