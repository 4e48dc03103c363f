// K and V storage in fixed-size blocks of token slots, shared by every sequence of a batch: a sequence finds
// its tokens through a block table (slot = block * block_size + offset). Which blocks a sequence owns is the
// engine's business; this class only holds the memory. A slot's row of kv_dim values is stored as F32, F16
// or Q8_0 (blocks of 32 values with one scale, as llama.cpp's --cache-type-k/v): the attention kernels read
// that form directly, so a smaller type means fewer bytes read per decoded token and more tokens per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "core/dtype.h"

namespace strata {

class PagedKvCache {
 public:
  PagedKvCache(int64_t n_layers, int64_t num_blocks, int64_t block_size, int64_t kv_dim, DType dtype = DType::kF32);

  // The stored row of `slot` in `layer` (row_bytes() bytes of dtype()).
  uint8_t* k(int64_t layer, int64_t slot) { return k_.get() + Offset(layer, slot); }
  uint8_t* v(int64_t layer, int64_t slot) { return v_.get() + Offset(layer, slot); }
  const uint8_t* k_layer(int64_t layer) const { return k_.get() + Offset(layer, 0); }
  const uint8_t* v_layer(int64_t layer) const { return v_.get() + Offset(layer, 0); }

  int64_t n_layers() const { return n_layers_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t num_slots() const { return num_blocks_ * block_size_; }
  int64_t kv_dim() const { return kv_dim_; }
  DType dtype() const { return dtype_; }
  int64_t row_bytes() const { return row_bytes_; }
  int64_t bytes() const { return 2 * layer_bytes_ * n_layers_; }
  // Bytes one token takes over all layers (K and V): what a memory budget divides by.
  static int64_t BytesPerToken(int64_t n_layers, int64_t kv_dim, DType dtype = DType::kF32) {
    return n_layers * RowBytes(dtype, kv_dim) * 2;
  }
  // The types a cache may hold.
  static bool Supports(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kQ8_0; }

 private:
  size_t Offset(int64_t layer, int64_t slot) const {
    return static_cast<size_t>((layer * num_slots() + slot) * row_bytes_);
  }
  int64_t n_layers_, num_blocks_, block_size_, kv_dim_;
  DType dtype_;
  int64_t row_bytes_;
  int64_t layer_bytes_;
  // calloc'd: large zeroed allocations come straight from the OS, so the cache is resident only as it fills.
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t[], Free> k_, v_;
};

}  // namespace strata
