// The AVX-512 fused attention path, called by Attention when the CPU has it and the shape fits, and the score
// transform both paths share.
#pragma once

#include <cmath>
#include <cstdint>

#include "runtime/kernels/attention.h"

namespace strata::kernels::internal {

inline constexpr int64_t kMaxRowHeads = 256;  // query heads the SIMD path takes
inline constexpr int64_t kMaxTileRows = 4;    // query rows it takes together

// q.k -> score, as ggml's flash attention does it: the scale folded into 1/softcap, then softcap * tanh.
struct ScoreMap {
  float pre = 1.0f;  // scale, or scale / softcap
  float cap = 0.0f;  // softcap, 0 for none
  explicit ScoreMap(const AttentionShape& s)
      : pre(s.softcap > 0 ? ScoreScale(s) / s.softcap : ScoreScale(s)), cap(s.softcap > 0 ? s.softcap : 0.0f) {}
  float operator()(float dot) const { return cap > 0 ? cap * std::tanh(dot * pre) : dot * pre; }
};

// Head sizes the SIMD path is compiled for: a head's output lives in D / 16 registers (256: gemma2/3, which
// spills some but still beats the portable loop).
inline bool AttentionAvx512Fits(int64_t D) { return D % 16 == 0 && (D <= 128 || D == 256); }

#if defined(__x86_64__)
bool AttentionAvx512Supported();
// Query rows r < R (<= kMaxTileRows) of one sequence at consecutive positions pos0 + r (row r at q + r ldq,
// all heads, head h at + h D), for KV heads kvh0..kvh1 and their G query heads each: out likewise. D a
// AttentionAvx512Fits. Row r attends to WindowStart(pos0 + r, window) .. pos0 + r.
// kv.row_bytes must be set (the stride between slots); F16 and Q8_0 rows are converted as they are read.
// A part of the positions, for one decode row split across threads (flash-decoding): only positions in
// [begin, end) are attended (begin a multiple of 16 and of the block size), and instead of the normalised
// output, out holds Σ exp(s - max) v per head and max[h], sum[h] the head's softmax state.
struct PositionPart {
  int64_t begin = 0, end = INT64_MAX;
  float* max = nullptr;  // null: the whole span, normalised
  float* sum = nullptr;
};
void AttendRowsAvx512(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                      const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map,
                      int64_t window, float* out, const PositionPart& part = {});
// The same over an F16 cache in F16 arithmetic (attention_avx512fp16.cpp), for G >= 2 and D a multiple of 32 up
// to 128, where AttentionF16MathSupported(): the CPU has AVX512-FP16, STRATA_ATTN_MATH is not f32, and no test
// has forced F32 arithmetic (to check both paths on one machine).
bool AttentionF16MathSupported();
void ForceAttentionF32Math(bool on);
inline bool AttentionF16MathFits(int64_t G, int64_t D) { return G >= 2 && D % 32 == 0 && D <= 128; }
void AttendRowsAvx512Fp16(const float* q, int64_t ldq, int64_t R, int64_t G, int64_t pos0, const int32_t* table,
                          const PagedKvView& kv, int64_t kvh0, int64_t kvh1, int64_t D, const ScoreMap& map,
                          int64_t window, float* out, const PositionPart& part);
#endif

}  // namespace strata::kernels::internal
