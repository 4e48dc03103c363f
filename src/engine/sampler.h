// Picks each request's next token the way vLLM does: penalties, structured-output mask, then greedy or
// temperature sampling with top-k / top-p / min-p truncation, from the request's own (optionally seeded) RNG.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "core/status.h"

namespace strata {

struct SamplingParams {
  float temperature = 1.0f;          // 0: greedy
  int top_k = 0;                     // <= 0: off
  float top_p = 1.0f;
  float min_p = 0.0f;                // drops tokens below min_p * (probability of the most likely token)
  float repetition_penalty = 1.0f;   // over prompt and output: logit > 0 ? logit / p : logit * p
  float frequency_penalty = 0.0f;    // over output: logit -= frequency * count + presence * (count > 0)
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;      // set: reproducible; unset: a random seed
  std::vector<std::pair<int32_t, float>> logit_bias;  // OpenAI logit_bias: added to those tokens' logits
  bool logprobs = false;
  int top_logprobs = 0;              // alternatives reported per token
};

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0;
};

struct SampleResult {
  int32_t token = -1;
  float logprob = 0;               // of the chosen token, from the raw logits
  std::vector<TokenLogprob> top;   // the top_logprobs most likely tokens, most likely first
};

// Ranges as vLLM checks them; the message names the field and what is allowed.
Status ValidateSamplingParams(const SamplingParams& p);

// Penalties and logit_bias applied in place to one row of logits (exposed for tests).
void ApplyPenalties(const SamplingParams& p, std::span<float> logits, std::span<const int32_t> prompt,
                    std::span<const int32_t> generated);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& p);
  // logits: the raw row; prompt / generated: history for the penalties; allowed: optional mask (non-zero =
  // may be sampled). Logprobs are those of the raw logits (vLLM's default).
  SampleResult Sample(std::span<const float> logits, std::span<const int32_t> prompt,
                      std::span<const int32_t> generated, const std::vector<uint8_t>* allowed = nullptr);

 private:
  int32_t Draw(std::span<float> work);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> order_;
};

// Index of the largest logit (the lowest index among equals).
int32_t Argmax(const float* logits, int64_t n);

}  // namespace strata
