// AVX-512 VNNI kernel of the integer matmul for Q4_1, Q5_0 and Q5_1 (quant_matmul_q4_1_q5.h): per block, the
// 16 rows' nibbles unpacked to 8 vectors, the 5th bits added from their 64-bit masks (one masked byte add per
// vector), vpdpbusd against each activation row, then QuantRowsScalarQ4_1Q5's float steps in its order.
#if defined(__x86_64__)

#include <algorithm>
#include <array>
#include <utility>

#include "runtime/kernels/quant_matmul_q4_1_q5.h"
#include "runtime/kernels/quant_matmul_vnni.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

STRATA_VNNI inline __m512 LoadHalves(const uint8_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Rows t0..t0+MT-1 of y for the 16 outputs of group g.
template <DType kT, int MT>
STRATA_VNNI void GroupTile(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  constexpr Q4_1Q5Layout l = LayoutOf(kT);
  __m512 acc[MT];
  for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0f), sixteen = _mm512_set1_epi8(16);
  const uint8_t* blk = w.block(g, 0);
  for (int64_t b = 0; b < a.nb; ++b, blk += l.bytes) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 8 * l.bytes), _MM_HINT_T0);
    __m512i q[8];
    for (int j = 0; j < 4; ++j) {
      const __m512i v = _mm512_loadu_si512(blk + l.qs + 64 * j);
      q[j] = _mm512_and_si512(v, low4);
      q[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
    if constexpr (l.hmask >= 0) {
      for (int v = 0; v < 8; ++v) {
        uint64_t bits;
        std::memcpy(&bits, blk + l.hmask + 8 * v, 8);
        q[v] = _mm512_mask_add_epi8(q[v], _cvtu64_mask64(bits), q[v], sixteen);
      }
    }
    const __m512 dw = LoadHalves(blk);
    const __m512 mw = l.m >= 0 ? LoadHalves(blk + l.m) : _mm512_setzero_ps();
    for (int t = 0; t < MT; ++t) {
      const int64_t xb = (t0 + t) * a.nb + b;
      const int8_t* x = a.q + (t0 + t) * a.K + 32 * b;
      __m512i s0 = _mm512_set1_epi32(a.corr[xb]);
      __m512i s1 = _mm512_setzero_si512();
      for (int j = 0; j < 8; j += 2) {
        s0 = _mm512_dpbusd_epi32(s0, q[j], Bcast4(x + 4 * j));
        s1 = _mm512_dpbusd_epi32(s1, q[j + 1], Bcast4(x + 4 * j + 4));
      }
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(a.d[xb]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[t]);
      if constexpr (l.m >= 0) acc[t] = _mm512_fmadd_ps(mw, _mm512_set1_ps(a.ds[xb]), acc[t]);
    }
  }
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc[t]);
}

using TileFn = void (*)(const PackedWeight&, const QuantActs&, int64_t, int64_t, float*);
constexpr int kMaxMT = 8;  // 8 accumulators + 8 quant vectors + scales and temporaries fit the 32 registers

template <DType kT, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  return {&GroupTile<kT, I + 1>...};
}

template <DType kT>
STRATA_VNNI void Rows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  static constexpr auto kTiles = Tiles<kT>(std::make_integer_sequence<int, kMaxMT>());
  TilesOverRows<kMaxMT>(kTiles, w, a, y, g0, g1);
}

}  // namespace

void QuantRowsVnniQ4_1Q5(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  switch (w.dtype()) {
    case DType::kQ4_1: return Rows<DType::kQ4_1>(w, a, y, g0, g1);
    case DType::kQ5_0: return Rows<DType::kQ5_0>(w, a, y, g0, g1);
    default: return Rows<DType::kQ5_1>(w, a, y, g0, g1);
  }
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
