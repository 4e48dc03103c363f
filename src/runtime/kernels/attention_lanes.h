// What the AVX-512 attention kernels share: position chunks of the paged cache in address order, the lane
// groups' online-softmax state and step. Included by attention_avx512.cpp (F32 arithmetic) and
// attention_avx512fp16.cpp (F16 arithmetic, compiled with -mavx512fp16): everything here has internal linkage,
// so neither file's copy (the second built for a CPU the first may run without) can stand in for the other's.
#pragma once
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/kernels/attention_internal.h"
#include "runtime/kernels/exp_avx512.h"

#define STRATA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace strata::kernels::internal {
namespace {

STRATA_AVX512 inline __mmask16 FirstLanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }
// Lanes [first, n).
STRATA_AVX512 inline __mmask16 Lanes(int64_t first, int64_t n) {
  return static_cast<__mmask16>(FirstLanes(n) & ~FirstLanes(first));
}

// tanh as sign(x) (1 - e) / (1 + e), e = e^(-2|x|) <= 1: absolute error a few 1e-8 (what softcap * tanh needs).
STRATA_AVX512 inline __m512 Tanh(__m512 x) {
  const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
  const __m512 a = _mm512_abs_ps(x);
  const __m512 e = Exp512(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
  return _mm512_or_ps(t, sign);
}

// dst[0..D) = a * dst (D a multiple of 16).
STRATA_AVX512 inline void Scale(float* dst, float a, int64_t D) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t d = 0; d < D; d += 16) _mm512_storeu_ps(dst + d, _mm512_mul_ps(_mm512_loadu_ps(dst + d), av));
}

// One chunk's keys and values as HeadChunk and LaneChunk read them: each a row `stride` bytes apart, stored or converted.
struct KvChunk {
  const uint8_t* k;
  int64_t k_stride;
  const uint8_t* v;
  int64_t v_stride;
};

// Grouped KV heads, query heads in 128-bit lanes: the (up to) four query heads of a lane group of one KV head
// take lanes 4h..4h+3 of every vector.
struct LaneState {  // per lane group: running max (every lane of head h's group), partial sums (summed at the end)
  alignas(64) float max[16];
  alignas(64) float sum[16];
};

// The rows of one (chunk, KV head) of the cache, which a kernel prefetches into L2 a row at a time from inside
// its arithmetic while it works on an earlier one (ForEachChunk). Why in the arithmetic: this machine's hardware
// prefetchers barely follow the cache's rows (decode attention from memory, `NPOS=262144`: 6.4 GB/s a core without
// software prefetch), and a chunk's 64 lines prefetched at once stalled the arithmetic behind them (likely: each
// holds a line fill buffer till its line arrives): 10.3 GB/s a core, 64 % of a plain read in the same run; one
// row's lines with each position read 12.1-12.2, 75-77 % (2 threads: 19.1-19.3 -> 22.6-22.8 GB/s, 61 -> 73 %).
// Into L1 instead of L2: no faster.
struct KvPrefetch {
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  int64_t stride = 0, rows = 0, bytes = 0;  // rows `stride` apart, a head's `bytes` of each

  // Inlined before GCC's interprocedural passes run: GCC 12 counts a function of prefetches alone as one without
  // side effects and, at -O2, deletes the calls to it.
  [[gnu::always_inline]] void Row(int64_t j) const {
    if (j >= rows) return;
    Lines(k + j * stride);
    Lines(v + j * stride);
  }

 private:
  [[gnu::always_inline]] void Lines(const uint8_t* p) const {
    const uintptr_t end = reinterpret_cast<uintptr_t>(p) + static_cast<uintptr_t>(bytes) - 1;
    for (uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63}; a <= end; a += 64)
      _mm_prefetch(reinterpret_cast<const char*>(a), _MM_HINT_T1);
  }
};

// How far ahead the prefetched rows are, in bytes of keys and values: a (chunk, head) of the 1B shape's F16 cache
// is 4 KiB. 4-12 KiB measured within this machine's drift (11.7-12.3 GB/s a core), 32 KiB a little less (11.4).
constexpr int64_t kPrefetchAheadBytes = 8 << 10;

// The cache's positions [lo, last] of one sequence for KV heads kvh0..kvh1, in chunks of up to 16 rows (fewer
// when blocks are shorter), position chunks outermost so the rows stream through in address order: fn(kh, off,
// j, n, pf) for each chunk and KV head, off the byte offset of the head's slice in the chunk's first row
// (position j), n rows, the chunk's first row at or after lo rounded down to 16 within its block; pf the rows of
// the (chunk, head) kPrefetchAheadBytes further on, for fn to prefetch (KvPrefetch).
template <class Fn>
STRATA_AVX512 void ForEachChunk(const int32_t* table, const PagedKvView& kv, int64_t kvh0, int64_t kvh1,
                                int64_t head_bytes, int64_t lo, int64_t last, Fn&& fn) {
  const int64_t stride = kv.row_bytes, bs = kv.block_size, nh = kvh1 - kvh0, step = std::min<int64_t>(16, bs);
  const int64_t item = 2 * step * head_bytes, ahead = std::max<int64_t>(1, (kPrefetchAheadBytes + item - 1) / item);
  const auto offset = [&](int64_t pos, int64_t kh) {
    return (static_cast<int64_t>(table[pos / bs]) * bs + pos % bs) * stride + (kvh0 + kh) * head_bytes;
  };
  // The chunk after the one at pos: 16 rows on in its block, else the next block's first (chunks start at
  // multiples of 16 within a block, so a block of 24 holds chunks of 16 and 8 rows).
  const auto next_chunk = [&](int64_t pos) { return pos % bs + 16 < bs ? pos + 16 : (pos / bs + 1) * bs; };
  for (int64_t j0 = lo / bs * bs; j0 <= last; j0 += bs) {
    const int64_t n = std::min(bs, last + 1 - j0);
    for (int64_t c = j0 < lo ? (lo - j0) / 16 * 16 : 0; c < n; c += 16)
      for (int64_t kh = 0; kh < nh; ++kh) {
        KvPrefetch pf;
        const int64_t x = kh + ahead;  // the item `ahead` on: head x % nh of the chunk x / nh on, at a
        int64_t a = j0 + c;
        for (int64_t i = 0; i < x / nh && a <= last; ++i) a = next_chunk(a);
        if (a <= last) {
          const int64_t off = offset(a, x % nh);
          pf = KvPrefetch{kv.k + off, kv.v + off, stride, std::min({int64_t{16}, last + 1 - a, bs - a % bs}), head_bytes};
        }
        fn(kh, offset(j0 + c, kh), j0 + c, std::min<int64_t>(16, n - c), pf);
      }
  }
}

// One lane group's online-softmax step over a chunk: S[g] lane 4h + p holds head h's raw q.k at position 4g + p
// (each head's four lanes of a vector four positions). Maps the scores (scale, softcap), masks positions outside
// [first, nj) and heads n.. of the group, updates st, writes the probabilities to p (p[16 (j / 4) + 4h + j % 4]
// for position j, head h) and returns the factor each head's accumulated output is rescaled by (lanes 4h..4h+3).
STRATA_AVX512 inline __m512 LaneSoftmax(__m512 (&S)[4], int64_t first, int64_t nj, int64_t n, const ScoreMap& map,
                                        LaneState& st, float* p) {
  const uint32_t heads = n >= 4 ? 0xFFFFu : (1u << (4 * n)) - 1, pos = FirstLanes(nj) & ~FirstLanes(first);
  __mmask16 valid[4];
  __m512 m = _mm512_set1_ps(-INFINITY);
  for (int g = 0; g < 4; ++g) {
    valid[g] = static_cast<__mmask16>(((pos >> (4 * g)) & 0xFu) * 0x1111u & heads);
    S[g] = _mm512_mul_ps(S[g], _mm512_set1_ps(map.pre));
    if (map.cap > 0) S[g] = _mm512_mul_ps(_mm512_set1_ps(map.cap), Tanh(S[g]));
    S[g] = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid[g], S[g]);
    m = _mm512_max_ps(m, S[g]);
  }
  m = _mm512_max_ps(m, _mm512_shuffle_ps(m, m, 0x4e));  // each head's max in all four of its lanes
  m = _mm512_max_ps(m, _mm512_shuffle_ps(m, m, 0xb1));
  const __m512 old = _mm512_load_ps(st.max), now = _mm512_max_ps(old, m), diff = _mm512_sub_ps(old, now);
  // exp(old - new), 0 while a head has seen nothing (-inf - -inf)
  const __m512 rescale = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(diff, diff, _CMP_ORD_Q), _mm512_setzero_ps(), Exp512(diff));
  __m512 sum = _mm512_mul_ps(_mm512_load_ps(st.sum), rescale);
  for (int g = 0; g < 4; ++g) {
    const __m512 pg = _mm512_maskz_mov_ps(valid[g], Exp512(_mm512_sub_ps(S[g], now)));
    sum = _mm512_add_ps(sum, pg);
    _mm512_store_ps(p + 16 * g, pg);
  }
  _mm512_store_ps(st.max, now);
  _mm512_store_ps(st.sum, sum);
  return rescale;
}

// The lane groups of KV heads kvh0..kvh1 with G query heads each: ceil(G / 4) groups a KV head (in order), group g
// holding heads(g) query heads from head0(g) on.
struct LaneGroups {
  int64_t G, per_kv, count, h0;
  LaneGroups(int64_t g, int64_t kvh0, int64_t kvh1) : G(g), per_kv((g + 3) / 4), count((kvh1 - kvh0) * per_kv), h0(kvh0 * g) {}
  int64_t heads(int64_t g) const { return std::min<int64_t>(4, G - g % per_kv * 4); }
  int64_t head0(int64_t g) const { return h0 + g / per_kv * G + g % per_kv * 4; }
};

// Row r's positions [*first, *nj) of the chunk of `rows` rows from position j: cut to the row's window (row r at
// position pos0 + r) and to the part; false when none are left.
inline bool RowSpan(int64_t r, int64_t j, int64_t rows, int64_t pos0, int64_t window, const PositionPart& part,
                    int64_t* first, int64_t* nj) {
  *nj = std::min<int64_t>(rows, pos0 + r + 1 - j);
  *first = std::max<int64_t>(0, std::max(WindowStart(pos0 + r, window), part.begin) - j);
  return *first < *nj;
}

// The end of a lane-group pass (states of row r's group g at r count + g): each head's output divided by its
// softmax sum, or for a part of the positions, its max and sum handed to part.
STRATA_AVX512 inline void FinishLaneGroups(const LaneGroups& lg, const LaneState* states, int64_t R, int64_t D,
                                           float* out, int64_t ldq, const PositionPart& part) {
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < lg.count; ++g)
      for (int64_t h = 0; h < lg.heads(g); ++h) {
        const LaneState& st = states[r * lg.count + g];
        const float sum = (st.sum[4 * h] + st.sum[4 * h + 1]) + (st.sum[4 * h + 2] + st.sum[4 * h + 3]);
        const int64_t head = lg.head0(g) + h;
        if (part.max != nullptr) {
          part.max[head] = st.max[4 * h], part.sum[head] = sum;
          continue;
        }
        Scale(out + r * ldq + head * D, 1.0f / sum, D);
      }
}

}  // namespace
}  // namespace strata::kernels::internal

#endif  // __x86_64__
