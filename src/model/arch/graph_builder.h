// The operations an architecture composes its forward graph from. The model layer only describes the graph;
// the compiler implements this interface by emitting IR nodes (compiler/plan_builder.h), so architectures
// stay below the compiler and one recipe serves every backend and pass.
#pragma once

#include <cstdint>
#include <string>

#include "core/nn_types.h"

namespace strata {

// A value of the graph being built (an IR node id).
using Value = int;

// A weight, or rows [row0, row1) of one (the parts of a fused QKV or gate/up tensor).
struct WeightPart {
  std::string name;
  int64_t row0 = 0, row1 = -1;  // row1 < 0: every row
  WeightPart(const char* n) : name(n) {}  // NOLINT: implicit from a name
  WeightPart(std::string n) : name(std::move(n)) {}  // NOLINT
  WeightPart(std::string n, int64_t r0, int64_t r1) : name(std::move(n)), row0(r0), row1(r1) {}
};

struct RopeSpec {
  int64_t head_dim = 0;
  int64_t rope_dim = 0;  // leading dims of each head that rotate
  float base = 10000.0f;
  float freq_scale = 1.0f;
  RopeMode mode = RopeMode::kNorm;
  std::string freq_factors;  // a weight dividing each pair's frequency (Llama 3's rope_freqs), or empty
};

struct AttentionSpec {
  int layer = 0;
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  float scale = 0.0f;    // scores = scale * q.k (0: 1/sqrt(head_dim))
  float softcap = 0.0f;  // > 0: scores = softcap * tanh(scores / softcap)
  int64_t window = 0;    // > 0: a token at position p sees positions p-window+1 .. p
};

struct MoeSpec {
  std::string router;                  // [n_experts, dim]
  std::string gate, up, down;          // [n_experts, ffn, dim], [n_experts, ffn, dim], [n_experts, dim, ffn]
  int64_t n_used = 0;                  // experts per token
  bool renormalize = false;            // top-k weights rescaled to sum 1
  Activation act = Activation::kSilu;
  std::string name;
};

class GraphBuilder {
 public:
  virtual ~GraphBuilder() = default;
  virtual Value Tokens() = 0;
  virtual Value Embedding(Value tokens, const std::string& weight) = 0;
  // RMSNorm by `weight`; a weight narrower than the row normalises each group of its width (per-head norms).
  virtual Value RmsNorm(Value x, const std::string& weight, float eps) = 0;
  // x · Wᵀ (+ bias), split across tensor-parallel ranks as `split` says.
  virtual Value MatMul(Value x, const WeightPart& w, TpSplit split, const std::string& bias = {}) = 0;
  virtual Value Rope(Value x, const RopeSpec& rope, const std::string& name) = 0;
  // Stores k and v in the layer's KV cache and attends q over the cached positions (causal).
  virtual Value Attention(Value q, Value k, Value v, const AttentionSpec& spec) = 0;
  virtual Value Activate(Value x, Activation act, const std::string& name) = 0;
  virtual Value Add(Value a, Value b, const std::string& name) = 0;
  // a * b elementwise; b may be one column ([T, 1]) that scales each row.
  virtual Value Mul(Value a, Value b, const std::string& name) = 0;
  virtual Value Scale(Value x, float s, const std::string& name) = 0;
  virtual Value Softcap(Value x, float cap, const std::string& name) = 0;
  // Routes each token to spec.n_used experts and sums their weighted FFN outputs.
  virtual Value Moe(Value x, const MoeSpec& spec) = 0;
  // Keeps the rows whose logits are wanted; placed before the head so decode pays for one row.
  virtual Value GatherRows(Value x) = 0;
  virtual void Output(Value logits) = 0;
};

}  // namespace strata
