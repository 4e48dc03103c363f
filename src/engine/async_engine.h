// Runs an LlmEngine on its own thread, the GenerateService of one model: HTTP handlers submit requests and
// read their deltas concurrently, one OutputStream per request; an inbox for new requests and aborts, gauges
// after every step.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/generate_service.h"
#include "engine/llm_engine.h"

namespace strata {

class AsyncEngine final : public GenerateService {
 public:
  explicit AsyncEngine(std::unique_ptr<LlmEngine> engine);
  ~AsyncEngine();  // stops the loop; unfinished requests are dropped

  // Validates (synchronously, so the caller can answer 400 at once) and queues the request.
  Result<std::shared_ptr<OutputStream>> Submit(GenerateRequest r) override;
  // Cancels a request (client gone); its blocks are freed at the next step.
  void Abort(const std::string& id) override;
  // A fresh request id ("cmpl-<n>").
  std::string NextId(const char* prefix) override;

  EngineMetrics& metrics() { return engine_->metrics(); }
  int64_t max_model_len() const override { return engine_->max_model_len(); }
  const Tokenizer& tokenizer() const override { return engine_->tokenizer(); }
  // Embeddings (LlmEngine::Embed), run on the engine thread between steps; waits for them. Thread-safe.
  Result<std::vector<std::vector<float>>> Embed(std::vector<std::vector<int32_t>> inputs, Pooling pooling);
  int64_t embedding_max_tokens() const { return engine_->embedding_max_tokens(); }
  // Ok while the engine can run steps (thread-safe: executors keep their health behind a lock or atomic).
  Status health() const { return engine_->health(); }

 private:
  void Loop();
  void DrainInbox();
  void PublishGauges();

  std::unique_ptr<LlmEngine> engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<GenerateRequest, std::shared_ptr<OutputStream>>> inbox_;
  std::vector<std::string> aborts_;
  std::vector<std::function<void(LlmEngine*)>> jobs_;  // run on the engine thread; null engine: shutting down
  bool stop_ = false;
  std::unordered_map<std::string, std::shared_ptr<OutputStream>> streams_;  // engine thread only
  std::atomic<uint64_t> next_id_{0};
  std::thread thread_;
};

}  // namespace strata
