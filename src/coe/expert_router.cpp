#include "coe/expert_router.h"

#include <chrono>

#include "coe/embedding_router.h"
#include "coe/lexical_router.h"
#include "coe/likelihood_router.h"

namespace strata::coe {

std::vector<std::string> ExpertTexts(const ExpertSpec& e) {
  std::vector<std::string> texts{e.description.empty() ? e.name : e.description};
  texts.insert(texts.end(), e.examples.begin(), e.examples.end());
  return texts;
}

RouteDecision BestTwo(const std::vector<double>& scores) {
  RouteDecision d;
  d.score = scores.empty() ? 0 : scores[0];
  for (size_t i = 1; i < scores.size(); ++i) {
    const int e = static_cast<int>(i);
    if (scores[i] > d.score) {
      d.runner_up = d.expert, d.runner_up_score = d.score;
      d.expert = e, d.score = scores[i];
    } else if (d.runner_up < 0 || scores[i] > d.runner_up_score) {
      d.runner_up = e, d.runner_up_score = scores[i];
    }
  }
  return d;
}

Result<RouteDecision> ExpertRouter::Route(std::string_view text) {
  const auto start = std::chrono::steady_clock::now();
  auto scores = Scores(text);
  if (!scores.ok()) return scores.status();
  if (scores->empty()) return Status::InvalidArgument("the router has no experts");
  RouteDecision d = BestTwo(*scores);
  d.micros = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  return d;
}

Result<std::unique_ptr<ExpertRouter>> MakeRouter(const CoeConfig& config, std::vector<const Model*> experts,
                                                 int threads) {
  std::unique_ptr<ExpertRouter> similarity;
  if (config.router.model.empty() || config.router.method == "lexical") {
    similarity = std::make_unique<LexicalRouter>(config.experts);
  } else {
    auto r = EmbeddingRouter::Create(config.router.model, config.experts, threads);
    if (!r.ok()) return r.status();
    similarity = std::move(*r);
  }
  if (config.router.method != "likelihood") return similarity;
  if (experts.size() != config.experts.size()) return Status::InvalidArgument("the likelihood router needs every expert");
  return std::unique_ptr<ExpertRouter>(
      new LikelihoodRouter(std::move(similarity), std::move(experts), config.router.shortlist, threads));
}

}  // namespace strata::coe
