#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace strata {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      pool.ParallelFor(n, 1, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << threads << " " << n;
    }
  }
}

TEST(ThreadPool, RunGivesEveryThreadItsIndex) {
  ThreadPool pool(4);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::atomic<int>> seen(4);
    pool.Run([&](int t, int n) {
      ASSERT_EQ(n, 4);
      seen[static_cast<size_t>(t)]++;
    });
    for (auto& s : seen) ASSERT_EQ(s.load(), 1);
  }
}

TEST(ThreadPool, GrainLimitsChunks) {
  ThreadPool pool(4);
  std::atomic<int> chunks{0};
  pool.ParallelFor(10, 8, [&](int64_t, int64_t) { chunks++; });
  EXPECT_EQ(chunks.load(), 2);
}


TEST(ThreadPool, WakesSleepingWorkersAfterLongIdle) {
  // Workers go to sleep after spinning idle; a job after that must still reach all of them.
  ThreadPool pool(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> ran{0};
    pool.Run([&](int, int) { ran.fetch_add(1); });
    EXPECT_EQ(ran.load(), 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TEST(ThreadPool, BackToBackJobsSeeEveryThread) {
  // Many short jobs in a row, as a decode step issues them: none is lost or run twice by a worker.
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int i = 0; i < 2000; ++i) pool.Run([&](int t, int) { total.fetch_add(t + 1); });
  EXPECT_EQ(total.load(), 2000 * 3);
}

}  // namespace
}  // namespace strata
