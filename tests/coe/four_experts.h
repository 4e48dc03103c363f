// The four shared experts (testdata/experts) as a Composition of Experts for the tests: the config in
// tests/coe/data/four_experts.yaml, with its model paths resolved against the shared experts folder and the
// labelled prompts of prompts.json.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "coe/coe_config.h"
#include "testdata.h"

namespace strata::testing {

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string FourExpertsYaml() { return ReadText(std::string(STRATA_SOURCE_DIR) + "/tests/coe/data/four_experts.yaml"); }

inline Result<coe::CoeConfig> FourExperts() { return coe::ParseCoeConfig(FourExpertsYaml(), TestDataPath("experts")); }

struct LabelledPrompt {
  std::string domain, prompt;
};

inline std::vector<LabelledPrompt> ExpertPrompts() {
  std::vector<LabelledPrompt> out;
  for (const auto& p : nlohmann::json::parse(ReadText(TestDataPath("experts/prompts.json"))))
    out.push_back({p["domain"].get<std::string>(), p["prompt"].get<std::string>()});
  return out;
}

}  // namespace strata::testing
