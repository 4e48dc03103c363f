// Portable matmul path (any CPU): weights are dequantized in chunks with the reference DequantizeRow and
// multiplied in plain loops the compiler may vectorise for the baseline instruction set.
#include <algorithm>

#include "runtime/kernels/matmul_internal.h"
#include "runtime/kernels/matmul_tiled.h"

namespace strata::kernels::internal {
namespace {

constexpr int kLanes = 8;  // independent partial sums per dot product

struct ScalarKern {
  static constexpr int kMT = 4, kNR = 4;
  static constexpr int kGemvMT = 4, kFusedMaxT = 4;

  static void Dequant(DType dtype, const uint8_t* row, int64_t k0, int64_t kl, float* dst) {
    DequantizeRow(dtype, row + RowBytes(dtype, k0), dst, kl);
  }

  static float Dot(const float* a, const float* b, int64_t n) {
    float s[kLanes] = {};
    int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
      for (int l = 0; l < kLanes; ++l) s[l] += a[k + l] * b[k + l];
    for (; k < n; ++k) s[0] += a[k] * b[k];
    float sum = 0;
    for (float v : s) sum += v;
    return sum;
  }

  template <int MT>
  static void Gemv(const Problem& p, int64_t n0, int64_t n1, int64_t t0) {
    float buf[kKC];
    for (int64_t n = n0; n < n1; ++n) {
      const uint8_t* row = p.w + n * p.row_bytes;
      float sum[MT] = {};
      for (int64_t k0 = 0; k0 < p.K; k0 += kKC) {
        const int64_t kl = std::min(kKC, p.K - k0);
        const float* w = buf;
        if (p.dtype == DType::kF32)
          w = reinterpret_cast<const float*>(row) + k0;
        else
          Dequant(p.dtype, row, k0, kl, buf);
        for (int t = 0; t < MT; ++t) sum[t] += Dot(p.x + (t0 + t) * p.K + k0, w, kl);
      }
      for (int t = 0; t < MT; ++t) p.y[(t0 + t) * p.N + n] = sum[t];
    }
  }

  template <int MT, int NR>
  struct Tile {
    static void Run(const float* x, int64_t ldx, const float* b, int64_t ldb, int64_t kl, float* y, int64_t ldy,
                    bool accumulate) {
      for (int i = 0; i < MT; ++i)
        for (int j = 0; j < NR; ++j) {
          const float s = Dot(x + i * ldx, b + j * ldb, kl);
          y[i * ldy + j] = accumulate ? y[i * ldy + j] + s : s;
        }
    }
  };
};

}  // namespace

void MatMulRowsScalar(const Problem& p, int64_t n0, int64_t n1) { TiledRows<ScalarKern>(p, n0, n1); }

}  // namespace strata::kernels::internal
