// `qwen3moe` as llama.cpp computes it (Qwen3-30B-A3B, Qwen3-235B-A22B): qwen3's attention (per-head RMSNorm
// of q and k before NEOX RoPE, head_dim from key_length) and a mixture of experts in every layer (softmax
// routing, top-k renormalised as norm_topk_prob says; llama.cpp hard-codes the renormalisation).
#include "model/arch/blocks.h"

namespace strata::arch {
namespace {

constexpr AttnOptions kAttn{.rope_mode = RopeMode::kNeox, .qk_norm = true};

Result<ModelConfig> ReadConfig(ArchSource& s) {
  ModelConfig c;
  c.arch = s.arch();
  // feed_forward_length is unused but for the default expert width (llama.cpp: n_ff / expert_used_count).
  STRATA_RETURN_IF_ERROR(ReadTransformerKeys(s, c, /*ffn_optional=*/true));
  const bool expert_ffn_key = s.Has("expert_feed_forward_length");
  STRATA_RETURN_IF_ERROR(ReadExpertKeys(s, c, expert_ffn_key));
  if (c.n_experts == 0) return s.Corrupt("expert_count is missing or 0 (qwen3moe has experts in every layer)");
  if (!expert_ffn_key) {
    c.expert_ffn_dim = c.ffn_dim / c.n_experts_used;
    if (c.expert_ffn_dim == 0) return s.Corrupt("expert FFN width is 0 (no expert_feed_forward_length)");
  }
  c.expert_weights_norm = true;
  STRATA_RETURN_IF_ERROR(s.CheckKeysUnderstood(IgnoredKeys()));
  return c;
}

std::vector<WeightSpec> Weights(const ModelConfig& c) { return PreNormDecoderWeights(c, kAttn); }

void Build(const ModelConfig& c, GraphBuilder& b) { BuildPreNormDecoder(c, b, kAttn); }

void WriteKeys(const ModelConfig& c, GgufWriter& w) {
  WriteTransformerKeys(c, w);
  WriteExpertKeys(c, /*expert_ffn_key=*/true, w);
}

ModelConfig Shape(int64_t dim, int64_t layers, int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t experts,
                  int64_t used, int64_t expert_ffn, bool tied) {
  ModelConfig c;
  c.arch = "qwen3moe";
  c.dim = dim, c.n_layers = layers, c.n_heads = heads, c.n_kv_heads = kv_heads, c.head_dim = head_dim;
  c.rope_dim = head_dim, c.rope_base = 1000000.0f, c.rms_eps = 1e-6f, c.tied_output = tied;
  c.n_experts = experts, c.n_experts_used = used, c.expert_ffn_dim = expert_ffn, c.expert_weights_norm = true;
  return c;
}

std::vector<ArchShape> Shapes() {
  return {
      // Qwen3-30B-A3B's layout (head_dim 128 wider than dim / heads, many narrow experts) at 1B-class size:
      // 32 experts, 4 per token, so the experts hold 8x the active expert parameters.
      {"qwen3moe-1b", "Qwen3-30B-A3B's layout, 1B-class", Shape(1024, 16, 16, 4, 128, 32, 4, 512, false)},
      {"qwen3moe-tiny", "Qwen3-30B-A3B's layout, tiny", Shape(256, 2, 8, 2, 64, 16, 4, 128, false)},
  };
}

}  // namespace

const Architecture& Qwen3MoeArchitecture() {
  static const Architecture arch{"qwen3moe", ReadConfig, Weights, Build, WriteKeys, Shapes};
  return arch;
}

}  // namespace strata::arch
