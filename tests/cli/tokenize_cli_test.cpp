// `strata tokenize` on byte-level BPE vocabularies: a vocab-only GGUF and a Hugging Face folder, with the
// model's special tokens (as Hugging Face adds them), --no-special / --no-bos, --pieces, and special-token
// text in the input parsed as the token. Expected ids come from tokenizer-hf/*/vectors.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace strata {
namespace {

using nlohmann::json;
using testing::Quote;
using testing::Strata;

json Vectors(const std::string& model) {
  return json::parse(testing::ReadFile(testing::TestDataPath("tokenizer-hf/" + model + "/vectors.json")));
}

// The first case of `model`'s vectors whose text contains `needle`.
json CaseWith(const std::string& model, const std::string& needle) {
  const json doc = Vectors(model);
  for (const json& c : doc.at("cases"))
    if (c.at("text").get<std::string>().find(needle) != std::string::npos) return c;
  ADD_FAILURE() << model << ": no case contains " << needle;
  return json::object();
}

TEST(TokenizeCli, HuggingFaceFolderAddsSpecialTokensAsTransformersDoes) {
  STRATA_REQUIRE_TESTDATA();
  const std::string dir = testing::TestDataPath("tokenizer-hf/deepseek_v3");
  const json c = CaseWith("deepseek_v3", "<\xEF\xBD\x9C");  // "<｜": DeepSeek's special-token text
  const std::string text = c.at("text").get<std::string>();
  auto r = Strata("tokenize -m " + Quote(dir) + " " + Quote(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), c.at("ids_with_special")) << text;  // BOS from tokenizer_config.json
  r = Strata("tokenize -m " + Quote(dir) + " --no-special " + Quote(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), c.at("ids")) << text;
}

TEST(TokenizeCli, GgufVocabularyWithBosNoBosAliasAndPieces) {
  STRATA_REQUIRE_TESTDATA();
  const std::string vocab = testing::TestDataPath("tokenizer-hf/llama3/vocab.gguf");
  const json c = CaseWith("llama3", "<|begin_of_text|>");
  const std::string text = c.at("text").get<std::string>();
  auto r = Strata("tokenize -m " + Quote(vocab) + " " + Quote(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), c.at("llamacpp_ids_with_special")) << "vocab.gguf says add_bos_token";
  r = Strata("tokenize -m " + Quote(vocab) + " --no-bos " + Quote(text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), c.at("ids"));

  r = Strata("tokenize -m " + Quote(vocab) + " --no-special --pieces 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0], json({{"id", 9906}, {"piece", "Hello"}}));
  EXPECT_EQ(j[1], json({{"id", 1917}, {"piece", "\xC4\xA0world"}}));  // Ġworld: the byte-level form
}

TEST(TokenizeCli, FolderWithoutTokenizerJsonIsAClearError) {
  const std::string dir = testing::ScratchDir() + "/empty-model-dir";
  std::filesystem::create_directories(dir);
  auto r = Strata("tokenize -m " + Quote(dir) + " hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tokenizer.json"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata
