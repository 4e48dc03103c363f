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

  // What speculative decoding needs of the same rule. Distribution: the probabilities Sample draws from
  // (after penalties, mask, temperature and truncation; one-hot at the argmax when greedy), summing to 1.
  void Distribution(std::span<const float> logits, std::span<const int32_t> prompt, std::span<const int32_t> generated,
                    const std::vector<uint8_t>* allowed, std::vector<float>& probs);
  // One draw from unnormalised non-negative weights (the argmax of `weights` if they are all zero).
  int32_t DrawFrom(std::span<const float> weights);
  // A uniform number in [0, 1) from this request's generator.
  double Uniform();
  // A result for `token` chosen by another rule: its log probability and the top alternatives from `logits`.
  SampleResult Describe(std::span<const float> logits, int32_t token);
  bool greedy() const { return params_.temperature == 0.0f || params_.top_k == 1; }
  const SamplingParams& params() const { return params_; }

 private:
  int32_t Draw(std::span<float> work);
  // Temperature and truncation over `w` in place: afterwards w holds unnormalised probabilities and order_ the
  // tokens kept (most likely first when truncated).
  void Truncate(std::span<float> w);

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> order_;
};

// Index of the largest logit (the lowest index among equals).
int32_t Argmax(const float* logits, int64_t n);

}  // namespace strata
