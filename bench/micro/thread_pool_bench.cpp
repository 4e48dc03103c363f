// The cost of one empty ThreadPool::Run on two threads, which every op of a step pays.
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "core/thread_pool.h"

namespace strata {
namespace {

TEST(ThreadPoolBench, DispatchCost) {
  // Not asserted (wall time): the cost of one empty Run on two threads, which every op of a step pays.
  ThreadPool pool(2);
  const int n = 20000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) pool.Run([](int, int) {});
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
  std::printf("[ 2 threads ] %.2f us per empty Run\n", us);
}

}  // namespace
}  // namespace strata
