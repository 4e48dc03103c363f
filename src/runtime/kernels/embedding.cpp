#include "runtime/kernels/embedding.h"

namespace strata::kernels {

void Embedding(const Tensor& table, const int32_t* ids, int64_t n_ids, float* y, ThreadPool& pool) {
  const int64_t dim = table.dim(1);
  pool.ParallelFor(n_ids, 16, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) DequantizeRow(table.dtype(), table.row(ids[t]), y + t * dim, dim);
  });
}

void EmbeddingReference(const Tensor& table, const int32_t* ids, int64_t n_ids, float* y) {
  const int64_t dim = table.dim(1);
  for (int64_t t = 0; t < n_ids; ++t) DequantizeRow(table.dtype(), table.row(ids[t]), y + t * dim, dim);
}

}  // namespace strata::kernels
