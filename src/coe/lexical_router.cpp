#include "coe/lexical_router.h"

#include <cctype>
#include <cmath>

namespace strata::coe {

namespace {

using Counts = std::unordered_map<std::string, double>;

Counts Grams(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Counts counts;
  for (size_t n = 3; n <= 5; ++n)
    for (size_t i = 0; i + n <= s.size(); ++i) counts[s.substr(i, n)] += 1;
  return counts;
}

double Cosine(const std::unordered_map<std::string, double>& a, const std::unordered_map<std::string, double>& b) {
  const auto& small = a.size() < b.size() ? a : b;
  const auto& large = a.size() < b.size() ? b : a;
  double dot = 0;
  for (const auto& [k, v] : small)
    if (auto it = large.find(k); it != large.end()) dot += v * it->second;
  return dot;
}

}  // namespace

// Document frequency counts every text of every expert as one document, so n-grams common to all experts'
// texts (" the", "ing") weigh little and distinctive ones ("#inc", "def ", "warrant") much.
LexicalRouter::LexicalRouter(const std::vector<ExpertSpec>& experts) {
  std::vector<std::vector<Counts>> docs;
  std::unordered_map<std::string, double> df;
  double n_docs = 0;
  for (const ExpertSpec& e : experts) {
    docs.emplace_back();
    for (const std::string& t : ExpertTexts(e)) {
      docs.back().push_back(Grams(t));
      for (const auto& [g, c] : docs.back().back()) df[g] += 1;
      n_docs += 1;
    }
  }
  for (const auto& [g, d] : df) idf_[g] = std::log((1 + n_docs) / (1 + d)) + 1;
  unseen_idf_ = std::log(1 + n_docs) + 1;
  for (const auto& texts : docs) {
    Counts sum;
    for (const Counts& c : texts)
      for (const auto& [g, n] : c) sum[g] += n;
    experts_.push_back({});
    double norm = 0;
    for (const auto& [g, n] : sum) {
      const double w = (1 + std::log(n)) * idf_[g];
      experts_.back()[g] = w;
      norm += w * w;
    }
    norm = std::sqrt(norm);
    for (auto& [g, w] : experts_.back()) w /= norm > 0 ? norm : 1;
  }
}

LexicalRouter::Sparse LexicalRouter::Vector(std::string_view text) const {
  Sparse v;
  double norm = 0;
  for (const auto& [g, n] : Grams(text)) {
    auto it = idf_.find(g);
    const double w = (1 + std::log(n)) * (it == idf_.end() ? unseen_idf_ : it->second);
    v[g] = w;
    norm += w * w;
  }
  norm = std::sqrt(norm);
  for (auto& [g, w] : v) w /= norm > 0 ? norm : 1;
  return v;
}

Result<std::vector<double>> LexicalRouter::Scores(std::string_view text) {
  const Sparse v = Vector(text);
  std::vector<double> scores;
  for (const Sparse& e : experts_) scores.push_back(Cosine(v, e));
  return scores;
}

}  // namespace strata::coe
