// A roofline cost model of a plan: each op takes the longer of its bytes over the memory bandwidth and its
// FLOPs over the FLOP rate (both measured on the machine by the caller). `strata plan --cost` prints it per
// op; `strata bench` compares its per-token total with the measured time.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"

namespace strata::ir {

struct PlanCost {
  std::vector<double> op_seconds;  // per node id
  double total_seconds = 0;
  int64_t total_bytes = 0, total_flops = 0;
};

PlanCost EstimatePlanCost(const Plan& plan, const Binding& b, double bandwidth_gbs, double gflops);

// The table `strata plan --cost` prints: the ops by predicted time, largest first, and the total.
std::string DescribePlanCost(const Plan& plan, const PlanCost& cost, int top);

}  // namespace strata::ir
