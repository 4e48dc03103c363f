// The engine on the real shared model: batched, chunked, preempted and prefix-cached runs give exactly the
// greedy tokens of a plain one-sequence-at-a-time loop (CpuExecutor + argmax), and every block comes back.
#include <gtest/gtest.h>

#include <limits>
#include <map>

#include "compiler/plan_builder.h"
#include "engine/llm_engine.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "greedy_reference.h"
#include "testdata.h"

namespace strata {
namespace {

using testing::TestDataPath;

struct Loaded {
  std::unique_ptr<Model> model;
  ir::Plan plan;
};

const Loaded& Tiny() {
  static const Loaded l = [] {
    Loaded out;
    auto model = Model::Load(TestDataPath("models/tiny-llama-q8_0.gguf"));
    out.model = std::move(model).value();
    auto plan = ir::BuildPlan(*out.model);
    out.plan = std::move(plan).value();
    return out;
  }();
  return l;
}

const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog ran to the",
                                           "Lily and Ben were friends. They liked to play in the park every day.",
                                           "Tom", "The sun was shining and the birds were singing. A girl named",
                                           "One day"};

std::vector<int32_t> ReferenceGreedy(const std::vector<int32_t>& prompt, int n) {
  return testing::ReferenceGreedy(Tiny().plan, prompt, n);
}

// Runs all prompts through one engine; returns generated tokens per request id.
std::map<std::string, std::vector<int32_t>> RunEngine(const EngineConfig& cfg, int n, int64_t* preemptions = nullptr) {
  ThreadPool pool(2);
  auto engine = LlmEngine::Create(Tiny().plan, Tiny().model->tokenizer(), pool, cfg);
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  const Tokenizer& tok = Tiny().model->tokenizer();
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    GenerateRequest r{.id = std::to_string(i), .prompt = tok.Encode(kPrompts[i], true), .max_tokens = n,
                      .ignore_eos = true};
    r.sampling.temperature = 0;
    EXPECT_TRUE((*engine)->Add(std::move(r)).ok());
  }
  std::map<std::string, std::vector<int32_t>> out;
  int steps = 0;
  while ((*engine)->has_work() && steps++ < 100000)
    for (const GenerateOutput& d : (*engine)->Step()) {
      auto& v = out[d.id];
      v.insert(v.end(), d.tokens.begin(), d.tokens.end());
    }
  EXPECT_EQ((*engine)->num_free_blocks(), (*engine)->num_blocks()) << "blocks leaked";
  EXPECT_EQ((*engine)->kv_cache_usage(), 0.0);
  if (preemptions) *preemptions = (*engine)->num_preemptions();
  return out;
}

class EngineGolden : public ::testing::Test {
 protected:
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }
  void ExpectMatchesReference(const std::map<std::string, std::vector<int32_t>>& got, int n) {
    const Tokenizer& tok = Tiny().model->tokenizer();
    ASSERT_EQ(got.size(), kPrompts.size());
    for (size_t i = 0; i < kPrompts.size(); ++i)
      EXPECT_EQ(got.at(std::to_string(i)), ReferenceGreedy(tok.Encode(kPrompts[i], true), n)) << kPrompts[i];
  }
};

TEST_F(EngineGolden, BatchedEqualsOneAtATime) {
  ExpectMatchesReference(RunEngine({.scheduler = {.max_num_seqs = 8, .max_num_batched_tokens = 512}}, 24), 24);
}

TEST_F(EngineGolden, ChunkedPrefillEqualsOneAtATime) {
  ExpectMatchesReference(RunEngine({.block_size = 4, .scheduler = {.max_num_seqs = 3, .max_num_batched_tokens = 7}}, 16), 16);
}

TEST_F(EngineGolden, PreemptedAndResumedEqualsOneAtATime) {
  // 18 blocks of 16 = 288 tokens for six sequences that grow to ~80 tokens each: some must be preempted.
  const int64_t per_token = PagedKvCache::BytesPerToken(Tiny().plan.kv.n_layers, Tiny().plan.kv.kv_dim);
  int64_t preemptions = 0;
  auto got = RunEngine({.kv_cache_bytes = 18 * 16 * per_token, .scheduler = {.max_num_seqs = 6, .max_num_batched_tokens = 64}},
                       64, &preemptions);
  EXPECT_GT(preemptions, 0);
  ExpectMatchesReference(got, 64);
}

TEST_F(EngineGolden, PrefixCachingOffGivesTheSameTokens) {
  auto with = RunEngine({.prefix_caching = true}, 12);
  auto without = RunEngine({.prefix_caching = false}, 12);
  EXPECT_EQ(with, without);
}

TEST_F(EngineGolden, KvCacheSmallerThanOneContextIsAnError) {
  ThreadPool pool(1);
  auto engine = LlmEngine::Create(Tiny().plan, Tiny().model->tokenizer(), pool, {.kv_cache_bytes = 1000});
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("kv-cache-memory"), std::string::npos);
}

TEST_F(EngineGolden, RequestsOutsideTheVocabularyOrContextAreRefusedWithoutOverflow) {
  // The engine checks what every caller sends, not only the server: ids in [0, n_vocab), and max_tokens compared
  // against the room left so that a value near INT64_MAX does not wrap the sum into range.
  ThreadPool pool(1);
  auto engine = LlmEngine::Create(Tiny().plan, Tiny().model->tokenizer(), pool, {});
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  const int32_t vocab = static_cast<int32_t>(Tiny().model->tokenizer().n_vocab());
  auto check = [&](GenerateRequest r, const std::string& says) {
    const Status st = (*engine)->Validate(r);
    EXPECT_FALSE(st.ok()) << says;
    EXPECT_NE(st.message().find(says), std::string::npos) << st.message();
  };
  check({.prompt = {1, 2}, .max_tokens = std::numeric_limits<int64_t>::max()}, "you requested 9223372036854775809 tokens");
  check({.prompt = {1, vocab}}, "prompt token id");
  check({.prompt = {1}, .stop_token_ids = {-1}}, "stop token id -1");
  check({.prompt = {1}, .stop_token_ids = {vocab}}, "stop token id");
  GenerateRequest bias{.prompt = {1}};
  bias.sampling.logit_bias = {{-5, 1.0f}};
  check(bias, "logit_bias token id -5");
  EXPECT_TRUE((*engine)->Validate({.prompt = {1, 2}, .max_tokens = 4}).ok());
}

}  // namespace
}  // namespace strata
