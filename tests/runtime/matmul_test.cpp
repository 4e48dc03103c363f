// MatMul against MatMulReference for every weight dtype, on odd shapes, on every instruction-set path this CPU
// has, with 1 and 3 threads; plus the reference against hand-computed values. Throughput is in
// bench/micro/matmul_bench.cpp.
//
// Tolerance: each output must satisfy |y - ref| <= kRelTol * Σ_k |x_k w_k| (w dequantized). Float accumulation
// in a different order than the double reference gives errors of order sqrt(K) * 2^-24 of that sum; the
// largest ratio measured over all cases here (K up to 4096, every path and dtype) is printed per test and was
// 2.1e-7 (scalar path; 0.8-1.5e-7 on the SIMD paths), so kRelTol leaves a 10x margin.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/matmul_internal.h"

namespace strata::kernels {
namespace {

using testing::Random;
using testing::RandomWeight;

using internal::Isa;

constexpr double kRelTol = 2e-6;

// Σ_k |x[t, k] w[n, k]| for every output, the scale the error is measured against.
std::vector<double> AbsScale(const Tensor& w, const std::vector<float>& x, int64_t T) {
  const int64_t N = w.dim(0), K = w.dim(1);
  std::vector<float> row(static_cast<size_t>(K));
  std::vector<double> s(static_cast<size_t>(T * N));
  for (int64_t n = 0; n < N; ++n) {
    DequantizeRow(w.dtype(), w.row(n), row.data(), K);
    for (int64_t t = 0; t < T; ++t) {
      const float* xt = x.data() + t * K;
      double a = 0;
      for (int64_t k = 0; k < K; ++k) a += std::fabs(static_cast<double>(xt[k]) * row[static_cast<size_t>(k)]);
      s[static_cast<size_t>(t * N + n)] = a;
    }
  }
  return s;
}

const DType kDtypes[] = {DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ8_0,
                         DType::kQ4_0, DType::kQ4_K, DType::kQ6_K,
                         DType::kQ4_1, DType::kQ5_0, DType::kQ5_1};

std::vector<int64_t> KsFor(DType dtype) {
  if (Traits(dtype).block_elems == kQK_K) return {256, 512, 768, 1280};  // 1280 = 5 super-blocks, 3 K chunks
  if (Traits(dtype).block_elems > 1) return {32, 96, 160, 1056};  // 1056 = 33 blocks, spans 3 K chunks
  return {1, 7, 33, 100, 1037};                                    // 1037 spans 3 K chunks with a ragged tail
}

// ------------------------------------------------------------------------------------------------------------
// The reference itself, against values computed by hand (independent of the kernels' block decoding).

TEST(MatMulReference, MatchesHandComputedF32) {
  const std::vector<float> wv = {1, 2, 3, -1, 0, 0.5f};  // W = [[1, 2, 3], [-1, 0, 0.5]]
  const Tensor w = Tensor::View(DType::kF32, {2, 3}, wv.data());
  const std::vector<float> x = {1, 1, 1, 2, -1, 4};  // two activation rows
  std::vector<float> y(4);
  MatMulReference(w, x.data(), y.data(), 2);
  EXPECT_EQ(y, (std::vector<float>{6, -0.5f, 12, 0}));
}

TEST(MatMulReference, DecodesQuantizedBlockLayouts) {
  // Q4_0: byte j holds element j (low nibble) and element j + 16 (high nibble); value = (nibble - 8) * d.
  BlockQ4_0 q4{};
  q4.d = Fp32ToFp16(0.5f);
  for (int j = 0; j < 16; ++j) q4.qs[j] = static_cast<uint8_t>((j & 0xf) | (15 - j) << 4);
  // Q8_0: value = qs * d.
  BlockQ8_0 q8{};
  q8.d = Fp32ToFp16(0.25f);
  for (int j = 0; j < 32; ++j) q8.qs[j] = static_cast<int8_t>(j - 16);
  std::vector<float> x(32, 0.0f);
  x[1] = 1.0f;   // element 1: Q4 low nibble 1 -> -3.5; Q8 -15 * 0.25
  x[17] = 2.0f;  // element 17: Q4 high nibble of byte 1 = 14 -> 3; Q8 1 * 0.25
  float y = 0;
  MatMulReference(Tensor::View(DType::kQ4_0, {1, 32}, &q4), x.data(), &y, 1);
  EXPECT_FLOAT_EQ(y, -3.5f + 2 * 3.0f);
  MatMulReference(Tensor::View(DType::kQ8_0, {1, 32}, &q8), x.data(), &y, 1);
  EXPECT_FLOAT_EQ(y, -3.75f + 2 * 0.25f);
  ThreadPool pool(1);
  MatMul(Tensor::View(DType::kQ4_0, {1, 32}, &q4), x.data(), &y, 1, pool);
  EXPECT_FLOAT_EQ(y, 2.5f);
}

// Every path decodes K-quant blocks to exactly DequantizeRow's values: against one-hot activation rows each
// output is a single weight (every other product is an exact zero), through the fused kernel (T = 1) and the
// tiled one (T = K, the identity matrix).
TEST(MatMul, KQuantPathsDecodeExactly) {
  ThreadPool pool(2);
  const int64_t N = 3, K = 512;
  for (DType dtype : {DType::kQ4_K, DType::kQ6_K, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1}) {
    const Tensor w = RandomWeight(dtype, N, K, 42);
    std::vector<float> deq(static_cast<size_t>(N * K));
    for (int64_t n = 0; n < N; ++n) DequantizeRow(dtype, w.row(n), deq.data() + n * K, K);
    std::vector<float> eye(static_cast<size_t>(K * K), 0.0f), y(static_cast<size_t>(K * N));
    for (int64_t k = 0; k < K; ++k) eye[static_cast<size_t>(k * K + k)] = 1.0f;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (!internal::IsaSupported(isa)) continue;
      SCOPED_TRACE(::testing::Message() << internal::IsaName(isa) << " " << Name(dtype));
      for (int64_t k : {0, 31, 32, 100, 255, 256, 300, 511}) {
        internal::MatMulWithIsa(isa, w, eye.data() + k * K, y.data(), 1, pool);
        for (int64_t n = 0; n < N; ++n) ASSERT_EQ(y[static_cast<size_t>(n)], deq[static_cast<size_t>(n * K + k)]) << k;
      }
      internal::MatMulWithIsa(isa, w, eye.data(), y.data(), K, pool);
      for (int64_t k = 0; k < K; ++k)
        for (int64_t n = 0; n < N; ++n)
          ASSERT_EQ(y[static_cast<size_t>(k * N + n)], deq[static_cast<size_t>(n * K + k)]) << "T = K, element " << k;
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Every path x every dtype against the reference.

struct PathCase {
  Isa isa;
  DType dtype;
};

class MatMulPathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(MatMulPathTest, MatchesReference) {
  const auto [isa, dtype] = GetParam();
  if (!internal::IsaSupported(isa)) GTEST_SKIP() << internal::IsaName(isa) << " not supported on this CPU";
  ThreadPool pool1(1), pool3(3);
  double worst = 0;  // largest |y - ref| / Σ|x w| seen
  uint32_t seed = 1;
  for (int64_t K : KsFor(dtype))
    for (int64_t N : {1, 3, 17, 67})
      for (int64_t T : {1, 2, 3, 5, 7, 16, 33}) {  // 1-8: fused kernel (MT 1-4 + tails); more: tiled
        SCOPED_TRACE(::testing::Message() << Name(dtype) << " N=" << N << " K=" << K << " T=" << T);
        const Tensor w = RandomWeight(dtype, N, K, seed++);
        const std::vector<float> x = Random(static_cast<size_t>(T * K), seed++);
        const size_t out = static_cast<size_t>(T * N);
        std::vector<float> ref(out), y1(out, NAN), y3(out, NAN);
        MatMulReference(w, x.data(), ref.data(), T);
        internal::MatMulWithIsa(isa, w, x.data(), y1.data(), T, pool1);
        internal::MatMulWithIsa(isa, w, x.data(), y3.data(), T, pool3);
        // Each output is computed the same way whatever the split across threads.
        ASSERT_EQ(0, std::memcmp(y1.data(), y3.data(), out * sizeof(float)));
        const std::vector<double> scale = AbsScale(w, x, T);
        for (size_t i = 0; i < out; ++i) {
          const double diff = std::fabs(static_cast<double>(y1[i]) - ref[i]);
          ASSERT_LE(diff, kRelTol * scale[i] + 1e-30) << "output " << i << ": " << y1[i] << " vs " << ref[i];
          if (scale[i] > 0) worst = std::max(worst, diff / scale[i]);
        }
      }
  // Realistic widths: K = 4096 (8 K chunks), decode and prefill.
  for (int64_t T : {1, 7}) {
    const int64_t N = 9, K = 4096;
    const Tensor w = RandomWeight(dtype, N, K, seed++);
    const std::vector<float> x = Random(static_cast<size_t>(T * K), seed++);
    std::vector<float> ref(static_cast<size_t>(T * N)), y(ref.size());
    MatMulReference(w, x.data(), ref.data(), T);
    internal::MatMulWithIsa(isa, w, x.data(), y.data(), T, pool3);
    const std::vector<double> scale = AbsScale(w, x, T);
    for (size_t i = 0; i < y.size(); ++i) {
      const double diff = std::fabs(static_cast<double>(y[i]) - ref[i]);
      ASSERT_LE(diff, kRelTol * scale[i]) << "K=4096 T=" << T << " output " << i;
      worst = std::max(worst, diff / scale[i]);
    }
  }
  std::printf("[ %s %s ] worst |y - ref| / sum|x w|: %.3g (tolerance %.1g)\n", internal::IsaName(isa), Name(dtype),
              worst, kRelTol);
}

std::vector<PathCase> AllCases() {
  std::vector<PathCase> cases;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    for (DType d : kDtypes) cases.push_back({isa, d});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(MatMul, MatMulPathTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<PathCase>& info) {
                           return std::string(internal::IsaName(info.param.isa)) + "_" + Name(info.param.dtype);
                         });

// The public entry point (the dispatched path) on a few shapes, and the name it reports.
TEST(MatMul, DispatchedPathMatchesReference) {
  const std::string isa = MatMulIsa();
  ASSERT_TRUE(isa == "avx512" || isa == "avx2" || isa == "scalar") << isa;
  EXPECT_EQ(isa, internal::IsaName(internal::BestIsa()));
  EXPECT_TRUE(internal::IsaSupported(internal::BestIsa()));
  std::printf("[ MatMulIsa ] %s\n", isa.c_str());
  ThreadPool pool(3);
  for (DType dtype : kDtypes)
    for (int64_t T : {1, 6}) {
      const int64_t N = 67, K = Traits(dtype).block_elems == kQK_K ? 768 : 160;
      const Tensor w = RandomWeight(dtype, N, K, 100 + static_cast<uint32_t>(T));
      const std::vector<float> x = Random(static_cast<size_t>(T * K), 7);
      std::vector<float> ref(static_cast<size_t>(T * N)), y(ref.size());
      MatMulReference(w, x.data(), ref.data(), T);
      MatMul(w, x.data(), y.data(), T, pool);
      const std::vector<double> scale = AbsScale(w, x, T);
      for (size_t i = 0; i < y.size(); ++i) ASSERT_LE(std::fabs(y[i] - ref[i]), kRelTol * scale[i]) << Name(dtype);
    }
}

// ------------------------------------------------------------------------------------------------------------
// Throughput print (never asserted): GB/s of weight bytes read by a GEMV, and GFLOP/s of a T = 64 prefill.

}  // namespace
}  // namespace strata::kernels
