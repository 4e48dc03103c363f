#include "runtime/paged_kv_cache.h"

#include <new>

namespace strata {
namespace {

uint8_t* Zeroed(int64_t bytes) {
  void* p = std::calloc(static_cast<size_t>(bytes > 0 ? bytes : 1), 1);
  if (!p) throw std::bad_alloc();  // as the std::vector it replaces would
  return static_cast<uint8_t*>(p);
}

}  // namespace

PagedKvCache::PagedKvCache(int64_t n_layers, int64_t num_blocks, int64_t block_size, int64_t kv_dim, DType dtype)
    : n_layers_(n_layers), num_blocks_(num_blocks), block_size_(block_size), kv_dim_(kv_dim), dtype_(dtype),
      row_bytes_(RowBytes(dtype, kv_dim)), layer_bytes_(num_blocks * block_size * row_bytes_),
      k_(Zeroed(n_layers * layer_bytes_)), v_(Zeroed(n_layers * layer_bytes_)) {}

}  // namespace strata
