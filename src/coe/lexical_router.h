// The router without a model: TF-IDF over character 3- to 5-grams (lowercased). Each expert's texts are summed
// into one vector; the prompt goes to the expert of highest cosine similarity. Cheap (microseconds) and needs
// nothing trained, but only sees surface form: good at code against prose, weaker between similar domains.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "coe/expert_router.h"

namespace strata::coe {

class LexicalRouter final : public ExpertRouter {
 public:
  explicit LexicalRouter(const std::vector<ExpertSpec>& experts);
  Result<std::vector<double>> Scores(std::string_view text) override;
  const char* method() const override { return "lexical"; }

 private:
  using Sparse = std::unordered_map<std::string, double>;
  Sparse Vector(std::string_view text) const;  // TF-IDF, L2-normalised

  std::unordered_map<std::string, double> idf_;
  double unseen_idf_ = 0;
  std::vector<Sparse> experts_;
};

}  // namespace strata::coe
