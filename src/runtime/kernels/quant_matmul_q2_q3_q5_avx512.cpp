// AVX-512 VNNI kernels of the integer matmul for Q2_K, Q3_K and Q5_K weights (layout in
// quant_matmul_q2_q3_q5.h): per 32-group the 16 rows' quants are rebuilt from their bit planes into unsigned
// bytes (a top bit plane through a byte mask: vptestmb, then a masked add), and vpdpbusd takes them against the
// broadcast activations. Each kernel performs the operations of its
// *SuperBlock function in quant_matmul_q2_q3_q5.cpp in the same order, so its results equal the scalar
// kernel's bit for bit. Compiled with target attributes only; called only when HasVnni().
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "runtime/kernels/quant_matmul_q2_q3_q5.h"
#include "runtime/kernels/quant_matmul_vnni.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

constexpr int kMaxMT = 4;  // activation rows per tile: 8 quant vectors, 2 accumulators a row, scales

STRATA_VNNI inline __m512i Load(const uint8_t* p) { return _mm512_loadu_si512(p); }
STRATA_VNNI inline __m512i Bytes16ToI32(const uint8_t* p, bool is_signed) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return is_signed ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}
STRATA_VNNI inline __m512 Halves(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// The two halves' dot products of 32-group quants q against activation block x: lo over elements 0..15
// (units 0..3), hi over 16..31, each starting from its given value.
STRATA_VNNI inline void HalfDots(const __m512i (&q)[8], const int8_t* x, __m512i* lo, __m512i* hi) {
  for (int u = 0; u < 4; ++u) {
    *lo = _mm512_dpbusd_epi32(*lo, q[u], Bcast4(x + 4 * u));
    *hi = _mm512_dpbusd_epi32(*hi, q[u + 4], Bcast4(x + 16 + 4 * u));
  }
}

template <int MT>
STRATA_VNNI void TileQ2K(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc[MT];
  for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i mask2 = _mm512_set1_epi8(3), low4 = _mm512_set1_epi32(0x0f);
  const uint8_t* blk = w.block(g, 0);
  for (int64_t sb = 0; sb < a.K / 256; ++sb, blk += kQ2K_BlockBytes) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 2 * kQ2K_BlockBytes), _MM_HINT_T0);
    __m512 main[MT], mins[MT];
    for (int t = 0; t < MT; ++t) main[t] = mins[t] = _mm512_setzero_ps();
    for (int j = 0; j < 8; ++j) {
      __m512i q[8];
      for (int u = 0; u < 8; ++u)
        q[u] = _mm512_and_si512(_mm512_srli_epi16(Load(blk + kQ2K_Qs + 512 * (j / 4) + 64 * u), 2 * (j % 4)), mask2);
      const __m512i s0 = Bytes16ToI32(blk + kQ2K_Sc + 32 * j, false), s1 = Bytes16ToI32(blk + kQ2K_Sc + 32 * j + 16, false);
      const __m512i sc0 = _mm512_and_si512(s0, low4), sc1 = _mm512_and_si512(s1, low4);
      const __m512i m0 = _mm512_srli_epi32(s0, 4), m1 = _mm512_srli_epi32(s1, 4);
      const int64_t b = 8 * sb + j;
      for (int t = 0; t < MT; ++t) {
        const int32_t* c = a.corr16 + (t0 + t) * 2 * a.nb + 2 * b;
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
        HalfDots(q, a.q + (t0 + t) * a.K + 32 * b, &lo, &hi);
        const __m512i main_i = _mm512_add_epi32(_mm512_mullo_epi32(lo, sc0), _mm512_mullo_epi32(hi, sc1));
        const __m512i mins_i = _mm512_add_epi32(_mm512_mullo_epi32(m0, _mm512_set1_epi32(c[0] / -32)),
                                                _mm512_mullo_epi32(m1, _mm512_set1_epi32(c[1] / -32)));
        const __m512 dx = _mm512_set1_ps(a.d[(t0 + t) * a.nb + b]);
        main[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(main_i), dx, main[t]);
        mins[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins_i), dx, mins[t]);
      }
    }
    const __m512 d = Halves(blk + kQ2K_D), dmin = Halves(blk + kQ2K_Dmin);
    for (int t = 0; t < MT; ++t) acc[t] = _mm512_fnmadd_ps(dmin, mins[t], _mm512_fmadd_ps(d, main[t], acc[t]));
  }
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc[t]);
}

template <int MT>
STRATA_VNNI void TileQ3K(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc[MT];
  for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i mask2 = _mm512_set1_epi8(3), bit2 = _mm512_set1_epi8(4);
  const uint8_t* blk = w.block(g, 0);
  for (int64_t sb = 0; sb < a.K / 256; ++sb, blk += kQ3K_BlockBytes) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 2 * kQ3K_BlockBytes), _MM_HINT_T0);
    __m512 main[MT];
    for (int t = 0; t < MT; ++t) main[t] = _mm512_setzero_ps();
    for (int j = 0; j < 8; ++j) {
      __m512i q[8];
      const __m512i bit_j = _mm512_set1_epi8(static_cast<char>(1 << j));
      for (int u = 0; u < 8; ++u) {
        const __m512i low = _mm512_srli_epi16(Load(blk + kQ3K_Qs + 512 * (j / 4) + 64 * u), 2 * (j % 4));
        const __mmask64 top = _mm512_test_epi8_mask(Load(blk + kQ3K_Qh + 64 * u), bit_j);
        q[u] = _mm512_mask_add_epi8(_mm512_and_si512(low, mask2), top, _mm512_and_si512(low, mask2), bit2);
      }
      const __m512i sc0 = Bytes16ToI32(blk + kQ3K_Sc + 32 * j, true), sc1 = Bytes16ToI32(blk + kQ3K_Sc + 32 * j + 16, true);
      const int64_t b = 8 * sb + j;
      for (int t = 0; t < MT; ++t) {
        const int32_t* c = a.corr16 + (t0 + t) * 2 * a.nb + 2 * b;  // -32 Σ q_x: / 8 gives the -4 offset's term
        __m512i lo = _mm512_set1_epi32(c[0] / 8), hi = _mm512_set1_epi32(c[1] / 8);
        HalfDots(q, a.q + (t0 + t) * a.K + 32 * b, &lo, &hi);
        const __m512i main_i = _mm512_add_epi32(_mm512_mullo_epi32(lo, sc0), _mm512_mullo_epi32(hi, sc1));
        main[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(main_i), _mm512_set1_ps(a.d[(t0 + t) * a.nb + b]), main[t]);
      }
    }
    const __m512 d = Halves(blk + kQ3K_D);
    for (int t = 0; t < MT; ++t) acc[t] = _mm512_fmadd_ps(d, main[t], acc[t]);
  }
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc[t]);
}

template <int MT>
STRATA_VNNI void TileQ5K(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc[MT];
  for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0f), bit4 = _mm512_set1_epi8(0x10);
  const uint8_t* blk = w.block(g, 0);
  for (int64_t sb = 0; sb < a.K / 256; ++sb, blk += kQ5K_BlockBytes) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 2 * kQ5K_BlockBytes), _MM_HINT_T0);
    __m512 main[MT], mins[MT];
    for (int t = 0; t < MT; ++t) main[t] = mins[t] = _mm512_setzero_ps();
    for (int j = 0; j < 8; ++j) {
      __m512i q[8];
      const __m512i bit_j = _mm512_set1_epi8(static_cast<char>(1 << j));
      for (int u = 0; u < 8; ++u) {
        const __m512i v = Load(blk + kQ5K_Qs + 512 * (j / 2) + 64 * u);
        const __m512i low = _mm512_and_si512(j % 2 ? _mm512_srli_epi16(v, 4) : v, low4);
        const __mmask64 top = _mm512_test_epi8_mask(Load(blk + kQ5K_Qh + 64 * u), bit_j);
        q[u] = _mm512_mask_add_epi8(low, top, low, bit4);  // + 16 where the top bit is set
      }
      const __m512i sc = Bytes16ToI32(blk + kQ5K_Sc + 16 * j, false);
      const __m512 mf = _mm512_cvtepi32_ps(Bytes16ToI32(blk + kQ5K_M + 16 * j, false));
      const int64_t b = 8 * sb + j;
      for (int t = 0; t < MT; ++t) {
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
        HalfDots(q, a.q + (t0 + t) * a.K + 32 * b, &lo, &hi);
        const __m512i i = _mm512_mullo_epi32(_mm512_add_epi32(lo, hi), sc);
        main[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), _mm512_set1_ps(a.d[(t0 + t) * a.nb + b]), main[t]);
        mins[t] = _mm512_fmadd_ps(mf, _mm512_set1_ps(a.ds[(t0 + t) * a.nb + b]), mins[t]);
      }
    }
    const __m512 d = Halves(blk + kQ5K_D), dmin = Halves(blk + kQ5K_Dmin);
    for (int t = 0; t < MT; ++t) acc[t] = _mm512_fnmadd_ps(dmin, mins[t], _mm512_fmadd_ps(d, main[t], acc[t]));
  }
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc[t]);
}

using TileFn = void (*)(const PackedWeight&, const QuantActs&, int64_t, int64_t, float*);

template <template <int> class Tile, int... I>
constexpr std::array<TileFn, sizeof...(I)> TileTable(std::integer_sequence<int, I...>) {
  return {Tile<I + 1>::Run...};
}
template <int MT> struct Q2K { static constexpr TileFn Run = &TileQ2K<MT>; };
template <int MT> struct Q3K { static constexpr TileFn Run = &TileQ3K<MT>; };
template <int MT> struct Q5K { static constexpr TileFn Run = &TileQ5K<MT>; };

// Groups g0..g1 against all activation rows, taken in chunks that stay in L2 while the groups pass over them.
template <template <int> class Tile>
void Rows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  static constexpr auto kTiles = TileTable<Tile>(std::make_integer_sequence<int, kMaxMT>());
  TilesOverRows<kMaxMT>(kTiles, w, a, y, g0, g1);
}

}  // namespace

void Q2Q3Q5KRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  if (w.dtype() == DType::kQ2_K) return Rows<Q2K>(w, a, y, g0, g1);
  if (w.dtype() == DType::kQ3_K) return Rows<Q3K>(w, a, y, g0, g1);
  return Rows<Q5K>(w, a, y, g0, g1);
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
