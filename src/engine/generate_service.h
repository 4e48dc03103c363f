// What a front end (the HTTP server) submits generation requests to: one model's AsyncEngine, or one expert
// of a Composition of Experts. Deltas come back on one OutputStream per request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"
#include "engine/request.h"
#include "model/tokenizer.h"

namespace strata {

// The deltas of one request, produced by the engine thread and consumed by one reader.
class OutputStream {
 public:
  // Waits up to `timeout` for the next delta; nullopt if none came.
  std::optional<GenerateOutput> Next(std::chrono::milliseconds timeout);
  void Push(GenerateOutput out);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<GenerateOutput> queue_;
};

class GenerateService {
 public:
  virtual ~GenerateService() = default;
  // Validates (synchronously, so the caller can answer 400 at once) and queues the request.
  virtual Result<std::shared_ptr<OutputStream>> Submit(GenerateRequest r) = 0;
  // Cancels a request (client gone); its resources are freed at the next step.
  virtual void Abort(const std::string& id) = 0;
  // A fresh request id ("cmpl-<n>").
  virtual std::string NextId(const char* prefix) = 0;
  virtual int64_t max_model_len() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;
};

// The checks of LlmEngine::Validate that need only the vocabulary size and the context length, for services
// whose engine does not exist yet (an expert still on disk).
Status ValidateRequestShape(const GenerateRequest& r, int64_t n_vocab, int64_t max_model_len);

}  // namespace strata
