// Router accuracy on the labelled held-back prompts of the four shared experts (testdata/experts/prompts.json),
// for each method, with the confusion matrix printed (rows: the prompt's domain; columns: the expert chosen).
// The bar of 90 % is the likelihood router's; the others are held to what they reach with the tiny shared model
// and the config's seven examples per expert, so that a regression shows.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "coe/embedding_router.h"
#include "coe/lexical_router.h"
#include "four_experts.h"

namespace strata::coe {
namespace {

using testing::ExpertPrompts;

double Accuracy(ExpertRouter& router, const CoeConfig& config) {
  std::map<std::string, std::map<std::string, int>> confusion;
  int right = 0, total = 0;
  double micros = 0;
  for (const auto& p : ExpertPrompts()) {
    auto d = router.Route(p.prompt);
    EXPECT_TRUE(d.ok()) << d.status().message();
    if (!d.ok()) continue;
    const std::string& chosen = config.experts[static_cast<size_t>(d->expert)].name;
    confusion[p.domain][chosen]++;
    right += chosen == p.domain;
    total++;
    micros += d->micros;
    EXPECT_GE(d->score, d->runner_up_score);
    EXPECT_NE(d->expert, d->runner_up);
  }
  std::printf("%s router: %d/%d right (%.1f%%), %.0f us per prompt\n%-12s", router.method(), right, total,
              100.0 * right / std::max(total, 1), micros / std::max(total, 1), "");
  for (const auto& e : config.experts) std::printf("%12s", e.name.c_str());
  std::printf("\n");
  for (const auto& e : config.experts) {
    std::printf("%-12s", e.name.c_str());
    for (const auto& c : config.experts) std::printf("%12d", confusion[e.name][c.name]);
    std::printf("\n");
  }
  return static_cast<double>(right) / std::max(total, 1);
}

TEST(RouterAccuracy, EmbeddingRouterOnHeldBackPrompts) {
  STRATA_REQUIRE_TESTDATA();
  auto config = testing::FourExperts();
  ASSERT_TRUE(config.ok()) << config.status().message();
  auto router = EmbeddingRouter::Create(testing::TestDataPath("models/tiny-llama-q8_0.gguf"), config->experts, 2);
  ASSERT_TRUE(router.ok()) << router.status().message();
  EXPECT_GE(Accuracy(**router, *config), 0.60);
}

// The experts themselves score the lexical router's shortlist of three: the router a user gets with
// `method: likelihood` and nothing trained.
TEST(RouterAccuracy, LikelihoodRouterOnHeldBackPrompts) {
  STRATA_REQUIRE_TESTDATA();
  auto config = testing::FourExperts();
  ASSERT_TRUE(config.ok()) << config.status().message();
  std::vector<std::unique_ptr<Model>> models;
  std::vector<const Model*> experts;
  for (const ExpertSpec& e : config->experts) {
    auto m = Model::Load(e.model.string(), nullptr, {.touch_weights = false});
    ASSERT_TRUE(m.ok()) << m.status().message();
    models.push_back(std::move(*m));
    experts.push_back(models.back().get());
  }
  config->router.method = "likelihood";
  auto router = MakeRouter(*config, experts, 2);
  ASSERT_TRUE(router.ok()) << router.status().message();
  EXPECT_STREQ((*router)->method(), "likelihood");
  EXPECT_GE(Accuracy(**router, *config), 0.90);
}

TEST(RouterAccuracy, LexicalRouterOnHeldBackPrompts) {
  STRATA_REQUIRE_TESTDATA();
  auto config = testing::FourExperts();
  ASSERT_TRUE(config.ok()) << config.status().message();
  LexicalRouter router(config->experts);
  EXPECT_GE(Accuracy(router, *config), 0.80);
}

}  // namespace
}  // namespace strata::coe
