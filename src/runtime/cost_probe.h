// Measures the rates the cost model (compiler/cost_model.h) needs for one plan, on the kernels that plan will
// run: each weight dtype's decode GEMV (weights streamed from memory) and prefill GEMM, the attention kernel
// on the plan's KV layout (decode: KV bytes read per second; prefill: FLOP/s), and the fixed cost of one
// dispatch over the pool. A second or two in all; the buffers are synthetic bytes (speed does not depend on
// the values).
#pragma once

#include "compiler/cost_model.h"
#include "core/thread_pool.h"

namespace strata {

// context: the longest prompt the caller will run; prefill attention's rate is fitted up to it (from 4096 to
// kMaxProbeContext positions: the probe's time grows with it, ~1 s at 16384 on a 1B shape).
inline constexpr int64_t kMaxProbeContext = 16384;
ir::CostRates ProbeCostRates(const ir::Plan& plan, ThreadPool& pool, int64_t context = 4096);

}  // namespace strata
