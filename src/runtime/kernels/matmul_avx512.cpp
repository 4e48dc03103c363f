// AVX-512 (F, BW, VL) matmul path. Only these functions are compiled for AVX-512 (target attributes, no
// global -m flags), and MatMul calls them only when the CPU and OS support it.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>

#include "core/quants_q4_1_q5.h"
#include "runtime/kernels/matmul_internal.h"
#include "runtime/kernels/matmul_kquants_x86.h"
#include "runtime/kernels/matmul_tiled.h"

// GCC 12's AVX-512 intrinsics pass self-initialised "undefined" vectors as the pass-through operand of
// unmasked builtins, which -W(maybe-)uninitialized reports once they are inlined (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define STRATA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

namespace strata::kernels::internal {
namespace {

// Lanes 0..7 plus lanes 8..15.
STRATA_AVX512 inline __m256 Fold(__m512 v) {
  const __m256 lo = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 hi = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  return _mm256_add_ps(lo, hi);
}

STRATA_AVX512 inline float Hsum(__m512 v) {
  const __m256 h = Fold(v);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// The four horizontal sums {Σa, Σb, Σc, Σd}.
STRATA_AVX512 inline __m128 Reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(Fold(a), Fold(b)), _mm256_hadd_ps(Fold(c), Fold(d)));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

STRATA_AVX512 inline __mmask16 FirstLanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }

// --- Weight loaders: 16 consecutive weights as floats, all or only the first lanes of a mask. ---

struct F32W {
  using T = float;
  STRATA_AVX512 static __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
  STRATA_AVX512 static __m512 Load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16W {
  using T = uint16_t;
  STRATA_AVX512 static __m512 Load16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  STRATA_AVX512 static __m512 Load16(const uint16_t* p, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16W {
  using T = uint16_t;
  STRATA_AVX512 static __m512 Widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  STRATA_AVX512 static __m512 Load16(const uint16_t* p) {
    return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  STRATA_AVX512 static __m512 Load16(const uint16_t* p, __mmask16 m) { return Widen(_mm256_maskz_loadu_epi16(m, p)); }
};

// --- Quantized rows, one 32-element group at a time (kGroupsPerBlock): group j of block b to floats (elements
// 0..15 in w0, 16..31 in w1), exactly the values DequantizeRow gives. ---

STRATA_AVX512 inline void Group(const BlockQ8_0* b, int /*j*/, __m512& w0, __m512& w1) {
  const __m512 d = _mm512_set1_ps(_cvtsh_ss(b->d));
  const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs));
  const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs + 16));
  w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0)), d);
  w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1)), d);
}
STRATA_AVX512 inline void Group(const BlockQ4_0* b, int /*j*/, __m512& w0, __m512& w1) {
  // A 16-entry table of (nibble - 8) * d, indexed by the nibbles (vpermps reads only the low 4 index bits).
  const __m512 kCentered = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m512 table = _mm512_mul_ps(kCentered, _mm512_set1_ps(_cvtsh_ss(b->d)));
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs)));
  w0 = _mm512_permutexvar_ps(v, table);                         // low nibbles: elements 0..15
  w1 = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table);  // high nibbles: elements 16..31
}
STRATA_AVX512 inline void Group(const BlockQ4_K* b, int j, __m512& w0, __m512& w1) {
  // Sub-block j: nibbles of qs[32 (j / 2) ..], low for even j, through a 16-entry table of scale * q - min
  // (fma(q, scale, -min) is that value exactly rounded: scale * q needs 6 + 11 + 4 bits). The block's scales
  // and mins are decoded for every j, but the compiler shares that work between the groups of a block.
  __m256 scales, neg_mins;
  Q4_KScalesMins(b, &scales, &neg_mins);
  const __m512i lane = _mm512_set1_epi32(j);
  const __m512 kIota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 table = _mm512_fmadd_ps(kIota, _mm512_permutexvar_ps(lane, _mm512_castps256_ps512(scales)),
                                       _mm512_permutexvar_ps(lane, _mm512_castps256_ps512(neg_mins)));
  const uint8_t* qs = b->qs + 32 * (j / 2);
  __m512i v0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  __m512i v1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs + 16)));
  if (j % 2) {
    v0 = _mm512_srli_epi32(v0, 4);
    v1 = _mm512_srli_epi32(v1, 4);
  }
  w0 = _mm512_permutexvar_ps(v0, table);
  w1 = _mm512_permutexvar_ps(v1, table);
}
STRATA_AVX512 inline void Group(const BlockQ6_K* b, int j, __m512& w0, __m512& w1) {
  // Elements 16u.. of group j = 4h + r use sub-block scale 8h + 2r + u; (d * scale) * (q - 32) is exact.
  const __m256i q = Q6_KGroupQuants(b, j);
  const __m512 scales = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(Q6_KScales(b))),
                                      _mm512_set1_ps(_cvtsh_ss(b->d)));
  const __m512i s = _mm512_set1_epi32(2 * j);  // 8h + 2r
  w0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_castsi256_si128(q))),
                     _mm512_permutexvar_ps(s, scales));
  w1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm256_extracti128_si256(q, 1))),
                     _mm512_permutexvar_ps(_mm512_add_epi32(s, _mm512_set1_epi32(1)), scales));
}

template <class Block>  // Q4_1, Q5_0, Q5_1
STRATA_AVX512 inline void Q4_1Q5Group(const Block* b, __m512& w0, __m512& w1) {
  // Tables of every quant's value, indexed by the quants (vpermps / vpermt2ps read only the index bits they
  // need): fma(q, d, m) is q * d + m rounded once, as DequantizeRow's (q * d is exact: 5 + 11 bits), and
  // fma(q, d, -16 d) is Q5_0's exact (q - 16) * d.
  const __m512 iota = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 d = _mm512_set1_ps(_cvtsh_ss(b->d));
  __m512 m = _mm512_mul_ps(d, _mm512_set1_ps(-16.0f));
  if constexpr (requires { b->m; }) m = _mm512_set1_ps(_cvtsh_ss(b->m));
  const __m512 low = _mm512_fmadd_ps(iota, d, m);  // quants 0..15
  const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs)));
  const __m512i v1 = _mm512_srli_epi32(v, 4);
  if constexpr (requires { b->qh; }) {
    const __m512 high = _mm512_fmadd_ps(_mm512_add_ps(iota, _mm512_set1_ps(16.0f)), d, m);  // quants 16..31
    uint32_t qh;
    std::memcpy(&qh, b->qh, 4);
    const __m512i bits = _mm512_set1_epi32(static_cast<int>(qh)), bit4 = _mm512_set1_epi32(16);
    const __m512i e = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // Element e's 5th bit is bit e of qh, moved to bit 4 of its index (which picks the table of 16..31).
    const __m512i h0 = _mm512_and_si512(_mm512_slli_epi32(_mm512_srlv_epi32(bits, e), 4), bit4);
    const __m512i e16 = _mm512_add_epi32(e, bit4);
    const __m512i h1 = _mm512_and_si512(_mm512_slli_epi32(_mm512_srlv_epi32(bits, e16), 4), bit4);
    w0 = _mm512_permutex2var_ps(low, _mm512_or_si512(_mm512_and_si512(v, _mm512_set1_epi32(15)), h0), high);
    w1 = _mm512_permutex2var_ps(low, _mm512_or_si512(v1, h1), high);
  } else {
    w0 = _mm512_permutexvar_ps(v, low);   // elements 0..15: low nibbles
    w1 = _mm512_permutexvar_ps(v1, low);  // elements 16..31: high nibbles
  }
}
STRATA_AVX512 inline void Group(const BlockQ4_1* b, int /*j*/, __m512& w0, __m512& w1) { Q4_1Q5Group(b, w0, w1); }
STRATA_AVX512 inline void Group(const BlockQ5_0* b, int /*j*/, __m512& w0, __m512& w1) { Q4_1Q5Group(b, w0, w1); }
STRATA_AVX512 inline void Group(const BlockQ5_1* b, int /*j*/, __m512& w0, __m512& w1) { Q4_1Q5Group(b, w0, w1); }

// --- Fused dequantize + dot: one weight row against MT activation rows (x rows ldx apart), each weight
// vector loaded and converted once and used MT times. y[t * ldy] = Σ_k x[t * ldx + k] w[k]. ---

template <int MT, class W>
STRATA_AVX512 void DotPlain(const typename W::T* w, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  constexpr int U = MT == 1 ? 4 : 2;  // vectors per step: at least four independent accumulator chains
  __m512 a[MT][U];
  for (int t = 0; t < MT; ++t)
    for (int u = 0; u < U; ++u) a[t][u] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 * U <= K; k += 16 * U)
    for (int u = 0; u < U; ++u) {
      const __m512 wv = W::Load16(w + k + 16 * u);
      for (int t = 0; t < MT; ++t) a[t][u] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + t * ldx + k + 16 * u), a[t][u]);
    }
  for (; k + 16 <= K; k += 16) {
    const __m512 wv = W::Load16(w + k);
    for (int t = 0; t < MT; ++t) a[t][0] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(x + t * ldx + k), a[t][0]);
  }
  if (k < K) {
    const __mmask16 m = FirstLanes(K - k);
    const __m512 wv = W::Load16(w + k, m);
    for (int t = 0; t < MT; ++t) a[t][1] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(m, x + t * ldx + k), a[t][1]);
  }
  for (int t = 0; t < MT; ++t) {
    for (int u = 1; u < U; ++u) a[t][0] = _mm512_add_ps(a[t][0], a[t][u]);
    y[t * ldy] = Hsum(a[t][0]);
  }
}

template <int MT, class B>
STRATA_AVX512 void DotQuant(const B* b, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  constexpr int U = MT == 1 ? 2 : 1;  // groups in flight: at least four independent accumulator chains
  constexpr int G = kGroupsPerBlock<B>;
  constexpr int R = G > U ? G : U;  // groups per step, a whole number of blocks
  __m512 a[MT][2 * U];
  for (int t = 0; t < MT; ++t)
    for (int u = 0; u < 2 * U; ++u) a[t][u] = _mm512_setzero_ps();
  const int64_t ng = K / kQK;
  int64_t i = 0;
  for (; i + R <= ng; i += R) {
    const B* blocks = b + i / G;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 w0, w1;
      Group(blocks + r / G, r % G, w0, w1);
      const float* xb = x + (i + r) * kQK;
      const int u = r % U;
      for (int t = 0; t < MT; ++t) {
        a[t][2 * u] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xb + t * ldx), a[t][2 * u]);
        a[t][2 * u + 1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb + t * ldx + 16), a[t][2 * u + 1]);
      }
    }
  }
  for (; i < ng; ++i) {  // one-group blocks left over from the last step
    __m512 w0, w1;
    Group(b + i / G, static_cast<int>(i % G), w0, w1);
    const float* xb = x + i * kQK;
    for (int t = 0; t < MT; ++t) {
      a[t][0] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xb + t * ldx), a[t][0]);
      a[t][1] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb + t * ldx + 16), a[t][1]);
    }
  }
  for (int t = 0; t < MT; ++t) {
    for (int u = 1; u < 2 * U; ++u) a[t][0] = _mm512_add_ps(a[t][0], a[t][u]);
    y[t * ldy] = Hsum(a[t][0]);
  }
}

template <class W>
STRATA_AVX512 void DequantPlain(const typename W::T* w, float* dst, int64_t n) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) _mm512_storeu_ps(dst + k, W::Load16(w + k));
  if (k < n) {
    const __mmask16 m = FirstLanes(n - k);
    _mm512_mask_storeu_ps(dst + k, m, W::Load16(w + k, m));
  }
}

template <class B>
STRATA_AVX512 void DequantQuant(const B* b, float* dst, int64_t n) {
  constexpr int G = kGroupsPerBlock<B>;
  for (int64_t i = 0; i < n / (kQK * G); ++i)
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g, dst += kQK) {
      __m512 w0, w1;
      Group(b + i, g, w0, w1);
      _mm512_storeu_ps(dst, w0);
      _mm512_storeu_ps(dst + 16, w1);
    }
}

struct Avx512Kern {
  static constexpr int kMT = 4, kNR = 4;  // 16 accumulators + 4 weight vectors + 1 activation vector
  static constexpr int kGemvMT = 4, kFusedMaxT = 3;  // crossover measured on Zen 5

  template <int MT>
  STRATA_AVX512 static void Gemv(const Problem& p, int64_t n0, int64_t n1, int64_t t0) {
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

  STRATA_AVX512 static void Dequant(DType dtype, const uint8_t* row, int64_t k0, int64_t kl, float* dst) {
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
    STRATA_AVX512 static void Run(const float* x, int64_t ldx, const float* b, int64_t ldb, int64_t kl, float* y,
                                  int64_t ldy, bool accumulate) {
      __m512 c[MT][NR];
      for (int i = 0; i < MT; ++i)
        for (int j = 0; j < NR; ++j) c[i][j] = _mm512_setzero_ps();
      int64_t k = 0;
      for (; k + 16 <= kl; k += 16) {
        __m512 bv[NR];
        for (int j = 0; j < NR; ++j) bv[j] = _mm512_loadu_ps(b + j * ldb + k);
        for (int i = 0; i < MT; ++i) {
          const __m512 xv = _mm512_loadu_ps(x + i * ldx + k);
          for (int j = 0; j < NR; ++j) c[i][j] = _mm512_fmadd_ps(xv, bv[j], c[i][j]);
        }
      }
      if (k < kl) {  // masked loads never touch the lanes past kl
        const __mmask16 m = FirstLanes(kl - k);
        __m512 bv[NR];
        for (int j = 0; j < NR; ++j) bv[j] = _mm512_maskz_loadu_ps(m, b + j * ldb + k);
        for (int i = 0; i < MT; ++i) {
          const __m512 xv = _mm512_maskz_loadu_ps(m, x + i * ldx + k);
          for (int j = 0; j < NR; ++j) c[i][j] = _mm512_fmadd_ps(xv, bv[j], c[i][j]);
        }
      }
      const __m512 z = _mm512_setzero_ps();
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

void MatMulRowsAvx512(const Problem& p, int64_t n0, int64_t n1) { TiledRows<Avx512Kern>(p, n0, n1); }

}  // namespace strata::kernels::internal

#endif  // __x86_64__
