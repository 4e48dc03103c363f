// Benchmark models: GGUF files with the real shapes of Llama-3.2-1B, Llama-3.2-3B and Llama-3.1-8B, random
// weights (deterministic from a seed) and the Llama-2 vocabulary, for timing without downloading a model.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata {

struct BenchModelShape {
  const char* name;      // "llama-1b"
  const char* hf_name;   // the model whose shape it has
  int64_t dim, n_layers, n_heads, n_kv_heads, head_dim, ffn_dim;
  float rope_base;
  bool tied_output;      // no output.weight: the head reuses token_embd.weight
};

// The shapes gen-model knows, and one by name (kInvalidArgument listing the names when unknown).
const std::vector<BenchModelShape>& BenchModelShapes();
Result<BenchModelShape> FindBenchModelShape(std::string_view name);
// The weight dtypes gen-model writes: "f16", "q8_0", "q4_0", "q4_k" (Q4_K, with Q6_K for token_embd, attn_v
// and ffn_down), "q6_k"; "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q5_k" (every matrix in that type); and
// llama.cpp's mixes "q3_k_m", "q4_k_m", "q5_k_m" (model/llama_quant_presets.h).
const std::vector<std::string>& BenchModelDtypes();

struct BenchModelOptions {
  std::string shape = "llama-1b";
  std::string dtype = "q4_0";
  std::string out_path;
  std::string vocab_path;  // a GGUF whose tokenizer.ggml.* keys are copied
  int64_t layers = 0;      // > 0 overrides the shape's block count
  uint64_t seed = 0;
  int threads = 0;         // 0: all hardware threads
  // Called after each chunk of rows with the tensor being written and the data bytes written of the total.
  std::function<void(const std::string& tensor, uint64_t done, uint64_t total)> progress;
};

// Writes the model, streaming the tensor data a chunk of rows at a time.
Status GenerateBenchModel(const BenchModelOptions& options);

}  // namespace strata
