// The CoE engine over generated experts: outputs equal each expert's own engine, loads and evictions follow
// LRU within the budget, resident memory stays within the budget plus a stated overhead, experts that do not
// fit together still serve concurrent requests, and a budget too small for the largest expert is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "coe/coe_engine.h"
#include "compiler/plan_builder.h"
#include "generated_experts.h"

namespace strata::coe {
namespace {

using testing::GeneratedCoe;
using testing::SmallExpertOptions;

GenerateRequest Greedy(const Model& model, const std::string& id, const std::string& prompt, int64_t max_tokens = 12) {
  GenerateRequest r;
  r.id = id;
  r.prompt = model.tokenizer().Encode(prompt, model.tokenizer().add_bos());
  r.max_tokens = max_tokens;
  r.sampling.temperature = 0;
  r.ignore_eos = true;
  return r;
}

// Every delta of a request until its last; the tokens in order.
std::vector<int32_t> Drain(OutputStream& stream, FinishReason* reason = nullptr) {
  std::vector<int32_t> tokens;
  for (;;) {
    auto d = stream.Next(std::chrono::milliseconds(60000));
    if (!d) {
      ADD_FAILURE() << "no delta for 60 s";
      return tokens;
    }
    tokens.insert(tokens.end(), d->tokens.begin(), d->tokens.end());
    if (d->finished) {
      EXPECT_NE(d->finish_reason, FinishReason::kError) << d->error;
      if (reason) *reason = d->finish_reason;
      return tokens;
    }
  }
}

std::vector<int32_t> RunOnCoe(CoeEngine& coe, int expert, const std::string& id, const std::string& prompt) {
  auto stream = coe.Submit(expert, Greedy(*coe.expert(expert).model, id, prompt));
  EXPECT_TRUE(stream.ok()) << stream.status().message();
  return stream.ok() ? Drain(**stream) : std::vector<int32_t>{};
}

// The expert run alone: its own LlmEngine, as `strata serve -m` would.
std::vector<int32_t> RunAlone(const std::string& path, const std::string& prompt) {
  auto model = Model::Load(path);
  EXPECT_TRUE(model.ok());
  auto plans = ir::Compile(**model, {});
  EXPECT_TRUE(plans.ok());
  ThreadPool pool(2);
  EngineConfig config = SmallExpertOptions().engine;
  auto engine = LlmEngine::Create(*plans, (*model)->tokenizer(), pool, config);
  EXPECT_TRUE(engine.ok());
  EXPECT_TRUE((*engine)->Add(Greedy(**model, "alone", prompt)).ok());
  std::vector<int32_t> tokens;
  while ((*engine)->has_work())
    for (const GenerateOutput& d : (*engine)->Step()) tokens.insert(tokens.end(), d.tokens.begin(), d.tokens.end());
  return tokens;
}

int64_t FootprintOf(const CoeConfig& config) {
  auto probe = CoeEngine::Create(config, SmallExpertOptions());
  EXPECT_TRUE(probe.ok()) << probe.status().message();
  return probe.ok() ? (*probe)->expert(0).footprint.total() : 0;
}

TEST(CoeEngine, RefusesABudgetBelowTheLargestExpertWithItsNumbers) {
  STRATA_REQUIRE_TESTDATA();
  CoeConfig config = GeneratedCoe(2, int64_t{1} << 30);
  const int64_t need = FootprintOf(config);
  ASSERT_GT(need, 0);
  config.ram_budget = need - 1;
  auto e = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("cannot hold expert 'e0'"), std::string::npos) << e.status().message();
  EXPECT_NE(e.status().message().find("weights"), std::string::npos);
  EXPECT_NE(e.status().message().find("KV"), std::string::npos);
  EXPECT_NE(e.status().message().find("activations"), std::string::npos);
  config.ram_budget = need;
  EXPECT_TRUE(CoeEngine::Create(config, SmallExpertOptions()).ok());
}

// Budget for 8: experts 0..7 load; touching 0 again makes 1 the least recently used, so expert 8 evicts 1 and
// expert 9 evicts 2; a resident expert is not loaded twice.
TEST(CoeEngine, EvictsTheLeastRecentlyUsedIdleExpert) {
  STRATA_REQUIRE_TESTDATA();
  CoeConfig config = GeneratedCoe(10, int64_t{1} << 30);
  const int64_t need = FootprintOf(config);
  config.ram_budget = need * 8 + need / 2;
  auto coe = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_TRUE(coe.ok()) << coe.status().message();
  int n = 0;
  for (int e : {0, 1, 2, 3, 4, 5, 6, 7, 0, 8, 9})
    EXPECT_EQ(RunOnCoe(**coe, e, "r" + std::to_string(n++), "Once upon a time").size(), 12u);
  std::vector<std::string> expected;
  for (int e = 0; e < 8; ++e) expected.push_back("load e" + std::to_string(e));
  for (const char* s : {"evict e1", "load e8", "evict e2", "load e9"}) expected.push_back(s);
  EXPECT_EQ((*coe)->events(), expected);
  EXPECT_EQ((*coe)->metrics().expert(0).loads, 1);
  EXPECT_EQ((*coe)->metrics().expert(1).evictions, 1);
}

// 150 experts, a budget for 8, every expert touched (four requests in flight at a time, in a shuffled order):
// all complete, and the process's resident memory never grows past the budget plus the overhead below.
TEST(CoeEngine, ServesManyMoreExpertsThanFitWithinTheBudget) {
  STRATA_REQUIRE_TESTDATA();
  constexpr int kExperts = 150;
  // Allocator slack, the loader's and steps' transient buffers, page tables: a fixed allowance, stated here.
  constexpr int64_t kOverhead = int64_t{24} << 20;
  CoeConfig config = GeneratedCoe(kExperts, int64_t{1} << 30);
  const int64_t need = FootprintOf(config);
  config.ram_budget = need * 8;
  auto coe = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_TRUE(coe.ok()) << coe.status().message();
  const int64_t baseline = testing::ResidentBytes();
  std::atomic<bool> done{false};
  std::atomic<int64_t> peak{baseline};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max<int64_t>(peak, testing::ResidentBytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<int> order(kExperts);
  for (int i = 0; i < kExperts; ++i) order[static_cast<size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  for (size_t i = 0; i < order.size(); i += 4) {
    std::vector<std::shared_ptr<OutputStream>> streams;
    for (size_t k = i; k < std::min(order.size(), i + 4); ++k) {
      auto s = (*coe)->Submit(order[k], Greedy(*(*coe)->expert(order[k]).model, "m" + std::to_string(k), "Hello"));
      ASSERT_TRUE(s.ok()) << s.status().message();
      streams.push_back(*s);
    }
    for (auto& s : streams) EXPECT_EQ(Drain(*s).size(), 12u);
  }
  done = true;
  sampler.join();
  for (int e = 0; e < kExperts; ++e) EXPECT_GE((*coe)->metrics().expert(e).loads, 1) << e;
  const int64_t grew = peak - baseline;
  std::printf("150 experts of %.1f MiB each, budget %.1f MiB: resident memory grew by at most %.1f MiB\n",
              need / 1048576.0, config.ram_budget / 1048576.0, grew / 1048576.0);
  if (!testing::kSanitized) {
    EXPECT_LE(grew, config.ram_budget + kOverhead);
  }
  EXPECT_LE((*coe)->metrics().gauges().resident_bytes, config.ram_budget);
}

// Four experts, room for two, one request each at once: all complete, each equal to its expert run alone.
TEST(CoeEngine, ConcurrentRequestsForMoreExpertsThanFitMatchEachExpertAlone) {
  STRATA_REQUIRE_TESTDATA();
  CoeConfig config = GeneratedCoe(4, int64_t{1} << 30);
  const int64_t need = FootprintOf(config);
  config.ram_budget = need * 2;
  auto coe = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_TRUE(coe.ok()) << coe.status().message();
  const std::vector<std::string> prompts = {"The cat sat", "In the beginning", "Hello world", "Once upon a time"};
  std::vector<std::shared_ptr<OutputStream>> streams;
  for (int e = 0; e < 4; ++e) {
    auto s = (*coe)->Submit(e, Greedy(*(*coe)->expert(e).model, "c" + std::to_string(e), prompts[static_cast<size_t>(e)]));
    ASSERT_TRUE(s.ok());
    streams.push_back(*s);
  }
  for (int e = 0; e < 4; ++e) {
    const auto got = Drain(*streams[static_cast<size_t>(e)]);
    EXPECT_EQ(got, RunAlone(config.experts[static_cast<size_t>(e)].model.string(), prompts[static_cast<size_t>(e)]))
        << "expert " << e;
  }
  int loads = 0;
  for (const std::string& ev : (*coe)->events()) loads += ev.starts_with("load ");
  EXPECT_GE(loads, 4);
}

TEST(CoeEngine, AbortsARequestWaitingForItsExpert) {
  STRATA_REQUIRE_TESTDATA();
  CoeConfig config = GeneratedCoe(2, int64_t{1} << 30);
  config.ram_budget = FootprintOf(config);  // one at a time
  auto coe = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_TRUE(coe.ok());
  GenerateRequest long_one = Greedy(*(*coe)->expert(0).model, "long", "Hello", 100);
  auto first = (*coe)->Submit(0, long_one);
  auto second = (*coe)->Submit(1, Greedy(*(*coe)->expert(1).model, "waits", "Hello"));
  ASSERT_TRUE(first.ok() && second.ok());
  (*coe)->Abort("waits");
  FinishReason reason = FinishReason::kNone;
  Drain(**second, &reason);
  EXPECT_EQ(reason, FinishReason::kAbort);
  EXPECT_EQ(Drain(**first).size(), 100u);
}

// Room for one expert: a request for the second waits until the first expert's request has finished (the first
// is never evicted under it), then the second loads.
TEST(CoeEngine, NeverEvictsAnExpertWithRequestsInFlight) {
  STRATA_REQUIRE_TESTDATA();
  CoeConfig config = GeneratedCoe(2, int64_t{1} << 30);
  config.ram_budget = FootprintOf(config);
  auto coe = CoeEngine::Create(config, SmallExpertOptions());
  ASSERT_TRUE(coe.ok());
  auto first = (*coe)->Submit(0, Greedy(*(*coe)->expert(0).model, "long", "Hello", 60));
  auto second = (*coe)->Submit(1, Greedy(*(*coe)->expert(1).model, "next", "Hello"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(Drain(**second).size(), 12u);  // finishes only after the first one did
  EXPECT_EQ(Drain(**first).size(), 60u);   // all of it: its expert was not evicted under it
  EXPECT_EQ((*coe)->events(), (std::vector<std::string>{"load e0", "evict e0", "load e1"}));
}

TEST(CoeEngine, RejectsARequestOutsideTheExpertsContext) {
  STRATA_REQUIRE_TESTDATA();
  auto coe = CoeEngine::Create(GeneratedCoe(1, int64_t{1} << 30), SmallExpertOptions());
  ASSERT_TRUE(coe.ok());
  GenerateRequest r = Greedy(*(*coe)->expert(0).model, "too-long", "Hello", 1000);
  auto s = (*coe)->Submit(0, r);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("maximum context length is 128"), std::string::npos) << s.status().message();
}

}  // namespace
}  // namespace strata::coe
