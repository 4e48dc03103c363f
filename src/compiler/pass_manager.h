// Compiling a model: build the unoptimised plan, split it into tensor-parallel ranks, run the chosen fusion
// passes in the chosen order, then place ops on the device or the host. `strata plan --print-after-all` shows
// the plan after each step through the observer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "compiler/ir.h"
#include "compiler/passes/passes.h"
#include "model/model.h"

namespace strata::ir {

struct PassInfo {
  const char* name;
  const char* summary;
  Status (*run)(Plan&, const PassContext&);
};

// The fusion passes, in their default order.
const std::vector<PassInfo>& FusionPasses();

struct CompileOptions {
  std::vector<std::string> passes;  // fusion pass names in order; DefaultPasses() unless told otherwise
  int tp = 1;
  int only_rank = -1;  // >= 0: compile only that rank's plan (a process of a multi-process job needs no other)
  std::vector<std::string> device_lacks;  // op labels the device backend lacks

  // Pipeline stages (SplitPipeline), each of tp ranks. Ranks are global: stage * tp + tensor-parallel rank
  // (only_rank too).
  int pp = 1;
  // The KV cache's storage type: F32, F16 or Q8_0 (Q8_0 needs head sizes that are multiples of 32).
  DType kv_dtype = DType::kF32;
};
std::vector<std::string> DefaultPasses();
// "default", "none", or a comma-separated list of pass names.
Result<std::vector<std::string>> ParsePassList(const std::string& spec);

// Called after each step with its name ("build", "tp_split", "pp_split", a pass name, "placement"), the global
// rank and the plan.
using PassObserver = std::function<void(const std::string& step, int rank, const Plan& plan)>;

// One plan per global rank, in global-rank order (stage * tp + tensor-parallel rank: stage 0's tp ranks first);
// a single plan when tp = pp = 1, or when only_rank picks one.
Result<std::vector<Plan>> Compile(const Model& model, const CompileOptions& options, const PassObserver& observe = {});

}  // namespace strata::ir
