// Embedder (engine/embedder.h) against the independent numpy forward pass of the shared golden files: the
// last-token embedding is the final hidden state's direction, so scaling it back by sqrt(dim), applying the
// output norm's weight and the output matrix must give the reference's final logits. Mean pooling, batching
// and the input checks against the embedder itself.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler/pass_manager.h"
#include "engine/embedder.h"
#include "model/model.h"
#include "testdata.h"

namespace strata {
namespace embedder_test {  // named: unity-built beside tests with helpers of the same names

struct Fixture {
  std::unique_ptr<Model> model;
  ir::Plan plan;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<Embedder> embedder;
  nlohmann::json golden;
};

Fixture& Tiny() {
  static Fixture f = [] {
    Fixture f;
    auto model = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"));
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    f.model = std::move(*model);
    auto plan = ir::Compile(*f.model, {.passes = ir::DefaultPasses()});
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    f.plan = std::move(plan->front());
    f.pool = std::make_unique<ThreadPool>(2);
    auto e = Embedder::Create(std::make_unique<PlanExecutor>(f.plan, *f.pool), 128);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    f.embedder = std::move(*e);
    std::ifstream in(testing::TestDataPath("golden/tiny-llama-f32.json"));
    f.golden = nlohmann::json::parse(in);
    return f;
  }();
  return f;
}

double Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double MaxDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
  return d;
}

TEST(Embedder, LastTokenIsTheReferenceFinalHiddenState) {
  STRATA_REQUIRE_TESTDATA();
  Fixture& f = Tiny();
  auto out_w = f.model->Weight("output.weight");
  auto norm_w = f.model->Weight("output_norm.weight");
  ASSERT_TRUE(out_w.ok() && norm_w.ok());
  ASSERT_EQ((*out_w)->dtype(), DType::kF32);
  const int64_t dim = f.embedder->dim(), n_vocab = (*out_w)->dim(0);
  ASSERT_EQ((*out_w)->dim(1), dim);
  int cases = 0;
  for (const auto& c : f.golden["cases"]) {
    const std::vector<int32_t> ids = c["prompt_ids"].get<std::vector<int32_t>>();
    if (static_cast<int64_t>(ids.size()) > f.embedder->max_tokens()) continue;
    auto v = f.embedder->Embed(std::span(&ids, 1), Pooling::kLast);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    const std::vector<float>& e = (*v)[0];
    ASSERT_EQ(static_cast<int64_t>(e.size()), dim);
    EXPECT_NEAR(Norm(e), 1.0, 1e-5);
    // rms_norm(x) = x / rms(x) = (x / |x|) * sqrt(dim), up to the norm's epsilon.
    const auto ref = c["final_logits"].get<std::vector<float>>();
    double worst = 0;
    for (int64_t t = 0; t < n_vocab; ++t) {
      double logit = 0;
      for (int64_t i = 0; i < dim; ++i)
        logit += static_cast<double>((*out_w)->data_as<float>()[t * dim + i]) * (*norm_w)->data_as<float>()[i] *
                 e[static_cast<size_t>(i)] * std::sqrt(static_cast<double>(dim));
      worst = std::max(worst, std::abs(logit - ref[static_cast<size_t>(t)]));
    }
    EXPECT_LT(worst, 2e-4) << "case " << cases << " (measured at most 1.7e-5; logits are of order 10)";
    ++cases;
  }
  EXPECT_GE(cases, 3);
}

TEST(Embedder, BatchEqualsOneByOneAndMeanOfOneTokenIsLast) {
  STRATA_REQUIRE_TESTDATA();
  Fixture& f = Tiny();
  const Tokenizer& tok = f.model->tokenizer();
  std::vector<std::vector<int32_t>> inputs;
  for (const char* text : {"The cat sat on the mat.", "Hello", "A much longer sentence about the weather in spring."})
    inputs.push_back(tok.Encode(text, true));
  for (Pooling pooling : {Pooling::kMean, Pooling::kLast}) {
    auto batch = f.embedder->Embed(inputs, pooling);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_EQ(batch->size(), inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto one = f.embedder->Embed(std::span(&inputs[i], 1), pooling);
      ASSERT_TRUE(one.ok());
      EXPECT_LT(MaxDiff((*batch)[i], (*one)[0]), 1e-5) << PoolingName(pooling) << " input " << i;
      EXPECT_NEAR(Norm((*one)[0]), 1.0, 1e-5);
    }
    EXPECT_GT(MaxDiff((*batch)[0], (*batch)[2]), 1e-2) << "different texts, different vectors";
  }
  const std::vector<int32_t> one_token = {tok.bos_id()};
  auto mean = f.embedder->Embed(std::span(&one_token, 1), Pooling::kMean);
  auto last = f.embedder->Embed(std::span(&one_token, 1), Pooling::kLast);
  ASSERT_TRUE(mean.ok() && last.ok());
  EXPECT_LT(MaxDiff((*mean)[0], (*last)[0]), 1e-6);
  // Mean and last differ on longer inputs.
  auto m = f.embedder->Embed(std::span(&inputs[0], 1), Pooling::kMean);
  auto l = f.embedder->Embed(std::span(&inputs[0], 1), Pooling::kLast);
  EXPECT_GT(MaxDiff((*m)[0], (*l)[0]), 1e-2);
}

TEST(Embedder, ManyInputsSplitIntoBatchesThatFit) {
  STRATA_REQUIRE_TESTDATA();
  Fixture& f = Tiny();
  // 40 inputs of 10 tokens: 400 tokens, more than the 128 one batch holds.
  std::vector<std::vector<int32_t>> inputs;
  for (int i = 0; i < 40; ++i) {
    inputs.emplace_back();
    for (int t = 0; t < 10; ++t) inputs.back().push_back(3 + (i * 7 + t * 13) % 1000);
  }
  auto all = f.embedder->Embed(inputs, Pooling::kMean);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), inputs.size());
  for (size_t i : {size_t{0}, size_t{17}, size_t{39}}) {
    auto one = f.embedder->Embed(std::span(&inputs[i], 1), Pooling::kMean);
    ASSERT_TRUE(one.ok());
    EXPECT_LT(MaxDiff((*all)[i], (*one)[0]), 1e-5) << i;
  }
}

TEST(Embedder, RefusesEmptyAndOverlongInputs) {
  STRATA_REQUIRE_TESTDATA();
  Fixture& f = Tiny();
  std::vector<std::vector<int32_t>> empty = {{1, 2}, {}};
  auto r = f.embedder->Embed(empty, Pooling::kMean);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 1 is empty"), std::string::npos) << r.status().message();
  std::vector<std::vector<int32_t>> longer = {std::vector<int32_t>(129, 5)};
  r = f.embedder->Embed(longer, Pooling::kMean);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at most 128"), std::string::npos) << r.status().message();
  std::vector<std::vector<int32_t>> bad_id = {{1, 2}, {1, 1024}};
  r = f.embedder->Embed(bad_id, Pooling::kMean);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("token id 1024 is outside the vocabulary"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(ParsePooling("mean").ok());
  EXPECT_FALSE(ParsePooling("cls").ok());
}

}  // namespace embedder_test
}  // namespace strata
