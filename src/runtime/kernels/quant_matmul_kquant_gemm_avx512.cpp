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
#include <cstdlib>
#include <cstring>
#include <utility>

#include "runtime/kernels/cpu_features.h"
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
      const __m512 dx = _mm512_set1_ps(a.d[(t0 + t) * a.nb + b]);
      for (int i = 0; i < NG; ++i)
        main[i][t] = _mm512_fmadd_ps(
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc[i][0], acc[i][1])), sc[i]), dx, main[i][t]);
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
    for (int t = 0; t < MT; ++t) out[t] = _mm512_fnmadd_ps(dmin, mins[i][t], _mm512_fmadd_ps(d, main[i][t], out[t]));
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
    __m512 sc0[NG], sc1[NG];
    for (int i = 0; i < NG; ++i) {
      sc0[i] = s[i].sc[j][0];
      sc1[i] = s[i].sc[j][1];
    }
    const int64_t b = 8 * sb + j;
    // Each half's quants in registers for every row, one half after the other (left to the compiler, each was
    // loaded again per row; both halves at once leave too few registers).
    __m512i sum[2][NG][MT];
    for (int h = 0; h < 2; ++h) {
      __m512i q[NG][4];
      for (int i = 0; i < NG; ++i)
        for (int u = 0; u < 4; ++u) q[i][u] = InRegister(_mm512_load_si512(&s[i].q[j][4 * h + u]));
      for (int t = 0; t < MT; ++t) {
        const int8_t* x = a.q + (t0 + t) * a.K + 32 * b + 16 * h;
        for (int i = 0; i < NG; ++i) sum[h][i][t] = _mm512_set1_epi32(a.corr16[(t0 + t) * 2 * a.nb + 2 * b + h]);
        for (int u = 0; u < 4; ++u) {
          const __m512i xv = Bcast4(x + 4 * u);
          for (int i = 0; i < NG; ++i) sum[h][i][t] = _mm512_dpbusd_epi32(sum[h][i][t], q[i][u], xv);
        }
      }
    }
    for (int t = 0; t < MT; ++t) {
      const __m512 dx = _mm512_set1_ps(a.d[(t0 + t) * a.nb + b]);
      for (int i = 0; i < NG; ++i) {
        const __m512 f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[1][i][t]), sc1[i],
                                         _mm512_mul_ps(_mm512_cvtepi32_ps(sum[0][i][t]), sc0[i]));
        main[i][t] = _mm512_fmadd_ps(f, dx, main[i][t]);
      }
    }
  }
  for (int i = 0; i < NG; ++i) {
    const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[i] + kQ6K_D)));
    __m512 out[MT];
    LoadAcc<MT>(y, n, t0, g + i, sb == 0, out);
    for (int t = 0; t < MT; ++t) out[t] = _mm512_fmadd_ps(d, main[i][t], out[t]);
    StoreAcc<MT>(y, n, t0, g + i, out);
  }
}

using TileFn = void (*)(const Unpacked*, const uint8_t* const*, const QuantActs&, int64_t, int64_t, int64_t, int64_t,
                        float*);
// Rows a tile takes: as many as keep the accumulators in registers (Q4_K: two float sums a row and group, two
// short-lived int32 chains; Q6_K: two chains and one sum). One group: at 8 rows Q4_K spilled them to the stack
// and ran 12 % slower than at 4. Two groups share each broadcast: Q4_K's 16 quant vectors, 8 sums and 4 chains
// fit 4 rows (3 rows ran ~10 % slower). Q6_K's pair tile is kQ6PairRows: at 4 rows it spills a few registers,
// which cost AMD Zen 4 ~8 % against 3 rows and gains an Intel Xeon 4-5 % (147.5-150.9 -> 155.5-156.5 GMAC/s,
// QuantMatMulBench.PrefillGemmRate), so the CPU picks (Gemm).
template <bool kQ6, int NG, int kQ6PairRows>
inline constexpr int kMaxMT = NG == 2 ? (kQ6 ? kQ6PairRows : 4) : kQ6 ? 6 : 4;

template <bool kQ6, int NG, int... I>
constexpr std::array<TileFn, sizeof...(I)> Tiles(std::integer_sequence<int, I...>) {
  if constexpr (kQ6) return {&TileQ6K<I + 1, NG>...};
  else return {&TileQ4K<I + 1, NG>...};
}

// Groups g..g+NG-1 over super-blocks sb0..sb1, each unpacked once, then taken against rows c..c1.
template <bool kQ6, int NG, int kQ6PairRows>
STRATA_VNNI void GroupsOverChunk(const PackedWeight& w, const QuantActs& a, float* y, int64_t g, int64_t sb0,
                                 int64_t sb1, int64_t c, int64_t c1, Unpacked* s) {
  constexpr int kMT = kMaxMT<kQ6, NG, kQ6PairRows>;
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
template <bool kQ6, int kQ6PairRows>
STRATA_VNNI void Gemm(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  constexpr int64_t kRows = 120;  // a multiple of every tile height (2, 3, 4, 6)
  const int64_t super_blocks = a.K / 256;
  const int64_t per_block = std::max<int64_t>(1, (int64_t{256} << 10) / (kRows * 256));
  Unpacked s[2];
  for (int64_t c = 0; c < a.T; c += kRows) {
    const int64_t c1 = std::min(a.T, c + kRows);
    for (int64_t sb0 = 0; sb0 < super_blocks; sb0 += per_block) {
      const int64_t sb1 = std::min(super_blocks, sb0 + per_block);
      int64_t g = g0;
      for (; g + 1 < g1; g += 2) GroupsOverChunk<kQ6, 2, kQ6PairRows>(w, a, y, g, sb0, sb1, c, c1, s);
      for (; g < g1; ++g) GroupsOverChunk<kQ6, 1, kQ6PairRows>(w, a, y, g, sb0, sb1, c, c1, s);
    }
  }
}

// Q6_K's pair tile height for this CPU (kMaxMT); STRATA_Q6K_PAIR_ROWS=3|4 forces one, so the tests take both
// on any machine. Read per call: a matmul call is far longer than getenv.
int Q6PairRows() {
  static const int cpu = CpuIsIntel() ? 4 : 3;
  const char* env = std::getenv("STRATA_Q6K_PAIR_ROWS");
  if (env != nullptr && (std::strcmp(env, "3") == 0 || std::strcmp(env, "4") == 0)) return env[0] - '0';
  return cpu;
}

}  // namespace

void KQuantGemmVnni(const PackedWeight& w, const QuantActs& a, float* y, int64_t g0, int64_t g1) {
  if (w.dtype() != DType::kQ6_K) Gemm<false, 3>(w, a, y, g0, g1);
  else if (Q6PairRows() == 4) Gemm<true, 4>(w, a, y, g0, g1);
  else Gemm<true, 3>(w, a, y, g0, g1);
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
