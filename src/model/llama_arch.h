// The Llama architecture as GGUF describes it: hyperparameters read from `llama.*` metadata and the weights
// it needs (names and shapes), checked against the file so later layers can trust them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

class GgufFile;
class Tensor;

struct LlamaConfig {
  int64_t n_vocab = 0;
  int64_t dim = 0;         // embedding_length
  int64_t n_layers = 0;    // block_count
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;    // dim / n_heads
  int64_t ffn_dim = 0;     // feed_forward_length
  int64_t n_ctx = 0;       // context_length (trained)
  int64_t rope_dim = 0;    // rope.dimension_count (defaults to head_dim)
  float rope_base = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;  // no output.weight: the head reuses token_embd.weight

  // Reads and validates `llama.*` keys; fails with kUnsupported for another general.architecture.
  static Result<LlamaConfig> FromGguf(const GgufFile& gguf);
  std::string ToString() const;
};

// A weight the architecture reads, with the shape it must have (outermost first: [out, in]).
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every weight of the model in execution order.
std::vector<WeightSpec> LlamaWeights(const LlamaConfig& config);

// Checks that every weight exists with the expected shape and a dtype Strata computes with.
Status ValidateLlamaWeights(const GgufFile& gguf, const LlamaConfig& config);
// Checks one weight against its spec (shape; norms f32); `where` names the source ("x.gguf: tensor 'n'").
Status CheckLlamaWeight(const std::string& where, const WeightSpec& spec, const Tensor& t);

}  // namespace strata
