// The AVX-512 fused attention path, called by Attention when the CPU has it and the shape fits.
#pragma once

#include <cstdint>

#include "runtime/kernels/attention.h"

namespace strata::kernels::internal {

inline constexpr int64_t kMaxRowHeads = 256;  // query heads the SIMD path takes
inline constexpr int64_t kMaxTileRows = 4;    // query rows it takes together

#if defined(__x86_64__)
bool AttentionAvx512Supported();
// Query rows r < R (<= kMaxTileRows) of one sequence at consecutive positions pos0 + r (row r at q + r ldq,
// all heads, head h at + h D), for KV heads kvh0..kvh1 and their G query heads each: out likewise. D a
// multiple of 16, at most 128.
void AttendRowsAvx512(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                      const PagedKvView& kv, int64_t kv_stride, int64_t kvh0, int64_t kvh1, int64_t D, float scale,
                      float* out);
#endif

}  // namespace strata::kernels::internal
