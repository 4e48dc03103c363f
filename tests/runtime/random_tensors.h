// Random inputs for the kernel tests: normal floats, and [N, K] weights quantized from them.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "core/tensor.h"

namespace strata::testing {

inline std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// A [N, K] weight quantized from random floats, viewing storage of exactly its size (so that the sanitizer
// build catches any read past the last row).
inline Tensor RandomWeight(DType dtype, int64_t N, int64_t K, uint32_t seed) {
  auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(N * RowBytes(dtype, K)));
  const std::vector<float> src = Random(static_cast<size_t>(N * K), seed);
  for (int64_t n = 0; n < N; ++n) QuantizeRow(dtype, src.data() + n * K, bytes->data() + n * RowBytes(dtype, K), K);
  return Tensor::View(dtype, {N, K}, bytes->data(), bytes);
}

}  // namespace strata::testing
