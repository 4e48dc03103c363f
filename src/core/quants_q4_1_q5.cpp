// Q4_1 / Q5_0 / Q5_1 reference (de)quantization. The quantizers take ggml's reference steps with the same
// float operations in the same order, so that a row quantized here has the bytes ggml would write.
#include "core/quants_q4_1_q5.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace strata {
namespace {

constexpr int kHalf = kQK / 2;

void MinMax(const float* x, float* lo, float* hi) {
  *lo = FLT_MAX;
  *hi = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < *lo) *lo = x[j];
    if (x[j] > *hi) *hi = x[j];
  }
}

// The low nibbles and 5th bits of 32 quants 0..31, in the Q5 layout.
template <class Block>
void PackQ5(const int* q, Block& b) {
  uint32_t qh = 0;
  for (int j = 0; j < kHalf; ++j) {
    b.qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | (q[j + kHalf] & 0x0f) << 4);
    qh |= static_cast<uint32_t>(q[j] >> 4 & 1) << j;
    qh |= static_cast<uint32_t>(q[j + kHalf] >> 4 & 1) << (j + kHalf);
  }
  for (int i = 0; i < 4; ++i) b.qh[i] = static_cast<uint8_t>(qh >> (8 * i));
}

// d * q + m over one block (the product rounded before the sum, as ggml's reference computes it).
template <class Block, class QuantFn>
void DequantizeWithMin(const Block* src, float* dst, int64_t n, QuantFn quant) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float d = Fp16ToFp32(src[k].d), m = Fp16ToFp32(src[k].m);
    for (int e = 0; e < kQK; ++e) {
      const float dq = static_cast<float>(quant(src[k], e)) * d;
      dst[k * kQK + e] = dq + m;
    }
  }
}

// Q4_1 / Q5_1: d = (max - min) / levels, m = min, q = min(levels, trunc((x - min) / d + 0.5)), packed by
// pack. (ggml clamps only Q4_1's q; Q5_1's stays below 32 anyway, since d rounds the range down by at most half
// an ulp, and the clamp only guards against a wrap should it ever not.)
template <class Block, class PackFn>
void QuantizeWithMin(const float* src, Block* dst, int64_t n, int levels, PackFn pack) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* x = src + k * kQK;
    float lo, hi;
    MinMax(x, &lo, &hi);
    const float d = (hi - lo) / static_cast<float>(levels);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[k].d = Fp32ToFp16(d);
    dst[k].m = Fp32ToFp16(lo);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::min(levels, static_cast<int>((x[j] - lo) * id + 0.5f));
    pack(q, dst[k]);
  }
}

}  // namespace

int Q4_1Quant(const BlockQ4_1& b, int e) { return e < kHalf ? b.qs[e] & 0x0f : b.qs[e - kHalf] >> 4; }

void DequantizeRowQ4_1(const BlockQ4_1* src, float* dst, int64_t n) { DequantizeWithMin(src, dst, n, Q4_1Quant); }

void DequantizeRowQ5_1(const BlockQ5_1* src, float* dst, int64_t n) {
  DequantizeWithMin(src, dst, n, Q5Quant<BlockQ5_1>);
}

void DequantizeRowQ5_0(const BlockQ5_0* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float d = Fp16ToFp32(src[k].d);
    for (int e = 0; e < kQK; ++e) dst[k * kQK + e] = static_cast<float>(Q5Quant(src[k], e) - 16) * d;
  }
}

void QuantizeRowQ4_1(const float* src, BlockQ4_1* dst, int64_t n) {
  QuantizeWithMin(src, dst, n, 15, [](const int* q, BlockQ4_1& b) {
    for (int j = 0; j < kHalf; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | q[j + kHalf] << 4);
  });
}

void QuantizeRowQ5_0(const float* src, BlockQ5_0* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK; ++k) {
    const float* x = src + k * kQK;
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    dst[k].d = Fp32ToFp16(d);
    int q[kQK];
    for (int j = 0; j < kQK; ++j) q[j] = std::min(31, static_cast<int>(x[j] * id + 16.5f));
    PackQ5(q, dst[k]);
  }
}

void QuantizeRowQ5_1(const float* src, BlockQ5_1* dst, int64_t n) {
  QuantizeWithMin(src, dst, n, 31, PackQ5<BlockQ5_1>);
}

}  // namespace strata
