// AVX-512 VNNI kernels of the integer matmul (quant_matmul.h): activation quantization and the 16-row group
// kernel. Compiled with target attributes only; called only when HasVnni().
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "runtime/kernels/quant_matmul_internal.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define STRATA_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace strata::kernels::internal {
namespace {

STRATA_VNNI inline __m512i Bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// The 8 quant vectors of one packed block: vector i holds, per row lane, the weights of elements 4i..4i+3.
template <bool kQ4>
STRATA_VNNI inline void LoadQuants(const uint8_t* blk, __m512i (&q)[8]) {
  if constexpr (kQ4) {
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    for (int j = 0; j < 4; ++j) {
      const __m512i v = _mm512_loadu_si512(blk + 32 + 64 * j);
      q[j] = _mm512_and_si512(v, low4);                            // elements 4j..4j+3
      q[4 + j] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);  // elements 16+4j..
    }
  } else {
    for (int j = 0; j < 8; ++j) q[j] = _mm512_loadu_si512(blk + 32 + 64 * j);
  }
}

// Rows t0..t0+MT-1 of y for the 16 outputs of group g: for every block, unpack the group's quants once and
// take them against each of the MT activation rows. The int32 chain per (row, block) is split in two so its
// latency overlaps; the float accumulation runs in block order, as the scalar kernel's does.
template <int MT, bool kQ4>
STRATA_VNNI void GroupTile(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc[MT];
  for (int t = 0; t < MT; ++t) acc[t] = _mm512_setzero_ps();
  const int64_t bb = w.block_bytes();
  const uint8_t* blk = w.block(g, 0);
  const int8_t* xq = a.q + t0 * a.K;
  const float* xd = a.d + t0 * a.nb;
  const int32_t* xc = a.corr + t0 * a.nb;
  for (int64_t b = 0; b < a.nb; ++b, blk += bb, xq += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 8 * bb), _MM_HINT_T0);
    const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    __m512i q[8];
    LoadQuants<kQ4>(blk, q);
    for (int t = 0; t < MT; ++t) {
      const int8_t* x = xq + t * a.K;
      __m512i s0 = _mm512_set1_epi32(xc[t * a.nb + b]);
      __m512i s1 = _mm512_setzero_si512();
      for (int j = 0; j < 8; j += 2) {
        s0 = _mm512_dpbusd_epi32(s0, q[j], Bcast4(x + 4 * j));
        s1 = _mm512_dpbusd_epi32(s1, q[j + 1], Bcast4(x + 4 * j + 4));
      }
      const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(xd[t * a.nb + b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s0, s1)), scale, acc[t]);
    }
  }
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc[t]);
}

constexpr int kMaxMT = 8;  // 8 accumulators + 8 quant vectors + temporaries fit the 32 registers
using TileFn = void (*)(const PackedWeight&, const QuantActs&, int64_t, int64_t, float*);

template <bool kQ4, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  return {&GroupTile<I + 1, kQ4>...};
}

template <bool kQ4>
STRATA_VNNI void Rows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  static constexpr auto kTiles = Tiles<kQ4>(std::make_integer_sequence<int, kMaxMT>());
  // Activation rows in chunks that stay in L2 while every group of this thread's share passes over them.
  const int64_t chunk = std::max<int64_t>(kMaxMT, ((int64_t{256} << 10) / std::max<int64_t>(1, a.K)) / kMaxMT * kMaxMT);
  for (int64_t c = 0; c < a.T; c += chunk) {
    const int64_t c1 = std::min(a.T, c + chunk);
    for (int64_t g = g0; g < g1; ++g)
      for (int64_t t = c; t < c1; t += kMaxMT) kTiles[std::min<int64_t>(kMaxMT, c1 - t) - 1](w, a, t, g, y);
  }
}

}  // namespace

STRATA_VNNI void QuantizeRowAvx512(const float* x, int64_t K, int32_t offset, int8_t* q, float* d,
                                   int32_t* corr) {
  for (int64_t b = 0; b < K / 32; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1)));
    const float db = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));  // round half to even (MXCSR default)
    const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b), _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b + 16), _mm512_cvtsepi32_epi8(i1));
    d[b] = db;
    corr[b] = -offset * _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
  }
}

void QuantRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  if (w.dtype() == DType::kQ4_0) Rows<true>(w, a, y, g0, g1);
  else Rows<false>(w, a, y, g0, g1);
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
