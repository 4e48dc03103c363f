// AVX2 + FMA + F16C matmul path. Only these functions are compiled for those extensions (target attributes,
// no global -m flags), and MatMul calls them only when the CPU has them.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>

#include "runtime/kernels/matmul_internal.h"
#include "runtime/kernels/matmul_kquants_x86.h"
#include "runtime/kernels/matmul_q4_1_q5_x86.h"
#include "runtime/kernels/matmul_tiled.h"

#define STRATA_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace strata::kernels::internal {
namespace {

STRATA_AVX2 inline float Hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four horizontal sums {Σa, Σb, Σc, Σd}.
STRATA_AVX2 inline __m128 Reduce4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

// Mask selecting the first n (0..8) lanes.
STRATA_AVX2 inline __m256i FirstLanes(int64_t n) {
  alignas(32) static const int32_t kBits[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kBits + 8 - n));
}

// --- Weight loaders: 8 consecutive weights as floats, and one as a scalar (for tails). ---

struct F32W {
  using T = float;
  STRATA_AVX2 static __m256 Load8(const float* p) { return _mm256_loadu_ps(p); }
  static float One(const float* p) { return *p; }
};
struct F16W {
  using T = uint16_t;
  STRATA_AVX2 static __m256 Load8(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float One(const uint16_t* p) { return Fp16ToFp32(*p); }
};
struct BF16W {
  using T = uint16_t;
  STRATA_AVX2 static __m256 Load8(const uint16_t* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  }
  static float One(const uint16_t* p) { return Bf16ToFp32(*p); }
};

// --- Quantized rows, one 32-element group at a time (kGroupsPerBlock): group j of block b to floats in w[0..3]
// (elements 8k..8k+7 in w[k]), exactly the values DequantizeRow gives. ---

STRATA_AVX2 inline void Group(const BlockQ8_0* b, int /*j*/, __m256 w[4]) {
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b->d));
  for (int j = 0; j < 4; ++j) {
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qs + 8 * j));
    w[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), d);
  }
}
STRATA_AVX2 inline void Group(const BlockQ4_0* b, int /*j*/, __m256 w[4]) {
  // (nibble - 8) * d == fma(nibble, d, -8 * d) exactly: every term and the result fit a float's mantissa.
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b->d));
  const __m256 m8d = _mm256_mul_ps(d, _mm256_set1_ps(-8.0f));
  const __m256i nib = _mm256_set1_epi32(0x0f);
  for (int h = 0; h < 2; ++h) {  // bytes 8h..8h+7: elements 8h.. (low nibbles) and 16 + 8h.. (high nibbles)
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qs + 8 * h)));
    w[h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, nib)), d, m8d);
    w[2 + h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), d, m8d);
  }
}
STRATA_AVX2 inline void Group(const BlockQ4_1* b, int /*j*/, __m256 w[4]) { Q4_1Q5Block(b, w); }
STRATA_AVX2 inline void Group(const BlockQ5_0* b, int /*j*/, __m256 w[4]) { Q4_1Q5Block(b, w); }
STRATA_AVX2 inline void Group(const BlockQ5_1* b, int /*j*/, __m256 w[4]) { Q4_1Q5Block(b, w); }
// Bytes 8k..8k+7 of v in the low 8 bytes, for _mm256_cvtep{u,i}8_epi32 to widen.
STRATA_AVX2 inline __m128i Bytes8(__m256i v, int k) {
  const __m128i half = k < 2 ? _mm256_castsi256_si128(v) : _mm256_extracti128_si256(v, 1);
  return k % 2 ? _mm_unpackhi_epi64(half, half) : half;
}

STRATA_AVX2 inline void Group(const BlockQ4_K* b, int j, __m256 w[4]) {
  // Sub-block j: nibbles of qs[32 (j / 2) ..], low for even j. The block's scales and mins are decoded for
  // every j, but the compiler shares that work between the groups of a block. scale * q is exact (6 + 11 + 4
  // bits), so fma(q, scale, -min) rounds once, as scale * q - min does.
  __m256 scales, neg_mins;
  Q4_KScalesMins(b, &scales, &neg_mins);
  const __m256i lane = _mm256_set1_epi32(j);
  const __m256 scale = _mm256_permutevar8x32_ps(scales, lane), neg_min = _mm256_permutevar8x32_ps(neg_mins, lane);
  const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qs + 32 * (j / 2)));
  const __m256i q = _mm256_and_si256(_mm256_srli_epi16(packed, 4 * (j % 2)), _mm256_set1_epi8(0x0f));
  for (int k = 0; k < 4; ++k)
    w[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(Bytes8(q, k))), scale, neg_min);
}
STRATA_AVX2 inline void Group(const BlockQ6_K* b, int j, __m256 w[4]) {
  // Elements 8k.. of group j = 4h + r use sub-block scale 8h + 2r + k / 2; (d * scale) * (q - 32) is exact.
  const int h = j / 4, r = j % 4;
  const __m256i q = Q6_KGroupQuants(b, j);
  const __m128i sc = Q6_KScales(b);
  const __m256 scales = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(h ? _mm_unpackhi_epi64(sc, sc) : sc)),
                                      _mm256_set1_ps(_cvtsh_ss(b->d)));
  for (int k = 0; k < 4; ++k)
    w[k] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(Bytes8(q, k))),
                         _mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(2 * r + k / 2)));
}

// --- Fused dequantize + dot: one weight row against MT activation rows (x rows ldx apart), each weight
// vector loaded and converted once and used MT times. y[t * ldy] = Σ_k x[t * ldx + k] w[k]. ---

template <int MT, class W>
STRATA_AVX2 void DotPlain(const typename W::T* w, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  constexpr int U = MT == 1 ? 4 : 2;  // vectors per step: at least four independent accumulator chains
  __m256 a[MT][U];
  for (int t = 0; t < MT; ++t)
    for (int u = 0; u < U; ++u) a[t][u] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 * U <= K; k += 8 * U)
    for (int u = 0; u < U; ++u) {
      const __m256 wv = W::Load8(w + k + 8 * u);
      for (int t = 0; t < MT; ++t) a[t][u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * ldx + k + 8 * u), a[t][u]);
    }
  for (; k + 8 <= K; k += 8) {
    const __m256 wv = W::Load8(w + k);
    for (int t = 0; t < MT; ++t) a[t][0] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * ldx + k), a[t][0]);
  }
  for (int t = 0; t < MT; ++t) {
    for (int u = 1; u < U; ++u) a[t][0] = _mm256_add_ps(a[t][0], a[t][u]);
    float s = Hsum(a[t][0]);
    for (int64_t j = k; j < K; ++j) s += W::One(w + j) * x[t * ldx + j];
    y[t * ldy] = s;
  }
}

template <int MT, class B>
STRATA_AVX2 void DotQuant(const B* b, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  constexpr int A = MT == 1 ? 4 : 2;  // accumulators per activation row (registers: MT * A + 4 + 1 <= 16)
  __m256 a[MT][A];
  for (int t = 0; t < MT; ++t)
    for (int j = 0; j < A; ++j) a[t][j] = _mm256_setzero_ps();
  constexpr int G = kGroupsPerBlock<B>;
  for (int64_t i = 0; i < K / (kQK * G); ++i)
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      __m256 w[4];
      Group(b + i, g, w);
      const float* xb = x + (i * G + g) * kQK;
      for (int t = 0; t < MT; ++t)
        for (int j = 0; j < 4; ++j)
          a[t][j % A] = _mm256_fmadd_ps(w[j], _mm256_loadu_ps(xb + t * ldx + 8 * j), a[t][j % A]);
    }
  for (int t = 0; t < MT; ++t) {
    for (int j = 1; j < A; ++j) a[t][0] = _mm256_add_ps(a[t][0], a[t][j]);
    y[t * ldy] = Hsum(a[t][0]);
  }
}

template <class W>
STRATA_AVX2 void DequantPlain(const typename W::T* w, float* dst, int64_t n) {
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, W::Load8(w + k));
  for (; k < n; ++k) dst[k] = W::One(w + k);
}

template <class B>
STRATA_AVX2 void DequantQuant(const B* b, float* dst, int64_t n) {
  constexpr int G = kGroupsPerBlock<B>;
  for (int64_t i = 0; i < n / (kQK * G); ++i)
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g, dst += kQK) {
      __m256 w[4];
      Group(b + i, g, w);
      for (int j = 0; j < 4; ++j) _mm256_storeu_ps(dst + 8 * j, w[j]);
    }
}

struct Avx2Kern {
  static constexpr int kMT = 4, kNR = 3;  // 12 accumulators + 3 weight vectors + 1 activation vector
  static constexpr int kGemvMT = 4, kFusedMaxT = 8;  // crossover measured on Zen 5 (AVX2 path)

  template <int MT>
  STRATA_AVX2 static void Gemv(const Problem& p, int64_t n0, int64_t n1, int64_t t0) {
    const float* x = p.x + t0 * p.K;
    float* y = p.y + t0 * p.N;
    const uint8_t* w = p.w + n0 * p.row_bytes;
    for (int64_t n = n0; n < n1; ++n, w += p.row_bytes) {
      switch (p.dtype) {
        case DType::kF32: DotPlain<MT, F32W>(reinterpret_cast<const float*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kF16: DotPlain<MT, F16W>(reinterpret_cast<const uint16_t*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kBF16: DotPlain<MT, BF16W>(reinterpret_cast<const uint16_t*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ8_0: DotQuant<MT>(reinterpret_cast<const BlockQ8_0*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ4_0: DotQuant<MT>(reinterpret_cast<const BlockQ4_0*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ4_1: DotQuant<MT>(reinterpret_cast<const BlockQ4_1*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ5_0: DotQuant<MT>(reinterpret_cast<const BlockQ5_0*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ5_1: DotQuant<MT>(reinterpret_cast<const BlockQ5_1*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ4_K: DotQuant<MT>(reinterpret_cast<const BlockQ4_K*>(w), x, p.K, p.K, y + n, p.N); break;
        case DType::kQ6_K: DotQuant<MT>(reinterpret_cast<const BlockQ6_K*>(w), x, p.K, p.K, y + n, p.N); break;
        default: break;
      }
    }
  }

  STRATA_AVX2 static void Dequant(DType dtype, const uint8_t* row, int64_t k0, int64_t kl, float* dst) {
    const uint8_t* src = row + RowBytes(dtype, k0);
    switch (dtype) {
      case DType::kF32: return DequantPlain<F32W>(reinterpret_cast<const float*>(src), dst, kl);
      case DType::kF16: return DequantPlain<F16W>(reinterpret_cast<const uint16_t*>(src), dst, kl);
      case DType::kBF16: return DequantPlain<BF16W>(reinterpret_cast<const uint16_t*>(src), dst, kl);
      case DType::kQ8_0: return DequantQuant(reinterpret_cast<const BlockQ8_0*>(src), dst, kl);
      case DType::kQ4_0: return DequantQuant(reinterpret_cast<const BlockQ4_0*>(src), dst, kl);
      case DType::kQ4_1: return DequantQuant(reinterpret_cast<const BlockQ4_1*>(src), dst, kl);
      case DType::kQ5_0: return DequantQuant(reinterpret_cast<const BlockQ5_0*>(src), dst, kl);
      case DType::kQ5_1: return DequantQuant(reinterpret_cast<const BlockQ5_1*>(src), dst, kl);
      case DType::kQ4_K: return DequantQuant(reinterpret_cast<const BlockQ4_K*>(src), dst, kl);
      case DType::kQ6_K: return DequantQuant(reinterpret_cast<const BlockQ6_K*>(src), dst, kl);
      default: return;
    }
  }

  template <int MT, int NR>
  struct Tile {
    STRATA_AVX2 static void Run(const float* x, int64_t ldx, const float* b, int64_t ldb, int64_t kl, float* y,
                                int64_t ldy, bool accumulate) {
      __m256 c[MT][NR];
      for (int i = 0; i < MT; ++i)
        for (int j = 0; j < NR; ++j) c[i][j] = _mm256_setzero_ps();
      int64_t k = 0;
      for (; k + 8 <= kl; k += 8) {
        __m256 bv[NR];
        for (int j = 0; j < NR; ++j) bv[j] = _mm256_loadu_ps(b + j * ldb + k);
        for (int i = 0; i < MT; ++i) {
          const __m256 xv = _mm256_loadu_ps(x + i * ldx + k);
          for (int j = 0; j < NR; ++j) c[i][j] = _mm256_fmadd_ps(xv, bv[j], c[i][j]);
        }
      }
      if (k < kl) {  // masked loads never touch the lanes past kl
        const __m256i m = FirstLanes(kl - k);
        __m256 bv[NR];
        for (int j = 0; j < NR; ++j) bv[j] = _mm256_maskload_ps(b + j * ldb + k, m);
        for (int i = 0; i < MT; ++i) {
          const __m256 xv = _mm256_maskload_ps(x + i * ldx + k, m);
          for (int j = 0; j < NR; ++j) c[i][j] = _mm256_fmadd_ps(xv, bv[j], c[i][j]);
        }
      }
      const __m256 z = _mm256_setzero_ps();
      for (int i = 0; i < MT; ++i) {
        alignas(16) float s[4];
        _mm_store_ps(s, Reduce4(c[i][0], NR > 1 ? c[i][NR > 1 ? 1 : 0] : z, NR > 2 ? c[i][NR > 2 ? 2 : 0] : z,
                                NR > 3 ? c[i][NR > 3 ? 3 : 0] : z));
        for (int j = 0; j < NR; ++j) y[i * ldy + j] = accumulate ? y[i * ldy + j] + s[j] : s[j];
      }
    }
  };
};

}  // namespace

void MatMulRowsAvx2(const Problem& p, int64_t n0, int64_t n1) { TiledRows<Avx2Kern>(p, n0, n1); }

}  // namespace strata::kernels::internal

#endif  // __x86_64__
