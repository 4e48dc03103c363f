#include "runtime/kernels/rope.h"

#include <cmath>
#include <vector>

namespace strata::kernels {

void RopeAngles(const RopeParams& p, int32_t pos, float* cos_sin) {
  // ggml_rope_cache_init: float arithmetic throughout, in this order (theta / ff first, then * freq_scale).
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(p.rope_dim));
  float theta = static_cast<float>(pos);
  for (int64_t i = 0; i < p.rope_dim / 2; ++i) {
    const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
    const float angle = p.freq_scale * (theta / ff);
    cos_sin[2 * i] = std::cos(angle) * p.attn_factor;
    cos_sin[2 * i + 1] = std::sin(angle) * p.attn_factor;
    theta *= theta_scale;
  }
}

void Rope(float* x, int64_t rows, int64_t width, const RopeParams& p, const int32_t* positions, ThreadPool& pool) {
  const int64_t half = p.rope_dim / 2, head_dim = p.head_dim;
  pool.ParallelFor(rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> cs(static_cast<size_t>(2 * half));
    for (int64_t r = begin; r < end; ++r) {
      RopeAngles(p, positions[r], cs.data());  // once per row, shared by every head
      float* row = x + r * width;
      for (int64_t h = 0; h < width; h += head_dim) {
        float* xh = row + h;
        if (p.mode == RopeMode::kNorm) {
          for (int64_t i = 0; i < half; ++i) {
            const float c = cs[static_cast<size_t>(2 * i)], s = cs[static_cast<size_t>(2 * i + 1)];
            const float x0 = xh[2 * i], x1 = xh[2 * i + 1];
            xh[2 * i] = x0 * c - x1 * s;
            xh[2 * i + 1] = x0 * s + x1 * c;
          }
        } else {
          for (int64_t i = 0; i < half; ++i) {
            const float c = cs[static_cast<size_t>(2 * i)], s = cs[static_cast<size_t>(2 * i + 1)];
            const float x0 = xh[i], x1 = xh[i + half];
            xh[i] = x0 * c - x1 * s;
            xh[i + half] = x0 * s + x1 * c;
          }
        }
      }
    }
  });
}

void RopeReference(float* x, int64_t rows, int64_t width, const RopeParams& p, const int32_t* positions) {
  const int64_t half = p.rope_dim / 2;
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(p.rope_dim));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < width; h += p.head_dim)
      for (int64_t i = 0; i < half; ++i) {
        float theta = static_cast<float>(positions[r]);  // the float running product, as ggml takes it
        for (int64_t j = 0; j < i; ++j) theta *= theta_scale;
        const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
        const double angle = p.freq_scale * (theta / ff);
        const float c = static_cast<float>(std::cos(angle)) * p.attn_factor;
        const float s = static_cast<float>(std::sin(angle)) * p.attn_factor;
        const int64_t i0 = p.mode == RopeMode::kNorm ? 2 * i : i, i1 = p.mode == RopeMode::kNorm ? 2 * i + 1 : i + half;
        float* xh = x + r * width + h;
        const float x0 = xh[i0], x1 = xh[i1];
        xh[i0] = x0 * c - x1 * s;
        xh[i1] = x0 * s + x1 * c;
      }
}

}  // namespace strata::kernels
