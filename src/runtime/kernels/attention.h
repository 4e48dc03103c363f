// Causal grouped-query attention of new queries over a paged KV cache: query row t (at position positions[t])
// attends to its sequence's positions lo..positions[t] (lo = 0, or positions[t] - window + 1 with a sliding
// window), position j living in slot block_tables[t][j / block_size] * block_size + j % block_size; query head h
// reads KV head h / (n_heads / n_kv_heads). Scores are s = scale * q.k, then softcap * tanh(s / softcap) if
// softcapped (gemma2), then softmax over the window.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace strata::kernels {

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  float scale = 0.0f;    // 0: 1/sqrt(head_dim)
  float softcap = 0.0f;  // > 0: s = softcap * tanh(s / softcap), applied after scaling
  // > 0: a row at position p attends only to positions p-window+1 .. p (llama.cpp's standard SWA masks j when
  // p - j >= window). Bounds the work too: cache blocks wholly before the window are never read.
  int64_t window = 0;
};

// The scale actually applied, and the first position a row at `pos` attends to.
float ScoreScale(const AttentionShape& shape);
inline int64_t WindowStart(int64_t pos, int64_t window) { return window > 0 && pos >= window ? pos - window + 1 : 0; }

// The cache as the kernels read it: one row of n_kv_heads*head_dim values per slot, row_bytes apart, stored as
// F32, F16 or Q8_0 (a head's slice then starts on a block: head_dim a multiple of 32).
struct PagedKvView {
  const uint8_t* k = nullptr;
  const uint8_t* v = nullptr;
  int64_t block_size = 0;
  const int32_t* const* block_tables = nullptr;  // one table per query row
  DType dtype = DType::kF32;
  int64_t row_bytes = 0;  // 0: kv_dim floats (F32)
};

// Fused: q: [rows, n_heads*head_dim]; out like q. Online softmax over the cache one block at a time.
void Attention(const float* q, int64_t rows, const int32_t* positions, const PagedKvView& kv,
               const AttentionShape& shape, float* out, ThreadPool& pool);
// The unfused parts, one op each in an unoptimised plan (ctx = C, the step's longest context):
// scores [rows, n_heads, ctx] (positions after a row's own, or before its window, are -inf), causal softmax
// (those become 0; `window` as in AttentionShape), and the probability-weighted sum of values.
void AttnScores(const float* q, int64_t rows, const int32_t* positions, const PagedKvView& kv,
                const AttentionShape& shape, int64_t ctx, float* scores, ThreadPool& pool);
void CausalSoftmax(const float* scores, int64_t rows, int64_t n_heads, int64_t ctx, const int32_t* positions,
                   int64_t window, float* probs, ThreadPool& pool);
void AttnValues(const float* probs, int64_t rows, const int32_t* positions, const PagedKvView& kv,
                const AttentionShape& shape, int64_t ctx, float* out, ThreadPool& pool);
// Scalar reference over a contiguous cache (row j = position j), in double precision.
void AttentionReference(const float* q, int64_t rows, const int32_t* positions, const float* k_cache,
                        const float* v_cache, const AttentionShape& shape, float* out);

}  // namespace strata::kernels
