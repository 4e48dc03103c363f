// Causal grouped-query attention of new queries over a KV cache: query row t (at position positions[t])
// attends to cache rows 0..positions[t]; query head h reads KV head h / (n_heads / n_kv_heads).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
};

// q: [rows, n_heads*head_dim]; k_cache, v_cache: rows of n_kv_heads*head_dim floats; out like q.
void Attention(const float* q, int64_t rows, const int32_t* positions, const float* k_cache, const float* v_cache,
               const AttentionShape& shape, float* out, ThreadPool& pool);
void AttentionReference(const float* q, int64_t rows, const int32_t* positions, const float* k_cache,
                        const float* v_cache, const AttentionShape& shape, float* out);

}  // namespace strata::kernels
