// `gemma2` as llama.cpp computes it: embeddings scaled by sqrt(dim), a GELU(tanh)-gated FFN, RMSNorms after
// attention and after the FFN as well as before, sliding-window attention on even layers (pattern 2),
// attention logits soft-capped after the query scale, final logits soft-capped, output tied to token_embd.
// Norm weights carry Gemma's +1 already (the converter adds it), so every norm is a plain RMSNorm.
#include <cmath>

#include "model/arch/blocks.h"
#include "model/gguf_writer.h"

namespace strata::arch {
namespace {

// llama.cpp special-cases the 27B by its layer count: its query scale is 1/sqrt(dim / heads), not
// 1/sqrt(head_dim) (gemma_pytorch's query_pre_attn_scalar; the key itself is not read).
constexpr int64_t k27bLayers = 46;

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  STRATA_ASSIGN_OR_RETURN(c.sliding_window, s.OptInt("attention.sliding_window", 4096, 1 << 24));
  STRATA_ASSIGN_OR_RETURN(c.swa_period, s.OptInt("attention.sliding_window_pattern", 2, 4096));
  // llama.cpp falls back to 50 and 30 when these keys are absent; a Gemma 2 file always carries them, so a
  // file without them is more likely another model mislabelled than a Gemma 2: refuse it (stricter than llama.cpp).
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"})
    if (!s.Has(key)) return s.Unsupported("key '" + s.arch() + "." + key + "' is missing (Gemma 2 files carry it)");
  STRATA_ASSIGN_OR_RETURN(c.attn_softcap, s.Float("attn_logit_softcapping"));
  STRATA_ASSIGN_OR_RETURN(c.final_softcap, s.Float("final_logit_softcapping"));
  // llama.cpp applies both caps unconditionally: a cap of 0 would divide by zero there.
  if (!(c.attn_softcap > 0) || !(c.final_softcap > 0))
    return s.Corrupt("attn_logit_softcapping and final_logit_softcapping must be positive");
  STRATA_ASSIGN_OR_RETURN(const float base_swa, s.OptFloat("rope.freq_base_swa", c.rope_base));
  if (base_swa != c.rope_base) {
    // Gemma 2's sliding layers keep the global rope scale; LayerRope gives a local base scale 1.
    if (c.rope_freq_scale != 1.0f) return s.Unsupported("rope.freq_base_swa together with rope scaling");
    c.rope_base_local = base_swa;
  }
  if (!c.tied_output)
    return s.Unsupported("tensor 'output.weight': Gemma 2's output is always token_embd (llama.cpp refuses the file)");
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
    AddAttentionWeights(w, c, l, {.rope_mode = RopeMode::kNeox});
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
    h = b.RmsNorm(SelfAttention(b, c, l, h, {.rope_mode = RopeMode::kNeox}), p + "post_attention_norm.weight", c.rms_eps);
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
  w.AddU32(a + "attention.sliding_window", static_cast<uint32_t>(c.sliding_window));
  w.AddU32(a + "attention.sliding_window_pattern", static_cast<uint32_t>(c.swa_period));
  if (c.rope_base_local > 0) w.AddF32(a + "rope.freq_base_swa", c.rope_base_local);
  w.AddF32(a + "attn_logit_softcapping", c.attn_softcap);
  w.AddF32(a + "final_logit_softcapping", c.final_softcap);
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t ffn,
                  int64_t window) {
  ModelConfig c;
  c.arch = "gemma2";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = head_dim;
  c.rope_dim = head_dim, c.ffn_dim = ffn, c.tied_output = true, c.rope_base = 10000.0f, c.rms_eps = 1e-6f;
  c.sliding_window = window, c.swa_period = 2, c.attn_softcap = 50.0f, c.final_softcap = 30.0f;
  c.attn_scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      {"gemma2-2b", "gemma-2-2b", Shape(2304, 26, 8, 4, 256, 9216, 4096)},
      // A window of 8 keeps sliding layers sliding within the tests' ~36-token sequences.
      {"gemma2-tiny", "a tiny Gemma 2", Shape(256, 4, 4, 2, 128, 512, 8)},
  };
}

}  // namespace

const Architecture& Gemma2Architecture() {
  static const Architecture arch{"gemma2", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
