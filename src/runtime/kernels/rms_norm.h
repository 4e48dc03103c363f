// RMSNorm per row: y = (x / sqrt(mean(x²) + eps)) * w, the mean taken in double as the reference does.
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {

void RmsNorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps, ThreadPool& pool);
void RmsNormReference(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);

}  // namespace strata::kernels
