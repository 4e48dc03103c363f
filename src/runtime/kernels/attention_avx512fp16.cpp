// Attention over an F16 cache in F16 arithmetic (AVX512-FP16, Intel Sapphire Rapids and later), for models with
// grouped KV heads. With F32 arithmetic, a cached F16 byte costs two multiply-adds (a key times G = 4 query heads
// in 16-lane vectors, a value likewise) and a conversion, all on the two vector ports: decode attention reads
// the cache at ~15 GB/s a core even from L3 (4 MiB). Multiplying halves as they are stored takes 32 products an
// instruction and no conversion (~18-19.6 GB/s); the probabilities, the softmax and each chunk's output
// stay in F32. From memory (a cache past L3) what sets the rate is how the rows are prefetched (KvPrefetch), not
// the arithmetic: 12.1-12.3 GB/s a core in F16, 11.0-11.4 in F32, against a plain read's 15.8-16.1.
//
// Precision (stated; tests/runtime/attention_test.cpp holds it to the double-precision reference, and
// kv_dtype_test.cpp the logits): the query (times the score scale) is rounded to F16 as the cache already is
// (llama.cpp's CPU flash attention does the same); a score sums its D products in 8 F16 lanes (four chains of
// D / 32, then pairs of lanes twice), the last pair in F32; a chunk's Σ p v over its (up to) 16 positions is
// summed in F16 before it joins the F32 output (llama.cpp keeps the whole sum in F16). A score or chunk sum that
// overflows F16 is recomputed in F32. Summing the lanes in F32 from the start measured no more precise and 6 %
// slower.
//
// Built with -mavx512fp16 (clang 14 offers the intrinsics no other way) and called only when the CPU has it:
// see AttentionF16MathSupported.
#if defined(__x86_64__) && defined(__AVX512FP16__)

#include <immintrin.h>

#include <vector>

#include "runtime/kernels/attention_lanes.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace strata::kernels::internal {
namespace {

constexpr int kNonFinite = 0x99;  // fpclass: QNaN, +inf, -inf, SNaN

// Query vector v (of D / 8) of a lane group, 128-bit lane h: q_h[8v .. 8v + 7] * pre as halves (0 for heads
// n..3), so a key's 8 halves broadcast to all four lanes meet four heads' queries.
struct alignas(64) HalfQueryVector {
  __m512h lanes;
};

template <int DH>  // D = 32 DH
void HalfQuery(const float* const* q, int64_t n, float pre, HalfQueryVector* qh) {
  for (int v = 0; v < 4 * DH; ++v) {
    __m512 x[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};  // heads 0, 1 and heads 2, 3, 8 floats a head
    for (int64_t h = 0; h < n; ++h)
      x[h / 2] = _mm512_mask_loadu_ps(x[h / 2], static_cast<__mmask16>(0xFFu << (8 * (h % 2))), q[h] + 8 * v - 8 * (h % 2));
    const __m256i lo = _mm512_cvtps_ph(_mm512_mul_ps(x[0], _mm512_set1_ps(pre)), _MM_FROUND_TO_NEAREST_INT);
    const __m256i hi = _mm512_cvtps_ph(_mm512_mul_ps(x[1], _mm512_set1_ps(pre)), _MM_FROUND_TO_NEAREST_INT);
    qh[v].lanes = _mm512_castsi512_ph(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
  }
}

// Eight positions' products a[p] (lane h: head h's 8 partial sums in halves) -> S[0], S[1]: lane 4h + p head h's
// score at positions p and 4 + p. Pairs of partials are added in halves twice (unpacking 32-bit then 64-bit
// pieces of two vectors at a time), the last pair in floats.
inline void HalfSums(const __m512h (&a)[8], __m512* S) {
  __m512i u[4], w[2];
  for (int i = 0; i < 4; ++i) {  // dword k of a lane: position 2i + k % 2, two partials
    const __m512i x = _mm512_castph_si512(a[2 * i]), y = _mm512_castph_si512(a[2 * i + 1]);
    u[i] = _mm512_castph_si512(_mm512_add_ph(_mm512_castsi512_ph(_mm512_unpacklo_epi32(x, y)),
                                             _mm512_castsi512_ph(_mm512_unpackhi_epi32(x, y))));
  }
  for (int i = 0; i < 2; ++i)  // dword k of a lane: position 4i + k, two partials
    w[i] = _mm512_castph_si512(_mm512_add_ph(_mm512_castsi512_ph(_mm512_unpacklo_epi64(u[2 * i], u[2 * i + 1])),
                                             _mm512_castsi512_ph(_mm512_unpackhi_epi64(u[2 * i], u[2 * i + 1]))));
  // In floats, lo (heads 0, 1) float 8h + 2k + t; summing t: lane L of e holds head L / 2's positions
  // 2 (L % 2) + {0, 1}, then head 2 + L / 2's.
  const __m512i to_lanes = _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  for (int i = 0; i < 2; ++i) {
    const __m512 lo = _mm512_cvtph_ps(_mm512_castsi512_si256(w[i])), hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(w[i], 1));
    const __m512 e = _mm512_add_ps(_mm512_shuffle_ps(lo, hi, 0x88), _mm512_shuffle_ps(lo, hi, 0xdd));
    S[i] = _mm512_permutexvar_ps(to_lanes, e);
  }
}

// S[g] lane 4h + p: head h's q.k (times pre) at position 4g + p of the chunk (row j at k + j stride bytes); rows
// outside [first, nj) are read as row first or nj - 1 (in the chunk, and masked later). pf's rows are prefetched,
// one with each position.
template <int DH>
void HalfScores(const HalfQueryVector* qh, const uint8_t* k, int64_t stride, int64_t first, int64_t nj,
                const KvPrefetch& pf, __m512 (&S)[4]) {
  constexpr int NV = 4 * DH;
  for (int half = 0; half < 2; ++half) {
    __m512h acc[8];
    for (int p = 0; p < 8; ++p) {
      const uint8_t* row = k + std::clamp<int64_t>(8 * half + p, first, nj - 1) * stride;
      pf.Row(8 * half + p);
      const auto key = [row](int v) {
        return _mm512_castsi512_ph(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 16 * v))));
      };
      __m512h a[4] = {_mm512_mul_ph(qh[0].lanes, key(0)), _mm512_mul_ph(qh[1].lanes, key(1)),
                      _mm512_mul_ph(qh[2].lanes, key(2)), _mm512_mul_ph(qh[3].lanes, key(3))};
      for (int v = 4; v < NV; v += 4)
        for (int c = 0; c < 4; ++c) a[c] = _mm512_fmadd_ph(qh[v + c].lanes, key(v + c), a[c]);
      acc[p] = _mm512_add_ph(_mm512_add_ph(a[0], a[1]), _mm512_add_ph(a[2], a[3]));
    }
    HalfSums(acc, S + 2 * half);
  }
  // S[0..1] came out as positions {0..3, 4..7}, S[2..3] as {8..11, 12..15}: already in order.
}

// The scores again in F32 (F16C conversion of the keys, the queries as given), for a chunk whose F16 sums
// overflowed.
template <int DH>
void FloatScores(const float* const* q, int64_t n, float pre, const uint8_t* k, int64_t stride, int64_t first,
                 int64_t nj, __m512 (&S)[4]) {
  alignas(64) float s[64] = {};
  for (int j = 0; j < 16; ++j) {
    const auto* row = reinterpret_cast<const uint16_t*>(k + std::clamp<int64_t>(j, first, nj - 1) * stride);
    for (int64_t h = 0; h < n; ++h) {
      __m512 acc = _mm512_setzero_ps();
      for (int d = 0; d < 2 * DH; ++d)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(q[h] + 16 * d),
                              _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 16 * d))), acc);
      s[16 * (j / 4) + 4 * h + j % 4] = _mm512_reduce_add_ps(acc) * pre;
    }
  }
  for (int g = 0; g < 4; ++g) S[g] = _mm512_load_ps(s + 16 * g);
}

// out_h = out_h * rescale_h + Σ_j p_j v_j for the NH heads of the group (p as in LaneSoftmax, ph the same in
// halves): the sum in halves, then added in floats; false (out untouched) when it overflowed.
template <int DH, int NH>
bool HalfValues(const KvChunk& kv, int64_t first, int64_t nj, const _Float16* ph, __m512 rescale, float* const* out) {
  __m512h o[NH][DH];
  for (int h = 0; h < NH; ++h)
    for (int d = 0; d < DH; ++d) o[h][d] = _mm512_setzero_ph();
  for (int64_t j = first; j < nj; ++j) {
    __m512h vj[DH];
    for (int d = 0; d < DH; ++d) vj[d] = _mm512_loadu_ph(kv.v + j * kv.v_stride + 64 * d);
    const _Float16* pj = ph + 16 * (j / 4) + j % 4;
    for (int h = 0; h < NH; ++h) {
      const __m512h w = _mm512_set1_ph(pj[4 * h]);
      for (int d = 0; d < DH; ++d) o[h][d] = _mm512_fmadd_ph(w, vj[d], o[h][d]);
    }
  }
  __mmask32 bad = 0;
  for (int h = 0; h < NH; ++h)
    for (int d = 0; d < DH; ++d) bad |= _mm512_fpclass_ph_mask(o[h][d], kNonFinite);
  if (bad != 0) return false;
  for (int h = 0; h < NH; ++h) {
    const __m512 r = _mm512_permutexvar_ps(_mm512_set1_epi32(4 * h), rescale);
    float* dst = out[h];
    for (int d = 0; d < DH; ++d) {
      const __m512i bits = _mm512_castph_si512(o[h][d]);
      _mm512_storeu_ps(dst + 32 * d, _mm512_fmadd_ps(_mm512_loadu_ps(dst + 32 * d), r, _mm512_cvtph_ps(_mm512_castsi512_si256(bits))));
      _mm512_storeu_ps(dst + 32 * d + 16,
                       _mm512_fmadd_ps(_mm512_loadu_ps(dst + 32 * d + 16), r, _mm512_cvtph_ps(_mm512_extracti64x4_epi64(bits, 1))));
    }
  }
  return true;
}

// HalfValues in F32 (the n heads of the group), for a chunk whose F16 sum overflowed.
template <int DH>
void FloatValues(const KvChunk& kv, int64_t first, int64_t nj, const float* p, __m512 rescale, int64_t n,
                 float* const* out) {
  alignas(64) float r[16];
  _mm512_store_ps(r, rescale);
  for (int64_t h = 0; h < n; ++h)
    for (int d = 0; d < 2 * DH; ++d) {
      __m512 acc = _mm512_mul_ps(_mm512_loadu_ps(out[h] + 16 * d), _mm512_set1_ps(r[4 * h]));
      for (int64_t j = first; j < nj; ++j) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kv.v + j * kv.v_stride + 32 * d));
        acc = _mm512_fmadd_ps(_mm512_set1_ps(p[16 * (j / 4) + 4 * h + j % 4]), _mm512_cvtph_ps(v), acc);
      }
      _mm512_storeu_ps(out[h] + 16 * d, acc);
    }
}

// The query rows and heads of one lane group, as LaneChunk in attention_avx512.cpp takes them.
struct HalfGroup {
  const HalfQueryVector* qh;
  const float* const* q;  // the heads' F32 queries, for the overflow path
  int64_t n;              // heads
  float pre;              // score scale folded into qh
};

// One lane group over positions [first, nj) of a chunk of F16 rows: scores (prefetching pf), online softmax,
// values.
template <int DH>
void HalfChunk(const HalfGroup& g, const KvChunk& kv, const KvPrefetch& pf, int64_t first, int64_t nj,
               const ScoreMap& map1, LaneState& st, float* const* out) {
  __m512 S[4];
  HalfScores<DH>(g.qh, kv.k, kv.k_stride, first, nj, pf, S);
  if ((_mm512_fpclass_ps_mask(S[0], kNonFinite) | _mm512_fpclass_ps_mask(S[1], kNonFinite) |
       _mm512_fpclass_ps_mask(S[2], kNonFinite) | _mm512_fpclass_ps_mask(S[3], kNonFinite)) != 0)
    FloatScores<DH>(g.q, g.n, g.pre, kv.k, kv.k_stride, first, nj, S);
  alignas(64) float p[64];
  const __m512 rescale = LaneSoftmax(S, first, nj, g.n, map1, st, p);
  alignas(64) _Float16 ph[64];
  for (int i = 0; i < 4; ++i)
    _mm256_store_si256(reinterpret_cast<__m256i*>(ph + 16 * i), _mm512_cvtps_ph(_mm512_load_ps(p + 16 * i), _MM_FROUND_TO_NEAREST_INT));
  bool ok = false;  // all n heads' sums in registers (4 DH) with a row of values (DH): 20 at most
  switch (g.n) {
    case 4: ok = HalfValues<DH, 4>(kv, first, nj, ph, rescale, out); break;
    case 3: ok = HalfValues<DH, 3>(kv, first, nj, ph, rescale, out); break;
    case 2: ok = HalfValues<DH, 2>(kv, first, nj, ph, rescale, out); break;
    default: ok = HalfValues<DH, 1>(kv, first, nj, ph, rescale, out); break;
  }
  if (!ok) FloatValues<DH>(kv, first, nj, p, rescale, g.n, out);  // the outputs are untouched
}

template <int DH>
void AttendHalf(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                const PagedKvView& kv, int64_t kvh0, int64_t kvh1, const ScoreMap& map, int64_t window, float* out,
                const PositionPart& part) {
  constexpr int64_t D = 32 * DH;
  const LaneGroups lg(G, kvh0, kvh1);
  // per thread, reused: a pool thread runs this once a layer and step (the element types are this file's own,
  // so these vectors' code is too)
  thread_local std::vector<HalfQueryVector> query;  // row r's group g at (r lg.count + g) D / 8
  thread_local std::vector<LaneState> states;       // row r's group g at r lg.count + g
  query.resize(static_cast<size_t>(R * lg.count * D / 8));
  states.resize(static_cast<size_t>(R * lg.count));
  const auto head_ptrs = [&](int64_t r, int64_t g, auto* ptrs, auto* base) {
    for (int64_t h = 0; h < lg.heads(g); ++h) ptrs[h] = base + r * ldq + (lg.head0(g) + h) * D;
  };
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < lg.count; ++g) {
      const float* qs[4];
      head_ptrs(r, g, qs, q);
      HalfQuery<DH>(qs, lg.heads(g), map.pre, query.data() + (r * lg.count + g) * D / 8);
      LaneState& st = states[static_cast<size_t>(r * lg.count + g)];
      for (int i = 0; i < 16; ++i) st.max[i] = -INFINITY, st.sum[i] = 0;
      for (int64_t h = 0; h < lg.heads(g); ++h)  // (no std::fill: its code built here could serve other files)
        for (int64_t d = 0; d < D; d += 16) _mm512_storeu_ps(out + r * ldq + (lg.head0(g) + h) * D + d, _mm512_setzero_ps());
    }
  ScoreMap map1 = map;  // the scale is in the queries
  map1.pre = 1.0f;
  const int64_t last = std::min(pos0 + R - 1, part.end - 1), lo = std::max(WindowStart(pos0, window), part.begin);
  ForEachChunk(table, kv, kvh0, kvh1, 2 * D, lo, last, [&](int64_t kh, int64_t off, int64_t j, int64_t rows, KvPrefetch pf) {
    const KvChunk chunk{kv.k + off, kv.row_bytes, kv.v + off, kv.row_bytes};
    int64_t first = 0, nj = 0;
    for (int64_t r = 0; r < R; ++r) {
      if (!RowSpan(r, j, rows, pos0, window, part, &first, &nj)) continue;
      for (int64_t g = kh * lg.per_kv; g < (kh + 1) * lg.per_kv; ++g) {
        float* os[4];
        const float* qs[4];
        head_ptrs(r, g, os, out);
        head_ptrs(r, g, qs, q);
        const HalfGroup group{query.data() + (r * lg.count + g) * D / 8, qs, lg.heads(g), map.pre};
        HalfChunk<DH>(group, chunk, pf, first, nj, map1, states[static_cast<size_t>(r * lg.count + g)], os);
        pf.rows = 0;  // prefetched once, by the first row and group
      }
    }
  });
  FinishLaneGroups(lg, states.data(), R, D, out, ldq, part);
}

}  // namespace

void AttendRowsAvx512Fp16(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                          const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map,
                          int64_t window, float* out, const PositionPart& part) {
  switch (D / 32) {
    case 1: return AttendHalf<1>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out, part);
    case 2: return AttendHalf<2>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out, part);
    case 3: return AttendHalf<3>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out, part);
    default: return AttendHalf<4>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out, part);
  }
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__ && __AVX512FP16__
