// Decoding of Q4_1 / Q5_0 / Q5_1 blocks for the AVX2 F32-activation matmul path (used where the integer path
// is off: no AVX-512 VNNI, or STRATA_FLOAT_ACTIVATIONS=1). The AVX-512 path decodes them through 16-lane
// tables instead (matmul_avx512.cpp).
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/quants_q4_1_q5.h"

#define STRATA_Q4_1Q5_X86 __attribute__((target("avx2,fma,f16c")))

namespace strata::kernels::internal {

// One block to 32 floats, elements 8k..8k+7 in w[k], exactly DequantizeRow's values: q * d is exact (5 + 11
// bits), so fma(q, d, m) rounds once, as q * d + m does, and (q - 16) * d is exact.
template <class Block>
STRATA_Q4_1Q5_X86 inline void Q4_1Q5Block(const Block* b, __m256 w[4]) {
  constexpr bool kQ5 = requires { b->qh; };
  const __m256 d = _mm256_set1_ps(_cvtsh_ss(b->d));
  __m256 m = _mm256_set1_ps(-16.0f);  // Q5_0: (q - 16) * d
  if constexpr (requires { b->m; }) m = _mm256_set1_ps(_cvtsh_ss(b->m));
  const __m256i nib = _mm256_set1_epi32(0x0f), iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  uint32_t qh = 0;
  if constexpr (kQ5) std::memcpy(&qh, b->qh, 4);
  for (int k = 0; k < 4; ++k) {  // elements 8k..: bytes 8 (k % 2).., low nibbles for k < 2
    const __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qs + 8 * (k % 2))));
    __m256i q = _mm256_and_si256(k < 2 ? v : _mm256_srli_epi32(v, 4), nib);
    if constexpr (kQ5) {
      const __m256i shift = _mm256_add_epi32(iota, _mm256_set1_epi32(8 * k));  // element e's bit is bit e
      const __m256i bit = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(qh)), shift);
      q = _mm256_or_si256(q, _mm256_slli_epi32(_mm256_and_si256(bit, _mm256_set1_epi32(1)), 4));
    }
    const __m256 qf = _mm256_cvtepi32_ps(q);
    if constexpr (requires { b->m; }) w[k] = _mm256_fmadd_ps(qf, d, m);
    else w[k] = _mm256_mul_ps(_mm256_add_ps(qf, m), d);
  }
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
