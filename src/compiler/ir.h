// The graph IR of a forward pass (a "plan"): nodes in execution order, each an op with inputs, an output
// shape and dtype, and the weight it reads. The runtime executes exactly this; there is no other forward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace strata::ir {

enum class Op {
  kTokens,     // graph input: token ids of this step, [T] i32
  kEmbedding,  // rows of a weight table by token id: [T] -> [T, dim]
  kRmsNorm,    // x / sqrt(mean(x²) + eps) * weight, per row
  kMatMul,     // x[T, K] · W[N, K]ᵀ -> [T, N]
  kRope,       // rotary embedding (llama.cpp NORM mode: adjacent pairs) at each token's position
  kAttention,  // appends k, v to the layer's KV cache, then causal grouped-query attention of q over it
  kAdd,        // a + b
  kSilu,       // x * sigmoid(x)
  kMul,        // a * b
  kGatherRows, // keeps the rows whose logits are wanted (a sequence's last row, or every row)
};
const char* OpName(Op op);

// A shape entry below zero is a symbol bound when the plan runs.
inline constexpr int64_t kSymTokens = -1;   // T: tokens in this step
inline constexpr int64_t kSymOutRows = -2;  // R: rows whose logits are wanted (1 or T)
std::string DimsToString(const std::vector<int64_t>& shape);  // "[T, 192]"

struct Node {
  int id = -1;
  Op op = Op::kAdd;
  std::string name;  // readable: "blk.0.attn_q"
  std::vector<int> inputs;
  std::vector<int64_t> shape;
  DType dtype = DType::kF32;
  int weight = -1;  // index into Plan::weights, or -1
  // Op attributes (only the ones an op uses are set).
  int layer = -1;
  float eps = 0.0f;
  float rope_base = 0.0f;
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
};

struct WeightRef {
  std::string name;
  Tensor tensor;  // a view into the mapped model file
};

// What the runtime must provision for the plan's attention nodes.
struct KvCacheSpec {
  int64_t n_layers = 0;
  int64_t n_ctx = 0;
  int64_t kv_dim = 0;  // n_kv_heads * head_dim per layer, for K and for V
};

struct Plan {
  std::vector<Node> nodes;
  std::vector<WeightRef> weights;
  int input = -1;   // the kTokens node
  int output = -1;  // the logits node
  KvCacheSpec kv;

  int AddWeight(const std::string& name, const Tensor& t);
  int AddNode(Node n);  // assigns the id; returns it
  const Node& node(int id) const { return nodes[static_cast<size_t>(id)]; }
  // Checks structure: inputs come earlier, arities, shapes and dtypes agree with each op's rule.
  Status Validate() const;
};

}  // namespace strata::ir
