// The GGUF that `strata convert` writes loads in llama.cpp (node-llama-cpp's prebuilt binaries, installed by
// bench/llama_cpp/setup.sh in /tmp/strata-llama-cpp or $STRATA_LLAMA_CPP_DIR) and gives the greedy tokens
// Strata gives for the same prompt, which llama.cpp tokenizes from the converted vocabulary as Strata does.
// Skipped when node or the install is missing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "hf_folder.h"
#include "model/hf_convert.h"

namespace strata::hf_convert_llama_cpp_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

std::string LlamaCppDir() {
  const char* env = std::getenv("STRATA_LLAMA_CPP_DIR");
  return env ? env : "/tmp/strata-llama-cpp";
}

// Why the llama.cpp runs can't happen here ("" when they can).
std::string WhyNoLlamaCpp() {
  if (!std::filesystem::exists(LlamaCppDir() + "/node_modules/node-llama-cpp/dist/index.js"))
    return "node-llama-cpp is not installed in " + LlamaCppDir() + " (bench/llama_cpp/setup.sh)";
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is missing";
  return "";
}

// stdout of `cmd`; empty on failure.
std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) out.append(buf.data(), n);
  return ::pclose(p) == 0 ? out : std::string();
}

std::string Join(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s.append(s.empty() ? "" : ",").append(std::to_string(id));
  return s;
}

class HfConvertLlamaCpp : public ::testing::TestWithParam<std::string> {};

TEST_P(HfConvertLlamaCpp, GreedyTokensMatchStrata) {
  if (const std::string why = WhyNoLlamaCpp(); !why.empty()) GTEST_SKIP() << why;
  std::string dir;
  STRATA_MAKE_HF_FOLDER("tiny-llama-f32.gguf", "f32", 1, dir);
  const std::string out = testing::ScratchDir() + "/llama-cpp-" + GetParam() + ".gguf";
  ASSERT_TRUE(ConvertHfFolderToGguf(dir, out, {.dtype = *ParseConvertDType(GetParam())}).ok());
  auto model = Model::Load(out);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::string text = "The meaning of life is";
  const std::vector<int32_t> prompt = (*model)->tokenizer().Encode(text, true);
  constexpr int kTokens = 24;
  const std::vector<int32_t> strata = testing::Greedy(**model, prompt, kTokens);

  const std::string cmd = "node " STRATA_SOURCE_DIR "/tests/runtime/llama_cpp_greedy.mjs --dir '" + LlamaCppDir() +
                          "' --model '" + out + "' --ids " + Join(prompt) + " --n " + std::to_string(kTokens) +
                          " --text '" + text + "'";
  const std::string line = Capture(cmd);
  ASSERT_FALSE(line.empty()) << cmd << " failed";
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["tokens"].get<std::vector<int32_t>>(), strata) << "prompt " << Join(prompt);
  EXPECT_EQ(j["text_ids"].get<std::vector<int32_t>>(), (*model)->tokenizer().Encode(text, false));
  std::printf("[ %s ] llama.cpp and Strata: %d greedy tokens equal after %zu prompt tokens\n", GetParam().c_str(),
              kTokens, prompt.size());
}

// F32 and F16 compute alike in both (the goldens' README: 192/192 greedy tokens agree with llama.cpp); Q8_0 is
// left out because llama.cpp quantizes activations there, which moves near-ties.
INSTANTIATE_TEST_SUITE_P(Types, HfConvertLlamaCpp, ::testing::Values("f32", "f16"));

// A byte-level vocabulary (Llama 3, Qwen 3, DeepSeek V3) around seeded random weights: llama.cpp loads the
// converted file, tokenizes every shared vector as it does from the reference vocab.gguf (llamacpp_ids), and
// its greedy tokens equal Strata's (f32 weights: no activation rounding on either side).
class HfConvertLlamaCppBpe : public ::testing::TestWithParam<std::string> {};

TEST_P(HfConvertLlamaCppBpe, TokenizesAsOnVocabGgufAndGreedyMatchesStrata) {
  if (const std::string why = WhyNoLlamaCpp(); !why.empty()) GTEST_SKIP() << why;
  STRATA_REQUIRE_TESTDATA();
  const std::string src = testing::TestDataPath("tokenizer-hf/" + GetParam());
  const std::string dir = testing::ScratchDir() + "/random-" + GetParam();
  const std::string make = "/usr/bin/python3 " STRATA_SOURCE_DIR "/tests/model/make_hf_folder.py --random-from " + src +
                           " " + dir;
  const int rc = std::system(make.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) GTEST_SKIP() << "python3-numpy or python3-torch is missing";
  ASSERT_EQ(rc, 0) << make;
  const std::string out = dir + ".gguf";
  ASSERT_TRUE(ConvertHfFolderToGguf(dir, out, {.dtype = DType::kF32}).ok());

  std::ifstream in(src + "/vectors.json");
  const auto vectors = nlohmann::json::parse(in);
  nlohmann::json texts = nlohmann::json::array(), want = nlohmann::json::array();
  for (const auto& c : vectors["cases"])
    if (c.contains("llamacpp_ids") && c["llamacpp_ids"].is_array()) {
      texts.push_back(c["text"]);
      want.push_back(c["llamacpp_ids"]);
    }
  ASSERT_GT(texts.size(), 50u);
  const std::string texts_file = dir + "-texts.json";
  std::ofstream(texts_file) << texts.dump();

  auto model = testing::LoadIdsOnly(out);
  ASSERT_TRUE(model);
  std::vector<int32_t> prompt = want[5].get<std::vector<int32_t>>();
  prompt.insert(prompt.begin(), 3, 100);
  constexpr int kTokens = 8;
  const std::string cmd = "node " STRATA_SOURCE_DIR "/tests/runtime/llama_cpp_greedy.mjs --dir '" + LlamaCppDir() +
                          "' --model '" + out + "' --ids " + Join(prompt) + " --n " + std::to_string(kTokens) +
                          " --texts '" + texts_file + "'";
  const std::string line = Capture(cmd);
  ASSERT_FALSE(line.empty()) << cmd << " failed";
  const auto j = nlohmann::json::parse(line);
  int equal = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(j["texts_ids"][i], want[i]) << texts[i];
    equal += j["texts_ids"][i] == want[i];
  }
  EXPECT_EQ(j["tokens"].get<std::vector<int32_t>>(), testing::Greedy(*model, prompt, kTokens));
  std::printf("[ %s ] llama.cpp on the converted file: %d of %zu vectors tokenized as on vocab.gguf\n",
              GetParam().c_str(), equal, texts.size());
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, HfConvertLlamaCppBpe, ::testing::Values("llama3", "qwen3", "deepseek_v3"));

}  // namespace
}  // namespace strata::hf_convert_llama_cpp_test
