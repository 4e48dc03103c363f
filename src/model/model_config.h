// The hyperparameters of a loaded model, whatever its architecture: the common transformer shape plus the
// fields some architectures use (0 / false when unused). An architecture (model/arch/) fills it from its
// metadata keys and reads it when it builds its graph; the engine and runtime read the common part.
#pragma once

#include <cstdint>
#include <string>

#include "core/nn_types.h"

namespace strata {

struct ModelConfig {
  std::string arch = "llama";  // general.architecture
  int64_t n_vocab = 0;
  int64_t dim = 0;         // embedding_length
  int64_t n_layers = 0;    // block_count
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;    // attention.key_length, else dim / n_heads
  int64_t ffn_dim = 0;     // feed_forward_length
  int64_t n_ctx = 0;       // context_length (trained)
  int64_t rope_dim = 0;    // rope.dimension_count (defaults to head_dim)
  float rope_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / rope.scaling.factor for linear scaling
  float rms_eps = 1e-5f;
  bool tied_output = false;  // no output.weight: the head reuses token_embd.weight

  // Used by some architectures only.
  bool rope_freqs = false;        // Llama 3: rope_freqs.weight divides each pair's frequency
  bool qkv_bias = false;          // qwen2 (and any file carrying them): attn_{q,k,v}.bias added to Q, K, V
  float rope_base_local = 0.0f;   // gemma3: the rope base of sliding-window layers
  int64_t sliding_window = 0;     // > 0: the window of the layers that slide
  int64_t swa_period = 0;         // with a window: layer l slides when l % period < period - 1; 0: every layer
  float attn_scale = 0.0f;        // query scale; 0: 1/sqrt(head_dim)
  float attn_softcap = 0.0f;      // > 0: attention logits soft-capped (gemma2)
  float final_softcap = 0.0f;     // > 0: output logits soft-capped (gemma2)
  int64_t n_experts = 0;          // mixture of experts: experts per layer
  int64_t n_experts_used = 0;     // experts each token is routed to
  int64_t expert_ffn_dim = 0;     // each expert's FFN width
  int64_t shared_expert_ffn_dim = 0;  // qwen2moe: the shared expert's FFN width
  bool expert_weights_norm = false;   // the top-k routing weights are renormalised to sum 1

  bool LayerSlides(int64_t layer) const {
    if (sliding_window <= 0) return false;
    return swa_period <= 0 || layer % swa_period < swa_period - 1;
  }
  std::string ToString() const;
};

}  // namespace strata
