// Rotary position embedding as llama.cpp applies it (ggml_rope_ext, ext_factor 0, attn_factor 1), in place on
// [rows, heads*head_dim]: within each head the first rope_dim dims rotate in pairs, pair i by
//   theta_i = freq_scale * pos * base^(-2i/rope_dim) / freq_factors[i],
// the remaining head_dim - rope_dim dims pass through unchanged.
#pragma once

#include "core/nn_types.h"

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {


struct RopeParams {
  int64_t head_dim = 0;
  int64_t rope_dim = 0;  // dims rotated, <= head_dim, even; the rest pass through
  float base = 10000.0f;
  float freq_scale = 1.0f;
  RopeMode mode = RopeMode::kNorm;
  const float* freq_factors = nullptr;  // rope_dim/2 values: theta_i /= freq_factors[i] (Llama 3 rope_freqs)
  // ggml's attn_factor (mscale): cos and sin are multiplied by it (phi3 longrope's rope_scaling.attn_factor).
  float attn_factor = 1.0f;
};

// cos/sin of every pair's angle at `pos`, as ggml computes them: the angle advances by a float running product
// theta *= base^(-2/rope_dim) (powf) rather than an exact power, so at long positions it drifts from the exact
// angle (base 5e5, 128 dims: 3e-4 rad at 4k, 1.5e-3 at 32k, 4e-3 at 128k); following it, Rope is bit-identical
// to ggml_rope_ext's CPU kernel (checked against libggml for both modes, partial rope_dim and freq_factors).
// cos_sin: rope_dim floats, (cos, sin) per pair.
void RopeAngles(const RopeParams& p, int32_t pos, float* cos_sin);

void Rope(float* x, int64_t rows, int64_t width, const RopeParams& p, const int32_t* positions, ThreadPool& pool);
// Element by element, straight from the definition (the angle from RopeAngles' recurrence, cos/sin in double).
void RopeReference(float* x, int64_t rows, int64_t width, const RopeParams& p, const int32_t* positions);

}  // namespace strata::kernels
