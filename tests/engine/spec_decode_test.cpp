// Speculative decoding in the engine, on the shared models (target: the F32 file; draft: the Q4_0 file):
// greedy output is token for token the target's own greedy output (one sequence at a time, CpuExecutor +
// argmax) with a draft model and with prompt lookup, alone and with several sequences batched; the KV cache
// left behind equals a non-speculative run's; structured output stays valid; metrics count what happened.
#include <gtest/gtest.h>

#include <map>

#include "compiler/plan_builder.h"
#include "engine/json_grammar.h"
#include "engine/json_matcher.h"
#include "engine/llm_engine.h"
#include "model/gguf.h"
#include "model/model.h"
#include "model/tokenizer.h"
#include "runtime/cpu_executor.h"
#include "runtime/model_runner.h"
#include "greedy_reference.h"
#include "testdata.h"

namespace strata::spec_decode_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

using testing::TestDataPath;

struct Loaded {
  std::unique_ptr<Model> model;
  std::vector<ir::Plan> plans;
};

const Loaded& Load(const std::string& file) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  Loaded out;
  out.model = std::move(Model::Load(TestDataPath("models/" + file))).value();
  out.plans.push_back(std::move(ir::BuildPlan(*out.model)).value());
  return cache.emplace(file, std::move(out)).first->second;
}
const Loaded& Target() { return Load("tiny-llama-f32.gguf"); }
const Loaded& Draft() { return Load("tiny-llama-q4_0.gguf"); }

// Prompts with repeats in them, so that prompt lookup finds something to copy.
const std::vector<std::string> kPrompts = {
    "Once upon a time, there was a little girl named Lily. She loved to play",
    "The cat sat on the mat. The cat sat on the mat. The cat sat on the",
    "Tom and Sue went to the park. Tom and Sue played on the swings. Then Tom and",
    "One day"};

std::vector<int32_t> Encode(const std::string& text) { return Target().model->tokenizer().Encode(text, true); }

std::vector<int32_t> ReferenceGreedy(const std::vector<int32_t>& prompt, int n) {
  return testing::ReferenceGreedy(Target().plans[0], prompt, n);
}

SpecConfig DraftModelSpec(ThreadPool& pool, int k = 4) {
  SpecConfig spec{.method = SpecConfig::Method::kDraftModel, .num_tokens = k};
  spec.draft = {Draft().plans[0].kv.n_ctx, ModelRunner::KvBytesPerToken(Draft().plans),
                ModelRunner::Factory(Draft().plans, pool)};
  spec.draft_tokenizer = &Draft().model->tokenizer();
  return spec;
}

SpecConfig NgramSpec(int k = 4) { return {.method = SpecConfig::Method::kNgram, .num_tokens = k, .ngram_min = 1, .ngram_max = 3}; }

struct RunResult {
  std::map<std::string, std::vector<int32_t>> tokens;
  std::map<std::string, std::string> text;
  EngineMetrics::SpecCounts spec;
  std::string metrics;
};

// Runs requests through one engine to the end; every block must come back.
RunResult RunEngine(ThreadPool& pool, const EngineConfig& cfg, std::vector<GenerateRequest> requests) {
  auto engine = LlmEngine::Create(Target().plans, Target().model->tokenizer(), pool, cfg);
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  if (!engine.ok()) return {};
  for (GenerateRequest& r : requests) EXPECT_TRUE((*engine)->Add(std::move(r)).ok());
  RunResult out;
  for (int steps = 0; (*engine)->has_work() && steps < 100000; ++steps)
    for (const GenerateOutput& d : (*engine)->Step()) {
      EXPECT_NE(d.finish_reason, FinishReason::kError) << d.error;
      auto& v = out.tokens[d.id];
      v.insert(v.end(), d.tokens.begin(), d.tokens.end());
      out.text[d.id] += d.text;
    }
  EXPECT_EQ((*engine)->num_free_blocks(), (*engine)->num_blocks()) << "blocks leaked";
  out.spec = (*engine)->metrics().spec();
  out.metrics = (*engine)->metrics().RenderPrometheus("m");
  return out;
}

std::vector<GenerateRequest> GreedyRequests(int n) {
  std::vector<GenerateRequest> out;
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    GenerateRequest r{.id = std::to_string(i), .prompt = Encode(kPrompts[i]), .max_tokens = n, .ignore_eos = true};
    r.sampling.temperature = 0;
    out.push_back(std::move(r));
  }
  return out;
}

void ExpectReference(const RunResult& got, int n) {
  ASSERT_EQ(got.tokens.size(), kPrompts.size());
  for (size_t i = 0; i < kPrompts.size(); ++i)
    EXPECT_EQ(got.tokens.at(std::to_string(i)), ReferenceGreedy(Encode(kPrompts[i]), n)) << kPrompts[i];
}

class SpecDecode : public ::testing::Test {
 protected:
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }
};

TEST_F(SpecDecode, DraftModelGreedyEqualsTheTargetAloneBatched) {
  ThreadPool pool(2);
  const RunResult got = RunEngine(pool, {.spec = DraftModelSpec(pool)}, GreedyRequests(48));
  ExpectReference(got, 48);
  EXPECT_GT(got.spec.drafts, 0);
  EXPECT_GT(got.spec.accepted_tokens, got.spec.draft_tokens / 4) << "the Q4_0 draft agrees with its F32 target";
  EXPECT_LE(got.spec.accepted_tokens, got.spec.draft_tokens);
}

TEST_F(SpecDecode, DraftModelGreedyEqualsTheTargetAloneOneAtATimeAndChunked) {
  ThreadPool pool(2);
  // One sequence per step, prompts cut into chunks of 5 tokens: the draft follows every chunk.
  const RunResult got =
      RunEngine(pool, {.block_size = 4, .scheduler = {.max_num_seqs = 1, .max_num_batched_tokens = 5}, .spec = DraftModelSpec(pool, 3)},
                GreedyRequests(32));
  ExpectReference(got, 32);
  EXPECT_GT(got.spec.accepted_tokens, 0);
}

TEST_F(SpecDecode, PromptLookupGreedyEqualsTheTargetAlone) {
  ThreadPool pool(2);
  const RunResult got = RunEngine(pool, {.spec = NgramSpec()}, GreedyRequests(40));
  ExpectReference(got, 40);
  EXPECT_GT(got.spec.drafts, 0) << "the repeated prompts give prompt lookup something to copy";
  EXPECT_GT(got.spec.accepted_tokens, 0);
}

TEST_F(SpecDecode, PreemptionUnderSpeculationEqualsTheTargetAlone) {
  ThreadPool pool(2);
  const int64_t per_token = PagedKvCache::BytesPerToken(Target().plans[0].kv.n_layers, Target().plans[0].kv.kv_dim) +
                            PagedKvCache::BytesPerToken(Draft().plans[0].kv.n_layers, Draft().plans[0].kv.kv_dim);
  // 20 blocks of 16 tokens for four sequences that grow to ~90 tokens each: some are preempted and recomputed.
  const RunResult got = RunEngine(pool, {.kv_cache_bytes = 20 * 16 * per_token, .scheduler = {.max_num_seqs = 4, .max_num_batched_tokens = 64},
                                         .spec = DraftModelSpec(pool)},
                                  GreedyRequests(64));
  ExpectReference(got, 64);
}

// The cache a speculative run leaves (kept drafts, rejected ones overwritten) serves a later request's prefix
// exactly as a plain run's does: the same prompt continued gives the same log probabilities from cached blocks.
TEST_F(SpecDecode, TheCacheAfterRollbackEqualsAPlainRun) {
  auto follow_up = [](const SpecConfig& spec, ThreadPool& pool) {
    auto engine = LlmEngine::Create(Target().plans, Target().model->tokenizer(), pool, {.spec = spec});
    EXPECT_TRUE(engine.ok());
    GenerateRequest first{.id = "a", .prompt = Encode(kPrompts[1]), .max_tokens = 60, .ignore_eos = true};
    first.sampling.temperature = 0;
    std::vector<int32_t> tokens = first.prompt;
    EXPECT_TRUE((*engine)->Add(first).ok());
    while ((*engine)->has_work())
      for (const GenerateOutput& d : (*engine)->Step()) tokens.insert(tokens.end(), d.tokens.begin(), d.tokens.end());
    GenerateRequest second{.id = "b", .prompt = tokens, .max_tokens = 1, .ignore_eos = true};
    second.sampling.temperature = 0;
    second.sampling.logprobs = true;
    second.sampling.top_logprobs = 20;
    EXPECT_TRUE((*engine)->Add(second).ok());
    GenerateOutput last;
    while ((*engine)->has_work())
      for (GenerateOutput& d : (*engine)->Step()) last = std::move(d);
    EXPECT_GE(last.cached_tokens, 48) << "the follow-up must read the first request's blocks";
    return last;
  };
  ThreadPool pool(2);
  const GenerateOutput plain = follow_up({}, pool);
  const GenerateOutput spec = follow_up(DraftModelSpec(pool), pool);
  const GenerateOutput lookup = follow_up(NgramSpec(), pool);
  ASSERT_EQ(plain.logprobs.size(), 1u);
  for (const GenerateOutput* o : {&spec, &lookup}) {
    ASSERT_EQ(o->logprobs.size(), 1u);
    EXPECT_EQ(o->cached_tokens, plain.cached_tokens);
    ASSERT_EQ(o->logprobs[0].top.size(), plain.logprobs[0].top.size());
    for (size_t i = 0; i < plain.logprobs[0].top.size(); ++i) {
      EXPECT_EQ(o->logprobs[0].top[i].token, plain.logprobs[0].top[i].token);
      EXPECT_NEAR(o->logprobs[0].top[i].logprob, plain.logprobs[0].top[i].logprob, 1e-5);
    }
  }
}

TEST_F(SpecDecode, StructuredOutputStaysValidAndEqualsThePlainRun) {
  auto grammar = JsonGrammar::FromSchema(nlohmann::ordered_json::parse(
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer"}},"required":["name","age"]})"));
  ASSERT_TRUE(grammar.ok()) << grammar.status().message();
  auto requests = [&] {
    std::vector<GenerateRequest> out;
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      GenerateRequest r{.id = std::to_string(i), .prompt = Encode(kPrompts[i]), .max_tokens = 40, .grammar = *grammar};
      r.sampling.temperature = 0;
      out.push_back(std::move(r));
    }
    return out;
  };
  ThreadPool pool(2);
  const RunResult plain = RunEngine(pool, {}, requests());
  for (const SpecConfig& spec : {DraftModelSpec(pool), NgramSpec()}) {
    const RunResult got = RunEngine(pool, {.spec = spec}, requests());
    EXPECT_EQ(got.tokens, plain.tokens) << SpecMethodName(spec.method);
    for (const auto& [id, text] : got.text) {
      JsonMatcher m(*grammar);
      EXPECT_TRUE(m.Accept(text) && m.IsComplete()) << text;
    }
  }
}

TEST_F(SpecDecode, SeededSamplingReproducesAndMetricsAreRendered) {
  auto requests = [] {
    std::vector<GenerateRequest> out;
    for (size_t i = 0; i < kPrompts.size(); ++i) {
      GenerateRequest r{.id = std::to_string(i), .prompt = Encode(kPrompts[i]), .max_tokens = 30, .ignore_eos = true};
      r.sampling.temperature = 0.8f;
      r.sampling.seed = 7 + i;
      out.push_back(std::move(r));
    }
    return out;
  };
  ThreadPool pool(2);
  const RunResult a = RunEngine(pool, {.spec = DraftModelSpec(pool)}, requests());
  const RunResult b = RunEngine(pool, {.spec = DraftModelSpec(pool)}, requests());
  EXPECT_EQ(a.tokens, b.tokens);
  for (const auto& [id, tokens] : a.tokens) EXPECT_EQ(tokens.size(), 30u);
  EXPECT_GT(a.spec.accepted_tokens, 0);
  int64_t per_pos = 0;
  for (int64_t n : a.spec.accepted_per_pos) per_pos += n;
  EXPECT_EQ(per_pos, a.spec.accepted_tokens);
  EXPECT_NE(a.metrics.find("vllm:spec_decode_num_drafts_total{model_name=\"m\"} " + std::to_string(a.spec.drafts)),
            std::string::npos) << a.metrics;
  EXPECT_NE(a.metrics.find("vllm:spec_decode_num_accepted_tokens_per_pos_total{model_name=\"m\",position=\"0\"}"),
            std::string::npos);
}

TEST_F(SpecDecode, ADraftWithAnotherVocabularyIsRefused) {
  ThreadPool pool(1);
  auto file = GgufFile::Open(TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(file.ok()) << file.status().message();
  auto llama2 = CreateTokenizer(**file);
  ASSERT_TRUE(llama2.ok()) << llama2.status().message();
  SpecConfig spec = DraftModelSpec(pool);
  spec.draft_tokenizer = llama2->get();
  auto engine = LlmEngine::Create(Target().plans, Target().model->tokenizer(), pool, {.spec = spec});
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.status().message().find("vocabulary"), std::string::npos) << engine.status().message();
}

}  // namespace
}  // namespace strata::spec_decode_test
