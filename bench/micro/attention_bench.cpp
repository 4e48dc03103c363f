// Decode attention of the 1B shape over a long paged context, cache hot and cold.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "random_tensors.h"
#include "runtime/kernels/attention.h"
#include "scattered_cache.h"

namespace strata::kernels {
namespace {

using testing::Random;

TEST(KernelsBench, DecodeAttentionOverALongContext) {
  // Not asserted (wall time): one decode row of the 1B shape (32 heads, 8 KV heads, head_dim 64) over 530
  // cached positions in blocks of 16, once with the cache in L2/L3 (repeated) and once cold per layer.
  const int64_t heads = 32, kv_heads = 8, D = 64, n_pos = 530, kv_dim = kv_heads * D, layers = 16;
  const AttentionShape s{heads, kv_heads, D};
  auto q = Random(static_cast<size_t>(heads * D), 1);
  std::vector<ScatteredCache> caches;
  for (int64_t l = 0; l < layers; ++l) {
    auto k = Random(static_cast<size_t>(n_pos * kv_dim), 2), v = Random(static_cast<size_t>(n_pos * kv_dim), 3);
    caches.emplace_back(k, v, n_pos, kv_dim, 1, static_cast<uint32_t>(l), 16);
  }
  std::vector<float> out(q.size());
  const int32_t pos[1] = {static_cast<int32_t>(n_pos - 1)};
  ThreadPool pool(1);
  for (int pass = 0; pass < 2; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int rep = 0; rep < 10; ++rep)
      for (int64_t l = 0; l < layers; ++l)
        Attention(q.data(), 1, pos, caches[static_cast<size_t>(pass ? l : 0)].view(), s, out.data(), pool);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / 10;
    std::printf("[ %s ] 16 layers of decode attention over %lld positions: %.2f ms\n", pass ? "cold" : "hot",
                static_cast<long long>(n_pos), ms);
  }
}

// A plain read of the same bytes in the same threads, for the share attention reaches: each thread sums its
// contiguous part of k, then of v, in 64-bit words (vectorised by the compiler).
double PlainReadSeconds(const std::vector<uint16_t>& k, const std::vector<uint16_t>& v, ThreadPool& pool) {
  const int64_t parts = pool.size();
  std::vector<uint64_t> sums(static_cast<size_t>(parts));
  const auto t0 = std::chrono::steady_clock::now();
  pool.ParallelFor(parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p)
      for (const auto* buf : {&k, &v}) {
        const size_t words = buf->size() / 4, lo = words * p / parts, hi = words * (p + 1) / parts;
        const auto* w = reinterpret_cast<const uint64_t*>(buf->data());
        uint64_t a[4] = {};
        for (size_t i = lo; i + 4 <= hi; i += 4)
          for (int u = 0; u < 4; ++u) a[u] += w[i + u];
        sums[static_cast<size_t>(p)] += a[0] + a[1] + a[2] + a[3];
      }
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile uint64_t sink = 0;
  for (uint64_t x : sums) sink = sink + x;
  return s;
}

// One decode row of the 1B shape over an F16 cache of 16384 positions (32 MiB of K and V, contiguous blocks),
// 1 and 2 threads: GB/s of KV read, next to a plain read of the same bytes. NPOS sets the positions: past the
// last-level cache for a read from memory (an Intel Xeon with 480 MiB of L3 served 128 MiB partly from it;
// NPOS=262144 is 512 MiB).
TEST(KernelsBench, DecodeAttentionF16ReadRate) {
  const int64_t heads = 32, kv_heads = 8, D = 64, n_pos = std::getenv("NPOS") ? std::atoi(std::getenv("NPOS")) : 16384, kv_dim = kv_heads * D, block = 16;
  const AttentionShape s{heads, kv_heads, D};
  const auto q = Random(static_cast<size_t>(heads * D), 1);
  const auto kf = Random(static_cast<size_t>(n_pos * kv_dim), 2), vf = Random(static_cast<size_t>(n_pos * kv_dim), 3);
  std::vector<uint16_t> k(kf.size()), v(vf.size());
  for (size_t i = 0; i < kf.size(); ++i) k[i] = Fp32ToFp16(kf[i]), v[i] = Fp32ToFp16(vf[i]);
  std::vector<int32_t> table(static_cast<size_t>(n_pos / block));
  for (size_t i = 0; i < table.size(); ++i) table[i] = static_cast<int32_t>(i);
  const int32_t* tables[1] = {table.data()};
  const PagedKvView view{reinterpret_cast<const uint8_t*>(k.data()), reinterpret_cast<const uint8_t*>(v.data()), block,
                         tables, DType::kF16, kv_dim * 2};
  std::vector<float> out(q.size());
  const int32_t pos[1] = {static_cast<int32_t>(n_pos - 1)};
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    double best = 1e30, plain = 1e30;
    for (int rep = 0; rep < 10; ++rep) {  // alternated, so drift between them shows in neither
      const auto t0 = std::chrono::steady_clock::now();
      Attention(q.data(), 1, pos, view, s, out.data(), pool);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      plain = std::min(plain, PlainReadSeconds(k, v, pool));
    }
    const double bytes = 2.0 * static_cast<double>(n_pos * kv_dim * 2);
    std::printf("[ %d thread%s ] decode attention over %lld F16 positions: %.2f ms, %.1f GB/s of KV; plain read "
                "%.1f GB/s (%.0f %%)\n", threads, threads == 1 ? "" : "s", static_cast<long long>(n_pos), best * 1e3,
                bytes / best / 1e9, bytes / plain / 1e9, 100.0 * plain / best);
  }
}

}  // namespace
}  // namespace strata::kernels
