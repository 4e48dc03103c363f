// What one op of a plan moves and computes under a binding: the bytes of weights and activations it reads and
// writes, and its floating-point operations. The profiler attaches these to each slice; the cost model turns
// them into a time with the machine's measured bandwidth and FLOP rate.
#pragma once

#include <cstdint>

#include "compiler/ir.h"

namespace strata::ir {

struct OpCost {
  int64_t weight_bytes = 0;
  int64_t activation_bytes = 0;  // inputs read + output written
  int64_t flops = 0;
  int64_t bytes() const { return weight_bytes + activation_bytes; }
};

OpCost EstimateOpCost(const Plan& plan, const Node& n, const Binding& b);

}  // namespace strata::ir
