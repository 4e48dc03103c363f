// Generated models: GGUF files in any architecture Strata loads (model/arch/), with the real shapes of released
// models (Llama-3.2-1B, Qwen3-1.7B, ...) or tiny ones for tests, random weights (deterministic from a seed) and
// a vocabulary copied from a vocab GGUF, for testing and timing without downloading a model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/arch/architecture.h"

namespace strata {

// The shapes gen-model knows (every architecture's, model/arch/), as "arch/name" pairs by architecture.
struct BenchModelShapeName {
  std::string arch, name, like;
};
std::vector<BenchModelShapeName> BenchModelShapes();
// The shape `shape` of architecture `arch` (either may be empty): a full name ("qwen3-1b"), a short one with the
// architecture ("1b" with arch "qwen3"), or the architecture's first shape. kInvalidArgument listing the
// names when unknown.
Result<ArchShape> FindBenchModelShape(const std::string& arch, const std::string& shape);
// The weight dtypes gen-model writes: "f16", "q8_0", "q4_0", "q4_k" (Q4_K, with Q6_K for token_embd, attn_v
// and ffn_down), "q6_k"; "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q5_k" (every matrix in that type); and
// llama.cpp's mixes "q3_k_m", "q4_k_m", "q5_k_m" (model/llama_quant_presets.h).
const std::vector<std::string>& BenchModelDtypes();

struct BenchModelOptions {
  std::string arch;                 // empty: the shape's (llama for the default shape)
  std::string shape;                // empty: the architecture's first shape (llama-1b)
  std::string dtype = "q4_0";
  std::string out_path;
  std::string vocab_path;  // a GGUF whose tokenizer.ggml.* keys are copied
  int64_t layers = 0;      // > 0 overrides the shape's block count
  int64_t n_ctx = 0;       // > 0: the context length written (default 2048, a modest default KV cache)
  uint64_t seed = 0;
  // Standard deviation of the random matrices. 0.02 keeps activations finite through dozens of layers but
  // leaves next-token distributions nearly flat; tests comparing engines want ~0.2 (decisive choices).
  float weight_std = 0.02f;
  int threads = 0;         // 0: all hardware threads
  // Called after each chunk of rows with the tensor being written and the data bytes written of the total.
  std::function<void(const std::string& tensor, uint64_t done, uint64_t total)> progress;
};

// Writes the model, streaming the tensor data a chunk of rows at a time.
Status GenerateBenchModel(const BenchModelOptions& options);

}  // namespace strata
