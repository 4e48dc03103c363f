// `gemma3` (text) as llama.cpp computes it: Gemma 2's layer (sqrt(dim) embedding scale, pre and post norms,
// GELU(tanh)-gated FFN) with per-head RMSNorms of q and k before RoPE, no attention soft-cap, five sliding
// layers to one global (pattern 6) when attention.sliding_window is set, sliding layers on their own rope
// base (rope.freq_base_swa, 10000 by default) without scaling, linear rope scaling on global layers only,
// and an optional final soft-cap. output.weight is optional (tied when absent).
#include <cmath>

#include "model/arch/blocks.h"
#include "model/gguf_writer.h"

namespace strata::arch {
namespace {

// llama.cpp special-cases the 27B by its layer count: query scale 1/sqrt(dim / heads), not 1/sqrt(head_dim).
constexpr int64_t k27bLayers = 62;
constexpr float kDefaultLocalRopeBase = 10000.0f;

const AttnOptions kAttn{.rope_mode = RopeMode::kNeox, .qk_norm = true};

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  // Without a window (or with 0) llama.cpp runs every layer as a global one and reads no pattern or local base.
  STRATA_ASSIGN_OR_RETURN(c.sliding_window, s.OptInt("attention.sliding_window", 0, 1 << 24));
  if (c.sliding_window > 0) {
    STRATA_ASSIGN_OR_RETURN(c.swa_period, s.OptInt("attention.sliding_window_pattern", 6, 4096));
    STRATA_ASSIGN_OR_RETURN(c.rope_base_local, s.OptFloat("rope.freq_base_swa", kDefaultLocalRopeBase));
    if (!(c.rope_base_local > 0)) return s.Corrupt("rope.freq_base_swa must be positive");
  } else {
    // llama.cpp ignores these without a window; counting them read keeps such a file loadable.
    s.Has("attention.sliding_window_pattern");
    s.Has("rope.freq_base_swa");
  }
  STRATA_ASSIGN_OR_RETURN(c.final_softcap, s.OptFloat("final_logit_softcapping", 0.0f));
  if (c.final_softcap < 0) return s.Corrupt("final_logit_softcapping must not be negative");
  const int64_t heads_dim = c.n_layers == k27bLayers ? c.dim / c.n_heads : c.head_dim;
  c.attn_scale = 1.0f / std::sqrt(static_cast<float>(heads_dim));
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) {
  std::vector<WeightSpec> w = {{"token_embd.weight", {c.n_vocab, c.dim}}};
  for (int64_t l = 0; l < c.n_layers; ++l) {
    const std::string p = Blk(l);
    w.push_back({p + "attn_norm.weight", {c.dim}});
    AddAttentionWeights(w, c, l, kAttn);
    w.push_back({p + "post_attention_norm.weight", {c.dim}});
    w.push_back({p + "ffn_norm.weight", {c.dim}});
    AddFfnWeights(w, c, l);
    w.push_back({p + "post_ffw_norm.weight", {c.dim}});
  }
  AddHeadWeights(w, c);
  return w;
}

void Build(const ModelConfig& c, GraphBuilder& b) {
  Value x = b.Scale(b.Embedding(b.Tokens(), "token_embd.weight"), std::sqrt(static_cast<float>(c.dim)), "embd_scale");
  for (int l = 0; l < static_cast<int>(c.n_layers); ++l) {
    const std::string p = Blk(l);
    Value h = b.RmsNorm(x, p + "attn_norm.weight", c.rms_eps);
    h = b.RmsNorm(SelfAttention(b, c, l, h, kAttn), p + "post_attention_norm.weight", c.rms_eps);
    x = b.Add(x, h, p + "attn_residual");
    h = b.RmsNorm(x, p + "ffn_norm.weight", c.rms_eps);
    h = GatedFfn(b, p + "ffn_", h, Activation::kGeluTanh, p + "ffn_gate.weight", p + "ffn_up.weight", p + "ffn_down.weight");
    x = b.Add(x, b.RmsNorm(h, p + "post_ffw_norm.weight", c.rms_eps), p + "ffn_residual");
  }
  OutputHead(b, c, x);
}

void WriteKeys(const ModelConfig& c, GgufWriter& w) {
  WriteTransformerKeys(c, w);
  const std::string a = c.arch + ".";
  if (c.sliding_window > 0) {
    w.AddU32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
    w.AddU32(a + "attention.sliding_window_pattern", static_cast<uint32_t>(c.swa_period));
    w.AddF32(a + "rope.freq_base_swa", c.rope_base_local);
  }
  if (c.final_softcap > 0) w.AddF32(a + "final_logit_softcapping", c.final_softcap);
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t ffn, int64_t window,
                  float rope_scale) {
  ModelConfig c;
  c.arch = "gemma3";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = 256;
  c.rope_dim = 256, c.ffn_dim = ffn, c.tied_output = true, c.rms_eps = 1e-6f;
  c.rope_base = 1000000.0f, c.rope_base_local = kDefaultLocalRopeBase, c.rope_freq_scale = rope_scale;
  c.sliding_window = window, c.swa_period = 6;
  c.attn_scale = 1.0f / 16.0f;  // 1/sqrt(256)
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      {"gemma3-1b", "gemma-3-1b-pt", Shape(1152, 26, 4, 1, 6912, 512, 1.0f)},
      // 8 layers: sliding 0-4 and 6-7, global 5; a window of 8 slides within the tests' ~36-token sequences;
      // linear rope scaling (x8, as Gemma 3 4B+) so the tests see it applied to the global layer only.
      {"gemma3-tiny", "a tiny Gemma 3", Shape(256, 8, 4, 2, 512, 8, 0.125f)},
  };
}

}  // namespace

const Architecture& Gemma3Architecture() {
  static const Architecture arch{"gemma3", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
