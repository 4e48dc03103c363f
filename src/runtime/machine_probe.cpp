#include "runtime/machine_probe.h"

#if defined(__x86_64__)
#include <immintrin.h>
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 AVX-512 intrinsics (bug 105593)
#endif

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <vector>

#include "core/tensor.h"
#include "runtime/kernels/matmul.h"

namespace strata {
namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Sums a buffer with the widest loads the CPU has and four independent accumulators, so the loop is bound by
// memory, not by add latency: a plain read benchmark (a narrow scalar loop reads ~30 % below what the decode
// kernels stream). Float sums of 1.0s keep the loads alive.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) float SumAvx512(const float* p, int64_t n) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 64 <= n; i += 64) {
    a0 = _mm512_add_ps(a0, _mm512_load_ps(p + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(p + i + 16));
    a2 = _mm512_add_ps(a2, _mm512_load_ps(p + i + 32));
    a3 = _mm512_add_ps(a3, _mm512_load_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
__attribute__((target("avx2"))) float SumAvx2(const float* p, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  float s = 0;
  for (float v : lanes) s += v;
  return s;
}
#endif

float SumPortable(const float* p, int64_t n) {
  float s[16] = {};
  for (int64_t j = 0; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; ++l) s[l] += p[j + l];
  float total = 0;
  for (float v : s) total += v;
  return total;
}

float Sum(const float* p, int64_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return SumAvx512(p, n);
  if (__builtin_cpu_supports("avx2")) return SumAvx2(p, n);
#endif
  return SumPortable(p, n);
}

double ProbeBandwidth(ThreadPool& pool) {
  const int64_t n = int64_t{64} << 20;  // 256 MiB of floats, 64-byte aligned slices of it per thread
  float* buf = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(n) * sizeof(float)));
  if (buf == nullptr) return 0;
  std::fill(buf, buf + n, 1.0f);
  std::vector<double> sums(static_cast<size_t>(pool.size()), 0.0);
  double best = 0;
  for (int rep = 0; rep < 8; ++rep) {  // the best of 8 (~10 ms each): a shared machine's dips are not the roofline
    const auto t = Clock::now();
    pool.Run([&](int i, int k) {
      const int64_t b = n * i / k / 64 * 64, e = n * (i + 1) / k / 64 * 64;
      sums[static_cast<size_t>(i)] = Sum(buf + b, e - b);  // kept, so the loads are too
    });
    best = std::max(best, static_cast<double>(n) * sizeof(float) / Since(t) / 1e9);
  }
  std::free(buf);
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
