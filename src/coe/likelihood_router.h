// The router that asks the experts: a prompt belongs to the domain whose expert predicts it best (the domain
// posterior of Branch-Train-Merge, Li et al. 2022, with a uniform prior). A first-stage router (lexical, or
// embedding with a router model) shortlists the `shortlist` most similar experts; each of those runs the
// prompt (at most 256 tokens) through its own plan, reading its mapped file (no packed copy), and the one of
// highest mean log probability per predicted token wins. Costs one prefill per shortlisted expert, so it suits
// CoEs whose experts are small or whose prompts are short; needs nothing trained beyond the experts themselves.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "coe/expert_router.h"
#include "core/thread_pool.h"
#include "model/model.h"

namespace strata::coe {

class LikelihoodRouter final : public ExpertRouter {
 public:
  // `experts` (the CoE's disk-tier models, in config order) must outlive the router.
  LikelihoodRouter(std::unique_ptr<ExpertRouter> first_stage, std::vector<const Model*> experts, int shortlist,
                   int threads);
  // Shortlisted experts score their mean log probability per token (<= 0); the others -infinity.
  Result<std::vector<double>> Scores(std::string_view text) override;
  const char* method() const override { return "likelihood"; }
  // The mean log probability per predicted token of `text` under `expert` (nullopt: under two tokens).
  Result<std::optional<double>> MeanLogProb(int expert, std::string_view text);

 private:
  std::unique_ptr<ExpertRouter> first_;
  std::vector<const Model*> experts_;
  int shortlist_;
  ThreadPool pool_;
  std::mutex mu_;  // one scoring at a time on the pool
};

}  // namespace strata::coe
