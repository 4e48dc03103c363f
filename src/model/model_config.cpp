#include "model/model_config.h"

namespace strata {

std::string ModelConfig::ToString() const {
  std::string s = arch + ": vocab " + std::to_string(n_vocab) + ", dim " + std::to_string(dim) + ", layers " +
                  std::to_string(n_layers) + ", heads " + std::to_string(n_heads) + " (kv " + std::to_string(n_kv_heads) +
                  ", head dim " + std::to_string(head_dim) + "), ffn " + std::to_string(ffn_dim) + ", context " +
                  std::to_string(n_ctx);
  if (sliding_window > 0) s += ", sliding window " + std::to_string(sliding_window);
  if (n_experts > 0)
    s += ", experts " + std::to_string(n_experts_used) + " of " + std::to_string(n_experts) + " (ffn " +
         std::to_string(expert_ffn_dim) + ")";
  return s;
}

}  // namespace strata
