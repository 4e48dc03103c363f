// Element-wise ops on float arrays: residual add, SiLU, product (the parts of a SwiGLU FFN).
#pragma once

#include <cstdint>

#include "core/thread_pool.h"

namespace strata::kernels {

void Add(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);
void Mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool);
void Silu(const float* x, float* y, int64_t n, ThreadPool& pool);

void AddReference(const float* a, const float* b, float* y, int64_t n);
void MulReference(const float* a, const float* b, float* y, int64_t n);
void SiluReference(const float* x, float* y, int64_t n);

}  // namespace strata::kernels
