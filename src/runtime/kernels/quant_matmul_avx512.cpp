// AVX-512 VNNI kernels of the integer matmul (quant_matmul.h): activation quantization and the 16-row group
// kernels (Q8_0/Q4_0, Q4_K, Q6_K). Compiled with target attributes only; called only when HasVnni().
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "runtime/kernels/cpu_features.h"
#include "runtime/kernels/quant_matmul_internal.h"
#include "runtime/kernels/quant_matmul_q4_1_q5.h"
#include "runtime/kernels/quant_matmul_vnni.h"
#include "runtime/kernels/quant_matmul_q2_q3_q5.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

// The GEMV kernels read their packed blocks in address order and prefetch one line two blocks ahead: the
// hardware prefetchers stream the rest. (Requesting every line of the next block 4 KiB ahead was faster on
// Intel while Q6_K's planes lay 512 bytes apart; with them unit by unit it is slower on AMD Zen 4: 25 vs 19 GB/s,
// one thread, bench/micro QuantMatMulBench.GemvStreamingBandwidth. On an Intel Xeon, unit by unit, Q6_K still
// wants every line of the next block: 10.1-10.7 -> 11.9-12.0 GB/s, one thread, same benchmark; Q4_K does not:
// 13.0 -> 11.4.)

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

// Two groups (32 weight rows) against MT <= 4 activation rows: each activation broadcast feeds both groups'
// dot products, half the broadcasts per multiply-add of GroupTile. Per (row, block) the same operations in the
// same order as GroupTile, so the results are identical.
template <int MT, bool kQ4>
STRATA_VNNI void GroupPairTile(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc0[MT], acc1[MT];
  for (int t = 0; t < MT; ++t) acc0[t] = acc1[t] = _mm512_setzero_ps();
  const int64_t bb = w.block_bytes();
  const uint8_t* blk0 = w.block(g, 0);
  const uint8_t* blk1 = w.block(g + 1, 0);
  const int8_t* xq = a.q + t0 * a.K;
  const float* xd = a.d + t0 * a.nb;
  const int32_t* xc = a.corr + t0 * a.nb;
  for (int64_t b = 0; b < a.nb; ++b, blk0 += bb, blk1 += bb, xq += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(blk0 + 8 * bb), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(blk1 + 8 * bb), _MM_HINT_T0);
    const __m512 dw0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk0)));
    const __m512 dw1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk1)));
    __m512i q0[8], q1[8];
    LoadQuants<kQ4>(blk0, q0);
    LoadQuants<kQ4>(blk1, q1);
    for (int t = 0; t < MT; ++t) {
      const int8_t* x = xq + t * a.K;
      const __m512i c = _mm512_set1_epi32(xc[t * a.nb + b]);
      __m512i s00 = c, s01 = _mm512_setzero_si512(), s10 = c, s11 = _mm512_setzero_si512();
      for (int j = 0; j < 8; j += 2) {
        const __m512i e = Bcast4(x + 4 * j), o = Bcast4(x + 4 * j + 4);
        s00 = _mm512_dpbusd_epi32(s00, q0[j], e);
        s01 = _mm512_dpbusd_epi32(s01, q0[j + 1], o);
        s10 = _mm512_dpbusd_epi32(s10, q1[j], e);
        s11 = _mm512_dpbusd_epi32(s11, q1[j + 1], o);
      }
      const __m512 dx = _mm512_set1_ps(xd[t * a.nb + b]);
      acc0[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s00, s01)), _mm512_mul_ps(dw0, dx), acc0[t]);
      acc1[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(s10, s11)), _mm512_mul_ps(dw1, dx), acc1[t]);
    }
  }
  for (int t = 0; t < MT; ++t) {
    _mm512_storeu_ps(y + (t0 + t) * w.rows() + g * kPackRows, acc0[t]);
    _mm512_storeu_ps(y + (t0 + t) * w.rows() + (g + 1) * kPackRows, acc1[t]);
  }
}

// Sub-block j's int32 dot products (16 rows) times the rows' u8 scales, in float (the product is exact: both
// are integers and it stays below 2^24), added to main; the mins' term (u8 mins times d_x Σ q_x) into mins. d_x
// is the super-block's (ActivationSpan), applied with d.
STRATA_VNNI inline void Q4KSubBlock(const uint8_t* blk, int j, __m512i dot, float dsx, __m512& main, __m512& mins) {
  const __m512 sc = _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4K_Sc + 16 * j))));
  const __m512 mf = _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ4K_M + 16 * j))));
  main = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), sc, main);
  mins = _mm512_fmadd_ps(mf, _mm512_set1_ps(dsx), mins);
}

// Q4_K against one activation row (decode; T > 1 takes KQuantGemmVnni): each unit of a sub-block pair is
// loaded once and its low and high nibbles feed sub-blocks 2p and 2p + 1 (loading it once per sub-block bounded
// a core that splits 512-bit loads in two halves); then per sub-block, in order, Q4KSubBlock; d and dmin once
// per super-block. The same operations in the same order as QuantRowsScalar's Q4_K path.
STRATA_VNNI void GroupTileQ4KRow(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  __m512 acc = _mm512_setzero_ps();
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const uint8_t* blk = w.block(g, 0);
  const int8_t* xrow = a.q + t0 * a.K;
  const float* xd = a.d + t0 * a.nb;
  const float* xds = a.ds + t0 * a.nb;
  for (int64_t sb = 0; sb < a.K / 256; ++sb, blk += kQ4K_BlockBytes) {
    _mm_prefetch(reinterpret_cast<const char*>(blk + 2 * kQ4K_BlockBytes), _MM_HINT_T0);
    __m512 main = _mm512_setzero_ps(), mins = _mm512_setzero_ps();
    for (int p = 0; p < 4; ++p) {
      const uint8_t* qp = blk + kQ4K_Qs + 512 * p;
      const int8_t* x = xrow + 256 * sb + 64 * p;
      __m512i lo0 = _mm512_setzero_si512(), lo1 = lo0, hi0 = lo0, hi1 = lo0;
      for (int u = 0; u < 8; u += 2) {
        const __m512i v0 = _mm512_loadu_si512(qp + 64 * u), v1 = _mm512_loadu_si512(qp + 64 * u + 64);
        lo0 = _mm512_dpbusd_epi32(lo0, _mm512_and_si512(v0, low4), Bcast4(x + 4 * u));
        lo1 = _mm512_dpbusd_epi32(lo1, _mm512_and_si512(v1, low4), Bcast4(x + 4 * u + 4));
        hi0 = _mm512_dpbusd_epi32(hi0, _mm512_and_si512(_mm512_srli_epi16(v0, 4), low4), Bcast4(x + 32 + 4 * u));
        hi1 = _mm512_dpbusd_epi32(hi1, _mm512_and_si512(_mm512_srli_epi16(v1, 4), low4), Bcast4(x + 36 + 4 * u));
      }
      const int64_t b = 8 * sb + 2 * p;
      Q4KSubBlock(blk, 2 * p, _mm512_add_epi32(lo0, lo1), xds[b], main, mins);
      Q4KSubBlock(blk, 2 * p + 1, _mm512_add_epi32(hi0, hi1), xds[b + 1], main, mins);
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4K_D)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ4K_Dmin)));
    acc = _mm512_fnmadd_ps(dmin, mins, _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(xd[8 * sb])), main, acc));
  }
  _mm512_storeu_ps(y + t0 * w.rows() + g * kPackRows, acc);
}

// The four quant vectors of unit u of Q6_K quad h (groups 4h..4h + 3): three masked bytes and the fourth
// group's quant gathered from the planes' top bits (quant_matmul_internal.h).
STRATA_VNNI inline void UnpackQ6KQuad(const uint8_t* blk, int h, int u, __m512i (&q)[4]) {
  const __m512i b0 = _mm512_loadu_si512(blk + Q6KUnit(h, 0, u));
  const __m512i b1 = _mm512_loadu_si512(blk + Q6KUnit(h, 1, u));
  const __m512i b2 = _mm512_loadu_si512(blk + Q6KUnit(h, 2, u));
  const __m512i low6 = _mm512_set1_epi8(0x3f);
  q[0] = _mm512_and_si512(b0, low6);
  q[1] = _mm512_and_si512(b1, low6);
  q[2] = _mm512_and_si512(b2, low6);
  // 16-bit shifts bring each byte's bits 6..7 to 0..1, 2..3 and 4..5 (the bits above are the next byte's, and
  // are dropped by the selects and the final mask); 0xe4 is C ? A : B.
  const __m512i s0 = _mm512_srli_epi16(b0, 6), s1 = _mm512_srli_epi16(b1, 4), s2 = _mm512_srli_epi16(b2, 2);
  const __m512i t = _mm512_ternarylogic_epi32(s0, s1, _mm512_set1_epi8(0x03), 0xe4);
  q[3] = _mm512_and_si512(_mm512_ternarylogic_epi32(t, s2, _mm512_set1_epi8(0x0f), 0xe4), low6);
}

// Sub-block scales of 32-group j for the 16 rows: the first and second 16 values' int8 scales.
STRATA_VNNI inline void Q6KScales(const uint8_t* blk, int j, __m512& sc0, __m512& sc1) {
  sc0 = _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6K_Sc + 32 * j))));
  sc1 = _mm512_cvtepi32_ps(
      _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kQ6K_Sc + 32 * j + 16))));
}

// A group's two half sums times their scales, added to main (in float: both products are exact below 2^24, and
// a float multiply-add is cheaper than a 32-bit integer multiply). d_x is the super-block's, applied with d.
STRATA_VNNI inline __m512 Q6KGroup(__m512i lo, __m512i hi, __m512 sc0, __m512 sc1, __m512 main) {
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), sc1, _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), sc0, main));
}

// Q6_K against one activation row (decode): per quad, the 8 units unpacked once feed the four groups' halves
// (eight int32 chains, each starting from its -32 Σ q_x correction); then per group, in order, both halves
// to float times their int8 scales, summed; d d_x (one activation scale a super-block) applied once per
// super-block. As QuantRowsScalar's Q6_K path.
STRATA_VNNI void GroupTileQ6KRow(const PackedWeight& w, const QuantActs& a, int64_t t0, int64_t g, float* y) {
  static const bool whole_block = CpuIsIntel();
  __m512 acc = _mm512_setzero_ps();
  const uint8_t* blk = w.block(g, 0);
  const int8_t* xrow = a.q + t0 * a.K;
  const int32_t* crow = a.corr16 + t0 * 2 * a.nb;
  for (int64_t sb = 0; sb < a.K / 256; ++sb, blk += kQ6K_BlockBytes) {
    if (whole_block) {
      for (int64_t b = 0; b < kQ6K_BlockBytes; b += 64)
        _mm_prefetch(reinterpret_cast<const char*>(blk + kQ6K_BlockBytes + b), _MM_HINT_T0);
    } else {
      _mm_prefetch(reinterpret_cast<const char*>(blk + 2 * kQ6K_BlockBytes), _MM_HINT_T0);
    }
    __m512 main = _mm512_setzero_ps();
    for (int h = 0; h < 2; ++h) {
      const int64_t b0 = 8 * sb + 4 * h;  // activation block of group a
      __m512i lo[4], hi[4];
      for (int k = 0; k < 4; ++k) {
        lo[k] = _mm512_set1_epi32(crow[2 * (b0 + k)]);
        hi[k] = _mm512_set1_epi32(crow[2 * (b0 + k) + 1]);
      }
      const int8_t* x = xrow + 32 * b0;
      for (int u = 0; u < 4; ++u) {
        __m512i q[4];
        UnpackQ6KQuad(blk, h, u, q);
        for (int k = 0; k < 4; ++k) lo[k] = _mm512_dpbusd_epi32(lo[k], q[k], Bcast4(x + 32 * k + 4 * u));
      }
      for (int u = 4; u < 8; ++u) {
        __m512i q[4];
        UnpackQ6KQuad(blk, h, u, q);
        for (int k = 0; k < 4; ++k) hi[k] = _mm512_dpbusd_epi32(hi[k], q[k], Bcast4(x + 32 * k + 4 * u));
      }
      for (int k = 0; k < 4; ++k) {
        __m512 sc0, sc1;
        Q6KScales(blk, 4 * h + k, sc0, sc1);
        main = Q6KGroup(lo[k], hi[k], sc0, sc1, main);
      }
    }
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQ6K_D)));
    acc = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(a.d[t0 * a.nb + 8 * sb])), main, acc);
  }
  _mm512_storeu_ps(y + t0 * w.rows() + g * kPackRows, acc);
}

using TileFn = void (*)(const PackedWeight&, const QuantActs&, int64_t, int64_t, float*);
constexpr int kPairMT = 4;  // GroupPairTile: 16 quant vectors + 8 accumulators + temporaries

// Tiles[i]: i + 1 activation rows. Q8_0/Q4_0 take up to 8 (8 accumulators + 8 quant vectors + temporaries
// fit the 32 registers); Q4_K and Q6_K come here for decode only (one row).
template <bool kQ4, int... I>
constexpr std::array<TileFn, sizeof...(I)> PairTiles(std::integer_sequence<int, I...>) {
  return {&GroupPairTile<I + 1, kQ4>...};
}

template <int kKind, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  if constexpr (kKind == 2) return {&GroupTileQ4KRow};
  else if constexpr (kKind == 3) return {&GroupTileQ6KRow};
  else return {&GroupTile<I + 1, kKind == 1>...};
}

// kKind: 0 Q8_0, 1 Q4_0, 2 Q4_K, 3 Q6_K.
template <int kKind>
STRATA_VNNI void Rows(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  constexpr int kMaxMT = kKind >= 2 ? 1 : 8;
  static constexpr auto kTiles = Tiles<kKind>(std::make_integer_sequence<int, kMaxMT>());
  const int64_t chunk = L2RowChunk(a.K, kMaxMT);
  for (int64_t c = 0; c < a.T; c += chunk) {
    const int64_t c1 = std::min(a.T, c + chunk);
    int64_t g = g0;
    if constexpr (kKind < 2) {
      static constexpr auto kPairs = PairTiles<kKind == 1>(std::make_integer_sequence<int, kPairMT>());
      if (a.T > 1)  // a GEMV gains nothing from sharing broadcasts
        for (; g + 1 < g1; g += 2)
          for (int64_t t = c; t < c1; t += kPairMT) kPairs[std::min<int64_t>(kPairMT, c1 - t) - 1](w, a, t, g, y);
    }
    for (; g < g1; ++g)
      for (int64_t t = c; t < c1; t += kMaxMT) kTiles[std::min<int64_t>(kMaxMT, c1 - t) - 1](w, a, t, g, y);
  }
}

}  // namespace

STRATA_VNNI void QuantizeRowAvx512(const float* x, int64_t K, int32_t offset, int8_t* q, float* d,
                                   int32_t* corr, float* ds, int32_t* corr16, int64_t span) {
  float amax = 0;
  for (int64_t b = 0; b < K / 32; ++b) {
    const __m512 v0 = _mm512_loadu_ps(x + 32 * b), v1 = _mm512_loadu_ps(x + 32 * b + 16);
    if (b % (span / 32) == 0) {  // a new span: its amax (a max, exact in any order)
      __m512 m = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
      for (int64_t i = 32; i < span; i += 16) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(x + 32 * b + i)));
      amax = _mm512_reduce_max_ps(m);
    }
    const float db = amax / 127.0f;
    const __m512 id = _mm512_set1_ps(db != 0.0f ? 1.0f / db : 0.0f);
    const __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, id));  // round half to even (MXCSR default)
    const __m512i i1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, id));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b), _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 32 * b + 16), _mm512_cvtsepi32_epi8(i1));
    const int32_t s0 = _mm512_reduce_add_epi32(i0), s1 = _mm512_reduce_add_epi32(i1), sum = s0 + s1;
    corr16[2 * b] = -32 * s0;
    corr16[2 * b + 1] = -32 * s1;
    d[b] = db;
    corr[b] = -offset * sum;
    ds[b] = db * static_cast<float>(sum);
  }
}

void QuantRowsVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  switch (w.dtype()) {
    case DType::kQ4_0: return Rows<1>(w, a, y, g0, g1);
    case DType::kQ4_K: return a.T > 1 ? KQuantGemmVnni(w, a, y, g0, g1) : Rows<2>(w, a, y, g0, g1);
    case DType::kQ6_K: return a.T > 1 ? KQuantGemmVnni(w, a, y, g0, g1) : Rows<3>(w, a, y, g0, g1);
    case DType::kQ4_1: case DType::kQ5_0: case DType::kQ5_1: return QuantRowsVnniQ4_1Q5(w, a, y, g0, g1);
    case DType::kQ2_K: case DType::kQ3_K: case DType::kQ5_K: return Q2Q3Q5KRowsVnni(w, a, y, g0, g1);
    default: return Rows<0>(w, a, y, g0, g1);
  }
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
