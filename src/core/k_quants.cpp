// K-quant reference (de)quantization. The quantizers follow ggml's reference algorithm step by step, with the
// same float operations in the same order, so that a row quantized here has the bytes ggml would write.
#include "core/k_quants.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace strata {
namespace {

constexpr int kQ4SubBlocks = kQK_K / 32;  // Q4_K: 8 sub-blocks of 32
constexpr int kQ6SubBlocks = kQK_K / 16;  // Q6_K: 16 sub-blocks of 16

}  // namespace

namespace kquant {

// Sub-block fit: x[i] ≈ scale * q[i] - min with q in 0..nmax and min >= 0, minimising Σ w |error| (use_mad) or
// Σ w (error)². Starts
// from the grid spanning [min(x, 0), max(x)], then tries nstep + 1 grids of (nmax + rmin + rdelta * s) steps
// over the current range, each refined by the weighted least-squares scale and offset for its quants, keeping
// whichever has the smallest error. Returns scale; *min_out = min. n <= 32. (ggml: make_qkx2_quants.)
float FitScaleAndMin(const float* x, const float* w, int n, int nmax, float rmin, float rdelta, int nstep, bool use_mad,
                     uint8_t* q, float* min_out) {
  float lo = x[0], hi = x[0];
  float sum_w = w[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < lo) lo = x[i];
    if (x[i] > hi) hi = x[i];
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0) lo = 0;  // the offset only ever moves values down
  if (hi == lo) {
    std::fill(q, q + n, uint8_t{0});
    *min_out = -lo;
    return 0.0f;
  }
  float inv = nmax / (hi - lo);
  float scale = 1 / inv;
  float best_err = 0;
  for (int i = 0; i < n; ++i) {
    q[i] = static_cast<uint8_t>(Clamp(RoundToInt(inv * (x[i] - lo)), 0, nmax));
    const float e = scale * q[i] + lo - x[i];
    best_err += w[i] * (use_mad ? std::fabs(e) : e * e);
  }
  uint8_t trial[32];
  for (int s = 0; s <= nstep; ++s) {
    inv = (rmin + rdelta * s + nmax) / (hi - lo);  // lo may have moved to a better offset already
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = Clamp(RoundToInt(inv * (x[i] - lo)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;
    float trial_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float trial_lo = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (trial_lo > 0) {  // a positive offset is not representable: fit the scale alone
      trial_lo = 0;
      trial_scale = sum_xl / sum_l2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float e = trial_scale * trial[i] + trial_lo - x[i];
      err += w[i] * (use_mad ? std::fabs(e) : e * e);
    }
    if (err < best_err) {
      std::copy(trial, trial + n, q);
      best_err = err;
      scale = trial_scale;
      lo = trial_lo;
    }
  }
  *min_out = -lo;
  return scale;
}

}  // namespace kquant

namespace {

using kquant::Clamp;
using kquant::kNegligible;
using kquant::RoundToInt;

// Q6_K sub-block fit: x[i] ≈ scale * (q[i] - nmax) with q in 0..2 nmax - 1 and a signed scale, minimising
// Σ x² (error)². Tries the grid where the largest |x| maps to -nmax and 18 slightly wider or narrower ones, each
// with its least-squares scale. Returns scale. (ggml: make_qx_quants with rmse_type 1.)
float FitSignedScale(const float* x, int n, int nmax, int8_t* q) {
  float amax = 0, signed_max = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      signed_max = x[i];
    }
  }
  if (amax < kNegligible) {
    std::fill(q, q + n, int8_t{0});
    return 0.0f;
  }
  // Σ x² x l and Σ x² l² for the quants of x on the grid of step 1 / inv.
  const auto sums = [&](float inv, float* sum_xl, float* sum_l2, bool store) {
    *sum_xl = *sum_l2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = Clamp(RoundToInt(inv * x[i]), -nmax, nmax - 1);
      if (store) q[i] = static_cast<int8_t>(l + nmax);
      const float w = x[i] * x[i];
      *sum_xl += w * x[i] * l;
      *sum_l2 += w * l * l;
    }
  };
  float sum_xl, sum_l2;
  sums(-nmax / signed_max, &sum_xl, &sum_l2, /*store=*/true);
  float scale = sum_l2 != 0 ? sum_xl / sum_l2 : 0.0f;
  float best = scale * sum_xl;  // the error's reduction, Σ w x l squared over Σ w l²
  for (int s = -9; s <= 9; ++s) {
    if (s == 0) continue;
    const float inv = -(nmax + 0.1f * s) / signed_max;
    sums(inv, &sum_xl, &sum_l2, /*store=*/false);
    if (sum_l2 > 0 && sum_xl * sum_xl > best * sum_l2) {
      sums(inv, &sum_xl, &sum_l2, /*store=*/true);
      scale = sum_xl / sum_l2;
      best = scale * sum_xl;
    }
  }
  return scale;
}

}  // namespace

void Q4_KScaleMin(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *m = scales[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[j + 4] & 0x0f) | (scales[j - 4] >> 6) << 4);
    *m = static_cast<uint8_t>((scales[j + 4] >> 4) | (scales[j] >> 6) << 4);
  }
}

// Element e = 128h + 32r + l keeps its low 4 bits in ql[64h + 32 (r & 1) + l] (high nibble for r >= 2) and its
// top 2 bits in bits 2r, 2r + 1 of qh[32h + l] (layout in dtype.h).
int Q6_KQuant(const BlockQ6_K& b, int e) {
  const int h = e / 128, r = (e % 128) / 32, l = e % 32;
  const int low = (b.ql[64 * h + 32 * (r & 1) + l] >> (4 * (r >> 1))) & 0x0f;
  const int high = (b.qh[32 * h + l] >> (2 * r)) & 3;
  return low | high << 4;
}

void DequantizeRowQ4_K(const BlockQ4_K* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const BlockQ4_K& b = src[k];
    const float d = Fp16ToFp32(b.d), dmin = Fp16ToFp32(b.dmin);
    float* y = dst + k * kQK_K;
    for (int j = 0; j < kQ4SubBlocks; ++j) {
      uint8_t sc, m;
      Q4_KScaleMin(j, b.scales, &sc, &m);
      const float scale = d * sc, min = dmin * m;
      const uint8_t* qs = b.qs + 32 * (j / 2);
      const int shift = 4 * (j % 2);
      for (int l = 0; l < 32; ++l) y[32 * j + l] = scale * ((qs[l] >> shift) & 0x0f) - min;
    }
  }
}

void DequantizeRowQ6_K(const BlockQ6_K* src, float* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const BlockQ6_K& b = src[k];
    const float d = Fp16ToFp32(b.d);
    for (int e = 0; e < kQK_K; ++e)
      dst[k * kQK_K + e] = d * b.scales[e / 16] * static_cast<float>(Q6_KQuant(b, e) - 32);
  }
}

namespace kquant {

void FitSuperBlock6BitScales(const float* x, int nmax, float rmin, int nstep, uint8_t* scales, uint16_t* d,
                             uint16_t* dmin, uint8_t* q) {
  float fit_scales[kQ4SubBlocks], mins[kQ4SubBlocks];
  float max_scale = 0, max_min = 0;  // scales and mins are never negative
  for (int j = 0; j < kQ4SubBlocks; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float rms = std::sqrt(sum_x2 / 32);
    float w[32];  // weight large values more, but never ignore small ones
    for (int l = 0; l < 32; ++l) w[l] = rms + std::fabs(xs[l]);
    fit_scales[j] = FitScaleAndMin(xs, w, 32, nmax, rmin, 0.1f, nstep, /*use_mad=*/false, q + 32 * j, &mins[j]);
    if (fit_scales[j] > max_scale) max_scale = fit_scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  // 6-bit sub-block scales and mins relative to the super-block's largest of each.
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(scales, 0, 12);
  for (int j = 0; j < kQ4SubBlocks; ++j) {
    // The uint8_t conversion before the clamp is ggml's (it only matters for a negative fitted scale).
    const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(RoundToInt(inv_scale * fit_scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(RoundToInt(inv_min * mins[j])));
    if (j < 4) {
      scales[j] = ls;
      scales[j + 4] = lm;
    } else {
      scales[j + 4] = static_cast<uint8_t>((ls & 0x0f) | (lm & 0x0f) << 4);
      scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      scales[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d = Fp32ToFp16(max_scale / 63.0f);
  *dmin = Fp32ToFp16(max_min / 63.0f);
  // Requantize against the scales as stored.
  for (int j = 0; j < kQ4SubBlocks; ++j) {
    uint8_t sc, m;
    Q4_KScaleMin(j, scales, &sc, &m);
    const float ds = Fp16ToFp32(*d) * sc;
    if (ds == 0) continue;
    const float dm = Fp16ToFp32(*dmin) * m;
    for (int l = 0; l < 32; ++l)
      q[32 * j + l] = static_cast<uint8_t>(Clamp(RoundToInt((x[32 * j + l] + dm) / ds), 0, nmax));
  }
}

}  // namespace kquant

void QuantizeRowQ4_K(const float* src, BlockQ4_K* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    BlockQ4_K& b = dst[k];
    uint8_t q[kQK_K];
    kquant::FitSuperBlock6BitScales(src + k * kQK_K, 15, -1.0f, 20, b.scales, &b.d, &b.dmin, q);
    for (int p = 0; p < kQK_K / 64; ++p)
      for (int l = 0; l < 32; ++l) b.qs[32 * p + l] = static_cast<uint8_t>(q[64 * p + l] | q[64 * p + 32 + l] << 4);
  }
}

void QuantizeRowQ6_K(const float* src, BlockQ6_K* dst, int64_t n) {
  for (int64_t k = 0; k < n / kQK_K; ++k) {
    const float* x = src + k * kQK_K;
    BlockQ6_K& b = dst[k];
    int8_t q[kQK_K];  // 0..63
    float scales[kQ6SubBlocks];
    float max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < kQ6SubBlocks; ++j) {
      scales[j] = FitSignedScale(x + 16 * j, 16, 32, q + 16 * j);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    if (max_abs_scale < kNegligible) {
      std::memset(&b, 0, sizeof(b));
      continue;
    }
    // 8-bit sub-block scales: the largest maps to -128.
    const float inv = -128.0f / max_scale;
    b.d = Fp32ToFp16(1 / inv);
    for (int j = 0; j < kQ6SubBlocks; ++j)
      b.scales[j] = static_cast<int8_t>(std::min(127, RoundToInt(inv * scales[j])));
    // Requantize against the scales as stored.
    for (int j = 0; j < kQ6SubBlocks; ++j) {
      const float d = Fp16ToFp32(b.d) * b.scales[j];
      if (d == 0) continue;
      for (int l = 0; l < 16; ++l)
        q[16 * j + l] = static_cast<int8_t>(Clamp(RoundToInt(x[16 * j + l] / d), -32, 31) + 32);
    }
    for (int h = 0; h < 2; ++h) {
      const int8_t* qh = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        b.ql[64 * h + l] = static_cast<uint8_t>((qh[l] & 0x0f) | (qh[64 + l] & 0x0f) << 4);
        b.ql[64 * h + 32 + l] = static_cast<uint8_t>((qh[32 + l] & 0x0f) | (qh[96 + l] & 0x0f) << 4);
        b.qh[32 * h + l] =
            static_cast<uint8_t>(qh[l] >> 4 | (qh[32 + l] >> 4) << 2 | (qh[64 + l] >> 4) << 4 | (qh[96 + l] >> 4) << 6);
      }
    }
  }
}

}  // namespace strata
