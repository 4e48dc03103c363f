// Scheduler and block accounting driven by a fake model: a step "computes" the scheduled tokens and, for a
// sequence that reached its end, appends a fake sampled token. No real forward pass is involved.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>

#include "engine/scheduler.h"

namespace strata {
namespace {

class FakeEngine {
 public:
  FakeEngine(int32_t num_blocks, int32_t block_size, SchedulerConfig cfg, bool prefix = true)
      : kv(num_blocks, block_size, prefix), sched(cfg, kv), cfg_(cfg) {}

  Sequence* Add(std::vector<int32_t> prompt, int64_t max_new) {
    auto s = std::make_unique<Sequence>();
    s->id = std::to_string(seqs.size());
    s->tokens = std::move(prompt);
    s->num_prompt = s->num_tokens();
    max_new_.push_back(max_new);
    seqs.push_back(std::move(s));
    sched.Add(seqs.back().get());
    return seqs.back().get();
  }

  // One step: checks the invariants of the schedule, then plays the model.
  SchedulerOutput Step() {
    SchedulerOutput out = sched.Schedule();
    int64_t total = 0;
    std::set<Sequence*> seen;
    for (const auto& s : out.scheduled) {
      EXPECT_TRUE(seen.insert(s.seq).second) << "scheduled twice";
      EXPECT_GT(s.num_tokens, 0);
      EXPECT_LE(s.seq->num_computed + s.num_tokens, s.seq->num_tokens());
      EXPECT_GE(static_cast<int64_t>(s.seq->block_table.size()) * kv.block_size(), s.seq->num_computed + s.num_tokens);
      total += s.num_tokens;
    }
    EXPECT_LE(total, cfg_.max_num_batched_tokens);
    EXPECT_LE(out.scheduled.size(), static_cast<size_t>(cfg_.max_num_seqs));
    sched.Commit(out);
    for (const auto& s : out.scheduled) {
      if (!s.samples) continue;
      const size_t idx = std::stoul(s.seq->id);
      if (s.seq->num_generated() >= max_new_[idx]) {
        sched.Remove(s.seq);
        finished.push_back(s.seq);
      } else {
        s.seq->tokens.push_back(1000 + static_cast<int32_t>(s.seq->num_generated()));
      }
    }
    return out;
  }

  int RunToEnd(int max_steps = 10000) {
    int steps = 0;
    while ((sched.num_running() || sched.num_waiting()) && steps < max_steps) Step(), ++steps;
    return steps;
  }

  KvCacheManager kv;
  Scheduler sched;
  std::vector<std::unique_ptr<Sequence>> seqs;
  std::vector<Sequence*> finished;

 private:
  SchedulerConfig cfg_;
  std::vector<int64_t> max_new_;
};

std::vector<int32_t> Tokens(int n, int32_t base) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = base + i;
  return v;
}

TEST(Scheduler, ChunkedPrefillRespectsBudgetAndMixesWithDecodes) {
  FakeEngine e(64, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 10});
  Sequence* a = e.Add(Tokens(3, 0), 5);
  auto out = e.Step();  // a's whole prompt
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].num_tokens, 3);
  EXPECT_TRUE(out.scheduled[0].samples);
  Sequence* b = e.Add(Tokens(25, 100), 2);
  out = e.Step();  // a decodes one token, b gets the rest of the budget: 9 of 25
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[0].seq, a);
  EXPECT_EQ(out.scheduled[0].num_tokens, 1);
  EXPECT_EQ(out.scheduled[1].seq, b);
  EXPECT_EQ(out.scheduled[1].num_tokens, 9);
  EXPECT_FALSE(out.scheduled[1].samples);
  out = e.Step();  // chunks continue in order: 9 more
  EXPECT_EQ(out.scheduled[1].num_tokens, 9);
  EXPECT_EQ(b->num_computed, 18);
  out = e.Step();  // last 7 of the prompt, then b samples
  EXPECT_EQ(out.scheduled[1].num_tokens, 7);
  EXPECT_TRUE(out.scheduled[1].samples);
  e.RunToEnd();
  EXPECT_EQ(e.finished.size(), 2u);
  EXPECT_EQ(e.kv.pool().num_free(), 64);
}

TEST(Scheduler, MaxNumSeqsCapsTheBatch) {
  FakeEngine e(256, 4, {.max_num_seqs = 3, .max_num_batched_tokens = 1000});
  for (int i = 0; i < 7; ++i) e.Add(Tokens(5, i * 10), 4);
  auto out = e.Step();
  EXPECT_EQ(out.scheduled.size(), 3u);
  EXPECT_EQ(e.sched.num_waiting(), 4u);
  e.RunToEnd();
  EXPECT_EQ(e.finished.size(), 7u);
  EXPECT_EQ(e.kv.pool().num_free(), 256);
}

TEST(Scheduler, PreemptsWhenBlocksRunOutAndResumes) {
  // 8 blocks of 4 tokens = 32 slots; three sequences that each grow to 4+12 = 16 tokens cannot all fit.
  FakeEngine e(8, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 64}, /*prefix=*/false);
  for (int i = 0; i < 3; ++i) e.Add(Tokens(4, i * 100), 12);
  const int steps = e.RunToEnd();
  EXPECT_LT(steps, 10000) << "no progress";
  ASSERT_EQ(e.finished.size(), 3u);
  EXPECT_GT(e.sched.num_preemptions(), 0);
  for (const auto& s : e.seqs) {
    EXPECT_EQ(s->num_generated(), 12);  // resumed sequences keep what they generated
    for (int64_t i = 0; i < s->num_generated(); ++i) EXPECT_EQ(s->generated()[static_cast<size_t>(i)], 1000 + i);
  }
  EXPECT_EQ(e.kv.pool().num_free(), 8);
}

TEST(Scheduler, PrefixBlocksAreSharedAndFreed) {
  FakeEngine e(32, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 100});
  std::vector<int32_t> shared = Tokens(10, 0);  // two full blocks + 2 tokens
  Sequence* a = e.Add(shared, 3);
  e.Step();
  EXPECT_EQ(a->block_hashes.size(), 2u);
  std::vector<int32_t> other = shared;
  other.push_back(77);
  Sequence* b = e.Add(other, 3);
  auto out = e.Step();
  EXPECT_EQ(b->num_cached_prefix, 8);
  EXPECT_EQ(out.scheduled[1].num_tokens, 3);  // only the 3 uncached tokens run
  EXPECT_EQ(a->block_table[0], b->block_table[0]);
  EXPECT_EQ(a->block_table[1], b->block_table[1]);
  EXPECT_EQ(e.kv.pool().ref_count(a->block_table[0]), 2);
  e.RunToEnd();
  EXPECT_EQ(e.kv.pool().num_free(), 32);
  EXPECT_EQ(e.kv.pool().usage(), 0.0);
  // The freed blocks stay cached: a third request with the same prefix still hits.
  Sequence* c = e.Add(shared, 1);
  e.Step();
  EXPECT_EQ(c->num_cached_prefix, 8);
  e.RunToEnd();
  EXPECT_EQ(e.kv.pool().num_free(), 32);
}

TEST(Scheduler, FullyCachedPromptStillComputesOneToken) {
  FakeEngine e(16, 4, {.max_num_seqs = 4, .max_num_batched_tokens = 100});
  e.Add(Tokens(8, 0), 1);
  e.RunToEnd();
  Sequence* b = e.Add(Tokens(8, 0), 1);
  auto out = e.Step();
  EXPECT_EQ(b->num_cached_prefix, 4);  // the second block would leave nothing to compute
  EXPECT_EQ(out.scheduled[0].num_tokens, 4);
  EXPECT_TRUE(out.scheduled[0].samples);
}

TEST(BlockPool, EvictsLeastRecentlyFreedCachedBlocksFirst) {
  BlockPool pool(3);
  auto a = *pool.Allocate(3);
  const BlockKey k0 = MakeBlockKey(0, std::vector<int32_t>{1, 2});
  const BlockKey k1 = MakeBlockKey(k0.hash, std::vector<int32_t>{3, 4});
  pool.Cache(a[0], k0);
  pool.Cache(a[1], k1);
  pool.Free(a);  // reverse order: a[2], a[1], a[0] join the queue
  EXPECT_EQ(pool.num_free(), 3);
  EXPECT_EQ(pool.Lookup(k0), a[0]);
  auto b = *pool.Allocate(1);  // takes a[2] (uncached) first
  EXPECT_EQ(b[0], a[2]);
  auto c = *pool.Allocate(1);  // then evicts a[1]: the tail block of the prefix goes before its head
  EXPECT_EQ(c[0], a[1]);
  EXPECT_EQ(pool.Lookup(k1), -1);
  EXPECT_EQ(pool.Lookup(k0), a[0]);
  EXPECT_FALSE(pool.Allocate(2).has_value());
  EXPECT_EQ(pool.num_free(), 1);
}

TEST(BlockPool, KeysDifferWithTheirParents) {
  const std::vector<int32_t> t = {5, 6, 7};
  EXPECT_NE(MakeBlockKey(0, t).hash, MakeBlockKey(1, t).hash);
  EXPECT_EQ(MakeBlockKey(9, t), MakeBlockKey(9, t));
}

TEST(Scheduler, RandomWorkloadReturnsEveryBlock) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    FakeEngine e(24, 4, {.max_num_seqs = 5, .max_num_batched_tokens = 13}, round % 2 == 0);
    for (int i = 0; i < 12; ++i) {
      const int len = 1 + static_cast<int>(rng() % 30);
      e.Add(Tokens(len, static_cast<int32_t>(rng() % 3) * 1000), 1 + static_cast<int64_t>(rng() % 20));
      if (i % 3 == 0) e.Step();
    }
    EXPECT_LT(e.RunToEnd(), 10000);
    EXPECT_EQ(e.finished.size(), 12u);
    EXPECT_EQ(e.kv.pool().num_free(), 24);
  }
}

// Speculative decoding's draft slots: granted within the budget and the free blocks, after every running sequence
// has its own tokens, and never by preempting anything.
TEST(Scheduler, LookaheadSlotsComeLastAndNeverPreempt) {
  FakeEngine e(4, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 64}, /*prefix=*/false);
  Sequence* a = e.Add(Tokens(3, 0), 40);
  Sequence* b = e.Add(Tokens(3, 100), 40);
  e.Step();  // both prompts; each samples a token and now decodes (block 0 of each, 4 of 4 slots used)
  ASSERT_EQ(a->num_computed, 3);
  a->lookahead = 3;
  auto out = e.sched.Schedule();
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[0].num_lookahead, 3);  // a: 1 token + 3 slots -> positions 3..6, a second block
  EXPECT_EQ(out.scheduled[1].num_lookahead, 0);
  EXPECT_EQ(a->block_table.size(), 2u);
  EXPECT_TRUE(out.preempted.empty());
  e.sched.Commit(out);
  // One block is left; b's pending token (position 4) takes it, and of the 8 slots b asks for only the 3 that
  // block still holds (positions 5..7) are granted.
  a->tokens.push_back(5);
  b->tokens.push_back(6);
  a->lookahead = 0;
  b->lookahead = 8;
  out = e.sched.Schedule();
  ASSERT_EQ(out.scheduled.size(), 2u);
  EXPECT_EQ(out.scheduled[1].num_lookahead, 3);
  EXPECT_TRUE(out.preempted.empty());
  EXPECT_EQ(e.kv.pool().num_free(), 0);
  // The budget bounds them too.
  FakeEngine f(16, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 3});
  Sequence* c = f.Add(Tokens(2, 0), 10);
  f.Step();
  c->lookahead = 5;
  out = f.sched.Schedule();
  ASSERT_EQ(out.scheduled.size(), 1u);
  EXPECT_EQ(out.scheduled[0].num_lookahead, 2);
}

}  // namespace
}  // namespace strata
