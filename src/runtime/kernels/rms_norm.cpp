#include "runtime/kernels/rms_norm.h"

#include <cmath>

namespace strata::kernels {
namespace {

void NormRow(const float* x, const float* w, float* y, int64_t n, float eps) {
  // Four partial sums let the compiler vectorise the double accumulation.
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) s[j] += static_cast<double>(x[i + j]) * x[i + j];
  for (; i < n; ++i) s[0] += static_cast<double>(x[i]) * x[i];
  const double scale = 1.0 / std::sqrt((s[0] + s[1] + s[2] + s[3]) / static_cast<double>(n) + eps);
  for (int64_t k = 0; k < n; ++k) y[k] = static_cast<float>(x[k] * scale) * w[k];
}

}  // namespace

void RmsNorm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps, ThreadPool& pool) {
  pool.ParallelFor(rows, std::max<int64_t>(1, 16384 / n), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) NormRow(x + r * n, w, y + r * n, n, eps);
  });
}

void RmsNormReference(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t k = 0; k < n; ++k) ss += static_cast<double>(x[r * n + k]) * x[r * n + k];
    const double denom = std::sqrt(ss / static_cast<double>(n) + eps);
    for (int64_t k = 0; k < n; ++k) y[r * n + k] = static_cast<float>(x[r * n + k] / denom) * w[k];
  }
}

}  // namespace strata::kernels
