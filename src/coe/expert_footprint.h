// Static memory accounting of one resident expert, computed at start-up from its compiled plan: what the RAM
// tier must hold for it. A budget that cannot hold the largest expert is refused with these numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/ir.h"
#include "engine/llm_engine.h"

namespace strata::coe {

struct ExpertFootprint {
  int64_t weights = 0;      // every weight once: packed copies of the projections (whole huge pages when a
                            // copy is 2 MiB or more) and the file pages of the rest (embeddings, norms)
  int64_t kv = 0;           // the expert's KV cache share
  int64_t activations = 0;  // the activation arena at the largest step (the plan's memory report)
  int64_t total() const { return weights + kv + activations; }
  std::string Describe() const;  // "12.3 MiB (weights 2.1 MiB, KV 8.0 MiB, activations 2.2 MiB)"
};

// `plans` are the expert's compiled plans (one rank). `kv_bytes` is its KV cache share; the largest step
// binds max_num_batched_tokens rows, max_num_seqs logit rows and a context of `max_model_len`.
ExpertFootprint MeasureFootprint(const std::vector<ir::Plan>& plans, int64_t kv_bytes, const EngineConfig& engine,
                                 int64_t max_model_len);

std::string FormatBytes(int64_t bytes);  // "12.3 MiB"

}  // namespace strata::coe
