// Internals shared by quant_matmul.cpp and its AVX-512 VNNI file: quantized activations and the per-path
// entry points.
#pragma once

#include <cstdint>

#include "runtime/kernels/quant_matmul.h"

namespace strata::kernels::internal {

// T activation rows quantized to 8 bits, one scale per 32 values. corr[t * nb + b] is the int32 that turns
// the block's unsigned-weight dot product into the signed one: -(weight offset) * Σ q over the block, where
// the offset is 8 for Q4_0 nibbles, 128 for Q8_0 bytes stored as q + 128, and 0 for Q4_K (unsigned nibbles).
struct QuantActs {
  int64_t T = 0, K = 0, nb = 0;
  const int8_t* q = nullptr;  // row t at q + t * K
  const float* d = nullptr;   // [T, nb]
  const int32_t* corr = nullptr;
  const float* ds = nullptr;  // [T, nb]: d * Σ q over the block (the Q4_K mins' term)
};

// Q4_K sub-block j's 6-bit scale and min from the 12 packed bytes (layout in core/dtype.h).
inline void Q4_KScaleMin(const uint8_t* s, int j, int32_t& sc, int32_t& m) {
  if (j < 4) {
    sc = s[j] & 63;
    m = s[j + 4] & 63;
  } else {
    sc = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Byte offsets inside one packed Q4_K (group, super-block): fp16 d and dmin per row, the 8 sub-blocks' scales
// and mins per row (u8, sub-block j row r at 16 j + r), then the quants of sub-block pair p (0..3) as 8 units.
inline constexpr int64_t kQ4K_D = 0, kQ4K_Dmin = 32, kQ4K_Sc = 64, kQ4K_M = 192, kQ4K_Qs = 320;
inline constexpr int64_t kQ4K_BlockBytes = kQ4K_Qs + 4 * 8 * 64;

// One row of K floats to 8-bit blocks: d = amax / 127, q = round-half-even(x / d) (x * (1 / d) in float).
void QuantizeRowScalar(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds);
// y[t, 16 g ..] for every t and groups g0 <= g < g1.
void QuantRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#if defined(__x86_64__)
void QuantizeRowAvx512(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr, float* ds);
void QuantRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#endif

}  // namespace strata::kernels::internal
