// Q2_K, Q3_K and Q5_K reference (de)quantization. The quantizers follow ggml's reference algorithm step by step,
// with the same float operations in the same order, so that a row quantized here has the bytes ggml would write.
#include "core/k_quants_q2_q3_q5.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/k_quants.h"

namespace strata {
namespace {

using kquant::Clamp;
using kquant::RoundToInt;

constexpr int kSub16 = kQK_K / 16;  // Q2_K, Q3_K: 16 sub-blocks of 16
constexpr int kSub32 = kQK_K / 32;  // Q5_K: 8 sub-blocks of 32

// 2-bit planes as Q2_K and Q3_K store them: element 128h + 32k + l in bits 2k of qs[32h + l]. q[i] in 0..3.
void Pack2BitPlanes(const uint8_t* q, uint8_t* qs) {
  for (int h = 0; h < 2; ++h)
    for (int l = 0; l < 32; ++l) {
      const uint8_t* g = q + 128 * h + l;
      qs[32 * h + l] = static_cast<uint8_t>(g[0] | g[32] << 2 | g[64] << 4 | g[96] << 6);
    }
}

// Q3_K sub-block fit: x[i] ≈ scale * (q[i] - nmax), q in 0..2 nmax - 1, minimising Σ x² (error)²: the grid
// where the largest |x| maps to -nmax, then up to 5 passes that move single quants when that lowers the error.
// Returns scale. (ggml: make_q3_quants with do_rmse.)
float FitQ3Scale(const float* x, int n, int nmax, int8_t* q) {
  float amax = 0, signed_max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      signed_max = x[i];
    }
  }
  if (amax < kquant::kNegligible) {
    std::fill(q, q + n, int8_t{0});
    return 0.0f;
  }
  const float inv = -nmax / signed_max;
  float sum_xl = 0, sum_l2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = Clamp(RoundToInt(inv * x[i]), -nmax, nmax - 1);
    q[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sum_xl += w * x[i] * l;
    sum_l2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sum_xl - w * x[i] * q[i];
      if (!(slx > 0)) continue;
      float sl2 = sum_l2 - w * q[i] * q[i];
      const int l = Clamp(RoundToInt(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == q[i]) continue;
      slx += w * x[i] * l;
      sl2 += w * l * l;
      if (sl2 > 0 && slx * slx * sum_l2 > sum_xl * sum_xl * sl2) {
        q[i] = static_cast<int8_t>(l);
        sum_xl = slx;
        sum_l2 = sl2;
        ++changed;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) q[i] = static_cast<int8_t>(q[i] + nmax);
  return sum_l2 > 0.0f ? sum_xl / sum_l2 : 0.0f;
}

// The 4-bit scales (low nibbles) and mins (high nibbles) of a Q2_K super-block, relative to the largest of each.
void PackQ2Scales(const float* scales, const float* mins, BlockQ2_K& b) {
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kSub16; ++j) {
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  std::memset(b.scales, 0, sizeof(b.scales));
  b.d = Fp32ToFp16(0.0f);
  b.dmin = Fp32ToFp16(0.0f);
  if (max_scale > 0) {
    const float inv = 15.0f / max_scale;
    for (int j = 0; j < kSub16; ++j) b.scales[j] = static_cast<uint8_t>(RoundToInt(inv * scales[j]));
    b.d = Fp32ToFp16(max_scale / 15.0f);
  }
  if (max_min > 0) {
    const float inv = 15.0f / max_min;
    for (int j = 0; j < kSub16; ++j) b.scales[j] |= static_cast<uint8_t>(RoundToInt(inv * mins[j]) << 4);
    b.dmin = Fp32ToFp16(max_min / 15.0f);
  }
}

}  // namespace

int Q2_KQuant(const BlockQ2_K& b, int e) { return (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3; }

int Q3_KQuant(const BlockQ3_K& b, int e) {
  const int low = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
  return low | ((b.hmask[e % 32] >> (e / 32)) & 1) << 2;
}

int Q5_KQuant(const BlockQ5_K& b, int e) {
  const int j = e / 32, l = e % 32;  // sub-block j: nibble j % 2 of qs[32 (j / 2) + l], top bit j of qh[l]
  return ((b.qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 0x0f) | ((b.qh[l] >> j) & 1) << 4;
}

int Q3_KScale(const uint8_t* scales, int s) {
  const int low = (scales[s % 8] >> (4 * (s / 8))) & 0x0f;
  const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return (low | high << 4) - 32;
}

void DequantizeRowQ2_K(const BlockQ2_K* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const BlockQ2_K& b = src[k];
    const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
    for (int s = 0; s < kSub16; ++s) {
      const float scale = d * (b.scales[s] & 0x0f), min = dmin * (b.scales[s] >> 4);
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * s + l;
        dst[k * kQK_K + e] = scale * static_cast<float>(Q2_KQuant(b, e)) - min;
      }
    }
  }
}

void DequantizeRowQ3_K(const BlockQ3_K* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const BlockQ3_K& b = src[k];
    const float d = Fp16ToFp32(b.d);
    for (int s = 0; s < kSub16; ++s) {
      const float scale = d * static_cast<float>(Q3_KScale(b.scales, s));
      for (int l = 0; l < 16; ++l) {
        const int e = 16 * s + l;
        dst[k * kQK_K + e] = scale * static_cast<float>(Q3_KQuant(b, e) - 4);
      }
    }
  }
}

void DequantizeRowQ5_K(const BlockQ5_K* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const BlockQ5_K& b = src[k];
    const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
    for (int j = 0; j < kSub32; ++j) {
      uint8_t sc, m;
      Q4_KScaleMin(j, b.scales, &sc, &m);
      const float scale = d * sc, min = dmin * m;
      for (int l = 0; l < 32; ++l) dst[k * kQK_K + 32 * j + l] = scale * static_cast<float>(Q5_KQuant(b, 32 * j + l)) - min;
    }
  }
}

void QuantizeRowQ2_K(const float* src, BlockQ2_K* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float* x = src + k * kQK_K;
    BlockQ2_K& b = dst[k];
    uint8_t q[kQK_K];
    float scales[kSub16], mins[kSub16];
    for (int j = 0; j < kSub16; ++j) {
      float w[16];  // |x|: the error of large values matters most
      for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
      scales[j] = kquant::FitScaleAndMin(x + 16 * j, w, 16, 3, -0.5f, 0.1f, 15, /*use_mad=*/true, q + 16 * j, &mins[j]);
    }
    PackQ2Scales(scales, mins, b);
    // Requantize against the scales as stored.
    for (int j = 0; j < kSub16; ++j) {
      const float d = Fp16ToFp32(b.d) * (b.scales[j] & 0x0f);
      if (d == 0) continue;
      const float dm = Fp16ToFp32(b.dmin) * (b.scales[j] >> 4);
      for (int l = 0; l < 16; ++l)
        q[16 * j + l] = static_cast<uint8_t>(Clamp(RoundToInt((x[16 * j + l] + dm) / d), 0, 3));
    }
    Pack2BitPlanes(q, b.qs);
  }
}

void QuantizeRowQ3_K(const float* src, BlockQ3_K* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float* x = src + k * kQK_K;
    BlockQ3_K& b = dst[k];
    int8_t q[kQK_K];  // 0..7
    float scales[kSub16];
    float max_scale = 0, max_abs = 0;
    for (int j = 0; j < kSub16; ++j) {
      scales[j] = FitQ3Scale(x + 16 * j, 16, 4, q + 16 * j);
      if (std::fabs(scales[j]) > max_abs) {
        max_abs = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    // 6-bit signed sub-block scales: the largest maps to -32.
    std::memset(b.scales, 0, sizeof(b.scales));
    b.d = Fp32ToFp16(0.0f);
    if (max_scale != 0) {
      const float inv = -32.0f / max_scale;
      for (int j = 0; j < kSub16; ++j) {
        // The int8_t conversion before the clamp is ggml's.
        const int l = Clamp(static_cast<int8_t>(RoundToInt(inv * scales[j])), -32, 31) + 32;
        b.scales[j % 8] |= static_cast<uint8_t>((l & 0x0f) << (4 * (j / 8)));
        b.scales[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
      }
      b.d = Fp32ToFp16(1 / inv);
    }
    // Requantize against the scales as stored.
    for (int j = 0; j < kSub16; ++j) {
      const float d = Fp16ToFp32(b.d) * static_cast<float>(Q3_KScale(b.scales, j));
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l) q[16 * j + l] = static_cast<int8_t>(Clamp(RoundToInt(x[16 * j + l] / d), -4, 3) + 4);
    }
    std::memset(b.hmask, 0, sizeof(b.hmask));
    uint8_t low[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
      b.hmask[e % 32] |= static_cast<uint8_t>((q[e] >> 2) << (e / 32));
      low[e] = static_cast<uint8_t>(q[e] & 3);
    }
    Pack2BitPlanes(low, b.qs);
  }
}

void QuantizeRowQ5_K(const float* src, BlockQ5_K* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    BlockQ5_K& b = dst[k];
    uint8_t q[kQK_K];
    kquant::FitSuperBlock6BitScales(src + k * kQK_K, 31, -0.5f, 15, b.scales, &b.d, &b.dmin, q);
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int p = 0; p < kQK_K / 64; ++p)
      for (int l = 0; l < 32; ++l) {
        const int lo = q[64 * p + l], hi = q[64 * p + 32 + l];
        b.qs[32 * p + l] = static_cast<uint8_t>((lo & 0x0f) | (hi & 0x0f) << 4);
        b.qh[l] |= static_cast<uint8_t>((lo >> 4) << (2 * p) | (hi >> 4) << (2 * p + 1));
      }
  }
}

}  // namespace strata
