// The sampler against direct computations: greedy, seeds, the sampled distribution, truncations, penalties,
// masks and logprobs.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "engine/sampler.h"

namespace strata {
namespace {

const std::vector<float> kLogits = {1.0f, 2.5f, 0.3f, 2.0f, -1.0f, 0.9f};

std::vector<double> Softmax(const std::vector<float>& l, double t) {
  std::vector<double> p(l.size());
  double max = *std::max_element(l.begin(), l.end()), sum = 0;
  for (size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp((l[i] - max) / t);
  for (double& x : p) x /= sum;
  return p;
}

std::map<int32_t, int> Histogram(SamplingParams p, int draws, const std::vector<uint8_t>* mask = nullptr) {
  p.seed = 42;
  Sampler s(p);
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) ++h[s.Sample(kLogits, {}, {}, mask).token];
  return h;
}

TEST(Sampler, GreedyAndTopKOneAreArgmax) {
  EXPECT_EQ(Sampler({.temperature = 0}).Sample(kLogits, {}, {}).token, 1);
  for (uint64_t seed = 0; seed < 20; ++seed)
    EXPECT_EQ(Sampler({.temperature = 1.7f, .top_k = 1, .seed = seed}).Sample(kLogits, {}, {}).token, 1);
  EXPECT_EQ(Argmax(std::vector<float>{3, 5, 5, 1}.data(), 4), 1);  // lowest index among equals
}

TEST(Sampler, SeedsReproduceAndDiffer) {
  auto run = [](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.Sample(kLogits, {}, {}).token);
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Sampler, DrawsFollowTheTemperatureSoftmax) {
  const int n = 60000;
  for (float t : {0.5f, 1.0f, 2.0f}) {
    const auto h = Histogram({.temperature = t}, n);
    const auto p = Softmax(kLogits, t);
    for (size_t i = 0; i < p.size(); ++i) {
      const double got = (h.count(static_cast<int32_t>(i)) ? h.at(static_cast<int32_t>(i)) : 0) / double(n);
      const double sigma = std::sqrt(p[i] * (1 - p[i]) / n);
      EXPECT_NEAR(got, p[i], 5 * sigma + 1e-4) << "token " << i << " at temperature " << t;
    }
  }
}

TEST(Sampler, TruncationsKeepExactlyTheRightTokens) {
  auto support = [](const std::map<int32_t, int>& h) {
    std::set<int32_t> s;
    for (auto [t, c] : h) s.insert(t);
    return s;
  };
  EXPECT_EQ(support(Histogram({.temperature = 1, .top_k = 3}, 5000)), (std::set<int32_t>{1, 3, 0}));
  // Probabilities at T=1: 0.144 0.646? -> sorted 1 (0.43), 3 (0.26), 0 (0.10), 5 (0.09) ... top_p 0.6 keeps 1, 3.
  const auto p = Softmax(kLogits, 1.0);
  ASSERT_LT(p[1], 0.6);
  ASSERT_GT(p[1] + p[3], 0.6);
  EXPECT_EQ(support(Histogram({.temperature = 1, .top_p = 0.6f}, 5000)), (std::set<int32_t>{1, 3}));
  // min_p 0.3: tokens with p >= 0.3 * p_max.
  std::set<int32_t> want;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] >= 0.3 * p[1]) want.insert(static_cast<int32_t>(i));
  EXPECT_EQ(support(Histogram({.temperature = 1, .min_p = 0.3f}, 5000)), want);
}

TEST(Sampler, MaskIsNeverViolated) {
  const std::vector<uint8_t> mask = {0, 0, 1, 0, 1, 0};
  for (auto [t, c] : Histogram({.temperature = 1}, 2000, &mask)) EXPECT_TRUE(mask[static_cast<size_t>(t)]) << t;
  EXPECT_EQ(Sampler({.temperature = 0}).Sample(kLogits, {}, {}, &mask).token, 2);
}

TEST(Sampler, PenaltiesFollowTheirFormulas) {
  std::vector<float> l = kLogits;
  const std::vector<int32_t> prompt = {0, 4}, generated = {3, 3, 5};
  ApplyPenalties({.repetition_penalty = 2.0f, .frequency_penalty = 0.5f, .presence_penalty = 0.25f}, l, prompt, generated);
  EXPECT_FLOAT_EQ(l[0], 1.0f / 2);               // prompt token, positive logit: divided
  EXPECT_FLOAT_EQ(l[4], -1.0f * 2);              // prompt token, negative logit: multiplied
  EXPECT_FLOAT_EQ(l[3], 2.0f / 2 - 0.5f * 2 - 0.25f);  // generated twice
  EXPECT_FLOAT_EQ(l[5], 0.9f / 2 - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[1], 2.5f);                   // untouched
  EXPECT_FLOAT_EQ(l[2], 0.3f);
}

TEST(Sampler, LogitBiasShiftsTheChoice) {
  EXPECT_EQ(Sampler({.temperature = 0, .logit_bias = {{1, -100.0f}}}).Sample(kLogits, {}, {}).token, 3);
  EXPECT_EQ(Sampler({.temperature = 0, .logit_bias = {{4, 5.0f}}}).Sample(kLogits, {}, {}).token, 4);
  EXPECT_FALSE(ValidateSamplingParams({.logit_bias = {{2, 101.0f}}}).ok());
}

TEST(Sampler, LogprobsComeFromTheRawLogits) {
  Sampler s({.temperature = 0.7f, .top_k = 2, .repetition_penalty = 1.3f, .seed = 1, .logprobs = true, .top_logprobs = 4});
  const auto r = s.Sample(kLogits, std::vector<int32_t>{1}, {});
  const auto p = Softmax(kLogits, 1.0);
  EXPECT_NEAR(r.logprob, std::log(p[static_cast<size_t>(r.token)]), 1e-5);
  ASSERT_EQ(r.top.size(), 4u);
  const int32_t order[] = {1, 3, 0, 5};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.top[i].token, order[i]);
    EXPECT_NEAR(r.top[i].logprob, std::log(p[static_cast<size_t>(order[i])]), 1e-5);
  }
  double total = 0;
  for (double x : p) total += x;
  EXPECT_NEAR(total, 1.0, 1e-9);
}

TEST(Sampler, ValidationNamesTheField) {
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
  for (auto [params, field] : std::vector<std::pair<SamplingParams, std::string>>{
           {{.temperature = -0.1f}, "temperature"}, {{.top_p = 0}, "top_p"}, {{.top_p = 1.5f}, "top_p"},
           {{.min_p = 2}, "min_p"}, {{.repetition_penalty = 0}, "repetition_penalty"},
           {{.frequency_penalty = 3}, "frequency_penalty"}, {{.presence_penalty = -3}, "presence_penalty"},
           {{.top_k = -5}, "top_k"}, {{.top_logprobs = 21}, "top_logprobs"}}) {
    const Status st = ValidateSamplingParams(params);
    EXPECT_FALSE(st.ok()) << field;
    EXPECT_NE(st.message().find(field), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace strata
