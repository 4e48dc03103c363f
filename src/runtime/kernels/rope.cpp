#include "runtime/kernels/rope.h"

#include <cmath>
#include <vector>

namespace strata::kernels {

void Rope(float* x, int64_t rows, int64_t width, int64_t head_dim, const int32_t* positions, float base,
          ThreadPool& pool) {
  const int64_t half = head_dim / 2;
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) inv_freq[static_cast<size_t>(i)] = std::pow(static_cast<double>(base), -2.0 * i / head_dim);
  pool.ParallelFor(rows, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> cs(static_cast<size_t>(2 * half));
    for (int64_t r = begin; r < end; ++r) {
      // cos/sin once per row, shared by every head; rounded to float as the reference tables are.
      for (int64_t i = 0; i < half; ++i) {
        const double a = positions[r] * inv_freq[static_cast<size_t>(i)];
        cs[static_cast<size_t>(2 * i)] = static_cast<float>(std::cos(a));
        cs[static_cast<size_t>(2 * i + 1)] = static_cast<float>(std::sin(a));
      }
      float* row = x + r * width;
      for (int64_t h = 0; h < width; h += head_dim) {
        for (int64_t i = 0; i < half; ++i) {
          const float c = cs[static_cast<size_t>(2 * i)], s = cs[static_cast<size_t>(2 * i + 1)];
          const float x0 = row[h + 2 * i], x1 = row[h + 2 * i + 1];
          row[h + 2 * i] = x0 * c - x1 * s;
          row[h + 2 * i + 1] = x0 * s + x1 * c;
        }
      }
    }
  });
}

void RopeReference(float* x, int64_t rows, int64_t width, int64_t head_dim, const int32_t* positions, float base) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < width; h += head_dim)
      for (int64_t i = 0; i < head_dim / 2; ++i) {
        const double theta = positions[r] * std::pow(static_cast<double>(base), -2.0 * i / head_dim);
        const float c = static_cast<float>(std::cos(theta)), s = static_cast<float>(std::sin(theta));
        float* p = x + r * width + h + 2 * i;
        const float x0 = p[0], x1 = p[1];
        p[0] = x0 * c - x1 * s;
        p[1] = x0 * s + x1 * c;
      }
}

}  // namespace strata::kernels
