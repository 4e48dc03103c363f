// Static memory planning: every intermediate tensor of a plan gets an offset in one arena, by liveness (a
// tensor lives from the node that writes it to the last node that reads it); tensors whose lifetimes do not
// overlap share space. Sizes depend on the step's binding (T, R, C), so a plan is made per binding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir.h"

namespace strata::ir {

struct MemoryPlan {
  ir::Binding binding;
  std::vector<int64_t> offset;      // bytes into the arena, per node id (-1: no buffer)
  std::vector<int64_t> bytes;       // per node id
  std::vector<int> first, last;     // lifetime [first, last] in node order, per node id
  int64_t arena_bytes = 0;          // peak: what the arena must hold
  int64_t naive_bytes = 0;          // one buffer per tensor, never reused
};

// Greedy by size (largest tensor first, lowest offset that no live-overlapping tensor occupies), offsets
// aligned to 64 bytes. The output stays live to the end. `scratch` (per node id, may be empty) adds a
// buffer that lives only during its node, for kernels that need one (fused norm / SwiGLU).
MemoryPlan PlanMemory(const Plan& plan, const Binding& b, const std::vector<int64_t>& scratch = {});

// Scratch bytes each node's kernel needs under a binding: a fused RMSNorm keeps the normalised input, a gated
// FFN the up projection, a MoE its routing and per-expert buffers (MoeScratchPerRow floats per row).
std::vector<int64_t> ScratchBytes(const Plan& plan, const Binding& b);
int64_t MoeScratchPerRow(const Plan& plan, const Node& n);

// Checks that no two tensors alive at the same time overlap and that all lie inside the arena.
Status ValidateMemoryPlan(const MemoryPlan& mp);

// Where a node's scratch buffer starts in the arena (planned as its own tensor after the nodes).
inline int64_t ScratchOffset(const MemoryPlan& mp, int node_id, size_t n_nodes) {
  return mp.offset[n_nodes + static_cast<size_t>(node_id)];
}

// "peak 1.2 MiB planned vs 3.4 MiB naive (35%)".
std::string DescribeMemoryPlan(const MemoryPlan& mp);

}  // namespace strata::ir
