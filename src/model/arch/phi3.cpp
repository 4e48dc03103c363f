// `phi3` as llama.cpp computes it (Phi-3/3.5-mini and -medium 4k, Phi-4, Phi-4-mini): Llama's layer with one
// fused attn_qkv tensor (rows Q, K, V) and one fused ffn_up tensor (rows gate, then up), NEOX RoPE over the
// first rope.dimension_count dims of each head (Phi-4-mini rotates 3/4 of them). The fused tensors are read as
// row ranges (WeightPart), so the plan holds ordinary Q/K/V and gate/up matmuls that split and fuse as Llama's.
//
// Sliding window: Phi-3 files carry attention.sliding_window (2047), and llama.cpp reads it and turns SWA off
// ("Phi SWA is currently disabled", every layer attends to the whole context). Strata does the same.
// Not implemented, rejected by name: the 128k models' longrope (rope_factors_long/short tensors chosen by
// context size, rope.scaling.attn_factor scaling cos/sin) and separate attn_q/k/v tensors.
#include "model/arch/blocks.h"
#include "model/gguf_writer.h"

namespace strata::arch {
namespace {

constexpr AttnOptions kAttn{.rope_mode = RopeMode::kNeox, .fused_qkv = true};
constexpr int64_t kPhi3Window = 2047;  // what the converter writes for Phi-3 (llama.cpp then ignores it)

Status RejectLongRope(ArchSource& s) {
  for (const char* t : {"rope_factors_long.weight", "rope_factors_short.weight"})
    if (s.TensorShape(t))
      return s.Unsupported(std::string("tensor '") + t + "': phi3 longrope (the 128k models' rope factors) is not supported");
  STRATA_ASSIGN_OR_RETURN(const float attn_factor, s.OptFloat("rope.scaling.attn_factor", 1.0f));
  if (attn_factor != 1.0f)
    return s.Unsupported("rope.scaling.attn_factor " + std::to_string(attn_factor) +
                         " (longrope's cos/sin scale) is not supported for phi3");
  return Status::Ok();
}

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  // llama.cpp's phi3 sizes Q and the output projection by embedding_length.
  if (c.n_heads * c.head_dim != c.dim)
    return s.Corrupt("head_count " + std::to_string(c.n_heads) + " x key_length " + std::to_string(c.head_dim) +
                     " differs from embedding_length " + std::to_string(c.dim) + " (phi3's query width is the embedding's)");
  if (c.rope_freqs) return s.Unsupported("tensor 'rope_freqs.weight' is not used by phi3");
  STRATA_RETURN_IF_ERROR(RejectLongRope(s));
  if (s.TensorShape(Blk(0) + "attn_q.weight"))
    return s.Unsupported("tensor '" + Blk(0) + "attn_q.weight': phi3 with separate Q/K/V tensors is not supported (fused attn_qkv only)");
  // Read, then dropped as llama.cpp drops it: full causal attention on every layer.
  STRATA_ASSIGN_OR_RETURN(const int64_t window, s.OptInt("attention.sliding_window", 0, 1 << 24));
  static_cast<void>(window);
  c.sliding_window = 0;
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
    w.push_back({p + "ffn_up.weight", {2 * c.ffn_dim, c.dim}});  // gate rows, then up rows
    w.push_back({p + "ffn_down.weight", {c.dim, c.ffn_dim}});
  }
  AddHeadWeights(w, c);
  return w;
}

void Build(const ModelConfig& c, GraphBuilder& b) {
  Value x = b.Embedding(b.Tokens(), "token_embd.weight");
  for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
    const std::string p = Blk(l), up = p + "ffn_up.weight";
    Value h = b.RmsNorm(x, p + "attn_norm.weight", c.rms_eps);
    x = b.Add(x, SelfAttention(b, c, l, h, kAttn), p + "attn_residual");
    h = b.RmsNorm(x, p + "ffn_norm.weight", c.rms_eps);
    const Value ffn = GatedFfn(b, p + "ffn_", h, Activation::kSilu, WeightPart(up, 0, c.ffn_dim),
                               WeightPart(up, c.ffn_dim, 2 * c.ffn_dim), p + "ffn_down.weight");
    x = b.Add(x, ffn, p + "ffn_residual");
  }
  OutputHead(b, c, x);
}

void WriteKeys(const ModelConfig& c, GgufWriter& w) {
  WriteTransformerKeys(c, w);
  w.AddU32(c.arch + ".attention.sliding_window", static_cast<uint32_t>(kPhi3Window));
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t rope_dim, int64_t ffn, bool tied) {
  ModelConfig c;
  c.arch = "phi3";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = dim / heads;
  c.rope_dim = rope_dim, c.ffn_dim = ffn, c.tied_output = tied;
  c.rope_base = 10000.0f, c.rms_eps = 1e-5f;
  return c;
}

// The descriptions become general.name, and llama.cpp looks up "<|endoftext|>" (failing without it) in the
// vocabulary of any model whose name contains "phi-3" or "phi3": they are spelled "Phi 3" so that generated
// files load with any vocabulary (the tests' 1024 tokens, Llama 2's 32000).
std::vector<ArchShape> Shapes() {
  return {
      {"phi3-mini", "Phi 3 mini 4k (3.8B)", Shape(3072, 32, 32, 32, 96, 8192, false)},
      {"phi4-mini", "Phi-4-mini's layout (3.8B: GQA, partial RoPE; short-context rope)", Shape(3072, 32, 24, 8, 96, 8192, true)},
      // Phi-4-mini's layout at test size: GQA and 3/4 of each head rotated.
      {"phi3-tiny", "a tiny Phi 3 (Phi-4-mini's layout)", Shape(256, 2, 8, 4, 24, 512, false)},
  };
}

}  // namespace

const Architecture& Phi3Architecture() {
  static const Architecture arch{"phi3", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
