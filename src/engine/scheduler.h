// Continuous batching: every step decides which sequences run and how many of their pending tokens each gets,
// under a sequence cap and a token budget. Running sequences go first (a decode costs one token); waiting
// ones join while budget, slots and blocks last; a long prompt is split across steps (chunked prefill). When
// blocks run out the most recently admitted running sequence is preempted: its blocks are freed and it
// waits at the front of the queue to be recomputed. A decoding sequence that asks for lookahead slots (the drafts
// of speculative decoding) gets them when budget and blocks allow, never at the cost of a preemption.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/kv_cache_manager.h"
#include "engine/sequence.h"

namespace strata {

struct SchedulerConfig {
  int32_t max_num_seqs = 256;
  int64_t max_num_batched_tokens = 2048;
};

struct ScheduledSequence {
  Sequence* seq = nullptr;
  int64_t num_tokens = 0;    // tokens run this step, from seq->num_computed on
  bool samples = false;      // this step reaches the end of the sequence's tokens: sample the next one
  int64_t num_lookahead = 0; // draft slots reserved after those tokens (speculative decoding; samples is set)
};

struct SchedulerOutput {
  std::vector<ScheduledSequence> scheduled;
  std::vector<Sequence*> preempted;
  int64_t num_tokens = 0;
  bool empty() const { return scheduled.empty(); }
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvCacheManager& kv);

  // Queues a sequence (its tokens already set); it starts at a later Schedule().
  void Add(Sequence* s);
  // Takes a sequence out wherever it is (finished or aborted) and frees its blocks.
  void Remove(Sequence* s);
  SchedulerOutput Schedule();
  // After the step ran: the scheduled tokens are now computed; full blocks enter the prefix cache.
  void Commit(const SchedulerOutput& out);

  size_t num_running() const { return running_.size(); }
  size_t num_waiting() const { return waiting_.size(); }
  int64_t num_preemptions() const { return num_preemptions_; }

 private:
  bool ScheduleRunning(SchedulerOutput& out, int64_t& budget);
  void ScheduleWaiting(SchedulerOutput& out, int64_t& budget);
  void Preempt(Sequence* s, SchedulerOutput& out);
  int64_t Lookahead(Sequence& s, int64_t n, int64_t budget);

  SchedulerConfig config_;
  KvCacheManager& kv_;
  std::vector<Sequence*> running_;
  std::deque<Sequence*> waiting_;
  int64_t num_preemptions_ = 0;
};

}  // namespace strata
