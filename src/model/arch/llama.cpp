// `llama` as llama.cpp computes it: Llama 1-3.x (Llama 3's rope_freqs, key_length head dims, tied
// embeddings) and, with expert_count, Mixtral's mixture of experts (softmax routing, top-k renormalised).
#include "model/arch/blocks.h"

namespace strata::arch {
namespace {

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c));
  STRATA_RETURN_IF_ERROR(ReadExpertKeys(s, c, /*expert_ffn_key=*/false));
  c.expert_weights_norm = c.n_experts > 0;  // Mixtral renormalises its top-k weights
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) { return PreNormDecoderWeights(c, AttnOptions{}); }

void Build(const ModelConfig& c, GraphBuilder& b) { BuildPreNormDecoder(c, b, AttnOptions{}); }

void WriteKeys(const ModelConfig& c, GgufWriter& w) {
  WriteTransformerKeys(c, w);
  WriteExpertKeys(c, /*expert_ffn_key=*/false, w);
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t ffn,
                  bool tied, int64_t experts = 0, int64_t used = 0) {
  ModelConfig c;
  c.arch = "llama";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = head_dim;
  c.rope_dim = head_dim, c.ffn_dim = ffn, c.tied_output = tied, c.rope_base = 500000.0f;
  c.n_experts = experts, c.n_experts_used = used, c.expert_ffn_dim = experts > 0 ? ffn : 0;
  c.expert_weights_norm = experts > 0;
  c.rope_freqs = experts == 0;  // Llama 3.1+ files carry rope_freqs; Mixtral's do not
  if (experts > 0) c.rope_base = 1000000.0f;
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      {"llama-1b", "Llama-3.2-1B", Shape(2048, 16, 32, 8, 64, 8192, true)},
      {"llama-3b", "Llama-3.2-3B", Shape(3072, 28, 24, 8, 128, 8192, true)},
      {"llama-8b", "Llama-3.1-8B", Shape(4096, 32, 32, 8, 128, 14336, false)},
      {"llama-tiny", "a tiny Llama 3", Shape(256, 2, 8, 2, 32, 512, true)},
      // Mixtral's layout (8 experts, 2 per token) at 1B-class width: 4x the active expert parameters.
      {"mixtral-1b", "Mixtral-8x7B's layout, 1B-class", Shape(1024, 16, 16, 8, 64, 2816, false, 8, 2)},
      {"mixtral-tiny", "Mixtral's layout, tiny", Shape(256, 2, 8, 4, 32, 384, false, 8, 2)},
  };
}

}  // namespace

const Architecture& LlamaArchitecture() {
  static const Architecture arch{"llama", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
