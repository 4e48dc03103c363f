// AVX-512 fused attention: the query heads that share one KV head attend together, so each key and value row
// is loaded once for all of them; scores are taken 16 positions at a time through a vectorised exp.
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

// dst[0..D) = a * dst (D a multiple of 16).
STRATA_AVX512 inline void Scale(float* dst, float a, int64_t D) {
  const __m512 av = _mm512_set1_ps(a);
  for (int64_t d = 0; d < D; d += 16) _mm512_storeu_ps(dst + d, _mm512_mul_ps(_mm512_loadu_ps(dst + d), av));
}

struct HeadState {
  float max = -INFINITY, sum = 0;
};

// Scores of up to 16 consecutive positions (rows k, k + stride, ...) for the G heads: sc[g * 16 + j].
STRATA_AVX512 void Scores(const float* q, int64_t G, const float* k, int64_t stride, int64_t nj, int64_t D,
                          float scale, float* sc) {
  for (int64_t j = 0; j < nj; ++j, k += stride)
    for (int64_t g = 0; g < G; ++g) {
      const float* qg = q + g * D;
      __m512 a0 = _mm512_mul_ps(_mm512_loadu_ps(qg), _mm512_loadu_ps(k));
      __m512 a1 = _mm512_setzero_ps();
      for (int64_t d = 16; d + 16 <= D; d += 32) {
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(qg + d), _mm512_loadu_ps(k + d), a1);
        if (d + 32 <= D) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(qg + d + 16), _mm512_loadu_ps(k + d + 16), a0);
      }
      sc[g * 16 + j] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) * scale;
    }
}

// Online-softmax update of head g over nj scores: rescale what was accumulated when the max rises, then
// turn the scores into unnormalised probabilities in place.
STRATA_AVX512 void Probabilities(float* sc, int64_t nj, HeadState& st, float* out, int64_t D) {
  const __mmask16 m = FirstLanes(nj);
  const __m512 s = _mm512_maskz_loadu_ps(m, sc);
  const float cmax = _mm512_mask_reduce_max_ps(m, s);
  if (cmax > st.max) {
    const float rescale = std::exp(st.max - cmax);  // exp(-inf) = 0 on the first chunk
    Scale(out, rescale, D);
    st.sum *= rescale;
    st.max = cmax;
  }
  const __m512 p = _mm512_maskz_mov_ps(m, Exp(_mm512_sub_ps(s, _mm512_set1_ps(st.max))));
  st.sum += _mm512_reduce_add_ps(p);
  _mm512_storeu_ps(sc, p);
}

// out_g += Σ_j p[g][j] v_j for the G heads.
STRATA_AVX512 void AccumulateValues(const float* sc, int64_t G, const float* v, int64_t stride, int64_t nj,
                                    int64_t D, float* out) {
  for (int64_t j = 0; j < nj; ++j, v += stride)
    for (int64_t g = 0; g < G; ++g) {
      const __m512 p = _mm512_set1_ps(sc[g * 16 + j]);
      float* o = out + g * D;
      for (int64_t d = 0; d < D; d += 16)
        _mm512_storeu_ps(o + d, _mm512_fmadd_ps(p, _mm512_loadu_ps(v + d), _mm512_loadu_ps(o + d)));
    }
}

}  // namespace

STRATA_AVX512 void AttendGroupAvx512(const float* q, int64_t G, int64_t pos, const int32_t* table,
                                     const PagedKvView& kv, int64_t kv_stride, int64_t head_off, int64_t D,
                                     float scale, float* out) {
  HeadState st[kMaxGroupHeads];
  alignas(64) float sc[kMaxGroupHeads * 16];
  std::fill(out, out + G * D, 0.0f);
  for (int64_t j0 = 0; j0 <= pos; j0 += kv.block_size) {
    const int64_t n = std::min(kv.block_size, pos + 1 - j0);
    const int64_t base = static_cast<int64_t>(table[j0 / kv.block_size]) * kv.block_size * kv_stride + head_off;
    for (int64_t c = 0; c < n; c += 16) {
      const int64_t nj = std::min<int64_t>(16, n - c);
      Scores(q, G, kv.k + base + c * kv_stride, kv_stride, nj, D, scale, sc);
      for (int64_t g = 0; g < G; ++g) Probabilities(sc + g * 16, nj, st[g], out + g * D, D);
      AccumulateValues(sc, G, kv.v + base + c * kv_stride, kv_stride, nj, D, out);
    }
  }
  for (int64_t g = 0; g < G; ++g) Scale(out + g * D, 1.0f / st[g].sum, D);
}

bool AttentionAvx512Supported() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  return ok;
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
