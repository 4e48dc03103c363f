// Measures the rates the cost model (compiler/cost_model.h) needs for one plan, on the kernels that plan will
// run: each weight dtype's decode GEMV (weights streamed from memory) and prefill GEMM, the attention kernel
// on the plan's KV layout (decode: KV bytes read per second; prefill: FLOP/s), and the fixed cost of one
// dispatch over the pool. About a second in all; the buffers are synthetic bytes (speed does not depend on
// the values).
#pragma once

#include "compiler/cost_model.h"
#include "core/thread_pool.h"

namespace strata {

ir::CostRates ProbeCostRates(const ir::Plan& plan, ThreadPool& pool);

}  // namespace strata
