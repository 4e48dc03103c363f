// Picks the next token from a row of logits: greedy at temperature 0, otherwise softmax sampling with
// optional top-k / top-p, reproducible for a given seed. (The full serving sampler comes with the engine.)
#pragma once

#include <cstdint>
#include <random>

namespace strata {

struct SamplingParams {
  float temperature = 0.0f;
  int top_k = 0;        // 0: all tokens
  float top_p = 1.0f;   // 1: no nucleus cut
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  int32_t Sample(const float* logits, int64_t n_vocab);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
};

// Index of the largest logit (the lowest index among equals).
int32_t Argmax(const float* logits, int64_t n);

}  // namespace strata
