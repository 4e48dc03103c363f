// Decode attention of the 1B shape over a long paged context, cache hot and cold.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <vector>

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

}  // namespace
}  // namespace strata::kernels
