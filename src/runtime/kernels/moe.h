// Mixture-of-experts FFN (mixtral, qwen2/3-moe): a router picks k experts per token and weighs them; each
// expert is a gated FFN down(act(gate x) * up x), and the token's output is the weighted sum of its experts'.
//
// The FFN groups tokens by expert, so each expert's three weight matrices are read once per step however many
// tokens chose it, and experts nobody chose cost nothing. The matmuls go through a callback: the executor owns
// the (quantized, packed) weights and decides how to multiply by an expert's slice.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/thread_pool.h"
#include "runtime/kernels/elementwise.h"

namespace strata::kernels {

enum class MoeGating {
  kSoftmax,  // softmax over all experts' logits, then top-k (llama.cpp's LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX)
};

// logits [rows, n_experts] -> for each row the k (<= n_experts) experts with the highest probability, most probable first
// (ties: lower index first), and their weights [rows, k]: the softmax probabilities, divided by their sum when
// `renormalize` (qwen3-moe, mixtral; the sum clamped below at 2^-14 as llama.cpp does). As build_moe_ffn:
// softmax, then top-k, then the division.
void MoeRoute(const float* logits, int64_t rows, int64_t n_experts, int64_t k, bool renormalize, int32_t* experts,
              float* weights, MoeGating gating = MoeGating::kSoftmax);

// The three projections of one expert; W_gate and W_up are [ffn, dim], W_down [dim, ffn].
enum MoeProjection : int { kMoeGate = 0, kMoeUp = 1, kMoeDown = 2 };

struct MoeExpertMatMul {
  // y[rows, N] = x[rows, K] · W_{expert, which}ᵀ (K = dim, N = ffn for gate and up; K = ffn, N = dim for down).
  // Called from the thread that called MoeFfn, once per (expert, projection) with all that expert's rows; it
  // may use the pool itself.
  std::function<void(int64_t expert, int which, const float* x, float* y, int64_t rows)> fn;
};

// Floats of scratch MoeFfn needs: the gathered rows (reused for the down projection's output) and the gate and
// up activations, for at most rows * k (token, expert) pairs.
inline int64_t MoeScratchFloats(int64_t rows, int64_t dim, int64_t ffn, int64_t k) { return rows * k * (dim + 2 * ffn); }

// out [rows, dim] = Σ over each row's selected experts e in [expert_begin, expert_end) of
// weight * down_e(act(gate_e x) * up_e x), in the order of `experts` (llama.cpp adds the k weighted outputs in
// that order); selections outside the range are skipped, so a device holding only some experts (expert
// parallelism) computes its part and the parts sum to the whole. experts/weights: [rows, k] from MoeRoute.
// tokens_per_expert (may be null): resized to expert_end - expert_begin, how many rows chose each local expert.
void MoeFfn(const float* x, int64_t rows, int64_t dim, int64_t ffn, int64_t expert_begin, int64_t expert_end,
            const int32_t* experts, const float* weights, int64_t k, Activation act, const MoeExpertMatMul& mm,
            float* out, float* scratch, std::vector<int64_t>* tokens_per_expert, ThreadPool& pool);

// Token by token with dense F32 experts (gate/up [n_experts, ffn, dim], down [n_experts, dim, ffn]), dot
// products in double, each projection's output rounded to float.
void MoeFfnReference(const float* x, int64_t rows, int64_t dim, int64_t ffn, int64_t expert_begin,
                     int64_t expert_end, const int32_t* experts, const float* weights, int64_t k, Activation act,
                     const float* gate, const float* up, const float* down, float* out);

}  // namespace strata::kernels
