// The integer (8-bit activation) matmul next to the F32-activation path, 2048x2048, GEMV and T=64 GEMM.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include "random_tensors.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"

namespace strata::kernels {
namespace {

using testing::Random;
using testing::RandomWeight;

TEST(QuantMatMulBench, ThroughputNextToFloatActivations) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI";
  ThreadPool pool(1);
  const int64_t N = 2048, K = 2048;
  for (DType dtype : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K, DType::kQ2_K, DType::kQ3_K, DType::kQ5_K})
    for (int64_t T : {1, 64}) {
      const Tensor w = RandomWeight(dtype, N, K, 1);
      const auto p = PackedWeight::PackAnyCpu(w);
      const std::vector<float> x = Random(static_cast<size_t>(T * K), 2);
      std::vector<float> y(static_cast<size_t>(T * N));
      auto time = [&](auto&& f) {
        f();
        const auto t0 = std::chrono::steady_clock::now();
        const int reps = T == 1 ? 20 : 1;
        for (int i = 0; i < reps; ++i) f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
      };
      const double qi = time([&] { QuantMatMul(*p, x.data(), y.data(), T, pool); });
      const double qf = time([&] { MatMul(w, x.data(), y.data(), T, pool); });
      std::printf("[ %s %lldx%lld T=%lld ] int8 activations %.2f ms (%.1f GMAC/s), f32 activations %.2f ms\n",
                  Name(dtype), static_cast<long long>(N), static_cast<long long>(K), static_cast<long long>(T), qi,
                  static_cast<double>(N * K * T) / qi / 1e6, qf);
    }
}

}  // namespace
}  // namespace strata::kernels
