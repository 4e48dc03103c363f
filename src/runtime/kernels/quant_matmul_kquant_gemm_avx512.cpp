// Prefill (T > 1) kernels of the integer matmul for Q4_K and Q6_K weights (quant_matmul.h). Unlike Q4_0 and
// Q8_0, whose quants feed vpdpbusd almost as stored, a K-quant super-block costs shifts and masks to unpack;
// done per tile of a few activation rows (as the decode kernel does) it cost Q4_K ~20 % and Q6_K ~45 % of
// Q8_0's GEMM rate. Here each (group, super-block) is unpacked once into 4 KiB of 8-bit quants (and 1 KiB of float scales) on the stack
// (L1), and every activation row of the L2 chunk is taken against it: the unpacking is spread over ~100
// rows. Per (row, block) the operations and their order are those of the decode kernels and of
// QuantRowsScalar, so results are identical to theirs; the running sums live in y between super-blocks.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <utility>

#include "runtime/kernels/quant_matmul_internal.h"
#include "runtime/kernels/quant_matmul_vnni.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

// One (group, super-block) unpacked: q[j][u] holds, per row lane, the 8-bit quants of elements 4u..4u+3 of
// 32-group j (unsigned: Q4_K 0..15, Q6_K 0..63); sc[j] the row lanes' scales as floats (Q4_K: scale, min;
// Q6_K: the two 16-element halves' scales), converted once here rather than in every tile.
struct Unpacked {
  alignas(64) __m512i q[8][8];
  alignas(64) __m512 sc[8][2];
};

STRATA_VNNI inline __m512 U8Floats(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
STRATA_VNNI inline __m512 I8Floats(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

STRATA_VNNI void UnpackQ4K(const uint8_t* blk, Unpacked& s) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int p = 0; p < 4; ++p)
    for (int u = 0; u < 8; ++u) {
      const __m512i v = _mm512_loadu_si512(blk + kQ4K_Qs + 512 * p + 64 * u);
      s.q[2 * p][u] = _mm512_and_si512(v, low4);
      s.q[2 * p + 1][u] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
    }
  for (int j = 0; j < 8; ++j) {
    s.sc[j][0] = U8Floats(blk + kQ4K_Sc + 16 * j);
    s.sc[j][1] = U8Floats(blk + kQ4K_M + 16 * j);
  }
}

// As UnpackQ6KQuad in quant_matmul_avx512.cpp (the layout: quant_matmul_internal.h).
STRATA_VNNI void UnpackQ6K(const uint8_t* blk, Unpacked& s) {
  const __m512i low6 = _mm512_set1_epi8(0x3f), m2 = _mm512_set1_epi8(0x03), m4 = _mm512_set1_epi8(0x0f);
  for (int h = 0; h < 2; ++h)
    for (int u = 0; u < 8; ++u) {
      const __m512i b0 = _mm512_loadu_si512(blk + Q6KUnit(h, 0, u));
      const __m512i b1 = _mm512_loadu_si512(blk + Q6KUnit(h, 1, u));
      const __m512i b2 = _mm512_loadu_si512(blk + Q6KUnit(h, 2, u));
      s.q[4 * h][u] = _mm512_and_si512(b0, low6);
      s.q[4 * h + 1][u] = _mm512_and_si512(b1, low6);
      s.q[4 * h + 2][u] = _mm512_and_si512(b2, low6);
      const __m512i t = _mm512_ternarylogic_epi32(_mm512_srli_epi16(b0, 6), _mm512_srli_epi16(b1, 4), m2, 0xe4);
      s.q[4 * h + 3][u] =
          _mm512_and_si512(_mm512_ternarylogic_epi32(t, _mm512_srli_epi16(b2, 2), m4, 0xe4), low6);
    }
  for (int j = 0; j < 8; ++j) {
    s.sc[j][0] = I8Floats(blk + kQ6K_Sc + 32 * j);
    s.sc[j][1] = I8Floats(blk + kQ6K_Sc + 32 * j + 16);
  }
}

// v, which the compiler must keep in a register: GCC otherwise loads an unpacked quant vector again at each use
// (it counts a load from unchanging memory as free), one 512-bit load per multiply-add.
STRATA_VNNI inline __m512i InRegister(__m512i v) {
  asm("" : "+v"(v));
  return v;
}

// The running sums of rows t0..t0+MT-1 for group g: zero before the first super-block, else what y holds.
template <int MT>
STRATA_VNNI inline void LoadAcc(const float* y, int64_t n, int64_t t0, int64_t g, bool first, __m512 (&acc)[MT]) {
  for (int t = 0; t < MT; ++t)
    acc[t] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(y + (t0 + t) * n + g * kPackRows);
}
template <int MT>
STRATA_VNNI inline void StoreAcc(float* y, int64_t n, int64_t t0, int64_t g, const __m512 (&acc)[MT]) {
  for (int t = 0; t < MT; ++t) _mm512_storeu_ps(y + (t0 + t) * n + g * kPackRows, acc[t]);
}

// Q4_K super-block sb of NG adjacent groups (s[i], blk[i]: group g + i) against MT rows: as GroupTileQ4KRow
// (quant_matmul_avx512.cpp). With NG = 2 each activation broadcast feeds both groups' dot products (as Q8_0's
// GroupPairTile), half the broadcasts per multiply-add; per (row, group) the operations and their order do not
// change.
template <int MT, int NG>
STRATA_VNNI void TileQ4K(const Unpacked* s, const uint8_t* const* blk, const QuantActs& a, int64_t sb, int64_t t0,
                         int64_t g, int64_t n, float* y) {
  __m512 main[NG][MT], mins[NG][MT];
  for (int i = 0; i < NG; ++i)
    for (int t = 0; t < MT; ++t) main[i][t] = mins[i][t] = _mm512_setzero_ps();
  for (int j = 0; j < 8; ++j) {
    // The 6-bit scales as floats: Σ q x (|.| < 2^16) times a scale (< 64) is exact in float, as the decode
    // kernel's 32-bit multiply is, and costs one multiply instead of a two-uop vpmulld.
    __m512 sc[NG];
    __m512i q[NG][8];  // the sub-block's quants, in registers for every row
    for (int i = 0; i < NG; ++i) {
      sc[i] = s[i].sc[j][0];
      for (int u = 0; u < 8; ++u) q[i][u] = InRegister(_mm512_load_si512(&s[i].q[j][u]));
    }
    const int64_t b = 8 * sb + j;
    for (int t = 0; t < MT; ++t) {
      const int8_t* x = a.q + (t0 + t) * a.K + 32 * b;
      // two chains a (row, group), even and odd units, as GroupPairTile: int32 sums are exact in any order
      __m512i acc[NG][2];
      for (int i = 0; i < NG; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
      for (int u = 0; u < 8; ++u) {
        const __m512i xv = Bcast4(x + 4 * u);
        for (int i = 0; i < NG; ++i) acc[i][u & 1] = _mm512_dpbusd_epi32(acc[i][u & 1], q[i][u], xv);
      }
      for (int i = 0; i < NG; ++i)
        main[i][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[i][0], acc[i][1])), sc[i], main[i][t]);
    }
  }
  // the mins' term, sub-block by sub-block in the same order (a separate sum: apart from the quants' loop, it
  // leaves that loop the registers to hold them)
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    for (int i = 0; i < NG; ++i) {
      const __m512 mf = s[i].sc[j][1];
      for (int t = 0; t < MT; ++t) mins[i][t] = _mm512_fmadd_ps(mf, _mm512_set1_ps(a.ds[(t0 + t) * a.nb + b]), mins[i][t]);
    }
  }
  for (int i = 0; i < NG; ++i) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[i] + kQ4K_D)));
    const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[i] + kQ4K_Dmin)));
    __m512 out[MT];
    LoadAcc<MT>(y, n, t0, g + i, sb == 0, out);
    for (int t = 0; t < MT; ++t) {
      const __m512 ddx = _mm512_mul_ps(d, _mm512_set1_ps(a.d[(t0 + t) * a.nb + 8 * sb]));
      out[t] = _mm512_fnmadd_ps(dmin, mins[i][t], _mm512_fmadd_ps(ddx, main[i][t], out[t]));
    }
    StoreAcc<MT>(y, n, t0, g + i, out);
  }
}

// Q6_K super-block sb of NG adjacent groups against MT rows: as GroupTileQ6KRow.
template <int MT, int NG>
STRATA_VNNI void TileQ6K(const Unpacked* s, const uint8_t* const* blk, const QuantActs& a, int64_t sb, int64_t t0,
                         int64_t g, int64_t n, float* y) {
  __m512 main[NG][MT];
  for (int i = 0; i < NG; ++i)
    for (int t = 0; t < MT; ++t) main[i][t] = _mm512_setzero_ps();
  for (int j = 0; j < 8; ++j) {
    const int64_t b = 8 * sb + j;
    // Half by half: its quants in registers for every row (left to the compiler, each was loaded again per row),
    // its sums into main as soon as they are done, so a half's sums are all that is live beside main.
    for (int h = 0; h < 2; ++h) {
      __m512i q[NG][4];
      __m512 sc[NG];
      for (int i = 0; i < NG; ++i) {
        sc[i] = s[i].sc[j][h];
        for (int u = 0; u < 4; ++u) q[i][u] = InRegister(_mm512_load_si512(&s[i].q[j][4 * h + u]));
      }
      for (int t = 0; t < MT; ++t) {
        const int8_t* x = a.q + (t0 + t) * a.K + 32 * b + 16 * h;
        __m512i sum[NG];
        for (int i = 0; i < NG; ++i) sum[i] = _mm512_set1_epi32(a.corr16[(t0 + t) * 2 * a.nb + 2 * b + h]);
        for (int u = 0; u < 4; ++u) {
          const __m512i xv = Bcast4(x + 4 * u);
          for (int i = 0; i < NG; ++i) sum[i] = _mm512_dpbusd_epi32(sum[i], q[i][u], xv);
        }
        for (int i = 0; i < NG; ++i) main[i][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[i]), sc[i], main[i][t]);
      }
    }
  }
  for (int i = 0; i < NG; ++i) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[i] + kQ6K_D)));
    __m512 out[MT];
    LoadAcc<MT>(y, n, t0, g + i, sb == 0, out);
    for (int t = 0; t < MT; ++t)
      out[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(a.d[(t0 + t) * a.nb + 8 * sb])), main[i][t], out[t]);
    StoreAcc<MT>(y, n, t0, g + i, out);
  }
}

using TileFn = void (*)(const Unpacked*, const uint8_t* const*, const QuantActs&, int64_t, int64_t, int64_t, int64_t,
                        float*);
// Rows a tile takes: as many as keep the accumulators in registers. Q4_K: two float sums a row and group, two
// short-lived int32 chains; one group at 8 rows spilled them to the stack and ran 12 % slower than at 4; two
// groups (sharing each broadcast) fit 4 rows with their 16 quant vectors (3 rows ran ~10 % slower). Q6_K: one
// float sum a row and group, a half's 8 quant vectors and one short-lived chain a group: a pair of groups fits
// 8 rows (29 registers). Q6_K's pair tile in GMAC/s on an Intel Xeon (QuantMatMulBench.PrefillGemmRate, two runs):
// 3 rows 157.0-160.3, 4 rows 167.1-169.7, 6 rows 164.2, 8 rows 173.5-174.6 (Q8_0 179.7-181.9). (Before the
// sums went into main half by half, 4 rows spilled, and AMD Zen 4 ran 3 rows ~8 % faster; untested there since.)
template <bool kQ6>
inline constexpr int kMaxMT = kQ6 ? 8 : 4;

template <bool kQ6, int NG, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  if constexpr (kQ6) return {&TileQ6K<I + 1, NG>...};
  else return {&TileQ4K<I + 1, NG>...};
}

// Groups g..g+NG-1 over super-blocks sb0..sb1, each unpacked once, then taken against rows c..c1.
template <bool kQ6, int NG>
STRATA_VNNI void GroupsOverChunk(const PackedWeight& w, const QuantActs& a, float* y, int64_t g, int64_t sb0,
                                 int64_t sb1, int64_t c, int64_t c1, Unpacked* s) {
  constexpr int kMT = kMaxMT<kQ6>;
  static constexpr auto kTiles = Tiles<kQ6, NG>(std::make_integer_sequence<int, kMT>());
  for (int64_t sb = sb0; sb < sb1; ++sb) {
    const uint8_t* blk[NG];
    for (int i = 0; i < NG; ++i) {
      blk[i] = w.block(g + i, sb);
      if constexpr (kQ6) UnpackQ6K(blk[i], s[i]);
      else UnpackQ4K(blk[i], s[i]);
    }
    for (int64_t t = c; t < c1; t += kMT) kTiles[std::min<int64_t>(kMT, c1 - t) - 1](s, blk, a, sb, t, g, w.rows(), y);
  }
}

// Blocked over rows and over K: a block of up to kRows activation rows by as many super-blocks as keep its
// 8-bit activations in 256 KiB of L2 while every group passes over it. Blocking rows alone (as the Q8_0 path
// does) left a K = 8192 matmul 32 rows a block, over which each unpacked super-block was spread too thin
// (Q6_K ran that shape at 2/3 of its K = 2048 rate); partial sums wait in y between K blocks.
template <bool kQ6>
STRATA_VNNI void Gemm(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  constexpr int64_t kRows = 120;  // a multiple of both tile heights (4, 8)
  const int64_t super_blocks = a.K / 256;
  const int64_t per_block = std::max<int64_t>(1, (int64_t{256} << 10) / (kRows * 256));
  Unpacked s[2];
  for (int64_t c = 0; c < a.T; c += kRows) {
    const int64_t c1 = std::min(a.T, c + kRows);
    for (int64_t sb0 = 0; sb0 < super_blocks; sb0 += per_block) {
      const int64_t sb1 = std::min(super_blocks, sb0 + per_block);
      int64_t g = g0;
      for (; g + 1 < g1; g += 2) GroupsOverChunk<kQ6, 2>(w, a, y, g, sb0, sb1, c, c1, s);
      for (; g < g1; ++g) GroupsOverChunk<kQ6, 1>(w, a, y, g, sb0, sb1, c, c1, s);
    }
  }
}

}  // namespace

void KQuantGemmVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  if (w.dtype() != DType::kQ6_K) Gemm<false>(w, a, y, g0, g1);
  else Gemm<true>(w, a, y, g0, g1);
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
