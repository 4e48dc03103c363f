#include "runtime/paged_kv_cache.h"

namespace strata {

PagedKvCache::PagedKvCache(int64_t n_layers, int64_t num_blocks, int64_t block_size, int64_t kv_dim, DType dtype)
    : n_layers_(n_layers), num_blocks_(num_blocks), block_size_(block_size), kv_dim_(kv_dim), dtype_(dtype),
      row_bytes_(RowBytes(dtype, kv_dim)),
      k_(static_cast<size_t>(n_layers * num_blocks * block_size * row_bytes_)),
      v_(static_cast<size_t>(n_layers * num_blocks * block_size * row_bytes_)) {}

}  // namespace strata
