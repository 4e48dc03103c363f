#include "compiler/plan_builder.h"

#include "model/arch/architecture.h"

namespace strata::ir {
namespace {

// Emits IR for an architecture's recipe. A weight the model lacks sets status() (the first such error is
// reported) and yields -1; shapes then come out as 0 and the plan is discarded.
class IrBuilder final : public GraphBuilder {
 public:
  IrBuilder(const Model& model, Plan& plan) : model_(model), plan_(plan) {}
  const Status& status() const { return status_; }

  Value Tokens() override {
    plan_.input = Add({.op = Op::kTokens, .name = "tokens", .shape = {kSymTokens}, .dtype = DType::kI32});
    return plan_.input;
  }
  Value Embedding(Value tokens, const std::string& weight) override {
    const int w = Weight(weight);
    return Add({.op = Op::kEmbedding, .name = Stem(weight), .inputs = {tokens}, .shape = {kSymTokens, Dim(w, 1)}, .weight = w});
  }
  Value RmsNorm(Value x, const std::string& weight, float eps) override {
    return Add({.op = Op::kRmsNorm, .name = Stem(weight), .inputs = {x}, .shape = Shape(x), .weight = Weight(weight), .eps = eps});
  }
  Value MatMul(Value x, const WeightPart& part, TpSplit split, const std::string& bias) override {
    const int w = Weight(part);
    return Add({.op = Op::kMatMul, .name = Stem(part.name) + (part.row1 >= 0 ? PartSuffix(part) : ""), .inputs = {x},
                .shape = {Shape(x)[0], Dim(w, 0)}, .weight = w, .bias = bias.empty() ? -1 : Weight(bias), .tp = split});
  }
  Value Rope(Value x, const RopeSpec& r, const std::string& name) override {
    return Add({.op = Op::kRope, .name = name, .inputs = {x}, .shape = Shape(x), .head_dim = r.head_dim,
                .rope_mode = r.mode, .rope_dim = r.rope_dim, .rope_base = r.base, .rope_freq_scale = r.freq_scale,
                .rope_freqs = r.freq_factors.empty() ? -1 : Weight(r.freq_factors)});
  }
  // Attention as the builder emits it, one basic op each: store k/v, scores, causal softmax, weighted values.
  Value Attention(Value q, Value k, Value v, const AttentionSpec& s) override {
    const std::string p = "blk." + std::to_string(s.layer) + ".attn";
    Node a{.layer = s.layer, .scale = s.scale, .softcap = s.softcap, .window = s.window, .n_heads = s.n_heads,
           .n_kv_heads = s.n_kv_heads, .head_dim = s.head_dim};
    auto with = [&](Op op, const std::string& name, std::vector<int> inputs, std::vector<int64_t> shape) {
      Node n = a;
      n.op = op, n.name = name, n.inputs = std::move(inputs), n.shape = std::move(shape);
      return Add(std::move(n));
    };
    const int store = with(Op::kKvStore, p + "_kv_store", {k, v}, {0});
    const int scores = with(Op::kAttnScores, p + "_scores", {q, store}, {kSymTokens, s.n_heads, kSymContext});
    const int probs = with(Op::kSoftmax, p + "_softmax", {scores}, {kSymTokens, s.n_heads, kSymContext});
    return with(Op::kAttnValues, p + "_values", {probs, store}, Shape(q));
  }
  Value Activate(Value x, Activation act, const std::string& name) override {
    return Add({.op = Op::kActivate, .name = name, .inputs = {x}, .shape = Shape(x), .act = act});
  }
  Value Add(Value a, Value b, const std::string& name) override {
    return Add({.op = Op::kAdd, .name = name, .inputs = {a, b}, .shape = Shape(a)});
  }
  Value Mul(Value a, Value b, const std::string& name) override {
    return Add({.op = Op::kMul, .name = name, .inputs = {a, b}, .shape = Shape(a)});
  }
  Value Scale(Value x, float s, const std::string& name) override {
    return Add({.op = Op::kScale, .name = name, .inputs = {x}, .shape = Shape(x), .scale = s});
  }
  Value Softcap(Value x, float cap, const std::string& name) override {
    return Add({.op = Op::kSoftcap, .name = name, .inputs = {x}, .shape = Shape(x), .softcap = cap});
  }
  Value Moe(Value x, const MoeSpec& m) override {
    return Add({.op = Op::kMoe, .name = m.name, .inputs = {x}, .shape = Shape(x), .weight = Weight(m.router),
                .expert_weights = {Weight(m.gate), Weight(m.up), Weight(m.down)}, .act = m.act,
                .n_experts_used = m.n_used, .moe_renormalize = m.renormalize});
  }
  Value GatherRows(Value x) override {
    return Add({.op = Op::kGatherRows, .name = "logit_rows", .inputs = {x}, .shape = {kSymOutRows, Shape(x).back()}});
  }
  void Output(Value logits) override { plan_.output = logits; }

 private:
  int Add(Node n) { return plan_.AddNode(std::move(n)); }
  const std::vector<int64_t>& Shape(int id) const { return plan_.node(id).shape; }
  // The plan's index of a model weight (or rows of one), added on first use.
  int Weight(const WeightPart& part) {
    const std::string name = part.row1 >= 0 ? part.name + "[" + PartRange(part) + ", :]" : part.name;
    for (size_t i = 0; i < plan_.weights.size(); ++i)
      if (plan_.weights[i].name == name) return static_cast<int>(i);
    auto t = model_.Weight(part.name);
    if (!t.ok()) return Fail(t.status());
    if (part.row1 < 0) return plan_.AddWeight(name, **t);
    if ((*t)->rank() != 2 || part.row0 < 0 || part.row1 > (*t)->dim(0) || part.row0 >= part.row1)
      return Fail(Status::Corrupt("weight '" + part.name + "' has no rows " + PartRange(part)));
    return plan_.AddWeight(name, (*t)->Rows(part.row0, part.row1));
  }
  int Fail(const Status& s) {
    if (status_.ok()) status_ = s;
    return -1;
  }
  // A dimension of weight w, or 0 for a missing one (the plan is then discarded with status()).
  int64_t Dim(int w, int d) const { return w < 0 ? 0 : plan_.weights[static_cast<size_t>(w)].tensor.dim(d); }
  static std::string PartRange(const WeightPart& p) { return std::to_string(p.row0) + ":" + std::to_string(p.row1); }
  static std::string PartSuffix(const WeightPart& p) { return "[" + PartRange(p) + "]"; }
  static std::string Stem(const std::string& weight) {  // "blk.0.attn_q.weight" -> "blk.0.attn_q"
    const auto dot = weight.rfind(".weight");
    return dot == std::string::npos ? weight : weight.substr(0, dot);
  }

  const Model& model_;
  Plan& plan_;
  Status status_;
};

}  // namespace

Result<Plan> BuildPlan(const Model& model) {
  const ModelConfig& c = model.config();
  const Architecture* arch = FindArchitecture(c.arch);
  if (!arch) return Status::Unsupported("architecture '" + c.arch + "' has no graph");
  Plan plan;
  plan.kv = {.n_layers = c.n_layers, .n_ctx = c.n_ctx, .kv_dim = c.n_kv_heads * c.head_dim, .head_dim = c.head_dim};
  IrBuilder b(model, plan);
  arch->build(c, b);
  STRATA_RETURN_IF_ERROR(b.status());
  STRATA_RETURN_IF_ERROR(plan.Validate());
  return plan;
}

}  // namespace strata::ir
