#include "runtime/kernels/elementwise.h"

#include <algorithm>
#include <cmath>

#include "runtime/kernels/elementwise_internal.h"
#include "runtime/kernels/matmul_internal.h"

namespace strata::kernels {
namespace {

// Below this many elements a parallel split costs more than it saves.
constexpr int64_t kGrain = 8192;

constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCoef = 0.044715;

template <class F>
void Map(const float* x, float* y, int64_t n, ThreadPool& pool, F f) {
  pool.ParallelFor(n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) y[i] = f(x[i]);
  });
}

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
#if defined(__x86_64__)
  if (internal::BestIsa() == internal::Isa::kAvx512)  // as the F32 matmul chose it (CPU, STRATA_ISA)
    return pool.ParallelFor(n, kGrain, [&](int64_t begin, int64_t end) {
      internal::SiluAvx512(x + begin, y + begin, end - begin);
    });
#endif
  Map(x, y, n, pool, [](float v) { return v / (1.0f + std::exp(-v)); });
}

void GeluTanh(const float* x, float* y, int64_t n, ThreadPool& pool) {
  Map(x, y, n, pool, [](float v) {
    const float inner = static_cast<float>(kSqrt2OverPi) * v * (1.0f + static_cast<float>(kGeluCoef) * v * v);
    return 0.5f * v * (1.0f + std::tanh(inner));
  });
}

void Activate(Activation act, const float* x, float* y, int64_t n, ThreadPool& pool) {
  if (act == Activation::kGeluTanh) return GeluTanh(x, y, n, pool);
  if (act == Activation::kSigmoid) return Sigmoid(x, y, n, pool);
  Silu(x, y, n, pool);
}

void Sigmoid(const float* x, float* y, int64_t n, ThreadPool& pool) {
  Map(x, y, n, pool, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
}

void Scale(const float* x, float s, float* y, int64_t n, ThreadPool& pool) {
  Map(x, y, n, pool, [s](float v) { return v * s; });
}

void Softcap(const float* x, float cap, float* y, int64_t n, ThreadPool& pool) {
  const float inv = 1.0f / cap;
  Map(x, y, n, pool, [cap, inv](float v) { return cap * std::tanh(v * inv); });
}

void MulRows(const float* a, int64_t rows, int64_t width, const float* b, float* y, ThreadPool& pool) {
  pool.ParallelFor(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(width, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      for (int64_t c = 0; c < width; ++c) y[r * width + c] = a[r * width + c] * b[r];
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

void GeluTanhReference(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = static_cast<float>(0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + kGeluCoef * v * v * v))));
  }
}

void ActivateReference(Activation act, const float* x, float* y, int64_t n) {
  if (act == Activation::kGeluTanh) return GeluTanhReference(x, y, n);
  if (act == Activation::kSigmoid) return SigmoidReference(x, y, n);
  SiluReference(x, y, n);
}

void SigmoidReference(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
}

void ScaleReference(const float* x, float s, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

void SoftcapReference(const float* x, float cap, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(cap * std::tanh(static_cast<double>(x[i]) / cap));
}

void MulRowsReference(const float* a, int64_t rows, int64_t width, const float* b, float* y) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < width; ++c) y[r * width + c] = a[r * width + c] * b[r];
}

}  // namespace strata::kernels
