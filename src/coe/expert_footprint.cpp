#include "coe/expert_footprint.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <set>

#include "compiler/passes/memory_plan.h"

namespace strata::coe {

namespace {

constexpr int64_t kHugePage = int64_t{2} << 20;

int64_t RoundUpPow2(int64_t x) {
  return static_cast<int64_t>(std::bit_ceil(static_cast<uint64_t>(std::max<int64_t>(x, 1))));
}

// Projection weights are repacked for the integer kernels (runtime/kernels/quant_matmul.h); copies of 2 MiB
// and more take whole huge pages.
int64_t WeightBytes(const ir::Plan& plan) {
  std::set<int> projections;
  for (const ir::Node& n : plan.nodes)
    if (n.op == ir::Op::kMatMul || n.op == ir::Op::kGatedFfn)
      for (int w : {n.weight, n.weight2})
        if (w >= 0) projections.insert(w);
  int64_t total = 0;
  for (size_t i = 0; i < plan.weights.size(); ++i) {
    auto bytes = static_cast<int64_t>(plan.weights[i].tensor.nbytes());
    if (projections.contains(static_cast<int>(i)) && bytes >= kHugePage)
      bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    total += bytes;
  }
  return total;
}

}  // namespace

std::string FormatBytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string ExpertFootprint::Describe() const {
  return FormatBytes(total()) + " (weights " + FormatBytes(weights) + ", KV " + FormatBytes(kv) + ", activations " +
         FormatBytes(activations) + ")";
}

// The executor plans its arena for the step's binding rounded up to powers of two (plan_executor.cpp), so
// the largest step's arena is that of the rounded binding.
ExpertFootprint MeasureFootprint(const std::vector<ir::Plan>& plans, int64_t kv_bytes, const EngineConfig& engine,
                                 int64_t max_model_len) {
  ExpertFootprint f;
  f.kv = kv_bytes;
  const ir::Binding largest{RoundUpPow2(engine.scheduler.max_num_batched_tokens),
                            RoundUpPow2(engine.scheduler.max_num_seqs), RoundUpPow2(max_model_len)};
  for (const ir::Plan& plan : plans) {
    f.weights += WeightBytes(plan);
    f.activations += ir::PlanMemory(plan, largest, ir::ScratchBytes(plan, largest)).arena_bytes;
  }
  return f;
}

}  // namespace strata::coe
