#include "compiler/llama_builder.h"

namespace strata::ir {
namespace {

// Appends nodes to a plan; one method per op keeps the layer recipe below readable.
class Builder {
 public:
  Builder(const Model& model, Plan& plan) : model_(model), plan_(plan) {}

  int Tokens() { return Add({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32}); }

  int Embedding(int tokens, const std::string& weight) {
    const int w = Weight(weight);
    return Add({.op = Op::kEmbedding, .name = Stem(weight), .inputs = {tokens}, .shape = {kSymTokens, WeightDim(w, 1)},
                .weight = w});
  }
  int RmsNorm(int x, const std::string& weight, float eps) {
    return Add({.op = Op::kRmsNorm, .name = Stem(weight), .inputs = {x}, .shape = Shape(x), .weight = Weight(weight),
                .eps = eps});
  }
  int MatMul(int x, const std::string& weight) {
    const int w = Weight(weight);
    return Add({.op = Op::kMatMul, .name = Stem(weight), .inputs = {x},
                .shape = {Shape(x)[0], WeightDim(w, 0)}, .weight = w});
  }
  int Rope(int x, const std::string& name, int64_t head_dim, float base) {
    return Add({.op = Op::kRope, .name = name, .inputs = {x}, .shape = Shape(x), .rope_base = base,
                .head_dim = head_dim});
  }
  // Attention as the builder emits it, one basic op each: store k/v, scores, causal softmax, weighted values.
  int Attention(int q, int k, int v, int layer, const LlamaConfig& c) {
    const std::string p = "blk." + std::to_string(layer) + ".attn";
    Node a{.layer = layer, .n_heads = c.n_heads, .n_kv_heads = c.n_kv_heads, .head_dim = c.head_dim};
    auto with = [&](Op op, const std::string& name, std::vector<int> inputs, std::vector<int64_t> shape) {
      Node n = a;
      n.op = op, n.name = name, n.inputs = std::move(inputs), n.shape = std::move(shape);
      return Add(std::move(n));
    };
    const int store = with(Op::kKvStore, p + "_kv_store", {k, v}, {0});
    const int scores = with(Op::kAttnScores, p + "_scores", {q, store}, {kSymTokens, c.n_heads, kSymContext});
    const int probs = with(Op::kSoftmax, p + "_softmax", {scores}, {kSymTokens, c.n_heads, kSymContext});
    return with(Op::kAttnValues, p + "_values", {probs, store}, Shape(q));
  }
  int Binary(Op op, int a, int b, const std::string& name) {
    return Add({.op = op, .name = name, .inputs = {a, b}, .shape = Shape(a)});
  }
  int Silu(int x, const std::string& name) { return Add({.op = Op::kSilu, .name = name, .inputs = {x}, .shape = Shape(x)}); }
  int GatherRows(int x) {
    return Add({.op = Op::kGatherRows, .name = "logit_rows", .inputs = {x}, .shape = {kSymOutRows, Shape(x).back()}});
  }

 public:
  const Status& status() const { return status_; }

 private:
  int Add(Node n) { return plan_.AddNode(std::move(n)); }
  const std::vector<int64_t>& Shape(int id) const { return plan_.node(id).shape; }
  // The plan's index of a model weight, added on first use; -1 (and status() set) when the model lacks it.
  int Weight(const std::string& name) {
    for (size_t i = 0; i < plan_.weights.size(); ++i)
      if (plan_.weights[i].name == name) return static_cast<int>(i);
    auto t = model_.Weight(name);
    if (!t.ok()) {
      if (status_.ok()) status_ = t.status();
      return -1;
    }
    return plan_.AddWeight(name, **t);
  }
  // A dimension of weight w, or 0 for a missing one (the plan is then discarded with status()).
  int64_t WeightDim(int w, int d) const { return w < 0 ? 0 : plan_.weights[static_cast<size_t>(w)].tensor.dim(d); }
  static std::string Stem(const std::string& weight) {  // "blk.0.attn_q.weight" -> "blk.0.attn_q"
    const auto dot = weight.rfind(".weight");
    return dot == std::string::npos ? weight : weight.substr(0, dot);
  }

  const Model& model_;
  Plan& plan_;
  Status status_;
};

}  // namespace

Result<Plan> BuildLlamaPlan(const Model& model) {
  const LlamaConfig& c = model.config();
  Plan plan;
  plan.kv = {.n_layers = c.n_layers, .n_ctx = c.n_ctx, .kv_dim = c.n_kv_heads * c.head_dim};
  Builder b(model, plan);
  plan.input = b.Tokens();
  int x = b.Embedding(plan.input, "token_embd.weight");
  for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    int h = b.RmsNorm(x, p + "attn_norm.weight", c.rms_eps);
    const int q = b.Rope(b.MatMul(h, p + "attn_q.weight"), p + "q_rope", c.head_dim, c.rope_base);
    const int k = b.Rope(b.MatMul(h, p + "attn_k.weight"), p + "k_rope", c.head_dim, c.rope_base);
    const int v = b.MatMul(h, p + "attn_v.weight");
    const int attn = b.Attention(q, k, v, l, c);
    x = b.Binary(Op::kAdd, x, b.MatMul(attn, p + "attn_output.weight"), p + "attn_residual");
    h = b.RmsNorm(x, p + "ffn_norm.weight", c.rms_eps);
    const int gate = b.Silu(b.MatMul(h, p + "ffn_gate.weight"), p + "ffn_silu");
    const int up = b.MatMul(h, p + "ffn_up.weight");
    const int ffn = b.MatMul(b.Binary(Op::kMul, gate, up, p + "ffn_swiglu"), p + "ffn_down.weight");
    x = b.Binary(Op::kAdd, x, ffn, p + "ffn_residual");
  }
  // Rows are selected before the final norm so a decode step or the last prompt position pays for one row
  // of the (large) output head, not T.
  x = b.RmsNorm(b.GatherRows(x), "output_norm.weight", c.rms_eps);
  plan.output = b.MatMul(x, c.tied_output ? "token_embd.weight" : "output.weight");
  STRATA_RETURN_IF_ERROR(b.status());
  STRATA_RETURN_IF_ERROR(plan.Validate());
  return plan;
}

}  // namespace strata::ir
