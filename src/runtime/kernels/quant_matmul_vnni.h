// What the AVX-512 VNNI kernel files of the integer matmul share: their target attribute and the broadcast of
// four activation bytes to every lane. Include only from files compiled for x86-64.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "runtime/kernels/quant_matmul_internal.h"

#define STRATA_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

namespace strata::kernels::internal {

// x[0..3] in every 32-bit lane: the activation operand of one vpdpbusd against 16 rows' weights.
STRATA_VNNI inline __m512i Bcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof(v));
  return _mm512_set1_epi32(v);
}

// Activation rows per chunk: as many as stay in L2 (256 KiB of 8-bit rows) while every group of a thread's share
// passes over them, a multiple of the tile height max_mt.
inline int64_t L2RowChunk(int64_t K, int64_t max_mt) {
  return std::max<int64_t>(max_mt, ((int64_t{256} << 10) / std::max<int64_t>(1, K)) / max_mt * max_mt);
}

// Groups g0..g1 against every activation row, chunk by chunk; tiles[m - 1] computes m (1..kMaxMT) rows of one
// group.
template <int kMaxMT, class TileTable>
STRATA_VNNI inline void TilesOverRows(const TileTable& tiles, const PackedWeight& w, const QuantActs& a, float* y,
                                      int64_t g0, int64_t g1) {
  const int64_t chunk = L2RowChunk(a.K, kMaxMT);
  for (int64_t c = 0; c < a.T; c += chunk) {
    const int64_t c1 = std::min(a.T, c + chunk);
    for (int64_t g = g0; g < g1; ++g)
      for (int64_t t = c; t < c1; t += kMaxMT) tiles[std::min<int64_t>(kMaxMT, c1 - t) - 1](w, a, t, g, y);
  }
}

}  // namespace strata::kernels::internal
