// Decoding steps of the K-quant blocks that the AVX2 and AVX-512 matmul paths share. They are compiled for
// AVX2 + FMA + F16C, a subset of both paths' instruction sets, so they inline into either.
#pragma once

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

#define STRATA_KQUANTS_X86 __attribute__((target("avx2,fma,f16c")))

namespace strata::kernels::internal {

// A Q4_K block's 8 sub-block scales d * sc_j and negated mins -dmin * m_j, sub-block j in lane j (exact
// products: 6-bit integers times fp16 values). The 6-bit values are unpacked four at a time from the 12 packed
// bytes (layout in dtype.h; little-endian, as GGUF is).
STRATA_KQUANTS_X86 inline void Q4_KScalesMins(const BlockQ4_K* b, __m256* scales, __m256* neg_mins) {
  uint32_t u[3];
  std::memcpy(u, b->scales, sizeof(u));
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, top2 = 0x30303030;  // top2: bits 6-7 moved down to 4-5
  const uint64_t sc = (u[0] & low6) | static_cast<uint64_t>((u[2] & low4) | ((u[0] >> 2) & top2)) << 32;
  const uint64_t m = (u[1] & low6) | static_cast<uint64_t>(((u[2] >> 4) & low4) | ((u[1] >> 2) & top2)) << 32;
  const __m256i sc32 = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(sc)));
  const __m256i m32 = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<int64_t>(m)));
  *scales = _mm256_mul_ps(_mm256_cvtepi32_ps(sc32), _mm256_set1_ps(_cvtsh_ss(b->d)));
  *neg_mins = _mm256_mul_ps(_mm256_cvtepi32_ps(m32), _mm256_set1_ps(-_cvtsh_ss(b->dmin)));
}

// Q6_K group j's (0..7) 32 quants minus 32, as signed bytes. Group j = 4h + r: low 4 bits from
// ql[64h + 32 (r & 1) ..] (high nibbles for r >= 2), top 2 bits from bits 2r, 2r + 1 of qh[32h ..], combined
// bytewise (16-bit shifts, then masks that keep only bits that came from the same byte).
STRATA_KQUANTS_X86 inline __m256i Q6_KGroupQuants(const BlockQ6_K* b, int j) {
  const int h = j / 4, r = j % 4;
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->ql + 64 * h + 32 * (r & 1)));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b->qh + 32 * h));
  const __m256i low4 = _mm256_and_si256(_mm256_srli_epi16(lo, 4 * (r >> 1)), _mm256_set1_epi8(0x0f));
  const __m256i top2 = _mm256_and_si256(_mm256_slli_epi16(_mm256_srli_epi16(hi, 2 * r), 4), _mm256_set1_epi8(0x30));
  return _mm256_sub_epi8(_mm256_or_si256(low4, top2), _mm256_set1_epi8(32));
}

// A Q6_K block's 16 sub-block scales as signed bytes.
STRATA_KQUANTS_X86 inline __m128i Q6_KScales(const BlockQ6_K* b) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->scales));
}

}  // namespace strata::kernels::internal

#endif  // __x86_64__
