// The Composition of Experts' engine: many experts behind one loop, weights in tiers.
//
// Disk tier: every expert's GGUF is open and mapped but not resident (its tokenizer and chat template are
// loaded, so a prompt can be tokenized before its expert is). RAM tier: compiled, its projections packed for
// the fast kernels, with its own LlmEngine (KV cache share, scheduler). A loader thread promotes experts on
// demand (a request, or the router's prefetch) within the RAM budget, evicting the least recently used idle
// expert first; an expert with requests in flight is never evicted, and nothing is copied back down (weights
// are read-only). The loop thread runs one step per resident expert with work, round-robin, so a request
// whose expert is loading waits without holding up the others.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "coe/coe_config.h"
#include "coe/coe_metrics.h"
#include "coe/expert_footprint.h"
#include "coe/residency.h"
#include "compiler/pass_manager.h"
#include "core/thread_pool.h"
#include "engine/generate_service.h"
#include "engine/llm_engine.h"
#include "model/model.h"

namespace strata::coe {

struct CoeEngineOptions {
  EngineConfig engine;         // each expert's (its KV cache size comes from the config's kv_per_expert)
  ir::CompileOptions compile;  // one rank
  int threads = 0;             // compute threads, shared by the experts' steps (0: all cores)
  std::function<void(int opened, int total)> progress;  // start-up: experts opened so far
};

// What is known of an expert on the disk tier, for as long as the engine lives.
struct ExpertInfo {
  std::string name;
  std::unique_ptr<Model> model;  // mapped, not resident: tokenizer, chat template, metadata
  ExpertFootprint footprint;
  int64_t max_model_len = 0;
  int64_t kv_bytes = 0;
};

class CoeEngine {
 public:
  // Opens every expert, compiles each once to account for its memory, and refuses a budget that cannot hold
  // the largest expert (naming it, with its numbers).
  static Result<std::unique_ptr<CoeEngine>> Create(const CoeConfig& config, const CoeEngineOptions& options);
  ~CoeEngine();  // stops the threads; unfinished requests are dropped

  // Validates the request against the expert's vocabulary and context, and queues it; the expert is loaded
  // if it is not resident.
  Result<std::shared_ptr<OutputStream>> Submit(int expert, GenerateRequest r);
  void Abort(const std::string& id);
  // Starts loading `expert` if it is on disk (the router's decision, before the prompt is tokenized).
  void Prefetch(int expert);
  std::string NextId(const char* prefix) { return std::string(prefix) + "-" + std::to_string(next_id_++); }

  int num_experts() const { return static_cast<int>(experts_.size()); }
  const ExpertInfo& expert(int e) const { return experts_[static_cast<size_t>(e)]; }
  int Find(const std::string& name) const;  // -1 when no expert has that name
  const std::string& name() const { return name_; }
  int64_t budget() const { return budget_; }
  CoeMetrics& metrics() { return *metrics_; }
  // Loads and evictions so far, in order: "load NAME" when a load starts, "evict NAME".
  std::vector<std::string> events() const;

 private:
  struct Slot;
  struct Loaded {  // what the loader hands the loop: a resident expert's plans and engine
    std::vector<ir::Plan> plans;
    std::unique_ptr<LlmEngine> engine;
    double seconds = 0;
  };
  struct Pending {
    GenerateRequest req;
    std::shared_ptr<OutputStream> stream;
    int64_t since_us = 0;
  };
  struct Inbox {
    std::vector<std::pair<int, Pending>> submits;
    std::vector<std::string> aborts;
    std::vector<int> prefetches;
  };

  CoeEngine(const CoeConfig& config, const CoeEngineOptions& options);
  Status OpenExperts(const CoeConfig& config);
  void Loop();
  void LoaderLoop();
  bool Idle() const;  // loop thread, under mu_: nothing to do until woken
  void Drain(Inbox& in);
  void Admit(int expert, Pending p);
  void AbortOne(const std::string& id);
  void Want(int expert);
  void InstallLoads();
  void StartLoad();
  void Evict(int expert);
  void StepRound();
  void Deliver(int expert, std::vector<GenerateOutput> outputs);
  void PublishGauges();
  Result<Loaded> Load(int expert);  // loader thread
  void Event(std::string e);

  std::string name_;
  int64_t budget_;
  CoeEngineOptions options_;
  std::vector<ExpertInfo> experts_;
  std::unique_ptr<CoeMetrics> metrics_;
  std::unique_ptr<ThreadPool> pool_;
  std::atomic<uint64_t> next_id_{0};

  // Loop thread only.
  std::vector<std::unique_ptr<Slot>> slots_;
  Residency residency_;
  std::deque<int> load_queue_;
  std::unordered_map<std::string, int> owner_;  // request id -> expert
  std::unordered_map<std::string, std::shared_ptr<OutputStream>> streams_;  // requests in resident engines
  size_t round_start_ = 0;

  mutable std::mutex mu_;  // guards the inbox, the loader hand-over and events
  std::condition_variable cv_, loader_cv_;
  Inbox inbox_;
  int load_job_ = -1;                                      // the loader's next expert
  std::vector<std::pair<int, Result<Loaded>>> finished_;  // loads done, to install
  bool loading_ = false;                                   // a job is with the loader
  bool stop_ = false;
  std::vector<std::string> events_;
  std::thread loader_, thread_;
};

}  // namespace strata::coe
