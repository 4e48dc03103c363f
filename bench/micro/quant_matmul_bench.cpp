// The integer (8-bit activation) matmul next to the F32-activation path, 2048x2048, GEMV and T=64 GEMM.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
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

// Decode GEMV over more weight bytes than the last-level cache holds (as a model's layers are): GB/s of packed
// weights streamed per dtype, 1 and 2 threads. Compare with `strata bench`'s measured read bandwidth.
TEST(QuantMatMulBench, GemvStreamingBandwidth) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI";
  const int64_t N = 8192, K = 2048;
  const char* only = std::getenv("STRATA_BENCH_DTYPE");  // e.g. q6_k: that dtype alone
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (DType dtype : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
      if (only != nullptr && std::string(only) != Name(dtype)) continue;
      const Tensor w = RandomWeight(dtype, N, K, 1);
      std::vector<std::unique_ptr<PackedWeight>> ps;
      size_t bytes = 0;
      while (bytes < (size_t{1200} << 20)) {
        ps.push_back(PackedWeight::PackAnyCpu(w));
        bytes += ps.back()->bytes();
      }
      const std::vector<float> x = Random(static_cast<size_t>(K), 2);
      std::vector<float> y(static_cast<size_t>(N));
      double best = 1e9;
      for (int rep = 0; rep < 4; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        for (const auto& p : ps) QuantMatMul(*p, x.data(), y.data(), 1, pool);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("[ %s GEMV %d threads ] %.1f GB/s of packed weights (%.1f GB/s of file bytes)\n", Name(dtype),
                  threads, static_cast<double>(bytes) / best / 1e9,
                  static_cast<double>(ps.size()) * static_cast<double>(w.nbytes()) / best / 1e9);
    }
  }
}

// Decode GEMV with the weights in L2 (512 x 2048: 0.3 to 1.1 MiB): the kernel's compute-bound rate, one thread,
// best of 200 passes, so a kernel that streams slowly can be told apart from one that computes slowly.
TEST(QuantMatMulBench, GemvInCacheRate) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI";
  const int64_t N = 512, K = 2048;
  const char* only = std::getenv("STRATA_BENCH_DTYPE");
  ThreadPool pool(1);
  for (DType dtype : {DType::kQ4_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    if (only != nullptr && std::string(only) != Name(dtype)) continue;
    const Tensor w = RandomWeight(dtype, N, K, 1);
    const auto p = PackedWeight::PackAnyCpu(w);
    const std::vector<float> x = Random(static_cast<size_t>(K), 2);
    std::vector<float> y(static_cast<size_t>(N));
    double best = 1e9;
    for (int rep = 0; rep < 200; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      QuantMatMul(*p, x.data(), y.data(), 1, pool);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("[ %s GEMV in L2 ] %.1f GB/s of packed weights\n", Name(dtype),
                static_cast<double>(p->bytes()) / best / 1e9);
  }
}

// Prefill GEMM at T=512 on the 1B shape's projections (2048x2048, 8192x2048 and 2048x8192), one thread, best of
// 5: GMAC/s per dtype, so K-quants can be set against Q8_0 in the same run. STRATA_BENCH_DTYPE picks one dtype.
TEST(QuantMatMulBench, PrefillGemmRate) {
  if (!HasVnni()) GTEST_SKIP() << "no AVX-512 VNNI";
  const char* only = std::getenv("STRATA_BENCH_DTYPE");
  // best of this many runs a shape (STRATA_BENCH_REPS): more steadies an A/B comparison on a noisy machine
  const char* reps_env = std::getenv("STRATA_BENCH_REPS");
  const int reps = reps_env != nullptr ? std::clamp(std::atoi(reps_env), 1, 1000) : 5;
  ThreadPool pool(1);
  const int64_t T = 512;
  for (DType dtype : {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K, DType::kQ6_K}) {
    if (only != nullptr && std::string(only) != Name(dtype)) continue;
    double macs = 0, seconds = 0;
    for (const auto& [N, K] : {std::pair<int64_t, int64_t>{2048, 2048}, {8192, 2048}, {2048, 8192}}) {
      const Tensor w = RandomWeight(dtype, N, K, 1);
      const auto p = PackedWeight::PackAnyCpu(w);
      const std::vector<float> x = Random(static_cast<size_t>(T * K), 2);
      std::vector<float> y(static_cast<size_t>(T * N));
      double best = 1e9;
      for (int rep = 0; rep < reps; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        QuantMatMul(*p, x.data(), y.data(), T, pool);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("[ %s %lldx%lld T=512 ] %.1f GMAC/s\n", Name(dtype), static_cast<long long>(N),
                  static_cast<long long>(K), static_cast<double>(N * K * T) / best / 1e9);
      macs += static_cast<double>(N * K * T), seconds += best;
    }
    std::printf("[ %s prefill GEMM ] %.1f GMAC/s over the three shapes\n", Name(dtype), macs / seconds / 1e9);
  }
}

}  // namespace
}  // namespace strata::kernels
