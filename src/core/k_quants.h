// ggml's K-quants (super-blocks of 256 elements): the scalar reference dequantization and the reference
// quantization (ggml's quantize_row_q4_K_ref / quantize_row_q6_K_ref, without importance weights), which
// DequantizeRow / QuantizeRow dispatch to. n is a multiple of kQK_K.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace strata {

void DequantizeRowQ4_K(const BlockQ4_K* src, float* dst, int64_t n);
void DequantizeRowQ6_K(const BlockQ6_K* src, float* dst, int64_t n);

void QuantizeRowQ4_K(const float* src, BlockQ4_K* dst, int64_t n);

// Q4_K sub-block j's (0..7) 6-bit scale and min, unpacked from the block's 12 scale bytes.
void Q4_KScaleMin(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m);
// Q6_K element e's (0..255) 6-bit quant, 0..63; the weight is d * scales[e / 16] * (q - 32).
int Q6_KQuant(const BlockQ6_K& b, int e);
void QuantizeRowQ6_K(const float* src, BlockQ6_K* dst, int64_t n);

// Steps of ggml's reference quantizers that several K-quants share (k_quants_q2_q3_q5.cpp uses them too).
namespace kquant {
inline constexpr float kNegligible = 1e-15f;  // a sub-block whose largest |x| is below this quantizes to zeros
// Round half to even, as ggml's nearest_int (and the default floating-point rounding mode) does. Inline, with
// ggml's own trick in range: the quantizers call it for every trial quant, and libm's nearbyint/fmin/fmax calls
// made quantizing a 1B model to Q4_K take minutes.
inline int RoundToInt(float x) {
  if (std::fabs(x) < 4194304.0f) {  // 2^22: adding 1.5 * 2^23 leaves the rounded integer in the low mantissa bits
    const float biased = x + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &biased, sizeof bits);
    return (bits & 0x007fffff) - 0x00400000;
  }
  // Far outside every quant range (where ggml's result is undefined), and NaN: saturate rather than overflow.
  return static_cast<int>(std::fmin(std::fmax(std::nearbyint(x), -1e9f), 1e9f));
}
inline int Clamp(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }
// ggml's make_qkx2_quants: x[i] ≈ scale * q[i] - *min_out, q in 0..nmax, n <= 32; returns scale.
float FitScaleAndMin(const float* x, const float* w, int n, int nmax, float rmin, float rdelta, int nstep, bool use_mad,
                     uint8_t* q, float* min_out);
// A Q4_K / Q5_K super-block's 8 sub-blocks of 32 fitted (make_qkx2_quants with rmin, nstep), their scales and
// mins packed as 6 bits into scales[12] under fp16 d and dmin, and q[256] requantized (0..nmax) against them.
void FitSuperBlock6BitScales(const float* x, int nmax, float rmin, int nstep, uint8_t* scales, uint16_t* d,
                             uint16_t* dmin, uint8_t* q);
}  // namespace kquant

}  // namespace strata
