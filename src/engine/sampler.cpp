#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

namespace strata {
namespace {

Status Range(const char* field, float v, float lo, float hi, bool lo_open, const std::string& allowed) {
  if (std::isnan(v) || v > hi || (lo_open ? v <= lo : v < lo))
    return Status::InvalidArgument(std::string(field) + " must be " + allowed + ", got " + std::to_string(v));
  return Status::Ok();
}

// log-softmax normaliser of the raw row.
double LogSumExp(std::span<const float> x) {
  const float max = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (float v : x) sum += std::exp(static_cast<double>(v - max));
  return max + std::log(sum);
}

}  // namespace

Status ValidateSamplingParams(const SamplingParams& p) {
  STRATA_RETURN_IF_ERROR(Range("temperature", p.temperature, 0, 1e6f, false, ">= 0"));
  STRATA_RETURN_IF_ERROR(Range("top_p", p.top_p, 0, 1, true, "in (0, 1]"));
  STRATA_RETURN_IF_ERROR(Range("min_p", p.min_p, 0, 1, false, "in [0, 1]"));
  STRATA_RETURN_IF_ERROR(Range("repetition_penalty", p.repetition_penalty, 0, 1e6f, true, "> 0"));
  STRATA_RETURN_IF_ERROR(Range("frequency_penalty", p.frequency_penalty, -2, 2, false, "in [-2, 2]"));
  STRATA_RETURN_IF_ERROR(Range("presence_penalty", p.presence_penalty, -2, 2, false, "in [-2, 2]"));
  if (p.top_k < -1) return Status::InvalidArgument("top_k must be -1 (off), 0 (off) or positive, got " + std::to_string(p.top_k));
  for (auto [t, bias] : p.logit_bias)
    if (t < 0 || !(bias >= -100 && bias <= 100))
      return Status::InvalidArgument("logit_bias needs token ids >= 0 and biases in [-100, 100]");
  if (p.top_logprobs < 0 || p.top_logprobs > 20)
    return Status::InvalidArgument("top_logprobs must be in [0, 20], got " + std::to_string(p.top_logprobs));
  return Status::Ok();
}

void ApplyPenalties(const SamplingParams& p, std::span<float> logits, std::span<const int32_t> prompt,
                    std::span<const int32_t> generated) {
  const auto n = static_cast<int32_t>(logits.size());
  if (p.repetition_penalty != 1.0f) {
    std::vector<uint8_t> seen(logits.size(), 0);
    for (auto list : {prompt, generated})
      for (int32_t t : list)
        if (t >= 0 && t < n && !seen[static_cast<size_t>(t)]) {
          seen[static_cast<size_t>(t)] = 1;
          float& l = logits[static_cast<size_t>(t)];
          l = l > 0 ? l / p.repetition_penalty : l * p.repetition_penalty;
        }
  }
  if (p.frequency_penalty != 0.0f || p.presence_penalty != 0.0f) {
    std::unordered_map<int32_t, int> counts;
    for (int32_t t : generated)
      if (t >= 0 && t < n) ++counts[t];
    for (auto [t, c] : counts)
      logits[static_cast<size_t>(t)] -= p.frequency_penalty * static_cast<float>(c) + p.presence_penalty;
  }
  for (auto [t, bias] : p.logit_bias)
    if (t >= 0 && t < n) logits[static_cast<size_t>(t)] += bias;
}

int32_t Argmax(const float* logits, int64_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

Sampler::Sampler(const SamplingParams& p)
    : params_(p), rng_(p.seed ? *p.seed : std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)) {}

SampleResult Sampler::Sample(std::span<const float> logits, std::span<const int32_t> prompt,
                             std::span<const int32_t> generated, const std::vector<uint8_t>* allowed) {
  work_.assign(logits.begin(), logits.end());
  ApplyPenalties(params_, work_, prompt, generated);
  if (allowed)
    for (size_t i = 0; i < work_.size(); ++i)
      if (i >= allowed->size() || !(*allowed)[i]) work_[i] = -INFINITY;
  const int32_t token = greedy() ? Argmax(work_.data(), static_cast<int64_t>(work_.size())) : Draw(work_);
  return Describe(logits, token);
}

SampleResult Sampler::Describe(std::span<const float> logits, int32_t token) {
  SampleResult r;
  r.token = token;
  if (params_.logprobs) {
    const double lse = LogSumExp(logits);
    r.logprob = static_cast<float>(logits[static_cast<size_t>(r.token)] - lse);
    const auto k = std::min<size_t>(static_cast<size_t>(params_.top_logprobs), logits.size());
    order_.resize(logits.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(k), order_.end(),
                      [&](int32_t a, int32_t b) { return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]; });
    for (size_t i = 0; i < k; ++i)
      r.top.push_back({order_[i], static_cast<float>(logits[static_cast<size_t>(order_[i])] - lse)});
  }
  return r;
}

void Sampler::Distribution(std::span<const float> logits, std::span<const int32_t> prompt,
                           std::span<const int32_t> generated, const std::vector<uint8_t>* allowed,
                           std::vector<float>& probs) {
  work_.assign(logits.begin(), logits.end());
  ApplyPenalties(params_, work_, prompt, generated);
  if (allowed)
    for (size_t i = 0; i < work_.size(); ++i)
      if (i >= allowed->size() || !(*allowed)[i]) work_[i] = -INFINITY;
  probs.assign(work_.size(), 0.0f);
  if (greedy()) {
    probs[static_cast<size_t>(Argmax(work_.data(), static_cast<int64_t>(work_.size())))] = 1.0f;
    return;
  }
  Truncate(work_);
  double total = 0;
  for (int32_t t : order_) total += work_[static_cast<size_t>(t)];
  if (total <= 0) {
    probs[static_cast<size_t>(Argmax(work_.data(), static_cast<int64_t>(work_.size())))] = 1.0f;
    return;
  }
  for (int32_t t : order_) probs[static_cast<size_t>(t)] = static_cast<float>(work_[static_cast<size_t>(t)] / total);
}

int32_t Sampler::DrawFrom(std::span<const float> weights) {
  double total = 0;
  for (float w : weights) total += w;
  if (!(total > 0)) return Argmax(weights.data(), static_cast<int64_t>(weights.size()));
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  int32_t last = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    last = static_cast<int32_t>(i);
    u -= weights[i];
    if (u < 0) return last;
  }
  return last;
}

double Sampler::Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

// Temperature, then top-k, top-p and min-p over the probabilities.
void Sampler::Truncate(std::span<float> w) {
  const float inv_t = 1.0f / params_.temperature;
  const float max = *std::max_element(w.begin(), w.end());
  order_.clear();
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = std::isinf(w[i]) && w[i] < 0 ? 0.0f : std::exp((w[i] - max) * inv_t);
    if (w[i] > 0) order_.push_back(static_cast<int32_t>(i));
  }
  auto by_prob = [&](int32_t a, int32_t b) { return w[static_cast<size_t>(a)] > w[static_cast<size_t>(b)] || (w[static_cast<size_t>(a)] == w[static_cast<size_t>(b)] && a < b); };
  const bool truncate = params_.top_k > 0 || params_.top_p < 1.0f || params_.min_p > 0.0f;
  if (!truncate) return;
  size_t keep = order_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(order_.begin(), order_.begin() + static_cast<std::ptrdiff_t>(keep), order_.end(), by_prob);
  } else {
    std::sort(order_.begin(), order_.end(), by_prob);
  }
  order_.resize(keep);
  double total = 0;
  for (int32_t t : order_) total += w[static_cast<size_t>(t)];
  if (params_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    double cum = 0;
    size_t n = 0;
    while (n < order_.size() && cum < params_.top_p * total) cum += w[static_cast<size_t>(order_[n++])];
    order_.resize(std::max<size_t>(n, 1));
  }
  if (params_.min_p > 0.0f) {
    const float floor = params_.min_p * w[static_cast<size_t>(order_[0])];
    while (order_.size() > 1 && w[static_cast<size_t>(order_.back())] < floor) order_.pop_back();
  }
}

// Truncation, then one draw.
int32_t Sampler::Draw(std::span<float> w) {
  Truncate(w);
  double total = 0;
  for (int32_t t : order_) total += w[static_cast<size_t>(t)];
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (int32_t t : order_) {
    u -= w[static_cast<size_t>(t)];
    if (u < 0) return t;
  }
  return order_.empty() ? Argmax(w.data(), static_cast<int64_t>(w.size())) : order_.back();
}

}  // namespace strata
