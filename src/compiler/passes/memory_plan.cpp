#include "compiler/passes/memory_plan.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace strata::ir {
namespace {

constexpr int64_t kAlign = 64;
int64_t AlignUp(int64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

}  // namespace

MemoryPlan PlanMemory(const Plan& plan, const Binding& b, const std::vector<int64_t>& scratch) {
  const size_t n = plan.nodes.size();
  // Tensors 0..n-1 are node outputs, n..2n-1 their scratch buffers.
  MemoryPlan mp;
  mp.binding = b;
  mp.offset.assign(2 * n, -1);
  mp.bytes.assign(2 * n, 0);
  mp.first.assign(2 * n, 0);
  mp.last.assign(2 * n, -1);
  for (const Node& node : plan.nodes) {
    const auto i = static_cast<size_t>(node.id);
    mp.bytes[i] = OutputBytes(node, b);
    mp.first[i] = mp.last[i] = node.id;
    for (int in : node.inputs) mp.last[static_cast<size_t>(in)] = std::max(mp.last[static_cast<size_t>(in)], node.id);
    if (i < scratch.size() && scratch[i] > 0) {
      mp.bytes[n + i] = scratch[i];
      mp.first[n + i] = mp.last[n + i] = node.id;
    }
  }
  mp.last[static_cast<size_t>(plan.output)] = static_cast<int>(n);
  std::vector<size_t> order;
  for (size_t i = 0; i < 2 * n; ++i)
    if (mp.bytes[i] > 0) order.push_back(i), mp.naive_bytes += AlignUp(mp.bytes[i]);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t c) { return mp.bytes[a] > mp.bytes[c]; });
  std::vector<size_t> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // reused: [begin, end) of placed tensors live at once
  for (size_t t : order) {
    busy.clear();
    for (size_t p : placed)
      if (mp.first[p] <= mp.last[t] && mp.first[t] <= mp.last[p]) busy.push_back({mp.offset[p], mp.offset[p] + AlignUp(mp.bytes[p])});
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (auto [begin, end] : busy) {
      if (at + mp.bytes[t] <= begin) break;
      at = std::max(at, end);
    }
    mp.offset[t] = at;
    mp.arena_bytes = std::max(mp.arena_bytes, at + AlignUp(mp.bytes[t]));
    placed.push_back(t);
  }
  return mp;
}

// Router logits, the routing (ids and weights) and, since a step's rows reach T * k expert slots in all, the
// gathered inputs, gate/up products and down outputs of every slot.
int64_t MoeScratchPerRow(const Plan& plan, const Node& n) {
  const Tensor& gate = plan.weight(n.expert_weights[0]);
  const int64_t experts = plan.weight(n.weight).dim(0), k = n.n_experts_used, dim = gate.dim(2), ffn = gate.dim(1);
  return experts + 2 * k + k * (2 * dim + 2 * ffn);
}

std::vector<int64_t> ScratchBytes(const Plan& plan, const Binding& b) {
  std::vector<int64_t> scratch(plan.nodes.size(), 0);
  for (const Node& n : plan.nodes) {
    int64_t per_row = 0;
    if (n.norm_weight >= 0) per_row += plan.node(n.inputs[0]).shape.back();
    if (n.op == Op::kGatedFfn) per_row += n.shape.back();
    if (n.op == Op::kMoe) per_row += MoeScratchPerRow(plan, n);
    scratch[static_cast<size_t>(n.id)] = b.Dim(n.shape[0]) * per_row * static_cast<int64_t>(sizeof(float));
  }
  return scratch;
}

Status ValidateMemoryPlan(const MemoryPlan& mp) {
  std::vector<size_t> live;
  for (size_t i = 0; i < mp.bytes.size(); ++i)
    if (mp.bytes[i] > 0) {
      if (mp.offset[i] < 0 || mp.offset[i] % kAlign != 0 || mp.offset[i] + mp.bytes[i] > mp.arena_bytes)
        return Status::Internal("memory plan: tensor " + std::to_string(i) + " lies outside the arena");
      live.push_back(i);
    }
  for (size_t a = 0; a < live.size(); ++a)
    for (size_t c = a + 1; c < live.size(); ++c) {
      const size_t x = live[a], y = live[c];
      const bool same_time = mp.first[x] <= mp.last[y] && mp.first[y] <= mp.last[x];
      const bool same_space = mp.offset[x] < mp.offset[y] + mp.bytes[y] && mp.offset[y] < mp.offset[x] + mp.bytes[x];
      if (same_time && same_space)
        return Status::Internal("memory plan: tensors " + std::to_string(x) + " and " + std::to_string(y) +
                                " are live together and overlap");
    }
  return Status::Ok();
}

std::string DescribeMemoryPlan(const MemoryPlan& mp) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "peak activations %.2f MiB planned vs %.2f MiB naive (%.0f%%) at T=%lld R=%lld C=%lld",
                static_cast<double>(mp.arena_bytes) / (1 << 20), static_cast<double>(mp.naive_bytes) / (1 << 20),
                mp.naive_bytes ? 100.0 * static_cast<double>(mp.arena_bytes) / static_cast<double>(mp.naive_bytes) : 0.0,
                static_cast<long long>(mp.binding.tokens), static_cast<long long>(mp.binding.out_rows),
                static_cast<long long>(mp.binding.context));
  return buf;
}

}  // namespace strata::ir
