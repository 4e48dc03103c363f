// The serving engine's core loop, single-threaded: requests in, one batched forward step at a time, deltas
// out. Each Step schedules (continuous batching over the paged KV cache), runs every scheduled sequence in
// one plan execution, samples, detokenizes and applies stop conditions and structured-output masks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/ir.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "engine/embedder.h"
#include "engine/kv_cache_manager.h"
#include "engine/metrics.h"
#include "engine/request.h"
#include "engine/scheduler.h"
#include "engine/spec_config.h"
#include "model/tokenizer.h"
#include "runtime/model_runner.h"
#include "runtime/step_executor.h"

namespace strata {

class Speculator;
struct DraftJob;
class TokenTrie;

struct EngineConfig {
  int32_t block_size = 16;
  int64_t kv_cache_bytes = 0;   // 0: room for max_num_seqs full contexts, capped at 4 GiB
  int64_t max_model_len = 0;    // 0: the model's context length
  bool prefix_caching = true;
  SchedulerConfig scheduler;
  SpecConfig spec;              // speculative decoding; off by default
  int64_t embedding_max_tokens = 0;  // the longest input of Embed, and the tokens of one of its batches (its own
                                     // KV cache and activations); 0: min(max_model_len, max_num_batched_tokens)
};

class LlmEngine {
 public:
  static Result<std::unique_ptr<LlmEngine>> Create(ExecutorSource source, const Tokenizer& tokenizer,
                                                   const EngineConfig& config);
  // `plan` (or the plans of the tensor-parallel ranks), `tokenizer` and `pool` must outlive the engine.
  static Result<std::unique_ptr<LlmEngine>> Create(std::span<const ir::Plan> ranks, const Tokenizer& tokenizer,
                                                   ThreadPool& pool, const EngineConfig& config) {
    if (ranks.empty()) return Status::InvalidArgument("no plan to run");
    return Create({ranks[0].kv.n_ctx, ModelRunner::KvBytesPerToken(ranks), ModelRunner::Factory(ranks, pool)},
                  tokenizer, config);
  }
  static Result<std::unique_ptr<LlmEngine>> Create(const ir::Plan& plan, const Tokenizer& tokenizer,
                                                   ThreadPool& pool, const EngineConfig& config) {
    return Create(std::span<const ir::Plan>(&plan, 1), tokenizer, pool, config);
  }
  ~LlmEngine();

  // Checks a request against the model (empty prompt, ids, prompt + max_tokens within the context). Const and
  // independent of engine state, so callers on other threads may use it.
  Status Validate(const GenerateRequest& r) const;
  Status Add(GenerateRequest r);
  // Ends a request; its final delta (finish_reason abort) comes from the next Step. Unknown ids are ignored.
  void Abort(const std::string& id);
  // Runs one step; returns the deltas it produced (possibly none).
  std::vector<GenerateOutput> Step();

  bool has_work() const { return !active_.empty() || !pending_.empty(); }
  size_t num_running() const { return scheduler_.num_running(); }
  size_t num_waiting() const { return scheduler_.num_waiting(); }
  double kv_cache_usage() const { return kv_.pool().usage(); }
  int32_t num_free_blocks() const { return kv_.pool().num_free(); }
  int32_t num_blocks() const { return kv_.pool().num_blocks(); }
  int64_t num_preemptions() const { return scheduler_.num_preemptions(); }
  int64_t max_model_len() const { return max_model_len_; }
  // Ok while steps can run; a lost peer rank makes the engine fail every request (and the server unhealthy).
  Status health() const { return runner_->health(); }
  EngineMetrics& metrics() { return metrics_; }
  // Speculative decoding's drafter ("draft_model", "ngram"), or null when off.
  const char* spec_method() const;
  const Tokenizer& tokenizer() const { return tokenizer_; }

  // Embeddings of token inputs (engine/embedder.h) with the engine's own weights. Not thread-safe with Step:
  // call it between steps (AsyncEngine does, on its loop). Unsupported unless the model runs whole in this
  // process (not split over ranks). The embedder and its cache are made at the first call.
  Result<std::vector<std::vector<float>>> Embed(std::span<const std::vector<int32_t>> inputs, Pooling pooling);
  int64_t embedding_max_tokens() const;

 private:
  struct Active;
  using Clock = std::chrono::steady_clock;

  LlmEngine(const ExecutorSource& source, const Tokenizer& tokenizer, const EngineConfig& config,
            int64_t max_model_len, int32_t num_blocks);
  void BuildBatch(const SchedulerOutput& out);
  void NoteAdmissions(const SchedulerOutput& out);
  void PlanLookahead();
  [[nodiscard]] Status Draft(const SchedulerOutput& out);
  const std::vector<uint8_t>* MaskFor(Active& a);
  void ProcessSample(Active& a, const float* logits, std::vector<GenerateOutput>& outputs);
  void ProcessDrafts(Active& a, const float* logits, const DraftJob& job, std::vector<GenerateOutput>& outputs);
  void NoteTokens(Active& a, int64_t n, bool first);
  FinishReason AppendToken(Active& a, const SampleResult& s, GenerateOutput& delta);
  void Finish(Active& a, FinishReason reason, GenerateOutput& delta);
  void FailAll(const SchedulerOutput& out, const Status& st, std::vector<GenerateOutput>& outputs);

  const Tokenizer& tokenizer_;
  EngineConfig config_;
  int64_t max_model_len_;
  std::unique_ptr<StepExecutor> runner_;
  KvCacheManager kv_;
  Scheduler scheduler_;
  EngineMetrics metrics_;
  std::unique_ptr<TokenTrie> trie_;  // built on the first structured-output request
  std::unique_ptr<Speculator> spec_;
  std::unique_ptr<Embedder> embedder_;  // made by the first Embed
  std::vector<DraftJob> jobs_;       // this step's drafts, in the order of the scheduled sequences
  std::unordered_map<std::string, std::unique_ptr<Active>> active_;
  std::vector<GenerateOutput> pending_;  // aborts waiting for the next Step
  Batch batch_;
};

}  // namespace strata
