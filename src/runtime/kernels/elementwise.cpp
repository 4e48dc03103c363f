#include "runtime/kernels/elementwise.h"

#include <cmath>

namespace strata::kernels {
namespace {

// Below this many elements a parallel split costs more than it saves.
constexpr int64_t kGrain = 8192;

}  // namespace

void Add(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool) {
  pool.ParallelFor(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = a[i] + b[i];
  });
}

void Mul(const float* a, const float* b, float* y, int64_t n, ThreadPool& pool) {
  pool.ParallelFor(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = a[i] * b[i];
  });
}

void Silu(const float* x, float* y, int64_t n, ThreadPool& pool) {
  pool.ParallelFor(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = x[i] / (1.0f + std::exp(-x[i]));
  });
}

void AddReference(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void MulReference(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void SiluReference(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(x[i] / (1.0 + std::exp(-static_cast<double>(x[i]))));
}

}  // namespace strata::kernels
