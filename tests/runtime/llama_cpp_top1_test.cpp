// Strata's greedy top-1 against llama.cpp's (the node-llama-cpp prebuilt binaries) on gen-model files in the
// K-quant types and llama.cpp's K-quant mixes: llama.cpp continues a prompt of ids greedily
// (bench/llama_cpp/greedy.mjs); Strata, fed the same prompt and llama.cpp's tokens, must rank each of them
// first or, at a near tie, close second. The same for the files llama-quantize makes with llama.cpp's presets. Skipped without node or the
// install of bench/llama_cpp/setup.sh ($STRATA_LLAMA_CPP, else /tmp/strata-llama-cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compiler/pass_manager.h"
#include "model/bench_models.h"
#include "model/gguf.h"
#include "model/llama_quant_presets.h"
#include "runtime/cpu_executor.h"
#include "testdata.h"

namespace strata::llama_cpp_top1_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

namespace fs = std::filesystem;

std::string LlamaCppDir() {
  const char* env = std::getenv("STRATA_LLAMA_CPP");
  return env && *env ? env : "/tmp/strata-llama-cpp";
}

// Runs `cmd` and returns its stdout (empty if it failed).
std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) out.append(buf, n);
  return ::pclose(p) == 0 ? out : std::string();
}

std::vector<int32_t> LlamaCppGreedy(const std::string& model, const std::vector<int32_t>& prompt, int gen) {
  std::string ids;
  for (int32_t id : prompt) ids.append(ids.empty() ? "" : ",").append(std::to_string(id));
  const std::string script = std::string(STRATA_SOURCE_DIR) + "/bench/llama_cpp/greedy.mjs";
  const std::string out = Capture("node '" + script + "' --llama-cpp '" + LlamaCppDir() + "' --model '" + model +
                                  "' --ids " + ids + " --gen " + std::to_string(gen) + " 2>/dev/null");
  if (out.empty()) return {};
  return nlohmann::json::parse(out)["tokens"].get<std::vector<int32_t>>();
}

bool HaveLlamaCpp() {
  return fs::exists(LlamaCppDir() + "/node_modules/node-llama-cpp") && std::system("node --version >/dev/null 2>&1") == 0;
}

std::string GenModel(const std::string& dtype) {
  BenchModelOptions o;
  o.dtype = dtype;
  o.layers = 1;  // Llama-3.2-1B's matrices, one block of them, and the tiny model's 1024-token vocabulary: quick
  o.seed = 3;
  o.vocab_path = testing::TestDataPath("models/tiny-llama-f32.gguf");
  o.out_path = testing::ScratchDir() + "/top1-" + dtype + ".gguf";
  const Status st = GenerateBenchModel(o);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return o.out_path;
}

// Strata's logits at each of llama.cpp's greedy steps from a fixed prompt (fed llama.cpp's tokens); returns the
// steps whose top-1 is llama.cpp's token.
int ExpectSameTop1(const std::string& path, const char* label) {
  constexpr int kGen = 8;
  std::vector<int32_t> prompt = {1};
  for (int i = 0; i < 15; ++i) prompt.push_back(3 + (i * 7919) % 1021);
  const std::vector<int32_t> want = LlamaCppGreedy(path, prompt, kGen);
  EXPECT_EQ(want.size(), static_cast<size_t>(kGen)) << "greedy.mjs failed on " << path;
  if (want.size() != static_cast<size_t>(kGen)) return 0;
  auto model = Model::Load(path);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return 0;
  auto plans = ir::Compile(**model, {.passes = ir::DefaultPasses()});
  EXPECT_TRUE(plans.ok()) << plans.status().ToString();
  if (!plans.ok()) return 0;
  ThreadPool pool(2);
  CpuExecutor exec(plans->front(), pool, 64);
  std::vector<int32_t> input = prompt;
  int matched = 0;
  double worst_gap = 0, spread = 0;
  for (int k = 0; k < kGen; ++k) {
    auto logits = exec.Forward(input, false);
    EXPECT_TRUE(logits.ok()) << logits.status().ToString();
    if (!logits.ok()) return matched;
    const float* l = logits->last();
    const int64_t n = logits->n_vocab;
    const int32_t w = want[static_cast<size_t>(k)];
    const float top = *std::max_element(l, l + n);
    const auto rank = std::count_if(l, l + n, [&](float v) { return v > l[w]; });
    // Random weights leave near ties at the top, which 8-bit activations (per 32 here, per 256 in llama.cpp's
    // K-quant dot products) may order either way: llama.cpp's token must be Strata's first, or a close second
    // or third. A wrong kernel would put it hundreds of places down.
    EXPECT_LT(rank, 3) << label << " step " << k;
    EXPECT_LE(top - l[w], 0.02f * std::fabs(top)) << label << " step " << k;
    double mean = 0, var = 0;
    for (int64_t v = 0; v < n; ++v) mean += l[v] / static_cast<double>(n);
    for (int64_t v = 0; v < n; ++v) var += (l[v] - mean) * (l[v] - mean) / static_cast<double>(n);
    spread = std::max(spread, std::sqrt(var));
    worst_gap = std::max(worst_gap, static_cast<double>(top - l[w]));
    matched += rank == 0;
    input = {w};
  }
  std::printf("[ %-12s ] llama.cpp's greedy token is Strata's top-1 at %d of %d steps (largest gap %.3f, logit sd %.2f)\n",
              label, matched, kGen, worst_gap, spread);
  return matched;
}

TEST(LlamaCppTop1, GenModelFilesInEachKQuantType) {
  STRATA_REQUIRE_TESTDATA();
  if (!HaveLlamaCpp()) GTEST_SKIP() << "no node-llama-cpp install at " << LlamaCppDir() << " (bench/llama_cpp/setup.sh)";
  for (const char* dtype : {"q2_k", "q3_k", "q5_k", "q3_k_m", "q4_k_m", "q5_k_m"}) {
    const std::string path = GenModel(dtype);
    ExpectSameTop1(path, dtype);
    fs::remove(path);
  }
}

// llama.cpp's own presets: llama-quantize ($STRATA_LLAMA_QUANTIZE, built from llama.cpp's source; the test is
// skipped without it) makes Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q6_K and Q8_0 files from an F16 gen-model file. Each
// loads in Strata and agrees with llama.cpp's top-1; for the three mixes gen-model also writes, every tensor
// has the type gen-model gives it.
TEST(LlamaCppTop1, LlamaQuantizePresets) {
  STRATA_REQUIRE_TESTDATA();
  const char* quantize = std::getenv("STRATA_LLAMA_QUANTIZE");
  if (!quantize || !*quantize || !fs::exists(quantize)) GTEST_SKIP() << "STRATA_LLAMA_QUANTIZE (llama-quantize) not set";
  if (!HaveLlamaCpp()) GTEST_SKIP() << "no node-llama-cpp install at " << LlamaCppDir() << " (bench/llama_cpp/setup.sh)";
  const std::string f16 = GenModel("f16");
  for (const char* preset : {"Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0"}) {
    const std::string out = testing::ScratchDir() + "/llama-quantize-" + preset + ".gguf";
    ASSERT_EQ(std::system((std::string("'") + quantize + "' '" + f16 + "' '" + out + "' " + preset + " 2 >/dev/null 2>&1").c_str()), 0)
        << preset;
    std::string lower = preset;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const auto* mix = FindLlamaQuantPreset(lower)) {
      auto gguf = GgufFile::Open(out);
      ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
      for (const GgufTensorInfo& t : (*gguf)->tensors()) {
        if (t.dims.size() != 2) continue;  // norms
        EXPECT_STREQ(GgmlTypeName(t.ggml_type), Name(LlamaPresetTensorType(*mix, t.name, 1, true)))
            << preset << " " << t.name;
      }
    }
    ExpectSameTop1(out, preset);
    fs::remove(out);
  }
  fs::remove(f16);
}

}  // namespace
}  // namespace strata::llama_cpp_top1_test
