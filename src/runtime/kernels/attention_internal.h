// The AVX-512 fused attention path, called by Attention when the CPU has it and the shape fits.
#pragma once

#include <cstdint>

#include "runtime/kernels/attention.h"

namespace strata::kernels::internal {

inline constexpr int64_t kMaxGroupHeads = 16;  // query heads per KV head the SIMD path takes

#if defined(__x86_64__)
bool AttentionAvx512Supported();
// The G (<= kMaxGroupHeads) query heads sharing one KV head, for one query row at position `pos`: q and out
// hold the G heads' D floats each, consecutively; D a multiple of 16.
void AttendGroupAvx512(const float* q, int64_t G, int64_t pos, const int32_t* table, const PagedKvView& kv,
                       int64_t kv_stride, int64_t head_off, int64_t D, float scale, float* out);
#endif

}  // namespace strata::kernels::internal
