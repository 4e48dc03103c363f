// Picks the expert for a prompt from its text. Each expert is described by its name, description and example
// prompts; a router turns those and the prompt into comparable vectors and picks the most similar expert.
// Methods: "lexical" (character n-grams, no model: the default), "embedding" (mean-pooled hidden states of a
// small GGUF model run through the plan/runtime) and "likelihood" (the shortlisted experts score the prompt
// themselves). Route is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coe/coe_config.h"
#include "core/status.h"
#include "model/model.h"

namespace strata::coe {

struct RouteDecision {
  int expert = 0;          // index into the config's experts
  double score = 0;        // its similarity (cosine, in [-1, 1])
  int runner_up = -1;      // the next best expert (-1 with one expert)
  double runner_up_score = 0;
  double micros = 0;       // time the decision took
};

class ExpertRouter {
 public:
  virtual ~ExpertRouter() = default;
  // The similarity of `text` to each expert, in config order.
  [[nodiscard]] virtual Result<std::vector<double>> Scores(std::string_view text) = 0;
  virtual const char* method() const = 0;
  // The best two of Scores, timed.
  [[nodiscard]] Result<RouteDecision> Route(std::string_view text);
};

// The texts that stand for an expert: its description (or name, without one) and its examples.
std::vector<std::string> ExpertTexts(const ExpertSpec& e);
// The best and second-best of per-expert scores (scores.size() >= 1).
RouteDecision BestTwo(const std::vector<double>& scores);

// The router the config asks for (loads and compiles the router model for "embedding"). `experts` are the
// CoE's expert models in config order (the likelihood router scores with them); they must outlive the router.
Result<std::unique_ptr<ExpertRouter>> MakeRouter(const CoeConfig& config, std::vector<const Model*> experts,
                                                 int threads);

}  // namespace strata::coe
