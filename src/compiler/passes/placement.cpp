#include <algorithm>
#include <map>

#include "compiler/passes/passes.h"

namespace strata::ir {
namespace {

// The op labels a node needs from its backend: its own op and every op fused into it.
std::vector<std::string> NeededOps(const Node& n) {
  std::vector<std::string> ops = {OpLabel(n)};
  if (n.norm_weight >= 0) ops.push_back("rms_norm");
  if (n.rope) ops.push_back("rope");
  if (n.residual) ops.push_back("add");
  return ops;
}

}  // namespace

// Rebuilds the node list: a node the device lacks is placed on the host; whenever a value crosses between
// host and device a copy node moves it (once per value and direction). Token ids and the plan output live on
// the host side of the API already, so they need no copies.
Status PlaceOps(Plan& plan, const PassContext& ctx) {
  if (ctx.device_lacks.empty()) return Status::Ok();
  auto lacks = [&](const Node& n) {
    for (const std::string& op : NeededOps(n))
      if (std::find(ctx.device_lacks.begin(), ctx.device_lacks.end(), op) != ctx.device_lacks.end()) return true;
    return false;
  };
  std::vector<Node> old = std::move(plan.nodes);
  plan.nodes.clear();
  std::vector<int> new_id(old.size(), -1);
  std::map<std::pair<int, bool>, int> copies;  // (new id, to host) -> copy node
  for (Node n : old) {
    const int old_id = n.id;
    if (n.op != Op::kTokens) n.placement = lacks(n) ? Placement::kHost : Placement::kDevice;
    for (int& in : n.inputs) {
      in = new_id[static_cast<size_t>(in)];
      const Node& src = plan.node(in);
      if (src.op == Op::kTokens || src.op == Op::kKvStore || src.placement == n.placement) continue;
      const bool to_host = n.placement == Placement::kHost;
      auto [it, fresh] = copies.try_emplace({in, to_host}, -1);
      if (fresh) {
        Node copy{.op = Op::kCopy, .name = src.name + (to_host ? ".to_host" : ".to_device"), .inputs = {in},
                  .shape = src.shape, .placement = to_host ? Placement::kHost : Placement::kDevice, .to_host = to_host};
        it->second = plan.AddNode(std::move(copy));
      }
      in = it->second;
    }
    new_id[static_cast<size_t>(old_id)] = plan.AddNode(std::move(n));
  }
  plan.input = new_id[static_cast<size_t>(plan.input)];
  plan.output = new_id[static_cast<size_t>(plan.output)];
  return plan.Validate();
}

}  // namespace strata::ir
