#include <string>

#include "compiler/passes/passes.h"

namespace strata::ir {
namespace {

bool EndsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Which query and KV heads one rank holds. KV heads are divided when the ranks divide them, and replicated
// (each copy serving part of its query group) when the ranks are a multiple of them, as vLLM does.
struct HeadSplit {
  int64_t q0 = 0, q1 = 0, kv0 = 0, kv1 = 0;
};

Result<HeadSplit> SplitHeads(int64_t n_heads, int64_t n_kv, int tp, int rank) {
  const int64_t group = n_heads / n_kv;
  if (n_kv % tp == 0) {
    const int64_t per = n_kv / tp;
    return HeadSplit{rank * per * group, (rank + 1) * per * group, rank * per, (rank + 1) * per};
  }
  if (tp % n_kv == 0) {
    const int64_t replicas = tp / n_kv, kv = rank / replicas, part = rank % replicas;
    if (group < replicas)
      return Status::InvalidArgument("--tp " + std::to_string(tp) + ": " + std::to_string(n_heads) + " query heads over " +
                                     std::to_string(n_kv) + " KV heads leave some rank without a head");
    const int64_t base = group / replicas, extra = group % replicas;
    const int64_t begin = part * base + std::min(part, extra), size = base + (part < extra ? 1 : 0);
    return HeadSplit{kv * group + begin, kv * group + begin + size, kv, kv + 1};
  }
  return Status::InvalidArgument("--tp " + std::to_string(tp) + " must divide the " + std::to_string(n_kv) +
                                 " KV heads or be a multiple of them");
}

Status Divisible(int64_t n, int tp, const std::string& what) {
  if (n % tp == 0) return Status::Ok();
  return Status::InvalidArgument("--tp " + std::to_string(tp) + " does not divide the " + what + " (" + std::to_string(n) + ")");
}

// Rewrites one rank's plan; nodes are re-emitted in order so that a collective can follow the node it reduces.
class Splitter {
 public:
  Splitter(Plan& plan, const PassContext& ctx, const HeadSplit& heads, int64_t head_dim)
      : plan_(plan), ctx_(ctx), heads_(heads), head_dim_(head_dim) {}

  Status Run() {
    std::vector<Node> old = std::move(plan_.nodes);
    plan_.nodes.clear();
    new_id_.assign(old.size(), -1);
    for (Node n : old) {
      const int old_id = n.id;
      for (int& in : n.inputs) in = new_id_[static_cast<size_t>(in)];
      STRATA_ASSIGN_OR_RETURN(const int id, Emit(std::move(n), old_id == plan_.output));
      new_id_[static_cast<size_t>(old_id)] = id;
    }
    plan_.input = new_id_[static_cast<size_t>(plan_.input)];
    plan_.output = new_id_[static_cast<size_t>(plan_.output)];
    return Status::Ok();
  }

 private:
  // Emits n as this rank's part; returns the id later nodes must read (a collective's, when one follows).
  Result<int> Emit(Node n, bool is_output) {
    const int64_t hd = head_dim_;
    const std::string wname = n.weight >= 0 ? plan_.weights[static_cast<size_t>(n.weight)].name : "";
    const int tp = ctx_.tp, r = ctx_.rank;
    switch (n.op) {
      case Op::kEmbedding: {
        const Tensor& w = plan_.weight(n.weight);
        STRATA_RETURN_IF_ERROR(Divisible(w.dim(1), tp, "embedding width"));
        const int64_t cols = w.dim(1) / tp;
        n.weight = plan_.AddWeight(wname + "[:, " + Range(r * cols, (r + 1) * cols) + "]", SliceColumns(w, r * cols, (r + 1) * cols));
        n.shape = {n.shape[0], cols};
        return Collective(std::move(n), Op::kAllGather);
      }
      case Op::kMatMul: return EmitMatMul(std::move(n), wname, is_output);
      case Op::kRope: case Op::kSilu: case Op::kMul: case Op::kSoftmax:
        n.shape = plan_.node(n.inputs[0]).shape;
        return plan_.AddNode(std::move(n));
      case Op::kKvStore: case Op::kAttnScores: case Op::kAttnValues: {
        n.n_heads = heads_.q1 - heads_.q0;
        n.n_kv_heads = heads_.kv1 - heads_.kv0;
        if (n.op == Op::kAttnScores) n.shape = {kSymTokens, n.n_heads, kSymContext};
        if (n.op == Op::kAttnValues) n.shape = {kSymTokens, n.n_heads * hd};
        return plan_.AddNode(std::move(n));
      }
      default:
        return plan_.AddNode(std::move(n));
    }
  }

  Result<int> EmitMatMul(Node n, const std::string& wname, bool is_output) {
    const Tensor& w = plan_.weight(n.weight);
    const int tp = ctx_.tp, r = ctx_.rank;
    const int64_t hd = head_dim_;
    auto rows = [&](int64_t r0, int64_t r1) {
      n.weight = plan_.AddWeight(wname + "[" + Range(r0, r1) + ", :]", w.Rows(r0, r1));
      n.shape = {n.shape[0], r1 - r0};
    };
    auto cols = [&](int64_t c0, int64_t c1) {
      n.weight = plan_.AddWeight(wname + "[:, " + Range(c0, c1) + "]", SliceColumns(w, c0, c1));
    };
    if (EndsWith(wname, "attn_q.weight")) return rows(heads_.q0 * hd, heads_.q1 * hd), plan_.AddNode(std::move(n));
    if (EndsWith(wname, "attn_k.weight") || EndsWith(wname, "attn_v.weight"))
      return rows(heads_.kv0 * hd, heads_.kv1 * hd), plan_.AddNode(std::move(n));
    if (EndsWith(wname, "ffn_gate.weight") || EndsWith(wname, "ffn_up.weight")) {
      STRATA_RETURN_IF_ERROR(Divisible(w.dim(0), tp, "feed-forward width"));
      const int64_t per = w.dim(0) / tp;
      return rows(r * per, (r + 1) * per), plan_.AddNode(std::move(n));
    }
    if (EndsWith(wname, "attn_output.weight")) {
      cols(heads_.q0 * hd, heads_.q1 * hd);
      return Collective(std::move(n), Op::kAllReduce);
    }
    if (EndsWith(wname, "ffn_down.weight")) {
      STRATA_RETURN_IF_ERROR(Divisible(w.dim(1), tp, "feed-forward width"));
      const int64_t per = w.dim(1) / tp;
      cols(r * per, (r + 1) * per);
      return Collective(std::move(n), Op::kAllReduce);
    }
    if (is_output) {
      STRATA_RETURN_IF_ERROR(Divisible(w.dim(0), tp, "vocabulary"));
      const int64_t per = w.dim(0) / tp;
      rows(r * per, (r + 1) * per);
      return Collective(std::move(n), Op::kAllGather);
    }
    return Status::Unsupported("tensor-parallel split: no rule for weight " + wname);
  }

  // Emits n, then the collective that completes it on every rank.
  int Collective(Node n, Op op) {
    const std::string name = n.name;
    std::vector<int64_t> shape = n.shape;
    const int id = plan_.AddNode(std::move(n));
    if (op == Op::kAllGather) shape.back() *= ctx_.tp;
    return plan_.AddNode({.op = op, .name = name + (op == Op::kAllReduce ? ".all_reduce" : ".all_gather"),
                          .inputs = {id}, .shape = shape});
  }

  static std::string Range(int64_t a, int64_t b) { return std::to_string(a) + ":" + std::to_string(b); }

 private:
  Plan& plan_;
  const PassContext& ctx_;
  HeadSplit heads_;
  int64_t head_dim_;
  std::vector<int> new_id_;
};

}  // namespace

Status SplitTensorParallel(Plan& plan, const PassContext& ctx) {
  if (ctx.tp == 1) return Status::Ok();
  const Node* attn = nullptr;
  for (const Node& n : plan.nodes)
    if (n.op == Op::kAttnScores || n.op == Op::kAttention) attn = &n;
  if (!attn) return Status::Unsupported("tensor-parallel split needs the plan's attention ops");
  const int64_t head_dim = attn->head_dim;
  STRATA_ASSIGN_OR_RETURN(const HeadSplit heads, SplitHeads(attn->n_heads, attn->n_kv_heads, ctx.tp, ctx.rank));
  Splitter s(plan, ctx, heads, head_dim);
  STRATA_RETURN_IF_ERROR(s.Run());
  plan.kv.kv_dim = (heads.kv1 - heads.kv0) * head_dim;
  plan.parallel = {ctx.rank, ctx.tp};
  return plan.Validate();
}

}  // namespace strata::ir
