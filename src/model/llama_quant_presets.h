// llama.cpp's K-quant presets Q3_K_M, Q4_K_M and Q5_K_M: the type llama-quantize gives each tensor of a
// llama-architecture model without experts (llama-quant.cpp, llama_tensor_get_type_impl), so that gen-model
// writes the mixes people download.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/dtype.h"

namespace strata {

struct LlamaQuantPreset {
  const char* name;    // "q4_k_m"
  DType base;          // the type of every matrix the preset does not single out
  uint32_t file_type;  // llama.cpp's LLAMA_FTYPE_MOSTLY_*
};

// The preset of that name, or null.
const LlamaQuantPreset* FindLlamaQuantPreset(std::string_view name);

// The type of matrix `tensor` ("blk.3.attn_v.weight", "output.weight", ...) of a model with n_layers blocks;
// tied: token_embd also serves as the output matrix (it then gets the output's type, as in llama.cpp).
DType LlamaPresetTensorType(const LlamaQuantPreset& preset, const std::string& tensor, int64_t n_layers, bool tied);

}  // namespace strata
