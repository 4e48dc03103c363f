#include "engine/generate_service.h"

#include "engine/sampler.h"

namespace strata {

std::optional<GenerateOutput> OutputStream::Next(std::chrono::milliseconds timeout) {
  std::unique_lock l(mu_);
  if (!cv_.wait_for(l, timeout, [&] { return !queue_.empty(); })) return std::nullopt;
  GenerateOutput out = std::move(queue_.front());
  queue_.pop_front();
  return out;
}

void OutputStream::Push(GenerateOutput out) {
  {
    std::lock_guard l(mu_);
    queue_.push_back(std::move(out));
  }
  cv_.notify_one();
}

Status ValidateRequestShape(const GenerateRequest& r, int64_t n_vocab, int64_t max_model_len) {
  if (r.prompt.empty()) return Status::InvalidArgument("the prompt is empty");
  for (int32_t id : r.prompt)
    if (id < 0 || id >= n_vocab)
      return Status::InvalidArgument("prompt token id " + std::to_string(id) + " is outside the vocabulary");
  if (r.max_tokens < 1) return Status::InvalidArgument("max_tokens must be at least 1");
  for (auto [t, bias] : r.sampling.logit_bias)
    if (t < 0 || t >= n_vocab)
      return Status::InvalidArgument("logit_bias token id " + std::to_string(t) + " is outside the vocabulary");
  for (int32_t t : r.stop_token_ids)
    if (t < 0 || t >= n_vocab)
      return Status::InvalidArgument("stop token id " + std::to_string(t) + " is outside the vocabulary");
  const auto prompt = static_cast<int64_t>(r.prompt.size());
  // Compared as max_tokens > room left, so that a max_tokens near INT64_MAX cannot overflow the sum.
  if (r.max_tokens > max_model_len - prompt) {
    // Both are at most INT64_MAX here (max_tokens >= 1 was checked), so their sum fits in uint64_t.
    const uint64_t total = static_cast<uint64_t>(prompt) + static_cast<uint64_t>(r.max_tokens);
    return Status::OutOfRange("This model's maximum context length is " + std::to_string(max_model_len) +
                              " tokens. However, you requested " + std::to_string(total) +
                              " tokens (" + std::to_string(prompt) + " in the prompt, " +
                              std::to_string(r.max_tokens) + " in the completion). Please reduce the length of "
                              "the prompt or max_tokens.");
  }
  return ValidateSamplingParams(r.sampling);
}

}  // namespace strata
