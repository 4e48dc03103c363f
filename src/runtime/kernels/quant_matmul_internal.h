// Internals shared by quant_matmul.cpp and its AVX-512 VNNI file: quantized activations and the per-path
// entry points.
#pragma once

#include <cstdint>

#include "runtime/kernels/quant_matmul.h"

namespace strata::kernels::internal {

// T activation rows quantized to 8 bits, one scale per 32 values. corr[t * nb + b] is the int32 that turns
// the block's unsigned-weight dot product into the signed one: -(weight offset) * Σ q over the block, where
// the offset is 8 for Q4_0 nibbles and 128 for Q8_0 bytes stored as q + 128.
struct QuantActs {
  int64_t T = 0, K = 0, nb = 0;
  const int8_t* q = nullptr;  // row t at q + t * K
  const float* d = nullptr;   // [T, nb]
  const int32_t* corr = nullptr;
};

// One row of K floats to 8-bit blocks: d = amax / 127, q = round-half-even(x / d) (x * (1 / d) in float).
void QuantizeRowScalar(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr);
// y[t, 16 g ..] for every t and groups g0 <= g < g1.
void QuantRowsScalar(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#if defined(__x86_64__)
void QuantizeRowAvx512(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr);
void QuantRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1);
#endif

}  // namespace strata::kernels::internal
