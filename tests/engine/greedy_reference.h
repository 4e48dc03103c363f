// The reference the engine tests compare with: one sequence at a time through CpuExecutor, argmax each step.
#pragma once

#include <span>
#include <vector>

#include "compiler/ir.h"
#include "core/thread_pool.h"
#include "engine/sampler.h"
#include "runtime/cpu_executor.h"

namespace strata::testing {

inline std::vector<int32_t> ReferenceGreedy(const ir::Plan& plan, const std::vector<int32_t>& prompt, int n) {
  ThreadPool pool(2);
  CpuExecutor exec(plan, pool);
  auto logits = exec.Forward(prompt, false);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const int32_t t = Argmax(logits->last(), logits->n_vocab);
    out.push_back(t);
    logits = exec.Forward(std::span(&t, 1), false);
  }
  return out;
}

}  // namespace strata::testing
