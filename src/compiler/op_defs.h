// One definition per IR op: its printed name, arity, whether it reads a weight and takes fusions, its shape
// rule and its cost. ir.cpp (validation), op_cost.cpp (the profiler's and cost model's figures) and the
// printer read this table; a new op is one entry here plus its kernel in each backend.
#pragma once

#include <string>
#include <vector>

#include "compiler/ir.h"
#include "compiler/op_cost.h"
#include "core/status.h"

namespace strata::ir {

struct OpDef {
  const char* name;
  int arity;            // inputs, before a fused residual's
  bool needs_weight;    // `weight` must be set
  bool fusable;         // takes a fused RMSNorm / RoPE / residual
  bool uses_kv_layer;   // `layer` indexes the KV cache
  // The shape the op must produce from its inputs and attributes, or an error naming what disagrees.
  Result<std::vector<int64_t>> (*shape)(const Plan& plan, const Node& n);
  // Adds the op's flops (and any bytes beyond its inputs, output and weights) under a binding.
  void (*cost)(const Plan& plan, const Node& n, const Binding& b, OpCost& c);
};

const OpDef& Def(Op op);
Status NodeError(const Node& n, const std::string& what);

}  // namespace strata::ir
