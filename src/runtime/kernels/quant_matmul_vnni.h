// What the AVX-512 VNNI kernel files of the integer matmul share: their target attribute and the broadcast of
// four activation bytes to every lane. Include only from files compiled for x86-64.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#define STRATA_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace strata::kernels::internal {

// x[0..3] in every 32-bit lane: the activation operand of one vpdpbusd against 16 rows' weights.
STRATA_VNNI inline __m512i Bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

}  // namespace strata::kernels::internal
