#include "compiler/passes/passes.h"

namespace strata::ir {

Status FuseAttention(Plan& plan, const PassContext&) {
  const std::vector<int> uses = plan.UseCounts();
  auto used_once = [&](int id) { return uses[static_cast<size_t>(id)] == 1; };
  for (Node& values : plan.nodes) {
    if (values.op != Op::kAttnValues) continue;
    const Node& probs = plan.node(values.inputs[0]);
    if (probs.op != Op::kSoftmax || !used_once(probs.id)) continue;
    const Node& scores = plan.node(probs.inputs[0]);
    const Node& store = plan.node(values.inputs[1]);
    if (scores.op != Op::kAttnScores || !used_once(scores.id) || store.op != Op::kKvStore ||
        scores.inputs[1] != store.id || uses[static_cast<size_t>(store.id)] != 2)
      continue;
    const std::vector<int> qkv = {scores.inputs[0], store.inputs[0], store.inputs[1]};
    values.op = Op::kAttention;
    values.inputs = qkv;
    // "blk.L.attn_kv_store" -> "blk.L.attn": the model's layer number, which `layer` (a pipeline stage's
    // local KV index) need not be.
    const std::string& stem = store.name;
    values.name = stem.ends_with("_kv_store") ? stem.substr(0, stem.size() - 9) : stem;
  }
  plan.RemoveDeadNodes();
  return plan.Validate();
}

}  // namespace strata::ir
