// Reproducible random weights for generated models: a row's values depend only on (seed, tensor, row), not on
// the thread count or chunking that produced them.
#pragma once

#include <cstdint>

namespace strata {

// Row `row` of tensor `tensor`: n values of normal(0, std) by Box-Muller from SplitMix64 seeded by
// (seed, tensor, row).
void RandomRow(uint64_t seed, uint64_t tensor, uint64_t row, float* out, int64_t n, float std);

}  // namespace strata
