// The graph IR of a forward pass (a "plan"): nodes in execution order, each an op with inputs, an output
// shape and dtype, and the weights it reads. The builder emits one op per basic operation; passes fuse, split
// across tensor-parallel ranks and place ops. The runtime executes exactly this; there is no other forward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn_types.h"
#include "core/status.h"
#include "core/tensor.h"

namespace strata::ir {

enum class Op {
  kTokens,      // graph input: token ids of this step, [T] i32
  kStageInput,  // graph input of a pipeline stage after the first: the residual stream [T, dim] f32 entering
                // its first layer, received from the previous stage (Batch::stage_input); no weight
  kEmbedding,   // rows of a weight table by token id: [T] -> [T, dim]
  kRmsNorm,     // x / sqrt(mean(x²) + eps) * weight, per row, or per group of the weight's width (per-head norms)
  kMatMul,      // x[T, K] · W[N, K]ᵀ (+ bias) -> [T, N]
  kRope,        // rotary embedding at each token's position (rope_mode: adjacent pairs or halves)
  kKvStore,     // writes this step's k and v rows into the layer's paged KV cache; no output of its own
  kAttnScores,  // scale · q · kᵀ (soft-capped) of each row over its sequence's cached positions: [T, heads, C]
  kSoftmax,     // causal softmax per (row, head) over the row's window of positions; the rest become 0
  kAttnValues,  // probabilities · v over the cached positions: [T, heads * head_dim]
  kAttention,   // fused KV store + scores + softmax + values, online softmax block by block (no [T, C] scores)
  kAdd,         // a + b
  kActivate,    // act(x): silu, gelu_tanh, sigmoid
  kMul,         // a * b; b may be [T, 1], one factor per row
  kGatedFfn,    // fused act(x · Wgateᵀ) * (x · Wupᵀ): gate and up projections, activation and product
  kScale,       // x * scale
  kSoftcap,     // softcap * tanh(x / softcap)
  kMoe,         // mixture of experts: router, top-k, the chosen experts' gated FFNs, weighted sum
  kGatherRows,  // keeps the rows whose logits are wanted (a sequence's last row, or every row)
  kAllReduce,   // elementwise sum of this tensor over the tensor-parallel ranks
  kAllGather,   // concatenation of every rank's tensor along the last dimension
  kCopy,        // moves a tensor between device and host memory (inserted by placement)
};
inline constexpr int kNumOps = static_cast<int>(Op::kCopy) + 1;
const char* OpName(Op op);

// A shape entry below zero is a symbol bound when the plan runs.
inline constexpr int64_t kSymTokens = -1;   // T: tokens in this step
inline constexpr int64_t kSymOutRows = -2;  // R: rows whose logits are wanted (1 or T)
inline constexpr int64_t kSymContext = -3;  // C: longest context (cached + new positions) of the step
std::string DimsToString(const std::vector<int64_t>& shape);  // "[T, 192]"

// The values of the symbols for one step.
struct Binding {
  int64_t tokens = 1, out_rows = 1, context = 1;
  int64_t Dim(int64_t d) const { return d == kSymTokens ? tokens : d == kSymOutRows ? out_rows : d == kSymContext ? context : d; }
  int64_t Numel(const std::vector<int64_t>& shape) const;
};

// Where a node runs: on the backend's device, or on the host when the backend lacks its op.
enum class Placement : uint8_t { kDevice, kHost };

struct Node {
  int id = -1;
  Op op = Op::kAdd;
  std::string name;  // readable: "blk.0.attn_q"
  std::vector<int> inputs;
  std::vector<int64_t> shape;
  DType dtype = DType::kF32;
  int weight = -1;   // index into Plan::weights, or -1 (kGatedFfn: the gate projection; kMoe: the router)
  int weight2 = -1;  // kGatedFfn: the up projection
  int bias = -1;     // kMatMul: a bias row added to the product
  std::vector<int> expert_weights;  // kMoe: gate, up and down expert tensors [E, ffn, dim], [E, ffn, dim], [E, dim, ffn]
  TpSplit tp = TpSplit::kReplicated;  // kMatMul / kGatedFfn: how the weight divides across tensor-parallel ranks
  // Op attributes (only the ones an op uses are set).
  int layer = -1;
  float eps = 0.0f;
  Activation act = Activation::kSilu;  // kActivate, kGatedFfn, kMoe
  float scale = 0.0f;    // kScale; attention: the score scale (0: 1/sqrt(head_dim))
  float softcap = 0.0f;  // kSoftcap; attention: > 0 soft-caps the scores
  int64_t window = 0;    // attention: > 0 limits each row to its last `window` positions
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  // RoPE (kRope, or fused into a matmul): mode, rotated dims per head, base, linear scale, frequency factors.
  RopeMode rope_mode = RopeMode::kNorm;
  int64_t rope_dim = 0;
  float rope_base = 0.0f;
  float rope_freq_scale = 1.0f;
  int rope_freqs = -1;  // weight index of per-pair frequency divisors, or -1
  // kMoe: experts per token, whether their weights are renormalised, and the experts this rank computes.
  int64_t n_experts_used = 0;
  bool moe_renormalize = false;
  int64_t expert_begin = 0, expert_end = -1;  // expert_end < 0: all
  // Fusions into kMatMul / kGatedFfn (see passes/): an RMSNorm of input 0 by norm_weight (eps) before the
  // product; RoPE of the output; the output plus the last input (a residual).
  int norm_weight = -1;
  bool rope = false;
  bool residual = false;
  Placement placement = Placement::kDevice;
  bool to_host = false;  // kCopy: device -> host (else host -> device)
};

struct WeightRef {
  std::string name;
  Tensor tensor;  // a view into the mapped model file, or an owned slice of one (tensor parallelism)
};

// What the runtime must provision for the plan's attention nodes.
struct KvCacheSpec {
  int64_t n_layers = 0;
  int64_t n_ctx = 0;
  int64_t kv_dim = 0;  // n_kv_heads * head_dim per layer, for K and for V
  int64_t head_dim = 0;
  DType dtype = DType::kF32;  // how a slot's row is stored: F32, F16 or Q8_0 (CompileOptions::kv_dtype)
};

// Tensor parallelism: this plan is rank `rank` of `size` ranks that run together, joined by collective ops.
// `rank` and `size` count only the tensor-parallel ranks of one pipeline stage (the collectives join those).
// Pipeline parallelism: the plan is stage `stage` of `stages`, each stage a contiguous range of layers; a stage
// after the first starts at a kStageInput node, a stage before the last outputs its residual stream [T, dim]
// instead of logits. Across both, the plan's global rank is stage * size + rank.
struct ParallelSpec {
  int rank = 0;
  int size = 1;
  int stage = 0;
  int stages = 1;
  int first_layer = 0;  // the model layer this stage's layer 0 (its KV cache layer 0) is
  int global_rank() const { return stage * size + rank; }
  bool first_stage() const { return stage == 0; }
  bool last_stage() const { return stage == stages - 1; }
};

struct Plan {
  std::vector<Node> nodes;
  std::vector<WeightRef> weights;
  int input = -1;   // the kTokens node (in every stage: it sets T, the rows of the step)
  int output = -1;  // the logits node (a stage before the last: its outgoing residual stream)
  KvCacheSpec kv;
  ParallelSpec parallel;

  int AddWeight(const std::string& name, const Tensor& t);
  int AddNode(Node n);  // assigns the id; returns it
  const Node& node(int id) const { return nodes[static_cast<size_t>(id)]; }
  Node& node(int id) { return nodes[static_cast<size_t>(id)]; }
  const Tensor& weight(int w) const { return weights[static_cast<size_t>(w)].tensor; }
  // Checks structure: inputs come earlier, arities and shapes agree with each op's rule, weights exist.
  // Dtypes are not checked: kernels dispatch on the weight's dtype and reject what they do not handle.
  Status Validate() const;
  // Drops nodes the output does not depend on and renumbers the rest (keeping their order).
  void RemoveDeadNodes();
  // Uses of each node as an input, by node id.
  std::vector<int> UseCounts() const;
  // Replaces every use of node `from` as an input by node `to` (and the output, if it was `from`).
  void ReplaceUses(int from, int to);
};

// The label of a node's own op ("matmul", "silu", "swiglu", "copy_to_host"): what a backend lacks or has.
std::string OpLabel(const Node& n);
// The label a plan shows for a node: its op, with the ops fused into it ("rms_norm+matmul+rope").
std::string NodeLabel(const Node& n);
// Bytes a node's output occupies under a binding (0 for nodes without a buffer: tokens, kv_store).
int64_t OutputBytes(const Node& n, const Binding& b);

}  // namespace strata::ir
