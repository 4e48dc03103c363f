#include "compiler/cost_model.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "compiler/op_cost.h"

namespace strata::ir {

PlanCost EstimatePlanCost(const Plan& plan, const Binding& b, double bandwidth_gbs, double gflops) {
  PlanCost c;
  c.op_seconds.assign(plan.nodes.size(), 0.0);
  for (const Node& n : plan.nodes) {
    const OpCost oc = EstimateOpCost(plan, n, b);
    const double t = std::max(static_cast<double>(oc.bytes()) / (bandwidth_gbs * 1e9),
                              static_cast<double>(oc.flops) / (gflops * 1e9));
    c.op_seconds[static_cast<size_t>(n.id)] = t;
    c.total_seconds += t;
    c.total_bytes += oc.bytes();
    c.total_flops += oc.flops;
  }
  return c;
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
