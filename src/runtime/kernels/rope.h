// Rotary position embedding as llama.cpp applies it for arch `llama` (NORM mode): within each head the
// adjacent pairs (x[2i], x[2i+1]) rotate by pos · base^(-2i/head_dim). In place on [rows, heads*head_dim].
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {

void Rope(float* x, int64_t rows, int64_t width, int64_t head_dim, const int32_t* positions, float base,
          ThreadPool& pool);
void RopeReference(float* x, int64_t rows, int64_t width, int64_t head_dim, const int32_t* positions, float base);

}  // namespace strata::kernels
