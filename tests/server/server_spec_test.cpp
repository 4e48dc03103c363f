// `serve` with speculative decoding: many requests at once (continuous batching, each sequence with its own
// drafts, verified together) answer exactly as a server without speculation does, structured output included,
// with a Q4_0 draft model and with prompt lookup; /metrics carries vLLM's spec_decode counters.
#include <gtest/gtest.h>

#include <future>

#include "local_server.h"
#include "runtime/model_runner.h"

namespace strata::testing::server_spec_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

using nlohmann::json;

const std::vector<std::string> kPrompts = {
    "Once upon a time", "The cat sat on the mat. The cat sat on the mat. The cat",
    "One day, a girl named Lily went to the park with her mom. Lily and her mom", "Tom had a red ball",
    "The sun was", "She was very happy because she was very", "The cat and the bird", "Ben wanted to"};

struct Draft {
  std::unique_ptr<Model> model;
  std::vector<ir::Plan> plans;
  ThreadPool pool{2};
};

class ServerSpec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!TestDataDir()) return;
    draft_ = std::make_unique<Draft>();
    draft_->model = std::move(Model::Load(TestDataPath("models/tiny-llama-q4_0.gguf"))).value();
    draft_->plans.push_back(std::move(ir::BuildPlan(*draft_->model)).value());
    const SchedulerConfig sched{.max_num_seqs = 8, .max_num_batched_tokens = 64};
    plain_ = std::make_unique<LocalServer>(ServerOptions{.engine = {.scheduler = sched}});
    SpecConfig model{.method = SpecConfig::Method::kDraftModel, .num_tokens = 4};
    model.draft = {draft_->plans[0].kv.n_ctx, ModelRunner::KvBytesPerToken(draft_->plans),
                   ModelRunner::Factory(draft_->plans, draft_->pool)};
    model.draft_tokenizer = &draft_->model->tokenizer();
    with_draft_ = std::make_unique<LocalServer>(ServerOptions{.engine = {.scheduler = sched, .spec = model}});
    with_lookup_ = std::make_unique<LocalServer>(ServerOptions{
        .engine = {.scheduler = sched, .spec = {.method = SpecConfig::Method::kNgram, .num_tokens = 4, .ngram_min = 1}}});
  }
  static void TearDownTestSuite() {
    with_lookup_.reset();
    with_draft_.reset();
    plain_.reset();
    draft_.reset();
  }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }

  static std::string Text(const LocalServer& s, const json& body) {
    auto [status, r] = s.Post("/v1/completions", body);
    EXPECT_EQ(status, 200) << r.dump();
    return status == 200 ? r["choices"][0]["text"].get<std::string>() : "";
  }
  // Every body at once; the texts in order.
  static std::vector<std::string> AllAtOnce(const LocalServer& s, const std::vector<json>& bodies) {
    std::vector<std::future<std::string>> futures;
    for (const json& b : bodies) futures.push_back(std::async(std::launch::async, [&s, b] { return Text(s, b); }));
    std::vector<std::string> out;
    for (auto& f : futures) out.push_back(f.get());
    return out;
  }

  static std::unique_ptr<Draft> draft_;
  static std::unique_ptr<LocalServer> plain_, with_draft_, with_lookup_;
};
std::unique_ptr<Draft> ServerSpec::draft_;
std::unique_ptr<LocalServer> ServerSpec::plain_, ServerSpec::with_draft_, ServerSpec::with_lookup_;

TEST_F(ServerSpec, ConcurrentGreedyRequestsEqualAServerWithoutSpeculation) {
  std::vector<json> bodies;
  for (const auto& p : kPrompts) bodies.push_back({{"prompt", p}, {"max_tokens", 40}, {"temperature", 0}, {"ignore_eos", true}});
  const std::vector<std::string> expected = AllAtOnce(*plain_, bodies);
  EXPECT_EQ(AllAtOnce(*with_draft_, bodies), expected);
  EXPECT_EQ(AllAtOnce(*with_lookup_, bodies), expected);
  for (const LocalServer* s : {with_draft_.get(), with_lookup_.get()}) {
    EXPECT_GT(s->Metric("vllm:spec_decode_num_drafts_total"), 0);
    EXPECT_GT(s->Metric("vllm:spec_decode_num_accepted_tokens_total"), 0);
    EXPECT_LE(s->Metric("vllm:spec_decode_num_accepted_tokens_total"), s->Metric("vllm:spec_decode_num_draft_tokens_total"));
  }
  EXPECT_EQ(plain_->Metrics().find("spec_decode"), std::string::npos) << "no speculation, no spec_decode metrics";
}

TEST_F(ServerSpec, StructuredOutputUnderSpeculationIsValidAndUnchanged) {
  const json schema = {{"type", "object"},
                       {"properties", {{"name", {{"type", "string"}, {"maxLength", 10}}}, {"n", {{"type", "integer"}}}}},
                       {"required", {"name", "n"}}};
  std::vector<json> bodies;
  for (const auto& p : kPrompts)
    bodies.push_back({{"prompt", p},
                      {"max_tokens", 40},
                      {"temperature", 0},
                      {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "t"}, {"schema", schema}}}}}});
  const std::vector<std::string> expected = AllAtOnce(*plain_, bodies);
  for (const LocalServer* s : {with_draft_.get(), with_lookup_.get()}) {
    const std::vector<std::string> got = AllAtOnce(*s, bodies);
    EXPECT_EQ(got, expected);
    for (const std::string& text : got) {
      const json doc = json::parse(text, nullptr, false);
      ASSERT_FALSE(doc.is_discarded()) << text;
      EXPECT_TRUE(doc.contains("name") && doc.contains("n")) << text;
    }
  }
}

}  // namespace
}  // namespace strata::testing::server_spec_test
