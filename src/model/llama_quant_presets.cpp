#include "model/llama_quant_presets.h"

#include <cstdlib>

namespace strata {
namespace {

constexpr LlamaQuantPreset kPresets[] = {
    {"q3_k_m", DType::kQ3_K, 12},
    {"q4_k_m", DType::kQ4_K, 15},
    {"q5_k_m", DType::kQ5_K, 17},
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The block index of "blk.N.*", else -1.
int64_t LayerOf(const std::string& tensor) {
  if (!tensor.starts_with("blk.")) return -1;
  return std::strtoll(tensor.c_str() + 4, nullptr, 10);
}

// llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between.
bool UseMoreBits(int64_t layer, int64_t n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

}  // namespace

const LlamaQuantPreset* FindLlamaQuantPreset(std::string_view name) {
  for (const auto& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

DType LlamaPresetTensorType(const LlamaQuantPreset& preset, const std::string& tensor, int64_t n_layers, bool tied) {
  const bool q3 = preset.base == DType::kQ3_K;
  // The output matrix (token_embd when tied) is Q6_K in every K-quant preset.
  if (tensor == "output.weight" || (tied && tensor == "token_embd.weight")) return DType::kQ6_K;
  const int64_t layer = LayerOf(tensor);
  // llama-quantize counts a fused attn_qkv (phi3) as an attn_v tensor.
  if (EndsWith(tensor, ".attn_v.weight") || EndsWith(tensor, ".attn_qkv.weight")) {
    if (q3) return layer < 2 ? DType::kQ5_K : DType::kQ4_K;
    return UseMoreBits(layer, n_layers) ? DType::kQ6_K : preset.base;
  }
  if (EndsWith(tensor, ".ffn_down.weight")) {
    if (q3) return layer < n_layers / 16 ? DType::kQ5_K : DType::kQ4_K;
    return UseMoreBits(layer, n_layers) ? DType::kQ6_K : preset.base;
  }
  if (q3 && EndsWith(tensor, ".attn_output.weight")) return DType::kQ4_K;
  return preset.base;
}

}  // namespace strata
