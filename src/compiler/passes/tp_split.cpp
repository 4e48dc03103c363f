#include <string>

#include "compiler/op_defs.h"
#include "compiler/passes/passes.h"

namespace strata::ir {
namespace {

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
// Each emitted node remembers which columns of the full feature dimension this rank holds of it (the whole
// width when it is not split), so a row-parallel projection takes the matching input columns of its weight.
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
      STRATA_ASSIGN_OR_RETURN(const int id, Emit(std::move(n)));
      new_id_[static_cast<size_t>(old_id)] = id;
    }
    plan_.input = new_id_[static_cast<size_t>(plan_.input)];
    plan_.output = new_id_[static_cast<size_t>(plan_.output)];
    return Status::Ok();
  }

 private:
  using Cols = std::pair<int64_t, int64_t>;  // [c0, c1) of the full width; {0, -1}: all of it
  static constexpr Cols kWhole{0, -1};

  // Emits n as this rank's part; returns the id later nodes must read (a collective's, when one follows).
  Result<int> Emit(Node n) {
    const int tp = ctx_.tp, r = ctx_.rank;
    switch (n.op) {
      case Op::kEmbedding: {
        const Tensor& w = plan_.weight(n.weight);
        STRATA_RETURN_IF_ERROR(Divisible(w.dim(1), tp, "embedding width"));
        const int64_t cols = w.dim(1) / tp;
        n.weight = AddWeight(n.weight, "[:, " + Range(r * cols, (r + 1) * cols) + "]", SliceColumns(w, r * cols, (r + 1) * cols));
        n.shape = {n.shape[0], cols};
        return Collective(std::move(n), Op::kAllGather);
      }
      case Op::kMatMul: return EmitMatMul(std::move(n));
      case Op::kMoe: return EmitMoe(std::move(n));
      case Op::kKvStore: case Op::kAttnScores: case Op::kAttnValues: case Op::kAttention:
        n.n_heads = heads_.q1 - heads_.q0;
        n.n_kv_heads = heads_.kv1 - heads_.kv0;
        return Reshaped(std::move(n), {heads_.q0 * head_dim_, heads_.q1 * head_dim_});
      default: {
        const Cols cols = InputCols(n);  // before n is moved from
        return Reshaped(std::move(n), cols);
      }
    }
  }

  // Emits n with its shape recomputed from its (split) inputs.
  Result<int> Reshaped(Node n, Cols cols) {
    STRATA_ASSIGN_OR_RETURN(n.shape, Def(n.op).shape(plan_, n));
    return Add(std::move(n), cols);
  }

  Cols InputCols(const Node& n) const { return n.inputs.empty() ? kWhole : cols_[static_cast<size_t>(n.inputs[0])]; }

  Result<int> EmitMatMul(Node n) {
    const Tensor w = plan_.weight(n.weight);
    const int tp = ctx_.tp, r = ctx_.rank;
    const int64_t hd = head_dim_;
    auto rows = [&](int64_t r0, int64_t r1) {
      n.weight = AddWeight(n.weight, "[" + Range(r0, r1) + ", :]", w.Rows(r0, r1));
      if (n.bias >= 0) n.bias = AddWeight(n.bias, "[" + Range(r0, r1) + "]", plan_.weight(n.bias).Rows(r0, r1));
      n.shape = {n.shape[0], r1 - r0};
      return Cols{r0, r1};
    };
    if (InputCols(n) != kWhole && n.tp != TpSplit::kRowsReduce)
      return Status::Unsupported("tensor-parallel split: " + n.name + " reads a split input but is not row-parallel");
    switch (n.tp) {
      case TpSplit::kReplicated: return Add(std::move(n), kWhole);
      case TpSplit::kQHeads: { const Cols c = rows(heads_.q0 * hd, heads_.q1 * hd); return Add(std::move(n), c); }
      case TpSplit::kKvHeads: { const Cols c = rows(heads_.kv0 * hd, heads_.kv1 * hd); return Add(std::move(n), c); }
      case TpSplit::kColumns: {
        STRATA_RETURN_IF_ERROR(Divisible(w.dim(0), tp, "feed-forward width"));
        const int64_t per = w.dim(0) / tp;
        const Cols c = rows(r * per, (r + 1) * per);
        return Add(std::move(n), c);
      }
      case TpSplit::kRowsReduce: {
        const Cols in = InputCols(n);
        if (in == kWhole || n.bias >= 0)
          return Status::Unsupported("tensor-parallel split: " + n.name + " is row-parallel but its input is whole or it has a bias");
        n.weight = AddWeight(n.weight, "[:, " + Range(in.first, in.second) + "]", SliceColumns(w, in.first, in.second));
        return Collective(std::move(n), Op::kAllReduce);
      }
      case TpSplit::kVocab: {
        STRATA_RETURN_IF_ERROR(Divisible(w.dim(0), tp, "vocabulary"));
        const int64_t per = w.dim(0) / tp;
        rows(r * per, (r + 1) * per);
        return Collective(std::move(n), Op::kAllGather);
      }
    }
    return Status::Internal("tensor-parallel split: unknown split of " + n.name);
  }

  // Expert parallelism: each rank holds a contiguous share of the experts and computes only their part of
  // each token's weighted sum; the router stays whole so every rank routes alike, and an all-reduce adds the
  // parts. Expert FFNs are small, so splitting each expert's FFN would leave tiny matmuls.
  Result<int> EmitMoe(Node n) {
    const int64_t experts = plan_.weight(n.weight).dim(0);
    STRATA_RETURN_IF_ERROR(Divisible(experts, ctx_.tp, "expert count"));
    const int64_t per = experts / ctx_.tp, e0 = ctx_.rank * per, e1 = e0 + per;
    for (int& w : n.expert_weights) w = AddWeight(w, "[" + Range(e0, e1) + "]", plan_.weight(w).Rows(e0, e1));
    n.expert_begin = e0;
    n.expert_end = e1;
    return Collective(std::move(n), Op::kAllReduce);
  }

  int AddWeight(int w, const std::string& suffix, Tensor t) {
    return plan_.AddWeight(plan_.weights[static_cast<size_t>(w)].name + suffix, std::move(t));
  }

  int Add(Node n, Cols cols) {
    const int id = plan_.AddNode(std::move(n));
    cols_.resize(static_cast<size_t>(id) + 1, kWhole);
    cols_[static_cast<size_t>(id)] = cols;
    return id;
  }

  // Emits n, then the collective that completes it on every rank.
  int Collective(Node n, Op op) {
    const std::string name = n.name;
    std::vector<int64_t> shape = n.shape;
    const int id = Add(std::move(n), kWhole);
    if (op == Op::kAllGather) shape.back() *= ctx_.tp;
    return Add({.op = op, .name = name + (op == Op::kAllReduce ? ".all_reduce" : ".all_gather"), .inputs = {id},
                .shape = shape}, kWhole);
  }

  static std::string Range(int64_t a, int64_t b) { return std::to_string(a) + ":" + std::to_string(b); }

 private:
  Plan& plan_;
  const PassContext& ctx_;
  HeadSplit heads_;
  int64_t head_dim_;
  std::vector<int> new_id_;
  std::vector<Cols> cols_;  // by new node id
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
  // Set first: the shape rules of the re-emitted nodes read the rank's KV width and the rank count.
  plan.kv.kv_dim = (heads.kv1 - heads.kv0) * head_dim;
  plan.parallel.rank = ctx.rank;  // the pipeline fields stay
  plan.parallel.size = ctx.tp;
  Splitter s(plan, ctx, heads, head_dim);
  STRATA_RETURN_IF_ERROR(s.Run());
  return plan.Validate();
}

}  // namespace strata::ir
