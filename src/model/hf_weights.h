// The weights of a Hugging Face Llama folder under the internal (GGUF) names the rest of Strata uses:
// "model.layers.3.self_attn.q_proj.weight" is "blk.3.attn_q.weight". Tensors are views into the mapped
// safetensors files, except two small groups that are copied: norm weights (converted to f32, as the norm kernel
// reads f32) and the q/k projections, whose rows are permuted from Hugging Face's rotate-half rope layout to the
// interleaved pairs GGUF files store (convert_hf_to_gguf.py's permute), so both sources compile to the same plan.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tensor.h"
#include "model/arch/architecture.h"
#include "model/safetensors.h"

namespace strata {

// The Hugging Face name of an internal weight name ("blk.3.attn_q.weight" -> "model.layers.3.self_attn.q_proj.weight");
// "" for a name the Llama layout doesn't have.
std::string HfWeightName(std::string_view internal);

// Rows of a [n_heads * head_dim, in] q or k projection reordered from Hugging Face's layout (within each head,
// rotation partners are rows i and i + head_dim/2) to GGUF's (rows 2i and 2i + 1): row 2i + j of a head is its
// row j * head_dim/2 + i. Any dtype (whole rows move). Owned storage.
Tensor PermuteRopeRows(const Tensor& w, int64_t n_heads);

// Every weight ArchWeights(config) lists, from the set; sets config.tied_output from the presence of
// lm_head.weight (required unless tie_word_embeddings). Errors name the folder and the Hugging Face tensor.
Result<std::map<std::string, Tensor>> LoadHfWeights(const std::string& dir, const SafetensorsSet& set,
                                                    ModelConfig& config);

}  // namespace strata
