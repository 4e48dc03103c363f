// tokenizer_config.json: the forms transformers writes (template string or named list, special tokens as
// strings or AddedToken objects, nulls), the chat_template.jinja file beside it, and malformed files.
#include "model/hf_tokenizer_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testdata.h"

namespace strata {
namespace {

TEST(HfTokenizerConfigTest, ReadsStringsAddedTokensAndNulls) {
  auto c = ParseHfTokenizerConfig(R"({
      "add_bos_token": true, "add_eos_token": false, "chat_template": "{{ bos_token }}",
      "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false}, "eos_token": "</s>",
      "unk_token": null, "model_max_length": 1e30, "added_tokens_decoder": {"0": {"content": "<s>"}}})",
                                  "t.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chat_template.value_or(""), "{{ bos_token }}");
  EXPECT_TRUE(c->named_templates.empty());
  EXPECT_EQ(c->special_tokens.bos.value_or(""), "<s>");
  EXPECT_EQ(c->special_tokens.eos.value_or(""), "</s>");
  EXPECT_FALSE(c->special_tokens.unk.has_value());
  EXPECT_FALSE(c->special_tokens.pad.has_value());
  EXPECT_EQ(c->add_bos_token, std::optional<bool>(true));
  EXPECT_EQ(c->add_eos_token, std::optional<bool>(false));
}

TEST(HfTokenizerConfigTest, NamedTemplateListUsesDefault) {
  auto c = ParseHfTokenizerConfig(
      R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})", "t.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->chat_template.value_or(""), "D");
  ASSERT_EQ(c->named_templates.size(), 2u);
  EXPECT_EQ(c->named_templates[0].first, "tool_use");
  auto source = ChatTemplateSourceFromHfConfig(*c, "dir");
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(source->source, "D");

  auto no_default = ParseHfTokenizerConfig(R"({"chat_template": [{"name": "rag", "template": "R"}]})", "t.json");
  ASSERT_TRUE(no_default.ok());
  auto missing = ChatTemplateSourceFromHfConfig(*no_default, "dir");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no template named 'default' (it has: 'rag')"), std::string::npos);
  auto none = ChatTemplateSourceFromHfConfig(HfTokenizerConfig{}, "dir");
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
}

TEST(HfTokenizerConfigTest, MalformedFilesAreClearErrors) {
  struct Bad {
    const char* text;
    const char* message_part;
  };
  const Bad bad[] = {
      {"", "not valid JSON"},
      {R"({"bos_token": "<s>")", "not valid JSON"},
      {"[1, 2]", "JSON object at the top level"},
      {R"({"bos_token": 1})", "'bos_token' is a number"},
      {R"({"eos_token": {"__type": "AddedToken"}})", "'eos_token' is an object without a string \"content\""},
      {R"({"pad_token": {"content": 5}})", "'pad_token' is an object without"},
      {R"({"add_bos_token": "yes"})", "'add_bos_token' is a string, expected a boolean"},
      {R"({"chat_template": 3})", "'chat_template' is a number"},
      {R"({"chat_template": [{"name": "default"}]})", "entry 0 is not"},
      {R"({"chat_template": ["x"]})", "entry 0 is not"},
  };
  for (const Bad& b : bad) {
    auto c = ParseHfTokenizerConfig(b.text, "cfg.json");
    ASSERT_FALSE(c.ok()) << b.text;
    EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument) << b.text;
    EXPECT_NE(c.status().message().find(b.message_part), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().rfind("cfg.json: ", 0), 0u) << c.status().message();
  }
}

void WriteFile(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

TEST(HfTokenizerConfigTest, FolderWithChatTemplateJinjaUsesIt) {
  const auto dir = std::filesystem::path(testing::ScratchDir()) / "hf_config_jinja";
  std::filesystem::create_directories(dir);
  WriteFile(dir / "tokenizer_config.json", R"({"chat_template": "old", "eos_token": "</s>"})");
  auto plain = LoadHfTokenizerConfig(dir.string());
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->chat_template.value_or(""), "old");
  WriteFile(dir / "chat_template.jinja", "{{ eos_token }}\n");
  auto with_file = LoadHfTokenizerConfig(dir.string());
  ASSERT_TRUE(with_file.ok()) << with_file.status().ToString();
  EXPECT_EQ(with_file->chat_template.value_or(""), "{{ eos_token }}\n");
}

TEST(HfTokenizerConfigTest, SpecialTokensMapOverridesTheConfig) {
  const auto dir = std::filesystem::path(testing::ScratchDir()) / "hf_config_map";
  std::filesystem::create_directories(dir);
  WriteFile(dir / "tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": "</s>", "pad_token": null})");
  WriteFile(dir / "special_tokens_map.json", R"({"eos_token": {"content": "<|eot|>"}, "pad_token": "<pad>"})");
  auto c = LoadHfTokenizerConfig(dir.string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->special_tokens.bos.value_or(""), "<s>");
  EXPECT_EQ(c->special_tokens.eos.value_or(""), "<|eot|>");
  EXPECT_EQ(c->special_tokens.pad.value_or(""), "<pad>");
  WriteFile(dir / "special_tokens_map.json", R"({"eos_token": 7})");
  auto bad = LoadHfTokenizerConfig(dir.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("special_tokens_map.json: 'eos_token' is a number"), std::string::npos)
      << bad.status().message();
}

TEST(HfTokenizerConfigTest, MissingFileNamesThePath) {
  auto c = LoadHfTokenizerConfig("/nonexistent/strata-model");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/strata-model/tokenizer_config.json"), std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace strata
