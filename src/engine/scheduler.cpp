#include "engine/scheduler.h"

#include <algorithm>

namespace strata {

Scheduler::Scheduler(const SchedulerConfig& config, KvCacheManager& kv) : config_(config), kv_(kv) {}

void Scheduler::Add(Sequence* s) { waiting_.push_back(s); }

void Scheduler::Remove(Sequence* s) {
  std::erase(running_, s);
  std::erase(waiting_, s);
  kv_.Free(*s);
  s->num_draft_computed = 0;
}

void Scheduler::Preempt(Sequence* s, SchedulerOutput& out) {
  kv_.Free(*s);
  s->num_computed = 0;
  s->num_draft_computed = 0;
  ++s->num_preemptions;
  ++num_preemptions_;
  waiting_.push_front(s);
  out.preempted.push_back(s);
}

// The draft slots a sequence gets after its n scheduled tokens: what it asks for, within `budget` and the free
// blocks (a shortfall gives fewer, not a preemption).
int64_t Scheduler::Lookahead(Sequence& s, int64_t n, int64_t budget) {
  for (int64_t k = std::min<int64_t>(s.lookahead, budget); k > 0; --k)
    if (kv_.Allocate(s, n + k)) return k;
  return 0;
}

// Returns false when a preemption happened (no new sequences are admitted in that step).
bool Scheduler::ScheduleRunning(SchedulerOutput& out, int64_t& budget) {
  bool preempted = false;
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* s = running_[i];
    const int64_t n = std::min(s->num_tokens() - s->num_computed, budget);
    if (n <= 0) {
      ++i;
      continue;
    }
    bool self_preempted = false;
    while (!kv_.Allocate(*s, n)) {
      Sequence* victim = running_.back();
      running_.pop_back();
      Preempt(victim, out);
      preempted = true;
      if (victim == s) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) break;
    out.scheduled.push_back({s, n, s->num_computed + n == s->num_tokens()});
    budget -= n;
    ++i;
  }
  // Draft slots come after every running sequence has its tokens, so they never cost another one its room.
  for (ScheduledSequence& scheduled : out.scheduled)
    if (scheduled.samples && scheduled.seq->lookahead > 0) {
      scheduled.num_lookahead = Lookahead(*scheduled.seq, scheduled.num_tokens, budget);
      budget -= scheduled.num_lookahead;
    }
  return !preempted;
}

void Scheduler::ScheduleWaiting(SchedulerOutput& out, int64_t& budget) {
  while (!waiting_.empty() && budget > 0 && running_.size() < static_cast<size_t>(config_.max_num_seqs)) {
    Sequence* s = waiting_.front();
    const bool fresh = s->block_table.empty();
    if (fresh) s->num_computed = kv_.ClaimCachedPrefix(*s);
    const int64_t n = std::min(s->num_tokens() - s->num_computed, budget);
    if (!kv_.Allocate(*s, n)) {
      if (fresh) {
        kv_.Free(*s);
        s->num_computed = 0;
        s->num_cached_prefix = 0;
      }
      return;
    }
    waiting_.pop_front();
    running_.push_back(s);
    out.scheduled.push_back({s, n, s->num_computed + n == s->num_tokens()});
    budget -= n;
  }
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput out;
  int64_t budget = config_.max_num_batched_tokens;
  if (ScheduleRunning(out, budget)) ScheduleWaiting(out, budget);
  out.num_tokens = config_.max_num_batched_tokens - budget;
  return out;
}

void Scheduler::Commit(const SchedulerOutput& out) {
  for (const ScheduledSequence& s : out.scheduled) {
    s.seq->num_computed += s.num_tokens;
    kv_.CacheFullBlocks(*s.seq);
  }
}

}  // namespace strata
