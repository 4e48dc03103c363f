// A contiguous K/V cache (row j = position j) scattered into shuffled blocks, as the paged attention kernel
// reads it; shared by the kernel tests and the attention micro-benchmark.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/attention.h"

namespace strata::kernels {

// A contiguous cache (row j = position j) scattered into shuffled blocks, as the paged kernel reads it.
struct ScatteredCache {
  int64_t kBlock = 4;
  std::vector<float> k, v;
  std::vector<int32_t> table;
  std::vector<const int32_t*> row_tables;

  ScatteredCache(const std::vector<float>& kc, const std::vector<float>& vc, int64_t n_pos, int64_t kv_dim,
                 int64_t rows, uint32_t seed, int64_t block = 4)
      : kBlock(block) {
    const int64_t n_blocks = (n_pos + kBlock - 1) / kBlock + 3;  // spare blocks stay garbage
    table.resize(static_cast<size_t>(n_blocks));
    for (int64_t b = 0; b < n_blocks; ++b) table[static_cast<size_t>(b)] = static_cast<int32_t>(b);
    std::shuffle(table.begin(), table.end(), std::mt19937(seed));
    k = testing::Random(static_cast<size_t>(n_blocks * kBlock * kv_dim), seed + 1, 100.0f);
    v = testing::Random(k.size(), seed + 2, 100.0f);
    for (int64_t j = 0; j < n_pos; ++j) {
      const int64_t slot = table[static_cast<size_t>(j / kBlock)] * kBlock + j % kBlock;
      std::copy_n(kc.begin() + j * kv_dim, kv_dim, k.begin() + slot * kv_dim);
      std::copy_n(vc.begin() + j * kv_dim, kv_dim, v.begin() + slot * kv_dim);
    }
    row_tables.assign(static_cast<size_t>(rows), table.data());
  }
  PagedKvView view() const {
    return {reinterpret_cast<const uint8_t*>(k.data()), reinterpret_cast<const uint8_t*>(v.data()), kBlock, row_tables.data()};
  }
};

}  // namespace strata::kernels
