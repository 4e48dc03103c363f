// The shared building blocks of the decoder-only architectures: reading the common keys, listing the common
// weights, and emitting the common sub-graphs (attention, gated FFN, mixture of experts, output head). An
// architecture file composes these with its own differences.
#pragma once

#include <string>
#include <vector>

#include "model/arch/architecture.h"

namespace strata::arch {

std::string Blk(int64_t layer);  // "blk.<layer>."

// embedding_length, block_count, head counts, key/value length, feed_forward_length (unless `ffn_optional`),
// context_length, rope dimension/base/linear scaling, RMS epsilon; n_vocab and tied_output from the tensors.
Status ReadTransformerKeys(ArchSource& s, ModelConfig& c, bool ffn_optional = false);
// expert_count, expert_used_count (and expert_feed_forward_length when `expert_ffn_key`): MoE when present.
Status ReadExpertKeys(ArchSource& s, ModelConfig& c, bool expert_ffn_key);
// The "<arch>." keys every architecture may carry without changing the computation.
std::vector<std::string> IgnoredKeys();
// The keys ReadTransformerKeys / ReadExpertKeys read, from a config (for generated files).
void WriteTransformerKeys(const ModelConfig& c, GgufWriter& w);
void WriteExpertKeys(const ModelConfig& c, bool expert_ffn_key, GgufWriter& w);

// How an architecture's attention differs from Llama's.
struct AttnOptions {
  RopeMode rope_mode = RopeMode::kNorm;
  bool qkv_bias = false;   // qwen2: bias on Q, K and V
  bool qk_norm = false;    // qwen3, gemma3: per-head RMSNorm of q and k before RoPE
  bool fused_qkv = false;  // phi3: one attn_qkv tensor, rows Q then K then V
};

void AddAttentionWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer, const AttnOptions& o);
void AddFfnWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer);  // gate, up, down
void AddExpertWeights(std::vector<WeightSpec>& w, const ModelConfig& c, int64_t layer);  // router + experts
void AddHeadWeights(std::vector<WeightSpec>& w, const ModelConfig& c);  // output_norm (+ output)

// RoPE of a layer: the config's base, or rope_base_local on a sliding layer when the architecture has one.
RopeSpec LayerRope(const ModelConfig& c, int64_t layer, RopeMode mode);
// Q/K/V of h (normed input), RoPE, attention over the cache (window on sliding layers), output projection.
Value SelfAttention(GraphBuilder& b, const ModelConfig& c, int layer, Value h, const AttnOptions& o);
// act(h · gateᵀ) * (h · upᵀ) · downᵀ; `gate` and `up` may be parts of one fused tensor.
Value GatedFfn(GraphBuilder& b, const std::string& prefix, Value h, Activation act, const WeightPart& gate,
               const WeightPart& up, const std::string& down);
// The mixture-of-experts FFN of layer `layer` (ffn_gate_inp, ffn_{gate,up,down}_exps).
Value ExpertFfn(GraphBuilder& b, const ModelConfig& c, int layer, Value h, Activation act);
// Rows whose logits are wanted, final norm, output head (tied or not), final soft-cap.
void OutputHead(GraphBuilder& b, const ModelConfig& c, Value x);

// The pre-norm decoder most architectures are (llama, qwen2/3, qwen3moe): per layer x += attn(attn_norm(x)),
// x += ffn(ffn_norm(x)) with a SiLU gated FFN, or experts when c.n_experts > 0; then the output head.
std::vector<WeightSpec> PreNormDecoderWeights(const ModelConfig& c, const AttnOptions& o);
void BuildPreNormDecoder(const ModelConfig& c, GraphBuilder& b, const AttnOptions& o);

}  // namespace strata::arch
