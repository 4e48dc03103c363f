// Contiguous per-layer K and V storage for incremental decoding: row p of a layer holds the keys (values) of
// the token at position p. Paged storage comes with serving.
#pragma once

#include <cstdint>
#include <vector>

#include "compiler/ir.h"

namespace strata {

class KvCache {
 public:
  explicit KvCache(const ir::KvCacheSpec& spec);

  float* k(int layer) { return k_.data() + static_cast<size_t>(layer) * layer_size(); }
  float* v(int layer) { return v_.data() + static_cast<size_t>(layer) * layer_size(); }
  int64_t n_ctx() const { return spec_.n_ctx; }
  int64_t kv_dim() const { return spec_.kv_dim; }
  // Positions filled so far; the next token goes at this position.
  int64_t size() const { return size_; }
  void set_size(int64_t n) { size_ = n; }
  void Clear() { size_ = 0; }
  int64_t bytes() const { return static_cast<int64_t>((k_.size() + v_.size()) * sizeof(float)); }

 private:
  size_t layer_size() const { return static_cast<size_t>(spec_.n_ctx * spec_.kv_dim); }
  ir::KvCacheSpec spec_;
  std::vector<float> k_, v_;
  int64_t size_ = 0;
};

}  // namespace strata
