// Measures what the cost model needs from this machine: memory read bandwidth and the FLOP rate of our own
// F32 matmul kernel, each with the pool's threads, in well under a second.
#pragma once

#include "core/thread_pool.h"

namespace strata {

struct MachineRates {
  double bandwidth_gbs = 0;  // bytes read per second / 1e9, from a buffer far larger than the caches
  double gflops = 0;         // F32 GEMM through kernels::MatMul
};

MachineRates ProbeMachine(ThreadPool& pool);

}  // namespace strata
