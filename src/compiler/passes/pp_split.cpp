#include <algorithm>
#include <string>
#include <vector>

#include "compiler/op_defs.h"
#include "compiler/passes/passes.h"

namespace strata::ir {
namespace {

// The model layer a node belongs to by its name ("blk.12.attn_q" -> 12; tensor-parallel collectives keep their
// matmul's name as a prefix), or -1 outside the layers (embedding, output head, graph inputs).
int LayerOfName(const std::string& name) {
  if (!name.starts_with("blk.")) return -1;
  size_t i = 4;
  int layer = 0;
  for (; i < name.size() && name[i] >= '0' && name[i] <= '9' && layer < (1 << 20); ++i) layer = layer * 10 + (name[i] - '0');
  return i > 4 && i < name.size() && name[i] == '.' ? layer : -1;
}

// Where each layer's nodes lie in the plan. The builders emit the layers one after another, so each layer is
// one contiguous run of nodes named after it, and nothing outside the layers sits between two of them.
struct LayerRuns {
  std::vector<int> first, last;  // node ids, by layer
};

Result<LayerRuns> FindLayerRuns(const Plan& plan, int n_layers) {
  LayerRuns runs{std::vector<int>(static_cast<size_t>(n_layers), -1), std::vector<int>(static_cast<size_t>(n_layers), -1)};
  int prev = -1;
  bool after_layers = false;
  for (const Node& n : plan.nodes) {
    const int l = LayerOfName(n.name);
    if (l < 0) {
      if (prev >= 0 && prev < n_layers - 1) return NodeError(n, "pipeline split: a node outside the layers sits between them");
      after_layers = prev >= 0;
      continue;
    }
    if (l >= n_layers) return NodeError(n, "pipeline split: layer beyond the KV cache's " + std::to_string(n_layers));
    if (after_layers || (l != prev && l != prev + 1))
      return NodeError(n, "pipeline split: layers are not one run each, in order");
    if (runs.first[static_cast<size_t>(l)] < 0) runs.first[static_cast<size_t>(l)] = n.id;
    runs.last[static_cast<size_t>(l)] = n.id;
    prev = l;
  }
  if (prev != n_layers - 1) return Status::Internal("pipeline split: the plan has " + std::to_string(prev + 1) +
                                                    " layers of nodes, its KV cache " + std::to_string(n_layers));
  return runs;
}

// The residual stream entering layer l: the one node before the layer that the layer's nodes read (the
// embedding output, after any scale, for layer 0; the previous layer's last residual add otherwise). A layer
// that reads two earlier nodes has no single cut point, and the split refuses it.
Result<int> StreamInto(const Plan& plan, const LayerRuns& runs, int l) {
  const int first = runs.first[static_cast<size_t>(l)], last = runs.last[static_cast<size_t>(l)];
  int stream = -1;
  for (int id = first; id <= last; ++id)
    for (int in : plan.node(id).inputs) {
      if (in >= first) continue;
      if (stream >= 0 && in != stream)
        return NodeError(plan.node(id), "pipeline split: layer " + std::to_string(l) + " reads more than one earlier node");
      stream = in;
    }
  if (stream < 0) return Status::Internal("pipeline split: layer " + std::to_string(l) + " reads no earlier node");
  const Node& s = plan.node(stream);
  if (s.shape.size() != 2 || s.shape[0] != kSymTokens || s.dtype != DType::kF32)
    return NodeError(s, "pipeline split: the residual stream into layer " + std::to_string(l) + " is not [T, dim] f32");
  return stream;
}

// After the cut: the graph inputs first, then only this stage's layers in order, then (last stage only) the
// head; the embedding only in the first stage. Anything else means a node reached across the cut.
Status CheckStage(const Plan& plan, int begin, int end, bool first_stage, bool last_stage) {
  int phase = 0;  // 0: before the layers, 1: in them, 2: after
  for (const Node& n : plan.nodes) {
    const int l = LayerOfName(n.name);
    const bool graph_input = n.id == plan.input || n.op == Op::kStageInput;
    bool ok = true;
    if (graph_input) {
      ok = phase == 0;
    } else if (l >= 0) {
      ok = phase <= 1 && l >= begin && l < end;
      phase = 1;
    } else {
      if (phase >= 1) phase = 2;
      ok = phase == 0 ? first_stage : last_stage;
    }
    if (!ok) return NodeError(n, "pipeline split: node does not belong to the stage of layers " + std::to_string(begin) +
                                     ".." + std::to_string(end - 1));
  }
  return Status::Ok();
}

// Drops the weights no node of the stage reads (the other stages' layers, the embedding or the head), so a
// process holding one stage's plan keeps no tensor-parallel slices it will never use.
void DropUnusedWeights(Plan& plan) {
  std::vector<int> new_index(plan.weights.size(), -1);
  std::vector<WeightRef> kept;
  auto keep = [&](int& w) {
    if (w < 0) return;
    int& to = new_index[static_cast<size_t>(w)];
    if (to < 0) {
      to = static_cast<int>(kept.size());
      kept.push_back(std::move(plan.weights[static_cast<size_t>(w)]));
    }
    w = to;
  };
  for (Node& n : plan.nodes) {
    for (int* w : {&n.weight, &n.weight2, &n.bias, &n.norm_weight, &n.rope_freqs}) keep(*w);
    for (int& w : n.expert_weights) keep(w);
  }
  plan.weights = std::move(kept);
}

}  // namespace

LayerRange StageLayers(int64_t n_layers, int stage, int stages) {
  const int64_t base = n_layers / stages, extra = n_layers % stages;
  const int64_t begin = stage * base + std::min<int64_t>(stage, extra);
  return {begin, begin + base + (stage < extra ? 1 : 0)};
}

Status SplitPipeline(Plan& plan, int stage, int stages) {
  const int64_t n_layers = plan.kv.n_layers;
  if (stages < 1 || stage < 0 || stage >= stages) return Status::InvalidArgument("pipeline stage out of range");
  if (stages > n_layers)
    return Status::InvalidArgument("--pp " + std::to_string(stages) + " exceeds the model's " + std::to_string(n_layers) + " layers");
  plan.parallel.stage = stage;
  plan.parallel.stages = stages;
  plan.parallel.first_layer = 0;
  if (stages == 1) return Status::Ok();
  STRATA_ASSIGN_OR_RETURN(const LayerRuns runs, FindLayerRuns(plan, static_cast<int>(n_layers)));
  const LayerRange range = StageLayers(n_layers, stage, stages);
  const int begin = static_cast<int>(range.begin), end = static_cast<int>(range.end);
  if (end < n_layers) {
    STRATA_ASSIGN_OR_RETURN(plan.output, StreamInto(plan, runs, end));
  }
  if (begin > 0) {
    // The stream's producer becomes the stage's input in place: its position still precedes every reader,
    // and what produced it (the earlier layers, the embedding) dies with nothing left reading it.
    STRATA_ASSIGN_OR_RETURN(const int stream, StreamInto(plan, runs, begin));
    Node& in = plan.node(stream);
    in = Node{.id = stream, .op = Op::kStageInput, .name = "stage_input", .shape = in.shape, .dtype = DType::kF32};
  }
  plan.RemoveDeadNodes();
  DropUnusedWeights(plan);
  for (Node& n : plan.nodes)
    if (n.layer >= 0) n.layer -= begin;
  plan.kv.n_layers = end - begin;
  plan.parallel.first_layer = begin;
  STRATA_RETURN_IF_ERROR(CheckStage(plan, begin, end, stage == 0, stage == stages - 1));
  return plan.Validate();
}

}  // namespace strata::ir
