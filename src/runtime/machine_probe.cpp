#include "runtime/machine_probe.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/tensor.h"
#include "runtime/kernels/matmul.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double ProbeBandwidth(ThreadPool& pool) {
  const int64_t n = int64_t{64} << 20;  // 256 MiB of floats
  std::vector<float> buf(static_cast<size_t>(n), 1.0f);
  std::vector<double> sums(static_cast<size_t>(pool.size()), 0.0);
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t = Clock::now();
    pool.Run([&](int i, int k) {
      const int64_t b = n * i / k, e = n * (i + 1) / k;
      float s[16] = {};
      for (int64_t j = b; j + 16 <= e; j += 16)
        for (int l = 0; l < 16; ++l) s[l] += buf[static_cast<size_t>(j + l)];
      double total = 0;
      for (float v : s) total += v;
      sums[static_cast<size_t>(i)] = total;  // keeps the loads alive
    });
    best = std::max(best, static_cast<double>(n) * sizeof(float) / Since(t) / 1e9);
  }
  return best;
}

double ProbeGflops(ThreadPool& pool) {
  const int64_t N = 512, K = 512, T = 64;
  Tensor w = Tensor::Empty(DType::kF32, {N, K});
  std::fill(w.mutable_data_as<float>(), w.mutable_data_as<float>() + N * K, 0.5f);
  std::vector<float> x(static_cast<size_t>(T * K), 1.0f), y(static_cast<size_t>(T * N));
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t = Clock::now();
    kernels::MatMul(w, x.data(), y.data(), T, pool);
    best = std::max(best, 2.0 * static_cast<double>(N * K * T) / Since(t) / 1e9);
  }
  return best;
}

}  // namespace

MachineRates ProbeMachine(ThreadPool& pool) { return {ProbeBandwidth(pool), ProbeGflops(pool)}; }

}  // namespace strata
