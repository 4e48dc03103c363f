// llama.cpp as a reference distribution for tests: bench/llama_cpp/topk.mjs (node-llama-cpp, F32 KV cache,
// flash attention off) continues a prompt of token ids greedily and gives its top-k next-token probabilities at
// every step; CompareTopK measures Strata's logits, teacher-forced on the same tokens, against them.
// Header-only, and independent of how a test gets Strata's logits (executor, engine, server).
//
// Tests skip when HaveLlamaCpp() is false: node missing, or no install of bench/llama_cpp/setup.sh at
// $STRATA_LLAMA_CPP (else /tmp/strata-llama-cpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata::testing {

struct LlamaCppTopK {
  std::vector<int32_t> tokens;                                // llama.cpp's greedy continuation
  std::vector<std::vector<std::pair<int32_t, float>>> top;   // per step: [id, probability], most probable first
};

inline std::string LlamaCppInstallDir() {
  const char* env = std::getenv("STRATA_LLAMA_CPP");
  return env && *env ? env : "/tmp/strata-llama-cpp";
}

inline bool HaveLlamaCppNode() {
  return std::filesystem::exists(LlamaCppInstallDir() + "/node_modules/node-llama-cpp") &&
         std::system("node --version >/dev/null 2>&1") == 0;
}

// Runs `cmd` and returns its stdout, or nothing when it could not start or exited non-zero.
inline std::optional<std::string> CaptureStdout(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

// llama.cpp's greedy `gen` tokens after `prompt` (used exactly as given: no BOS is added) with its `top` most
// probable next tokens at each step. Nothing when llama.cpp is not installed or the script fails; the failing
// command is then printed to stderr, where its own log also goes.
inline std::optional<LlamaCppTopK> RunLlamaCppTopK(const std::string& model, const std::vector<int32_t>& prompt,
                                                   int gen, int top, int threads = 1) {
  if (prompt.empty() || gen < 1 || top < 1 || !HaveLlamaCppNode()) return std::nullopt;
  std::string ids;
  for (int32_t id : prompt) ids.append(ids.empty() ? "" : ",").append(std::to_string(id));
  const std::string cmd = "node '" + std::string(STRATA_SOURCE_DIR) + "/bench/llama_cpp/topk.mjs' --llama-cpp '" +
                          LlamaCppInstallDir() + "' --model '" + model + "' --ids " + ids + " --gen " +
                          std::to_string(gen) + " --top " + std::to_string(top) + " --threads " +
                          std::to_string(threads);
  const std::optional<std::string> out = CaptureStdout(cmd + " 2>/dev/null");
  const auto j = out ? nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false) : nlohmann::json();
  if (!j.is_object() || !j.contains("tokens") || !j.contains("steps") || j["tokens"].size() != j["steps"].size()) {
    std::fprintf(stderr, "llama.cpp top-k failed; run by hand to see why:\n  %s\n", cmd.c_str());
    return std::nullopt;
  }
  LlamaCppTopK r;
  r.tokens = j["tokens"].get<std::vector<int32_t>>();
  for (const auto& step : j["steps"]) {
    auto& row = r.top.emplace_back();
    for (const auto& pair : step["top"]) row.emplace_back(pair[0].get<int32_t>(), pair[1].get<float>());
  }
  return r;
}

// How Strata's distributions agree with llama.cpp's over the steps of one continuation.
struct TopKAgreement {
  int positions = 0;        // steps compared
  int clear_steps = 0;      // steps where llama.cpp's top-1 leads its top-2 by more than the margin
  int top1_equal = 0;       // of those, steps where Strata's argmax is llama.cpp's token
  int top1_equal_any = 0;   // steps where it is, at any margin (near ties may go either way)
  double max_abs_dp = 0;    // largest |p_strata - p_llama.cpp| over llama.cpp's top ids of every step
  int worst_step = -1;
  int32_t worst_token = -1;

  // The greedy rule: wherever llama.cpp's choice is clear, Strata makes the same one.
  bool GreedyAgrees() const { return top1_equal == clear_steps; }
  std::string Summary() const {
    char s[256];
    std::snprintf(s, sizeof(s),
                  "%d steps: top-1 equal at %d of %d clear steps (%d of all); max |dp| %.3g (step %d, token %d)",
                  positions, top1_equal, clear_steps, top1_equal_any, max_abs_dp, worst_step, worst_token);
    return s;
  }
};

// Compares Strata's logits rows (one per step, each over the whole vocabulary; row i must be the distribution
// after the prompt and llama.cpp's tokens 0..i-1) with llama.cpp's top-k. Probabilities are the softmax in
// double. `margin` sets which steps count for the greedy rule: with both engines' probabilities within d of
// each other, a lead over 2d cannot swap the two, so twice the probability tolerance is the natural choice.
inline TopKAgreement CompareTopK(const LlamaCppTopK& ref, const std::vector<std::vector<float>>& logits,
                                 double margin = 2e-3) {
  TopKAgreement a;
  a.positions = static_cast<int>(std::min({ref.tokens.size(), ref.top.size(), logits.size()}));
  for (int i = 0; i < a.positions; ++i) {
    const std::vector<float>& row = logits[static_cast<size_t>(i)];
    const auto& top = ref.top[static_cast<size_t>(i)];
    if (row.empty() || top.empty()) continue;
    const auto argmax = static_cast<int32_t>(std::max_element(row.begin(), row.end()) - row.begin());
    const double max = row[static_cast<size_t>(argmax)];
    double sum = 0;
    for (float l : row) sum += std::exp(static_cast<double>(l) - max);
    for (const auto& [id, p] : top) {
      const double mine = id >= 0 && static_cast<size_t>(id) < row.size()
                              ? std::exp(static_cast<double>(row[static_cast<size_t>(id)]) - max) / sum
                              : 0.0;
      if (std::fabs(mine - p) > a.max_abs_dp) a.max_abs_dp = std::fabs(mine - p), a.worst_step = i, a.worst_token = id;
    }
    const bool equal = argmax == ref.tokens[static_cast<size_t>(i)];
    a.top1_equal_any += equal;
    if (top.size() < 2 || top[0].second - top[1].second > margin) {
      ++a.clear_steps;
      a.top1_equal += equal;
    }
  }
  return a;
}

}  // namespace strata::testing
