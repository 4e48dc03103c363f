// AVX-512 fused attention: one query row's heads over the cache 16 positions at a time (scores reduced by a
// transposing add tree, a vectorised exp, the head's output held in registers), position chunks outermost so
// the cache streams in address order.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "runtime/kernels/attention_lanes.h"
#include "runtime/kernels/cpu_features.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

// How 16 consecutive values of a head's stored row become floats: F32 as is, F16 through F16C, Q8_0 a half block
// (16 int8 scaled by the block's F16 scale; a head starts on a block).
struct KvF32 {
  STRATA_AVX512 static __m512 Load16(const uint8_t* row, int d) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + 16 * d);
  }
};
struct KvF16 {
  STRATA_AVX512 static __m512 Load16(const uint8_t* row, int d) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 32 * d)));
  }
};
struct KvQ8_0 {
  STRATA_AVX512 static __m512 Load16(const uint8_t* row, int d) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(row) + d / 2;
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs + 16 * (d % 2)))));
    return _mm512_mul_ps(q, _mm512_set1_ps(_cvtsh_ss(b->d)));
  }
};

struct HeadState {
  float max = -INFINITY, sum = 0;
};

// Lane j = the horizontal sum of a[j], for 16 vectors: four levels of pairwise shuffles and adds (half the
// vectors each level), then one permutation, instead of 16 separate reductions.
STRATA_AVX512 inline __m512 Transpose16Sums(__m512 (&a)[16]) {
  __m512 b[8], c[4], d[2];
  for (int i = 0; i < 8; ++i)  // 256-bit halves: b[i] = partials of a[2i] (lanes 0-7), a[2i+1] (8-15)
    b[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0x44), _mm512_shuffle_f32x4(a[2 * i], a[2 * i + 1], 0xee));
  for (int i = 0; i < 4; ++i)  // 128-bit lane l of c[i]: partials of a[4i + l]
    c[i] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0x88), _mm512_shuffle_f32x4(b[2 * i], b[2 * i + 1], 0xdd));
  for (int i = 0; i < 2; ++i)  // lane l: floats 0-1 partials of a[8i + l], 2-3 of a[8i + 4 + l]
    d[i] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * i], c[2 * i + 1], 0x44), _mm512_shuffle_ps(c[2 * i], c[2 * i + 1], 0xee));
  // float m of 128-bit lane l: the sum of a[4m + l]
  const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xdd));
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_ps(idx, e);
}

// Scores of up to 16 consecutive positions (rows k, k + stride, ...) for one head, mapped (scale, softcap);
// lanes outside [first, nj) are -inf and their keys are not read. pf's rows are prefetched, one with each position.
template <int DV, class KT>
STRATA_AVX512 inline __m512 Scores(const float* q, const uint8_t* k, int64_t stride, int64_t first, int64_t nj,
                                   const KvPrefetch& pf, const ScoreMap& map) {
  __m512 qv[DV], acc[16];
  for (int d = 0; d < DV; ++d) qv[d] = _mm512_loadu_ps(q + 16 * d);
  for (int j = 0; j < 16; ++j) {
    pf.Row(j);
    if (j < first || j >= nj) {
      acc[j] = _mm512_setzero_ps();
      continue;
    }
    const uint8_t* kj = k + j * stride;
    acc[j] = _mm512_mul_ps(qv[0], KT::Load16(kj, 0));
    for (int d = 1; d < DV; ++d) acc[j] = _mm512_fmadd_ps(qv[d], KT::Load16(kj, d), acc[j]);
  }
  __m512 s = _mm512_mul_ps(Transpose16Sums(acc), _mm512_set1_ps(map.pre));
  if (map.cap > 0) s = _mm512_mul_ps(_mm512_set1_ps(map.cap), Tanh(s));
  return _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), Lanes(first, nj), s);
}

// One query head over positions [first, nj) of one chunk (a model with one query head a KV head; grouped heads
// take LaneChunk): online-softmax update, then out += Σ_j p_j v_j. The rescale is branch-free: exp(0) = 1 when
// the max holds, 0 on the head's first chunk (old max -inf).
template <int DV, class KT, class VT>
STRATA_AVX512 void HeadChunk(const float* q, const KvChunk& kv, const KvPrefetch& pf, int64_t first, int64_t nj,
                             const ScoreMap& map, HeadState& st, float* out) {
  const __m512 s = Scores<DV, KT>(q, kv.k, kv.k_stride, first, nj, pf, map);
  const float new_max = std::max(st.max, _mm512_reduce_max_ps(s));
  const __m512 diff = _mm512_sub_ps(_mm512_set1_ps(st.max), _mm512_set1_ps(new_max));
  const __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(diff, diff, _CMP_ORD_Q), _mm512_setzero_ps(), Exp512(diff));
  alignas(64) float p[16];
  const __m512 pv = _mm512_maskz_mov_ps(Lanes(first, nj), Exp512(_mm512_sub_ps(s, _mm512_set1_ps(new_max))));
  st.sum = st.sum * _mm512_cvtss_f32(r) + _mm512_reduce_add_ps(pv);
  st.max = new_max;
  _mm512_store_ps(p, pv);
  __m512 o[DV];
  for (int d = 0; d < DV; ++d) o[d] = _mm512_mul_ps(_mm512_loadu_ps(out + 16 * d), r);
  for (int64_t j = first; j < nj; ++j) {
    const __m512 pj = _mm512_set1_ps(p[j]);
    for (int d = 0; d < DV; ++d) o[d] = _mm512_fmadd_ps(pj, VT::Load16(kv.v + j * kv.v_stride, d), o[d]);
  }
  for (int d = 0; d < DV; ++d) _mm512_storeu_ps(out + 16 * d, o[d]);
}

// Rows 0..rows-1 of one KV head's keys or values (a row `stride` bytes apart) as floats, D = 16 DV a row.
template <int DV, class KT>
STRATA_AVX512 inline void ConvertRows(const uint8_t* src, int64_t stride, int64_t rows, float* dst) {
  for (int64_t j = 0; j < rows; ++j)
    for (int d = 0; d < DV; ++d) _mm512_store_ps(dst + 16 * (DV * j + d), KT::Load16(src + j * stride, d));
}

// Query heads LaneValues takes side by side: as many as keep their outputs in 16 registers, at most 4.
template <int DV>
inline constexpr int64_t kHeadsFor = DV >= 16 ? 1 : std::min(4, 16 / DV);

// Query rows r < R (row r at q + r ldq, position pos0 + r) over the cache for KV heads kvh0..kvh1, one query
// head each (with more, AttendLanes): chunk by chunk (ForEachChunk); within a chunk, head by head, every row of
// the tile takes the head's 16 keys and values while they are in L1. With a window, blocks and chunks before
// the first row's window are skipped.
template <int DV, class KT>
STRATA_AVX512 void AttendRows(const float* q, int64_t ldq, int64_t R, int64_t pos0, const int32_t* table,
                              const PagedKvView& kv, int64_t kvh0, int64_t kvh1, const ScoreMap& map, int64_t window,
                              float* out, const PositionPart& part) {
  constexpr int64_t D = 16 * DV;
  HeadState st[kMaxTileRows][kMaxRowHeads];
  alignas(64) float ks[16 * D], vs[16 * D];  // one KV head's chunk as floats (read by every row of the tile)
  const int64_t h0 = kvh0, nh = kvh1 - kvh0, last = std::min(pos0 + R - 1, part.end - 1),
                lo = std::max(WindowStart(pos0, window), part.begin);
  const int64_t stride = kv.row_bytes, head_bytes = RowBytes(kv.dtype, D);
  for (int64_t r = 0; r < R; ++r) std::fill(out + r * ldq + h0 * D, out + r * ldq + (h0 + nh) * D, 0.0f);
  ForEachChunk(table, kv, kvh0, kvh1, head_bytes, lo, last, [&](int64_t kh, int64_t off, int64_t j, int64_t rows,
                                                                 KvPrefetch pf) STRATA_AVX512 {
    // Stored (F16 / Q8_0) keys and values are converted once for the R rows that read them, not once per row
    // (prefill attention 82 -> 130 GFLOP/s on the 1B shape, bench kernels line); a single row converts them as
    // it loads them.
    KvChunk chunk{kv.k + off, stride, kv.v + off, stride};
    bool converted = false;
    if constexpr (!std::is_same_v<KT, KvF32>) {
      if (R > 1) {
        const int64_t f32_stride = D * static_cast<int64_t>(sizeof(float));
        ConvertRows<DV, KT>(chunk.k, stride, rows, ks);
        ConvertRows<DV, KT>(chunk.v, stride, rows, vs);
        chunk = KvChunk{reinterpret_cast<const uint8_t*>(ks), f32_stride, reinterpret_cast<const uint8_t*>(vs),
                        f32_stride};
        converted = true;
      }
    }
    for (int64_t r = 0; r < R; ++r) {
      // the chunk's positions, cut to row r's window WindowStart(pos0 + r) .. pos0 + r
      const int64_t nj = std::min<int64_t>(rows, pos0 + r + 1 - j);
      const int64_t first = std::max<int64_t>(0, WindowStart(pos0 + r, window) - j);
      if (nj <= first) continue;
      const float* qr = q + r * ldq + (h0 + kh) * D;
      float* outr = out + r * ldq + (h0 + kh) * D;
      if (converted) HeadChunk<DV, KvF32, KvF32>(qr, chunk, pf, first, nj, map, st[r][kh], outr);
      else HeadChunk<DV, KT, KT>(qr, chunk, pf, first, nj, map, st[r][kh], outr);
      pf.rows = 0;  // prefetched once, by the first row
    }
  });
  if (part.max != nullptr) {
    for (int64_t i = 0; i < nh; ++i) part.max[h0 + i] = st[0][i].max, part.sum[h0 + i] = st[0][i].sum;
    return;
  }
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < nh; ++i) Scale(out + r * ldq + (h0 + i) * D, 1.0f / st[r][i].sum, D);
}

// Grouped KV heads, query heads in 128-bit lanes (LaneState): one 16-lane FMA advances four heads' dot products
// with the same key and a score needs only a 4-lane reduction (6 shuffles and 3 adds per 16 scores, was 30 and
// 15 with one head's 16 lanes summed), and the softmax of the four heads runs in the same vectors.
// qmix vector v (of D / 4), lane 4h + t: q_h[4v + t], for the n <= 4 heads of a group (other lanes 0).
template <int DV>
STRATA_AVX512 inline void LaneQuery(const float* const* q, int64_t n, float* qmix) {
  for (int v = 0; v < 4 * DV; ++v) {
    __m512 x = _mm512_setzero_ps();
    for (int64_t h = 0; h < n; ++h)
      x = _mm512_mask_broadcast_f32x4(x, static_cast<__mmask16>(0xFu << (4 * h)), _mm_loadu_ps(q[h] + 4 * v));
    _mm512_store_ps(qmix + 16 * v, x);
  }
}

// Four positions' lane-group dot products a[p] (lane 4h + t: a partial sum of head h) -> lane 4h + p: head h's
// score at position p.
STRATA_AVX512 inline __m512 LaneSums(const __m512 (&a)[4]) {
  const __m512 s01 = _mm512_add_ps(_mm512_shuffle_ps(a[0], a[1], 0x44), _mm512_shuffle_ps(a[0], a[1], 0xee));
  const __m512 s23 = _mm512_add_ps(_mm512_shuffle_ps(a[2], a[3], 0x44), _mm512_shuffle_ps(a[2], a[3], 0xee));
  return _mm512_add_ps(_mm512_shuffle_ps(s01, s23, 0x88), _mm512_shuffle_ps(s01, s23, 0xdd));
}

// S[g] lane 4h + p: head h's raw q.k at position 4g + p of a chunk of F32 keys (row j at k + j stride bytes);
// rows outside [first, nj) are read as row first or nj - 1 (in the chunk, and masked later). pf's rows are
// prefetched, one with each position.
template <int DV>
STRATA_AVX512 inline void LaneScores(const float* qmix, const uint8_t* k, int64_t stride, int64_t first, int64_t nj,
                                     const KvPrefetch& pf, __m512 (&S)[4]) {
  constexpr int NV = 4 * DV;
  __m512 qv[NV];
  for (int v = 0; v < NV; ++v) qv[v] = _mm512_load_ps(qmix + 16 * v);
  for (int g = 0; g < 4; ++g) {
    const float* row[4];
    for (int p = 0; p < 4; ++p) {
      row[p] = reinterpret_cast<const float*>(k + std::clamp<int64_t>(4 * g + p, first, nj - 1) * stride);
      pf.Row(4 * g + p);
    }
    __m512 a[4][2];  // two chains a position: eight in flight cover the FMA latency
    for (int p = 0; p < 4; ++p) a[p][0] = a[p][1] = _mm512_setzero_ps();
    for (int v = 0; v < NV; v += 2)
      for (int p = 0; p < 4; ++p) {
        a[p][0] = _mm512_fmadd_ps(qv[v], _mm512_broadcast_f32x4(_mm_loadu_ps(row[p] + 4 * v)), a[p][0]);
        if (v + 1 < NV)
          a[p][1] = _mm512_fmadd_ps(qv[v + 1], _mm512_broadcast_f32x4(_mm_loadu_ps(row[p] + 4 * v + 4)), a[p][1]);
      }
    const __m512 sums[4] = {_mm512_add_ps(a[0][0], a[0][1]), _mm512_add_ps(a[1][0], a[1][1]),
                            _mm512_add_ps(a[2][0], a[2][1]), _mm512_add_ps(a[3][0], a[3][1])};
    S[g] = LaneSums(sums);
  }
}

// out_h += Σ_j p_j v_j for heads h0..h0+NH-1 of the group (after rescaling out_h by r, lane 4h), p from the
// chunk's probabilities (position j, head h at p[16 (j / 4) + 4h + j % 4]).
template <int DV, int NH, class VT>
STRATA_AVX512 void LaneValues(const KvChunk& kv, int64_t first, int64_t nj, const float* p, __m512 rescale, int64_t h0,
                              float* const* out) {
  __m512 o[NH][DV];
  for (int h = 0; h < NH; ++h) {
    const __m512 r = _mm512_permutexvar_ps(_mm512_set1_epi32(static_cast<int>(4 * (h0 + h))), rescale);
    for (int d = 0; d < DV; ++d) o[h][d] = _mm512_mul_ps(_mm512_loadu_ps(out[h0 + h] + 16 * d), r);
  }
  for (int64_t j = first; j < nj; ++j) {
    __m512 vj[DV];
    for (int d = 0; d < DV; ++d) vj[d] = VT::Load16(kv.v + j * kv.v_stride, d);
    const float* pj = p + 16 * (j / 4) + j % 4;
    for (int h = 0; h < NH; ++h) {
      const __m512 w = _mm512_set1_ps(pj[4 * (h0 + h)]);
      for (int d = 0; d < DV; ++d) o[h][d] = _mm512_fmadd_ps(w, vj[d], o[h][d]);
    }
  }
  for (int h = 0; h < NH; ++h)
    for (int d = 0; d < DV; ++d) _mm512_storeu_ps(out[h0 + h] + 16 * d, o[h][d]);
}

// One lane group (n <= 4 heads) over positions [first, nj) of a chunk: scores, online softmax, values.
template <int DV, class VT>
STRATA_AVX512 void LaneChunk(const float* qmix, const KvChunk& kv, const KvPrefetch& pf, int64_t first, int64_t nj,
                             int64_t n, const ScoreMap& map, LaneState& st, float* const* out) {
  __m512 S[4];
  LaneScores<DV>(qmix, kv.k, kv.k_stride, first, nj, pf, S);
  alignas(64) float p[64];
  const __m512 rescale = LaneSoftmax(S, first, nj, n, map, st, p);
  constexpr int kMax = static_cast<int>(kHeadsFor<DV>);
  for (int64_t h = 0; h < n; h += kMax) {
    switch (std::min<int64_t>(kMax, n - h)) {
      case 4: LaneValues<DV, (kMax >= 4 ? 4 : 1), VT>(kv, first, nj, p, rescale, h, out); break;
      case 3: LaneValues<DV, (kMax >= 3 ? 3 : 1), VT>(kv, first, nj, p, rescale, h, out); break;
      case 2: LaneValues<DV, (kMax >= 2 ? 2 : 1), VT>(kv, first, nj, p, rescale, h, out); break;
      default: LaneValues<DV, 1, VT>(kv, first, nj, p, rescale, h, out); break;
    }
  }
}

// Query rows r < R (row r at q + r ldq, position pos0 + r) over the cache for KV heads kvh0..kvh1, G >= 2 query
// heads each, in lane groups of up to four heads: as AttendRows. Every row takes the same arithmetic whatever
// R is, so a prompt run whole or in chunks (or decoded row by row) gives bit-identical rows.
template <int DV, class KT>
STRATA_AVX512 void AttendLanes(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                               const PagedKvView& kv, int64_t kvh0, int64_t kvh1, const ScoreMap& map, int64_t window,
                               float* out, const PositionPart& part) {
  constexpr int64_t D = 16 * DV;
  const LaneGroups lg(G, kvh0, kvh1);
  // per thread, reused: a pool thread runs this once a layer and step
  struct alignas(64) Vector { float lanes[16]; };
  thread_local std::vector<Vector> qmix_vectors;  // aligned (C++17 aligned new)
  thread_local std::vector<LaneState> states;     // row r's group g at r lg.count + g
  qmix_vectors.resize(static_cast<size_t>(R * lg.count * D / 4));
  float* const qmix = reinterpret_cast<float*>(qmix_vectors.data());
  states.resize(static_cast<size_t>(R * lg.count));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < lg.count; ++g) {
      const float* qs[4];
      for (int64_t h = 0; h < lg.heads(g); ++h) qs[h] = q + r * ldq + (lg.head0(g) + h) * D;
      LaneQuery<DV>(qs, lg.heads(g), qmix + (r * lg.count + g) * 4 * D);
      LaneState& st = states[static_cast<size_t>(r * lg.count + g)];
      std::fill(std::begin(st.max), std::end(st.max), -INFINITY);
      std::fill(std::begin(st.sum), std::end(st.sum), 0.0f);
    }
  for (int64_t r = 0; r < R; ++r) std::fill(out + r * ldq + lg.h0 * D, out + r * ldq + (lg.h0 + (kvh1 - kvh0) * G) * D, 0.0f);
  const int64_t last = std::min(pos0 + R - 1, part.end - 1), lo = std::max(WindowStart(pos0, window), part.begin);
  const int64_t stride = kv.row_bytes, head_bytes = RowBytes(kv.dtype, D);
  alignas(64) float ks[16 * D], vs[16 * D];
  ForEachChunk(table, kv, kvh0, kvh1, head_bytes, lo, last, [&](int64_t kh, int64_t off, int64_t j, int64_t rows,
                                                                 KvPrefetch pf) STRATA_AVX512 {
    KvChunk chunk{kv.k + off, stride, kv.v + off, stride};
    bool v_converted = false;
    if constexpr (!std::is_same_v<KT, KvF32>) {  // keys as floats once for every group and row; values for rows
      const int64_t f32_stride = D * static_cast<int64_t>(sizeof(float));
      ConvertRows<DV, KT>(chunk.k, stride, rows, ks);
      chunk.k = reinterpret_cast<const uint8_t*>(ks), chunk.k_stride = f32_stride;
      if (R > 1) {
        ConvertRows<DV, KT>(chunk.v, stride, rows, vs);
        chunk.v = reinterpret_cast<const uint8_t*>(vs), chunk.v_stride = f32_stride, v_converted = true;
      }
    }
    int64_t first = 0, nj = 0;
    for (int64_t r = 0; r < R; ++r) {
      if (!RowSpan(r, j, rows, pos0, window, part, &first, &nj)) continue;
      for (int64_t g = kh * lg.per_kv; g < (kh + 1) * lg.per_kv; ++g) {
        float* os[4];
        for (int64_t h = 0; h < lg.heads(g); ++h) os[h] = out + r * ldq + (lg.head0(g) + h) * D;
        const float* qg = qmix + (r * lg.count + g) * 4 * D;
        LaneState& st = states[static_cast<size_t>(r * lg.count + g)];
        if (v_converted) LaneChunk<DV, KvF32>(qg, chunk, pf, first, nj, lg.heads(g), map, st, os);
        else LaneChunk<DV, KT>(qg, chunk, pf, first, nj, lg.heads(g), map, st, os);
        pf.rows = 0;  // prefetched once, by the first row and group
      }
    }
  });
  FinishLaneGroups(lg, states.data(), R, D, out, ldq, part);
}

template <class KT>
void AttendRowsOf(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                  const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map, int64_t window,
                  float* out, const PositionPart& part) {
#define STRATA_ATTEND(DV)                                                                            \
  (G >= 2 ? AttendLanes<DV, KT>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out, part) \
          : AttendRows<DV, KT>(q, ldq, R, pos0, table, kv, kvh0, kvh1, map, window, out, part))
  switch (D / 16) {  // a head's output lives in D / 16 registers
    case 1: return STRATA_ATTEND(1);
    case 2: return STRATA_ATTEND(2);
    case 3: return STRATA_ATTEND(3);
    case 4: return STRATA_ATTEND(4);
    case 5: return STRATA_ATTEND(5);
    case 6: return STRATA_ATTEND(6);
    case 7: return STRATA_ATTEND(7);
    case 16: return STRATA_ATTEND(16);
    default: return STRATA_ATTEND(8);
  }
#undef STRATA_ATTEND
}

}  // namespace

void AttendRowsAvx512(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                      const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map,
                      int64_t window, float* out, const PositionPart& part) {
  if (kv.dtype == DType::kF16 && AttentionF16MathFits(G, D) && AttentionF16MathSupported())
    return AttendRowsAvx512Fp16(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out, part);
  switch (kv.dtype) {
    case DType::kF16: return AttendRowsOf<KvF16>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out, part);
    case DType::kQ8_0:
      return AttendRowsOf<KvQ8_0>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out, part);
    default: return AttendRowsOf<KvF32>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out, part);
  }
}

namespace {
std::atomic<bool> f32_math_forced{false};
}  // namespace

void ForceAttentionF32Math(bool on) { f32_math_forced.store(on, std::memory_order_relaxed); }

// STRATA_ATTN_MATH=f32 keeps F32 arithmetic where F16 would be taken (benchmarks of both).
bool AttentionF16MathSupported() {
#if defined(STRATA_HAVE_AVX512FP16_KERNELS)
  static const bool ok = [] {
    const char* env = std::getenv("STRATA_ATTN_MATH");
    return AttentionAvx512Supported() && CpuHasAvx512Fp16() && !(env != nullptr && std::strcmp(env, "f32") == 0);
  }();
  return ok && !f32_math_forced.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

bool AttentionAvx512Supported() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return ok;
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
