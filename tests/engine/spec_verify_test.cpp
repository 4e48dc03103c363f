// The acceptance rule of speculative sampling keeps the target's distribution: tokens emitted at a drafted
// position, over many draws, follow p (chi-square), for synthetic p and q, for a deterministic draft
// (prompt lookup), and for the real pair of shared models (F32 target, Q4_0 draft) at the first position after
// a prompt. Also prompt lookup's matching.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "compiler/plan_builder.h"
#include "engine/ngram_drafter.h"
#include "engine/spec_verify.h"
#include "model/model.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata {
namespace {

// Pearson's chi-square of `counts` against probabilities p (bins with an expected count under 5 are pooled);
// returns the statistic and sets `dof`.
double ChiSquare(const std::map<int32_t, int>& counts, const std::vector<float>& p, int n, int& dof) {
  double stat = 0, pooled_e = 0, pooled_o = 0;
  dof = -1;
  for (size_t i = 0; i < p.size(); ++i) {
    const double e = p[i] * n;
    const auto it = counts.find(static_cast<int32_t>(i));
    const double o = it == counts.end() ? 0 : it->second;
    if (e < 5) {
      pooled_e += e, pooled_o += o;
      continue;
    }
    stat += (o - e) * (o - e) / e;
    ++dof;
  }
  if (pooled_e > 0) {
    stat += (pooled_o - pooled_e) * (pooled_o - pooled_e) / std::max(pooled_e, 1.0);
    ++dof;
  }
  return stat;
}

// The 99.9th percentile of chi-square with `dof` degrees of freedom (Wilson-Hilferty).
double ChiSquareCritical(int dof) {
  const double k = std::max(dof, 1), z = 3.09;
  return k * std::pow(1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k)), 3);
}

std::vector<float> Probs(Sampler& s, const std::vector<float>& logits) {
  std::vector<float> p;
  s.Distribution(logits, {}, {}, nullptr, p);
  return p;
}

// Draws a draft from q (or takes `fixed`), verifies it against the target's logits; histogram of what is emitted.
std::map<int32_t, int> Emitted(const std::vector<float>& target_logits, const std::vector<float>& draft_logits,
                               SamplingParams params, int n, int32_t fixed = -1, int* accepted = nullptr) {
  std::map<int32_t, int> h;
  Sampler target({params}), draft({params});
  params.seed = 1;
  target = Sampler(params);
  params.seed = 2;
  draft = Sampler(params);
  std::vector<float> q;
  for (int i = 0; i < n; ++i) {
    int32_t x = fixed;
    q.clear();
    if (fixed < 0) {
      draft.Distribution(draft_logits, {}, {}, nullptr, q);
      x = draft.DrawFrom(q);
    }
    const DraftVerdict v = VerifyDraft(target, target_logits, {}, {}, nullptr, x, q);
    if (accepted) *accepted += v.accepted;
    ++h[v.result.token];
  }
  return h;
}

void ExpectFollows(const std::map<int32_t, int>& h, const std::vector<float>& p, int n, const char* what) {
  int dof = 0;
  const double stat = ChiSquare(h, p, n, dof);
  EXPECT_LT(stat, ChiSquareCritical(dof)) << what << ": chi-square " << stat << " with " << dof << " degrees of freedom";
}

TEST(SpecVerify, EmittedTokensFollowTheTargetForAnyDraft) {
  const std::vector<float> target = {1.0f, 2.5f, 0.3f, 2.0f, -1.0f, 0.9f, 1.7f, 0.0f};
  const std::vector<float> close = {1.2f, 2.2f, 0.1f, 2.1f, -0.5f, 1.0f, 1.5f, 0.2f};
  const std::vector<float> far = {3.0f, -1.0f, 2.0f, -2.0f, 2.5f, 0.0f, -1.0f, 1.0f};
  const int n = 40000;
  for (SamplingParams params : {SamplingParams{.temperature = 1.0f}, SamplingParams{.temperature = 0.7f, .top_k = 5},
                                SamplingParams{.temperature = 1.3f, .top_p = 0.9f}}) {
    Sampler s(params);
    const std::vector<float> p = Probs(s, target);
    int accepted_close = 0, accepted_far = 0;
    ExpectFollows(Emitted(target, close, params, n, -1, &accepted_close), p, n, "close draft");
    ExpectFollows(Emitted(target, far, params, n, -1, &accepted_far), p, n, "far draft");
    ExpectFollows(Emitted(target, target, params, n), p, n, "the target as its own draft");
    EXPECT_GT(accepted_close, accepted_far) << "a closer draft is accepted more often";
    for (int32_t fixed : {1, 4}) ExpectFollows(Emitted(target, {}, params, n, fixed), p, n, "deterministic draft");
  }
}

TEST(SpecVerify, TheTargetAsItsOwnDraftIsAlwaysAccepted) {
  const std::vector<float> logits = {0.5f, 1.5f, -0.3f, 2.0f};
  int accepted = 0;
  Emitted(logits, logits, {.temperature = 1.0f}, 5000, -1, &accepted);
  EXPECT_EQ(accepted, 5000);
}

TEST(SpecVerify, GreedyAcceptsExactlyTheArgmax) {
  const std::vector<float> logits = {0.5f, 1.5f, -0.3f, 2.0f};
  Sampler s({.temperature = 0});
  EXPECT_TRUE(VerifyDraft(s, logits, {}, {}, nullptr, 3, {}).accepted);
  const DraftVerdict v = VerifyDraft(s, logits, {}, {}, nullptr, 1, {});
  EXPECT_FALSE(v.accepted);
  EXPECT_EQ(v.result.token, 3);
  const std::vector<uint8_t> mask = {1, 1, 1, 0};  // the mask applies as when sampling
  EXPECT_TRUE(VerifyDraft(s, logits, {}, {}, &mask, 1, {}).accepted);
}

// The shared F32 target and its Q4_0 draft at the first position after a prompt: the tokens emitted over many
// seeds follow the target's own distribution there.
TEST(SpecVerify, FirstTokenOverManySeedsFollowsTheTargetWithTheRealDraft) {
  STRATA_REQUIRE_TESTDATA();
  auto logits_of = [](const std::string& file, const std::vector<int32_t>& prompt) {
    auto model = Model::Load(testing::TestDataPath("models/" + file));
    auto plan = ir::BuildPlan(**model);
    ThreadPool pool(2);
    CpuExecutor exec(*plan, pool);
    auto l = exec.Forward(prompt, false);
    return std::vector<float>(l->last(), l->last() + l->n_vocab);
  };
  auto model = Model::Load(testing::TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(model.ok());
  const std::vector<int32_t> prompt = (*model)->tokenizer().Encode("Once upon a time, there was a", true);
  const std::vector<float> target = logits_of("tiny-llama-f32.gguf", prompt);
  const std::vector<float> draft = logits_of("tiny-llama-q4_0.gguf", prompt);
  const SamplingParams params{.temperature = 1.0f};
  Sampler s(params);
  const std::vector<float> p = Probs(s, target);
  const int n = 30000;
  int accepted = 0;
  ExpectFollows(Emitted(target, draft, params, n, -1, &accepted), p, n, "Q4_0 draft for the F32 target");
  EXPECT_GT(accepted, n / 2);
}

TEST(NgramDrafter, CopiesWhatFollowedTheLatestMatch) {
  using V = std::vector<int32_t>;
  // "1 2 3 9 | 1 2 3 7 8 | 1 2 3": the latest earlier "1 2 3" is followed by 7 8.
  EXPECT_EQ(NgramDrafter::Lookup(V{1, 2, 3, 9, 1, 2, 3, 7, 8, 1, 2, 3}, 1, 3, 4), (V{7, 8, 1, 2}));
  EXPECT_EQ(NgramDrafter::Lookup(V{1, 2, 3, 9, 1, 2, 3, 7, 8, 1, 2, 3}, 1, 3, 1), (V{7}));
  // Longer matches first: "5 6" matches at 0 (followed by 1); "6" alone would match later (followed by 2).
  EXPECT_EQ(NgramDrafter::Lookup(V{5, 6, 1, 6, 2, 5, 6}, 1, 2, 2), (V{1, 6}));
  EXPECT_EQ(NgramDrafter::Lookup(V{5, 6, 1, 6, 2, 5, 6}, 1, 1, 2), (V{2, 5}));
  EXPECT_TRUE(NgramDrafter::Lookup(V{1, 2, 3, 4}, 1, 3, 4).empty());      // nothing repeats
  EXPECT_TRUE(NgramDrafter::Lookup(V{1, 2, 1, 2}, 3, 3, 4).empty());      // too short for a 3-gram match
  EXPECT_TRUE(NgramDrafter::Lookup(V{7}, 1, 3, 4).empty());
}

}  // namespace
}  // namespace strata
