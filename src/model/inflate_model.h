// `strata gen-model --inflate`: a trained model widened with extra feed-forward units, for benchmarking
// speculative decoding. The new units' gate, up and down weights are zero (the function is unchanged, only
// bigger: the original is a perfect draft) or normal(0, noise) (the target drifts from the original as the
// noise grows), so one trained tiny model gives a memory-bound target and a natural draft with tunable
// agreement.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"

namespace strata {

struct InflateOptions {
  std::string in_path;   // a GGUF with dense feed-forward blocks (blk.N.ffn_gate / ffn_up / ffn_down)
  std::string out_path;
  int64_t ffn = 0;       // the new feed-forward width (> the source's, a multiple of 32)
  float noise = 0;       // standard deviation of the new units' weights; 0: zeros
  uint64_t seed = 0;
  std::string dtype;     // matrices' type: f32, f16, q8_0, q4_0; empty keeps each tensor's own
  std::function<void(const std::string& tensor, uint64_t done, uint64_t total)> progress;
};

Status InflateModel(const InflateOptions& o);

}  // namespace strata
