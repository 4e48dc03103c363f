// `qwen2moe` as llama.cpp computes it (Qwen1.5-MoE-A2.7B, Qwen2-57B-A14B): qwen2's attention (Q/K/V biases,
// NEOX RoPE) and in every layer routed experts (softmax, top-k NOT renormalised) plus a shared expert that
// every token passes through, scaled per token by a sigmoid gate:
//   ffn = moe(h) + sigmoid(h · w_gate_inp_shexp) * down_shexp(silu(gate_shexp h) * up_shexp h).
// llama.cpp writes that sigmoid as silu(z) / z (NaN at z == 0 exactly); Strata computes sigmoid(z) itself.
#include "model/arch/blocks.h"
#include "model/gguf_writer.h"

namespace strata::arch {
namespace {

constexpr AttnOptions kAttn{.rope_mode = RopeMode::kNeox, .qkv_bias = true};

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  c.arch = s.arch();
  // feed_forward_length gives the default widths: experts n_ff / expert_used_count, shared expert n_ff.
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c, /*ffn_optional=*/true));
  if (c.n_heads * c.head_dim != c.dim)
    return s.Unsupported("head_count * key_length " + std::to_string(c.n_heads * c.head_dim) +
                         " differs from embedding_length " + std::to_string(c.dim) + " (qwen2moe ties them)");
  const bool expert_ffn_key = s.Has("expert_feed_forward_length");
  STRATA_RETURN_IF_ERROR(ReadExpertKeys(s, c, expert_ffn_key));
  if (c.n_experts == 0) return s.Corrupt("expert_count is missing or 0 (qwen2moe has experts in every layer)");
  if (!expert_ffn_key) {
    c.expert_ffn_dim = c.ffn_dim / c.n_experts_used;
    if (c.expert_ffn_dim == 0) return s.Corrupt("expert FFN width is 0 (no expert_feed_forward_length)");
  }
  STRATA_ASSIGN_OR_RETURN(c.shared_expert_ffn_dim, s.OptInt("expert_shared_feed_forward_length", c.ffn_dim, 1 << 20));
  if (c.shared_expert_ffn_dim == 0) return s.Corrupt("shared expert FFN width is 0");
  if (c.tied_output) return s.Corrupt("tensor 'output.weight' is missing (qwen2moe does not tie the output head)");
  c.expert_weights_norm = false;
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) {
  std::vector<WeightSpec> w = {{"token_embd.weight", {c.n_vocab, c.dim}}};
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = Blk(l);
    w.push_back({p + "attn_norm.weight", {c.dim}});
    AddAttentionWeights(w, c, l, kAttn);
    w.push_back({p + "ffn_norm.weight", {c.dim}});
    AddExpertWeights(w, c, l);
    // The shared expert's gate is one row (HF's Linear(dim, 1)), so it multiplies like any matrix.
    w.push_back({p + "ffn_gate_inp_shexp.weight", {1, c.dim}});
    w.push_back({p + "ffn_gate_shexp.weight", {c.shared_expert_ffn_dim, c.dim}});
    w.push_back({p + "ffn_up_shexp.weight", {c.shared_expert_ffn_dim, c.dim}});
    w.push_back({p + "ffn_down_shexp.weight", {c.dim, c.shared_expert_ffn_dim}});
  }
  AddHeadWeights(w, c);
  return w;
}

// Routed experts plus the gated shared expert. The shared expert splits across tensor-parallel ranks like a
// dense FFN; its one-column gate is computed whole on every rank.
Value MoeWithSharedExpert(GraphBuilder& b, const ModelConfig& c, int layer, Value h) {
  const std::string p = Blk(layer);
  const Value routed = ExpertFfn(b, c, layer, h, Activation::kSilu);
  const Value shared = GatedFfn(b, p + "ffn_shexp_", h, Activation::kSilu, p + "ffn_gate_shexp.weight",
                                p + "ffn_up_shexp.weight", p + "ffn_down_shexp.weight");
  const Value gate = b.Activate(b.MatMul(h, p + "ffn_gate_inp_shexp.weight", TpSplit::kReplicated),
                                Activation::kSigmoid, p + "ffn_shexp_gate");
  return b.Add(routed, b.Mul(shared, gate, p + "ffn_shexp_scaled"), p + "ffn_moe_shexp");
}

void Build(const ModelConfig& c, GraphBuilder& b) {
  Value x = b.Embedding(b.Tokens(), "token_embd.weight");
  for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
    const std::string p = Blk(l);
    Value h = b.RmsNorm(x, p + "attn_norm.weight", c.rms_eps);
    x = b.Add(x, SelfAttention(b, c, l, h, kAttn), p + "attn_residual");
    h = b.RmsNorm(x, p + "ffn_norm.weight", c.rms_eps);
    x = b.Add(x, MoeWithSharedExpert(b, c, l, h), p + "ffn_residual");
  }
  OutputHead(b, c, x);
}

void WriteKeys(const ModelConfig& c, GgufWriter& w) {
  WriteTransformerKeys(c, w);
  WriteExpertKeys(c, /*expert_ffn_key=*/true, w);
  w.AddU32(c.arch + ".expert_shared_feed_forward_length", static_cast<uint32_t>(c.shared_expert_ffn_dim));
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t experts, int64_t used,
                  int64_t expert_ffn, int64_t shared_ffn) {
  ModelConfig c;
  c.arch = "qwen2moe";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = dim / heads;
  c.rope_dim = c.head_dim, c.rope_base = 1000000.0f, c.rms_eps = 1e-6f, c.tied_output = false;
  c.ffn_dim = shared_ffn;  // as Qwen1.5-MoE's files: feed_forward_length = the shared expert's width
  c.n_experts = experts, c.n_experts_used = used, c.expert_ffn_dim = expert_ffn, c.shared_expert_ffn_dim = shared_ffn;
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      // Qwen1.5-MoE-A2.7B's layout (a shared expert 4x an expert's width) at 1B-class size: 32 experts,
      // 4 per token (8x the active routed parameters), so the expert count divides for --tp 2 and 4.
      {"qwen2moe-1b", "Qwen1.5-MoE-A2.7B's layout, 1B-class", Shape(1024, 16, 16, 16, 32, 4, 512, 2048)},
      {"qwen2moe-tiny", "Qwen1.5-MoE-A2.7B's layout, tiny", Shape(256, 2, 8, 4, 8, 2, 128, 256)},
  };
}

}  // namespace

const Architecture& Qwen2MoeArchitecture() {
  static const Architecture arch{"qwen2moe", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
