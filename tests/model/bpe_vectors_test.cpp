// The byte-level BPE tokenizers against independent references: tokenizer-hf/*/vectors.json (Hugging Face
// `tokenizers`, tiktoken for GPT-2) from vocab.gguf and from tokenizer.json, and llama.cpp's own vocabulary
// tests (tokenizer-llamacpp/*.gguf.inp/.out, written from each model's Hugging Face tokenizer). Each test
// prints its exact-match counts, which the closing note quotes.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llamacpp_vectors.h"
#include "model/gguf.h"
#include "model/hf_tokenizer.h"
#include "model/tokenizer.h"
#include "testdata.h"

namespace strata {
namespace {

using ::strata::testing::TestDataPath;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string Escaped(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', true); }

std::unique_ptr<Tokenizer> FromGguf(const std::string& path) {
  auto gguf = GgufFile::Open(path);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  if (!gguf.ok()) return nullptr;
  auto tok = CreateTokenizer(**gguf);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

std::unique_ptr<Tokenizer> FromHf(const std::string& dir) {
  auto tok = LoadHfTokenizer(dir);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

enum class Source { kGguf, kHf };

// Checks every case of tokenizer-hf/<model>/vectors.json: `ids`, the ids with special tokens, and `decoded`.
// From GGUF the special tokens follow the file's add_bos/add_eos flags (llama.cpp's rule, so they are also
// checked against llamacpp_ids_with_special where llama.cpp's plain ids agree); from tokenizer.json they are
// Hugging Face's `ids_with_special`.
void CheckHfVectors(const std::string& model, Source source) {
  const std::string dir = TestDataPath("tokenizer-hf/" + model);
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(dir + "/vectors.json"));
  auto tok = source == Source::kGguf ? FromGguf(dir + "/vocab.gguf") : FromHf(dir);
  ASSERT_NE(tok, nullptr);
  int n = 0, ids_ok = 0, special_ok = 0, decoded_ok = 0;
  for (const auto& c : doc.at("cases")) {
    ++n;
    const std::string text = c.at("text").get<std::string>();
    const auto ids = c.at("ids").get<std::vector<int32_t>>();
    std::vector<int32_t> with_special;
    if (source == Source::kHf) {
      with_special = c.at("ids_with_special").get<std::vector<int32_t>>();
    } else {
      if (tok->add_bos()) with_special.push_back(tok->bos_id());
      with_special.insert(with_special.end(), ids.begin(), ids.end());
      if (tok->add_eos()) with_special.push_back(tok->eos_id());
      if (c.contains("llamacpp_ids") && c.at("llamacpp_ids") == c.at("ids")) {
        EXPECT_EQ(with_special, c.at("llamacpp_ids_with_special").get<std::vector<int32_t>>()) << Escaped(text);
      }
    }
    const std::vector<int32_t> got = tok->Encode(text, false);
    const std::vector<int32_t> got_special = EncodeWithSpecialTokens(*tok, text);
    const std::string decoded = tok->Decode(ids);
    ids_ok += got == ids;
    special_ok += got_special == with_special;
    decoded_ok += decoded == c.at("decoded").get<std::string>();
    EXPECT_EQ(got, ids) << model << ": text " << Escaped(text);
    EXPECT_EQ(got_special, with_special) << model << ": text " << Escaped(text);
    EXPECT_EQ(decoded, c.at("decoded").get<std::string>()) << model << ": ids of " << Escaped(text);
  }
  std::printf("[vectors] %s %s: ids %d/%d, with special tokens %d/%d, decoded %d/%d\n", model.c_str(),
              source == Source::kGguf ? "vocab.gguf" : "tokenizer.json", ids_ok, n, special_ok, n, decoded_ok, n);
  EXPECT_GT(n, 0);
}

TEST(BpeVectorsTest, Llama3Gguf) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("llama3", Source::kGguf); }
TEST(BpeVectorsTest, Qwen3Gguf) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("qwen3", Source::kGguf); }
TEST(BpeVectorsTest, DeepseekV3Gguf) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("deepseek_v3", Source::kGguf); }
TEST(BpeVectorsTest, Gpt2Gguf) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("gpt2", Source::kGguf); }
TEST(BpeVectorsTest, Llama3TokenizerJson) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("llama3", Source::kHf); }
TEST(BpeVectorsTest, Qwen3TokenizerJson) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("qwen3", Source::kHf); }
TEST(BpeVectorsTest, DeepseekV3TokenizerJson) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("deepseek_v3", Source::kHf); }
TEST(BpeVectorsTest, Gemma3TokenizerJson) { STRATA_REQUIRE_TESTDATA(); CheckHfVectors("gemma3", Source::kHf); }

// llama.cpp's vocabulary tests for the byte-level vocabularies Strata supports: `.out` holds the ids of the
// model's Hugging Face tokenizer for each string of `.inp` (no BOS).
void CheckLlamaCppVectors(const std::string& name) {
  const std::string base = TestDataPath("tokenizer-llamacpp/ggml-vocab-" + name + ".gguf");
  const auto cases = ::strata::testing::ReadLlamaCppVectors(base);
  ASSERT_FALSE(cases.empty()) << base;
  auto tok = FromGguf(base);
  ASSERT_NE(tok, nullptr);
  int ok = 0;
  for (const auto& [text, want] : cases) {
    const auto got = tok->Encode(text, false);
    ok += got == want;
    EXPECT_EQ(got, want) << name << ": text " << Escaped(text);
  }
  std::printf("[vectors] llama.cpp %s: ids %d/%zu\n", name.c_str(), ok, cases.size());
}

TEST(BpeVectorsTest, LlamaCppLlamaBpe) { STRATA_REQUIRE_TESTDATA(); CheckLlamaCppVectors("llama-bpe"); }
TEST(BpeVectorsTest, LlamaCppQwen2) { STRATA_REQUIRE_TESTDATA(); CheckLlamaCppVectors("qwen2"); }
TEST(BpeVectorsTest, LlamaCppGpt2) { STRATA_REQUIRE_TESTDATA(); CheckLlamaCppVectors("gpt-2"); }

}  // namespace
}  // namespace strata
