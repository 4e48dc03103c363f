// K and V storage in fixed-size blocks of token slots, shared by every sequence of a batch: a sequence finds
// its tokens through a block table (slot = block * block_size + offset). Which blocks a sequence owns is the
// engine's business; this class only holds the memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strata {

class PagedKvCache {
 public:
  PagedKvCache(int64_t n_layers, int64_t num_blocks, int64_t block_size, int64_t kv_dim);

  // Row of kv_dim floats for `slot` in `layer`.
  float* k(int64_t layer, int64_t slot) { return k_.data() + Offset(layer, slot); }
  float* v(int64_t layer, int64_t slot) { return v_.data() + Offset(layer, slot); }
  const float* k_layer(int64_t layer) const { return k_.data() + Offset(layer, 0); }
  const float* v_layer(int64_t layer) const { return v_.data() + Offset(layer, 0); }

  int64_t n_layers() const { return n_layers_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t block_size() const { return block_size_; }
  int64_t num_slots() const { return num_blocks_ * block_size_; }
  int64_t kv_dim() const { return kv_dim_; }
  int64_t bytes() const { return static_cast<int64_t>((k_.size() + v_.size()) * sizeof(float)); }
  // Bytes one token takes over all layers (K and V): what a memory budget divides by.
  static int64_t BytesPerToken(int64_t n_layers, int64_t kv_dim) { return n_layers * kv_dim * 2 * 4; }

 private:
  size_t Offset(int64_t layer, int64_t slot) const {
    return static_cast<size_t>((layer * num_slots() + slot) * kv_dim_);
  }
  int64_t n_layers_, num_blocks_, block_size_, kv_dim_;
  std::vector<float> k_, v_;
};

}  // namespace strata
