// AVX2 kernels of the integer matmul (quant_matmul.h) for CPUs without AVX-512, most laptops and desktops:
// Q8_0 and Q4_0 over the same 16-row packed layout, each 64-byte unit read as two 256-bit halves (rows 0-7,
// rows 8-15). With AVX-VNNI (vpdpbusd on 256-bit vectors: Alder Lake, Zen 5 and later) the block dot products
// are the AVX-512 kernel's; with plain AVX2, vpmaddubsw + vpmaddwd give the same exact int32 sums. vpmaddubsw
// adds pairs of u8 x s8 products in saturating 16 bits, so the operands are arranged never to reach 2^15:
// Q4_0's nibbles are at most 15; Q8_0 takes |w| (at most 128) against x signed by w (|x| <= 127). Integer
// sums are exact in any order and the float accumulation runs in block order, so every path's output is
// bit-identical to QuantRowsScalar's.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "runtime/kernels/quant_matmul_internal.h"

#define STRATA_AVX2_INT __attribute__((target("avx2,fma,f16c")))
#define STRATA_AVX_VNNI __attribute__((target("avx2,fma,f16c,avxvnni")))

namespace strata::kernels::internal {
namespace {

STRATA_AVX2_INT inline __m256i Bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm256_set1_epi32(v);
}

// The 8 quant vectors of one half (rows 8h..8h+7) of a packed block: vector i holds, per row lane, the weights
// of elements 4i..4i+3 (Q8_0 as q + 128, Q4_0 as nibbles 0..15).
template <bool kQ4>
STRATA_AVX2_INT inline void LoadQuants(const uint8_t* blk, int h, __m256i (&q)[8]) {
  if constexpr (kQ4) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 + 64 * j + 32 * h));
      q[j] = _mm256_and_si256(v, low4);
      q[4 + j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
    }
  } else {
    for (int j = 0; j < 8; ++j) q[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 32 + 64 * j + 32 * h));
  }
}

// Σ over the block of w * x per row lane, plus `corr` (the weight offset's correction), exactly.
template <bool kQ4>
STRATA_AVX2_INT inline __m256i BlockDotAvx2(const __m256i (&q)[8], const int8_t* x, int32_t corr) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i s = _mm256_setzero_si256();
  for (int j = 0; j < 8; ++j) {
    __m256i p;
    if constexpr (kQ4) {
      p = _mm256_maddubs_epi16(q[j], Bcast4(x + 4 * j));  // nibbles <= 15: pairs stay far below 2^15
    } else {
      const __m256i w = _mm256_xor_si256(q[j], _mm256_set1_epi8(static_cast<char>(0x80)));  // q + 128 -> q
      p = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(Bcast4(x + 4 * j), w));
    }
    s = _mm256_add_epi32(s, _mm256_madd_epi16(p, ones));
  }
  // Q8_0's signed products already are the signed dot product: its +128 correction is not applied.
  return kQ4 ? _mm256_add_epi32(s, _mm256_set1_epi32(corr)) : s;
}

template <bool kQ4>
STRATA_AVX_VNNI inline __m256i BlockDotVnni(const __m256i (&q)[8], const int8_t* x, int32_t corr) {
  __m256i s0 = _mm256_set1_epi32(corr), s1 = _mm256_setzero_si256();
  for (int j = 0; j < 8; j += 2) {
    s0 = _mm256_dpbusd_avx_epi32(s0, q[j], Bcast4(x + 4 * j));
    s1 = _mm256_dpbusd_avx_epi32(s1, q[j + 1], Bcast4(x + 4 * j + 4));
  }
  return _mm256_add_epi32(s0, s1);
}

// Rows t0..t0+MT-1 of y for the 16 outputs of group g, half by half; per (row, block) the float update is
// acc = fma(float(sum), d_w * d_x, acc), as the scalar and AVX-512 kernels do it. Written out twice, once per
// target: the plain-AVX2 one must not be compiled with AVX-VNNI enabled (the compiler could then fuse
// vpmaddwd + vpaddd into an AVX-VNNI instruction the CPU lacks).
#define STRATA_GROUP_TILE(NAME, TARGET, DOT)                                                                     \
  template <int MT, bool kQ4>                                                                                    \
  TARGET void NAME(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {                  \
    for (int h = 0; h < 2; ++h) {                                                                                \
      __m256 acc[MT];                                                                                            \
      for (int t = 0; t < MT; ++t) acc[t] = _mm256_setzero_ps();                                                 \
      const int64_t bb = w.block_bytes();                                                                        \
      const uint8_t* blk = w.block(g, 0);                                                                        \
      const int8_t* xq = a.q + t0 * a.K;                                                                         \
      for (int64_t b = 0; b < a.nb; ++b, blk += bb, xq += 32) {                                                  \
        _mm_prefetch(reinterpret_cast<const char*>(blk + 8 * bb), _MM_HINT_T0);                                  \
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * h)));      \
        __m256i q[8];                                                                                            \
        LoadQuants<kQ4>(blk, h, q);                                                                              \
        for (int t = 0; t < MT; ++t) {                                                                           \
          const __m256i s = DOT<kQ4>(q, xq + t * a.K, a.corr[(t0 + t) * a.nb + b]);                              \
          const __m256 scale = _mm256_mul_ps(dw, _mm256_set1_ps(a.d[(t0 + t) * a.nb + b]));                      \
          acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc[t]);                                        \
        }                                                                                                        \
      }                                                                                                          \
      for (int t = 0; t < MT; ++t) _mm256_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows + 8 * h, acc[t]);    \
    }                                                                                                            \
  }
STRATA_GROUP_TILE(GroupTileAvx2, STRATA_AVX2_INT, BlockDotAvx2)
STRATA_GROUP_TILE(GroupTileVnni, STRATA_AVX_VNNI, BlockDotVnni)
#undef STRATA_GROUP_TILE

using TileFn = void (*)(const PackedWeight&, const QuantActs&, int64_t, int64_t, float*);
constexpr int kMaxMT = 4;  // 8 quant vectors + 4 accumulators + temporaries within 16 registers

template <bool kQ4, bool kVnni, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  if constexpr (kVnni) return {&GroupTileVnni<I + 1, kQ4>...};
  else return {&GroupTileAvx2<I + 1, kQ4>...};
}

template <bool kQ4, bool kVnni>
void Rows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  static constexpr auto kTiles = Tiles<kQ4, kVnni>(std::make_integer_sequence<int, kMaxMT>());
  const int64_t chunk = std::max<int64_t>(kMaxMT, ((int64_t{256} << 10) / std::max<int64_t>(1, a.K)) / kMaxMT * kMaxMT);
  for (int64_t c = 0; c < a.T; c += chunk) {
    const int64_t c1 = std::min(a.T, c + chunk);
    for (int64_t g = g0; g < g1; ++g)
      for (int64_t t = c; t < c1; t += kMaxMT) kTiles[std::min<int64_t>(kMaxMT, c1 - t) - 1](w, a, t, g, y);
  }
}

}  // namespace

STRATA_AVX2_INT inline int32_t HorizontalSum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// As QuantizeRowScalar, eight values a vector: the same float operations (amax, amax / 127, its inverse, the
// product rounded half to even), so the same bytes and scales.
STRATA_AVX2_INT void QuantizeRowAvx2(const float* x, int64_t K, int32_t offset, int8_t* q, float* d, int32_t* corr,
                                     float* ds, int32_t* corr16, int64_t span) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  float amax = 0;
  for (int64_t b = 0; b < K / 32; ++b) {
    __m256 v[4];
    for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(x + 32 * b + 8 * i);
    if (b % (span / 32) == 0) {  // a new span: its amax (a max, exact in any order)
      __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], abs_mask), _mm256_and_ps(v[1], abs_mask)),
                               _mm256_max_ps(_mm256_and_ps(v[2], abs_mask), _mm256_and_ps(v[3], abs_mask)));
      for (int64_t i = 32; i < span; i += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + 32 * b + i), abs_mask));
      __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
      m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
      m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
      amax = _mm_cvtss_f32(m4);
    }
    const float db = amax / 127.0f;
    const __m256 id = _mm256_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    __m256i n[4];
    for (int i = 0; i < 4; ++i) n[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], id));  // round half to even
    const __m256i packed = _mm256_permutevar8x32_epi32(
        _mm256_packs_epi16(_mm256_packs_epi32(n[0], n[1]), _mm256_packs_epi32(n[2], n[3])), order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * b), packed);
    const int32_t s0 = HorizontalSum(_mm256_add_epi32(n[0], n[1])), s1 = HorizontalSum(_mm256_add_epi32(n[2], n[3]));
    corr16[2 * b] = -32 * s0;
    corr16[2 * b + 1] = -32 * s1;
    d[b] = db;
    corr[b] = -offset * (s0 + s1);
    ds[b] = db * static_cast<float>(s0 + s1);
  }
}

bool Avx2IntegerDtype(DType t) { return t == DType::kQ8_0 || t == DType::kQ4_0; }

void QuantRowsAvx2(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1, bool vnni) {
  const bool q4 = w.dtype() == DType::kQ4_0;
  if (vnni) return q4 ? Rows<true, true>(w, a, y, g0, g1) : Rows<false, true>(w, a, y, g0, g1);
  return q4 ? Rows<true, false>(w, a, y, g0, g1) : Rows<false, false>(w, a, y, g0, g1);
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
