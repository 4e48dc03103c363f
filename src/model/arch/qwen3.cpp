// `qwen3` as llama.cpp computes it (Qwen3 dense): qwen2's layer without biases, plus a per-head RMSNorm of q and
// k (attn_q_norm / attn_k_norm) before RoPE, and a head dimension of its own (attention.key_length: 128 for
// every Qwen3, whatever embedding_length / head_count is). llama.cpp would add Q/K/V biases if a file had them,
// so they are taken from the tensors as for qwen2.
#include "model/arch/blocks.h"

namespace strata::arch {
namespace {

AttnOptions Attn(const ModelConfig& c) {
  return {.rope_mode = RopeMode::kNeox, .qkv_bias = c.qkv_bias, .qk_norm = true};
}

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  if (c.rope_dim != c.head_dim)
    return s.Corrupt("rope.dimension_count " + std::to_string(c.rope_dim) + " differs from the head dimension " +
                     std::to_string(c.head_dim) + " (qwen3 rotates whole heads)");
  if (c.rope_freqs) return s.Unsupported("tensor 'rope_freqs.weight' is not used by qwen3");
  c.qkv_bias = s.TensorShape(Blk(0) + "attn_q.bias") != nullptr;
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) { return PreNormDecoderWeights(c, Attn(c)); }

void Build(const ModelConfig& c, GraphBuilder& b) { BuildPreNormDecoder(c, b, Attn(c)); }

// key_length / value_length are always written: llama.cpp's default (embedding_length / head_count) is wrong
// for most Qwen3 shapes.
void WriteKeys(const ModelConfig& c, GgufWriter& w) { WriteTransformerKeys(c, w); }

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t ffn, bool tied) {
  ModelConfig c;
  c.arch = "qwen3";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = head_dim;
  c.rope_dim = head_dim, c.ffn_dim = ffn, c.tied_output = tied;
  c.rope_base = 1000000.0f, c.rms_eps = 1e-6f;
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      {"qwen3-1b", "Qwen3-1.7B", Shape(2048, 28, 16, 8, 128, 6144, true)},
      {"qwen3-8b", "Qwen3-8B", Shape(4096, 36, 32, 8, 128, 12288, false)},
      // head_dim 64 with 8 heads over 256 wide: the query width (512) is not the embedding's, as in Qwen3-0.6B.
      {"qwen3-tiny", "a tiny Qwen3", Shape(256, 2, 8, 2, 64, 512, true)},
  };
}

}  // namespace

const Architecture& Qwen3Architecture() {
  static const Architecture arch{"qwen3", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
