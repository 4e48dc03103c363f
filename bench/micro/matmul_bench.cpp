// GEMV/GEMM throughput of the F32-activation MatMul for every weight dtype, at 1 and 2 threads.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "random_tensors.h"
#include "runtime/kernels/matmul.h"

namespace strata::kernels {
namespace {

using testing::Random;

double SecondsPerCall(const std::function<void()>& fn) {
  fn();  // warm up (and fault in)
  int iters = 1;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > 0.05 || iters >= (1 << 16)) return s / iters;
    iters *= 2;
  }
}

// A weight with valid scales and arbitrary quantized values (fast to build at any size).
Tensor BenchWeight(DType dtype, int64_t N, int64_t K) {
  Tensor w = Tensor::Empty(dtype, {N, K});
  std::mt19937 rng(5);
  auto* p = static_cast<uint8_t*>(w.mutable_data());
  const int64_t bytes = w.nbytes();
  if (Traits(dtype).block_elems > 1) {
    // Offsets of the fp16 scales in a block: Q6_K keeps its one at the end, Q4_K has d and dmin first.
    std::vector<int64_t> scales = {0};
    if (dtype == DType::kQ4_K) scales = {0, 2};
    if (dtype == DType::kQ6_K) scales = {offsetof(BlockQ6_K, d)};
    const int64_t bb = Traits(dtype).block_bytes;
    const uint16_t d = Fp32ToFp16(0.01f);
    for (int64_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(rng());
    for (int64_t i = 0; i < bytes; i += bb)
      for (int64_t at : scales) std::memcpy(p + i + at, &d, 2);
  } else {
    const std::vector<float> row = Random(static_cast<size_t>(K), 6);
    for (int64_t n = 0; n < N; ++n) QuantizeRow(dtype, row.data(), p + n * w.row_bytes(), K);
  }
  return w;
}

TEST(MatMulBench, GemvThroughput) {
  struct Shape {
    int64_t N, K;
    const char* note;
  };
  for (Shape s : {Shape{2048, 2048, "L3-resident"}, Shape{8192, 4096, "DRAM-sized for q8_0/f16"}})
    for (DType dtype :
         {DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kQ8_0, DType::kF16, DType::kBF16, DType::kF32}) {
      if (s.N > 2048 && (dtype == DType::kF32 || dtype == DType::kBF16)) continue;
      const Tensor w = BenchWeight(dtype, s.N, s.K);
      const std::vector<float> x = Random(static_cast<size_t>(s.K), 3);
      std::vector<float> y(static_cast<size_t>(s.N));
      for (int threads : {1, 2}) {
        ThreadPool pool(threads);
        const double sec = SecondsPerCall([&] { MatMul(w, x.data(), y.data(), 1, pool); });
        std::printf("[ GEMV %s ] %5s %lldx%lld (%.1f MB, %s), %d thread(s): %7.1f us, %6.1f GB/s\n", MatMulIsa(),
                    Name(dtype), static_cast<long long>(s.N), static_cast<long long>(s.K), w.nbytes() / 1e6,
                    s.note, threads, sec * 1e6, w.nbytes() / sec / 1e9);
      }
    }
  for (DType dtype : {DType::kQ4_0, DType::kQ4_K, DType::kQ6_K, DType::kQ8_0, DType::kF16}) {
    const int64_t N = 2048, K = 2048, T = 64;
    const Tensor w = BenchWeight(dtype, N, K);
    const std::vector<float> x = Random(static_cast<size_t>(T * K), 3);
    std::vector<float> y(static_cast<size_t>(T * N));
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      const double sec = SecondsPerCall([&] { MatMul(w, x.data(), y.data(), T, pool); });
      std::printf("[ PREFILL %s ] %5s %lldx%lld T=%lld, %d thread(s): %8.1f us, %6.1f GFLOP/s\n", MatMulIsa(),
                  Name(dtype), static_cast<long long>(N), static_cast<long long>(K), static_cast<long long>(T),
                  threads, sec * 1e6, 2.0 * N * K * T / sec / 1e9);
    }
  }
}

}  // namespace
}  // namespace strata::kernels
