// Embedding lookup: row ids[t] of a weight table of any supported dtype, dequantized to float.
// Ids must already be checked against the table size.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace strata::kernels {

void Embedding(const Tensor& table, const int32_t* ids, int64_t n_ids, float* y, ThreadPool& pool);
void EmbeddingReference(const Tensor& table, const int32_t* ids, int64_t n_ids, float* y);

}  // namespace strata::kernels
