// `qwen2` as llama.cpp computes it (Qwen2, Qwen2.5): Llama's layer with NEOX RoPE and biases on Q, K and V.
// llama.cpp loads the biases when present (every released Qwen2 file has them), so the config takes them from
// the tensors; output.weight is optional (Qwen2.5 up to 3B tie it to token_embd).
#include "model/arch/blocks.h"

namespace strata::arch {
namespace {

// llama.cpp adds attn_{q,k,v}.bias whenever a file carries them.
bool HasQkvBias(const ArchSource& s) { return s.TensorShape(Blk(0) + "attn_q.bias") != nullptr; }

AttnOptions Attn(const ModelConfig& c) { return {.rope_mode = RopeMode::kNeox, .qkv_bias = c.qkv_bias}; }

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  // llama.cpp's qwen2 sizes Q and the output projection by embedding_length and rotates whole heads.
  if (c.n_heads * c.head_dim != c.dim)
    return s.Corrupt("head_count " + std::to_string(c.n_heads) + " x key_length " + std::to_string(c.head_dim) +
                     " differs from embedding_length " + std::to_string(c.dim) + " (qwen2's query width is the embedding's)");
  if (c.rope_dim != c.head_dim)
    return s.Corrupt("rope.dimension_count " + std::to_string(c.rope_dim) + " differs from the head dimension " +
                     std::to_string(c.head_dim) + " (qwen2 rotates whole heads)");
  if (c.rope_freqs) return s.Unsupported("tensor 'rope_freqs.weight' is not used by qwen2");
  c.qkv_bias = HasQkvBias(s);
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) { return PreNormDecoderWeights(c, Attn(c)); }

void Build(const ModelConfig& c, GraphBuilder& b) { BuildPreNormDecoder(c, b, Attn(c)); }

void WriteKeys(const ModelConfig& c, GgufWriter& w) { WriteTransformerKeys(c, w); }

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t ffn, bool tied) {
  ModelConfig c;
  c.arch = "qwen2";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = dim / heads;
  c.rope_dim = c.head_dim, c.ffn_dim = ffn, c.tied_output = tied;
  c.rope_base = 1000000.0f, c.rms_eps = 1e-6f, c.qkv_bias = true;
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      {"qwen2-1b", "Qwen2.5-1.5B", Shape(1536, 28, 12, 2, 8960, true)},
      {"qwen2-7b", "Qwen2.5-7B", Shape(3584, 28, 28, 4, 18944, false)},
      // Untied like Qwen2.5-7B, so the tiny file exercises output.weight (the 1B-class one ties).
      {"qwen2-tiny", "a tiny Qwen2.5", Shape(256, 2, 8, 2, 512, false)},
  };
}

}  // namespace

const Architecture& Qwen2Architecture() {
  static const Architecture arch{"qwen2", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
