// The integer matmul's reference for Q4_1, Q5_0 and Q5_1 weights against exact integer results.
// (quant_matmul_test.cpp takes these types through the rest: the reference within activation rounding of F32,
// and both kernels over the packed layout against it, bit for bit; matmul_test.cpp the F32-activation MatMul.)
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "runtime/kernels/quant_matmul.h"

namespace strata::kernels::quant_matmul_q4_1_q5_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

constexpr DType kTypes[] = {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1};

// A block with d = 1 and an integer min, quants from `quant`, laid out as ggml does (written from the layout,
// not through the library's block structs).
void PutBlock(DType t, uint8_t* blk, int m, int (*quant)(int e)) {
  const uint16_t one = Fp32ToFp16(1.0f), mh = Fp32ToFp16(static_cast<float>(m));
  std::memcpy(blk, &one, 2);
  size_t at = 2;
  if (t != DType::kQ5_0) std::memcpy(blk + 2, &mh, 2), at = 4;
  if (t != DType::kQ4_1) {
    uint32_t qh = 0;
    for (int e = 0; e < 32; ++e) qh |= static_cast<uint32_t>(quant(e) >> 4) << e;
    std::memcpy(blk + at, &qh, 4);
    at += 4;
  }
  for (int j = 0; j < 16; ++j)
    blk[at + static_cast<size_t>(j)] = static_cast<uint8_t>((quant(j) & 15) | (quant(j + 16) & 15) << 4);
}

TEST(QuantMatMulQ4_1Q5, ReferenceIsExactOnIntegerProblems) {
  // Activations that quantize exactly (block max 127, so d = 1): the result is the exact integer dot product
  // of x with q + m (Q4_1, Q5_1) or q - 16 (Q5_0), min term included.
  const int64_t N = 16, K = 64;
  std::vector<float> x(K);
  for (int64_t k = 0; k < K; ++k) x[static_cast<size_t>(k)] = static_cast<float>(k % 2 ? 127 - k : -(k % 50));
  x[0] = 127, x[32] = -127;
  static int row_seed = 0;
  for (DType t : kTypes) {
    const int levels = t == DType::kQ4_1 ? 16 : 32;
    const int64_t row_bytes = RowBytes(t, K);
    auto bytes = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(N * row_bytes));
    std::vector<long> want(N, 0);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t b = 0; b < K / 32; ++b) {
        row_seed = static_cast<int>(n * 7 + b * 3);
        const auto quant = [](int e) { return (row_seed + e * 5) % 32; };
        const int m = static_cast<int>(n % 5) - 2;
        PutBlock(t, bytes->data() + n * row_bytes + b * Traits(t).block_bytes, m, quant);
        for (int e = 0; e < 32; ++e) {
          const int q = quant(e) % levels;
          const long w = t == DType::kQ5_0 ? q - 16 : q + m;
          want[static_cast<size_t>(n)] += w * static_cast<long>(x[static_cast<size_t>(32 * b + e)]);
        }
      }
    const Tensor w = Tensor::View(t, {N, K}, bytes->data(), bytes);
    std::vector<float> y(N);
    QuantMatMulReference(w, x.data(), y.data(), 1);
    for (int64_t n = 0; n < N; ++n)
      EXPECT_EQ(y[static_cast<size_t>(n)], static_cast<float>(want[static_cast<size_t>(n)])) << Name(t) << " row " << n;
  }
}

}  // namespace
}  // namespace strata::kernels::quant_matmul_q4_1_q5_test
