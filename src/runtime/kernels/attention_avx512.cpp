// AVX-512 fused attention: one query row's heads over the cache 16 positions at a time (scores reduced by a
// transposing add tree, a vectorised exp, the head's output held in registers), position chunks outermost so
// the cache streams in address order.
#if defined(__x86_64__)

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "runtime/kernels/attention_internal.h"

#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593), as in matmul_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define STRATA_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c")))

namespace strata::kernels::internal {
namespace {

// e^x to ~2 ulp for x <= 0 (Cephes' range reduction: x = n ln2 + r, |r| <= ln2 / 2, degree-6 polynomial, then
// scale by 2^n). Inputs below -87.3 give 0, as they should here (probabilities after the max subtraction).
STRATA_AVX512 inline __m512 Exp(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

STRATA_AVX512 inline __mmask16 FirstLanes(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }
// Lanes [first, n).
STRATA_AVX512 inline __mmask16 Lanes(int64_t first, int64_t n) {
  return static_cast<__mmask16>(FirstLanes(n) & ~FirstLanes(first));
}

// tanh as sign(x) (1 - e) / (1 + e), e = e^(-2|x|) <= 1: absolute error a few 1e-8 (what softcap * tanh needs).
STRATA_AVX512 inline __m512 Tanh(__m512 x) {
  const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
  const __m512 a = _mm512_abs_ps(x);
  const __m512 e = Exp(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 t = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
  return _mm512_or_ps(t, sign);
}

// dst[0..D) = a * dst (D a multiple of 16).
STRATA_AVX512 inline void Scale(float* dst, float a, int64_t D) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t d = 0; d < D; d += 16) _mm512_storeu_ps(dst + d, _mm512_mul_ps(_mm512_loadu_ps(dst + d), av));
}

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
// lanes outside [first, nj) are -inf and their keys are not read.
template <int DV, class KT>
STRATA_AVX512 inline __m512 Scores(const float* q, const uint8_t* k, int64_t stride, int64_t first, int64_t nj,
                                   const ScoreMap& map) {
  __m512 qv[DV], acc[16];
  for (int d = 0; d < DV; ++d) qv[d] = _mm512_loadu_ps(q + 16 * d);
  for (int j = 0; j < 16; ++j) {
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

// One head over positions [first, nj) of one chunk: online-softmax update, then out += Σ_j p_j v_j with the
// head's output held in registers for the whole chunk.
template <int DV, class KT>
STRATA_AVX512 void HeadChunk(const float* q, const uint8_t* k, const uint8_t* v, int64_t stride, int64_t first, int64_t nj,
                             const ScoreMap& map, HeadState& st, float* out) {
  const __m512 s = Scores<DV, KT>(q, k, stride, first, nj, map);
  __m512 o[DV];
  for (int d = 0; d < DV; ++d) o[d] = _mm512_loadu_ps(out + 16 * d);
  const float cmax = _mm512_reduce_max_ps(s);
  if (cmax > st.max) {
    const __m512 rescale = _mm512_set1_ps(std::exp(st.max - cmax));  // exp(-inf) = 0 on the first chunk
    for (int d = 0; d < DV; ++d) o[d] = _mm512_mul_ps(o[d], rescale);
    st.sum *= std::exp(st.max - cmax);
    st.max = cmax;
  }
  alignas(64) float p[16];
  const __m512 pv = _mm512_maskz_mov_ps(Lanes(first, nj), Exp(_mm512_sub_ps(s, _mm512_set1_ps(st.max))));
  st.sum += _mm512_reduce_add_ps(pv);
  _mm512_store_ps(p, pv);
  // Two accumulator sets (even and odd positions) when the head is short, so the FMA chains overlap.
  constexpr int S = DV <= 4 ? 2 : 1;
  __m512 o2[DV];
  for (int d = 0; d < DV; ++d) o2[d] = _mm512_setzero_ps();
  int64_t j = first;
  for (; j + S <= nj; j += S)
    for (int u = 0; u < S; ++u) {
      const __m512 pj = _mm512_set1_ps(p[j + u]);
      const uint8_t* vj = v + (j + u) * stride;
      for (int d = 0; d < DV; ++d) {
        if (u == 0) o[d] = _mm512_fmadd_ps(pj, KT::Load16(vj, d), o[d]);
        else o2[d] = _mm512_fmadd_ps(pj, KT::Load16(vj, d), o2[d]);
      }
    }
  for (; j < nj; ++j) {
    const __m512 pj = _mm512_set1_ps(p[j]);
    for (int d = 0; d < DV; ++d) o[d] = _mm512_fmadd_ps(pj, KT::Load16(v + j * stride, d), o[d]);
  }
  for (int d = 0; d < DV; ++d) o[d] = _mm512_add_ps(o[d], o2[d]);
  for (int d = 0; d < DV; ++d) _mm512_storeu_ps(out + 16 * d, o[d]);
}

// Rows of one head's keys and values are a row apart (every KV head's slice lies between), too far apart for
// the hardware prefetchers in decode, where they come from DRAM: fetch the next chunk's while this one runs.
inline void PrefetchChunk(const uint8_t* k, const uint8_t* v, int64_t stride, int64_t rows, int64_t bytes) {
  for (int64_t j = 0; j < rows; ++j)
    for (int64_t b = 0; b < bytes; b += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(k + j * stride + b), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(v + j * stride + b), _MM_HINT_T0);
    }
}

// Query rows r < R (all heads; row r at q + r ldq, position pos0 + r) over the cache for KV heads kvh0..kvh1:
// position chunks outermost, so the rows of keys and values stream through in address order; within a chunk,
// head by head, every row of the tile takes the head's 16 keys and values while they are in L1. With a window,
// blocks and chunks before the first row's window are skipped.
template <int DV, class KT>
STRATA_AVX512 void AttendRows(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                              const PagedKvView& kv, int64_t kvh0, int64_t kvh1, const ScoreMap& map, int64_t window,
                              float* out) {
  constexpr int64_t D = 16 * DV;
  HeadState st[kMaxTileRows][kMaxRowHeads];
  const int64_t h0 = kvh0 * G, nh = (kvh1 - kvh0) * G, last = pos0 + R - 1, lo = WindowStart(pos0, window);
  const int64_t stride = kv.row_bytes, head_bytes = RowBytes(kv.dtype, D), span = (kvh1 - kvh0) * head_bytes;
  for (int64_t r = 0; r < R; ++r) std::fill(out + r * ldq + h0 * D, out + r * ldq + (h0 + nh) * D, 0.0f);
  for (int64_t j0 = lo / kv.block_size * kv.block_size; j0 <= last; j0 += kv.block_size) {
    const int64_t n = std::min(kv.block_size, last + 1 - j0);
    const int64_t base = static_cast<int64_t>(table[j0 / kv.block_size]) * kv.block_size * stride + kvh0 * head_bytes;
    for (int64_t c = j0 < lo ? (lo - j0) / 16 * 16 : 0; c < n; c += 16) {
      if (c + 16 < n) {
        PrefetchChunk(kv.k + base + (c + 16) * stride, kv.v + base + (c + 16) * stride, stride,
                      std::min<int64_t>(16, n - c - 16), span);
      } else if (j0 + kv.block_size <= last) {
        const int64_t next = static_cast<int64_t>(table[j0 / kv.block_size + 1]) * kv.block_size * stride + kvh0 * head_bytes;
        PrefetchChunk(kv.k + next, kv.v + next, stride, std::min<int64_t>(16, last + 1 - j0 - kv.block_size), span);
      }
      for (int64_t i = 0; i < nh; ++i) {
        const int64_t off = base + c * stride + (i / G) * head_bytes;
        for (int64_t r = 0; r < R; ++r) {
          // the chunk's positions, cut to row r's window WindowStart(pos0 + r) .. pos0 + r
          const int64_t nj = std::min<int64_t>(std::min<int64_t>(16, n - c), pos0 + r + 1 - (j0 + c));
          const int64_t first = std::max<int64_t>(0, WindowStart(pos0 + r, window) - (j0 + c));
          if (nj <= first) continue;
          HeadChunk<DV, KT>(q + r * ldq + (h0 + i) * D, kv.k + off, kv.v + off, stride, first, nj, map, st[r][i],
                            out + r * ldq + (h0 + i) * D);
        }
      }
    }
  }
  for (int64_t r = 0; r < R; ++r)
    for (int64_t i = 0; i < nh; ++i) Scale(out + r * ldq + (h0 + i) * D, 1.0f / st[r][i].sum, D);
}

template <class KT>
void AttendRowsOf(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                  const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map, int64_t window,
                  float* out) {
#define STRATA_ATTEND(DV) AttendRows<DV, KT>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, map, window, out)
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
                      int64_t window, float* out) {
  switch (kv.dtype) {
    case DType::kF16: return AttendRowsOf<KvF16>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out);
    case DType::kQ8_0: return AttendRowsOf<KvQ8_0>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out);
    default: return AttendRowsOf<KvF32>(q, ldq, R, G, pos0, table, kv, kvh0, kvh1, D, map, window, out);
  }
}

bool AttentionAvx512Supported() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return ok;
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
