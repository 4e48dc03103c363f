// The chat templates of real models against Hugging Face's own rendering: every case of
// shared/testdata/tokenizer-hf/<model>/chat.json, whose rendered_jinja2 is Python's jinja2 set up as
// transformers' apply_chat_template sets it up. The template comes from tokenizer_config.json and, where the
// folder has one, from vocab.gguf's tokenizer.chat_template; both must render byte for byte the same text.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "model/chat_template.h"
#include "model/gguf.h"
#include "model/gguf_chat_template.h"
#include "model/hf_tokenizer_config.h"
#include "testdata.h"

namespace strata {
namespace {

using nlohmann::ordered_json;

constexpr const char* kModels[] = {"llama3", "qwen3", "deepseek_v3", "gemma3"};

std::string ModelDir(const std::string& model) { return testing::TestDataPath("tokenizer-hf/" + model); }

ordered_json ReadChatJson(const std::string& model) {
  std::ifstream in(ModelDir(model) + "/chat.json");
  std::stringstream text;
  text << in.rdbuf();
  return ordered_json::parse(text.str());
}

// Renders every case with `source` and compares with rendered_jinja2; returns the number that matched.
int ExpectCasesMatch(const ChatTemplateSource& source, const ordered_json& chat, const std::string& label) {
  auto t = ChatTemplate::FromSource(source);
  EXPECT_TRUE(t.ok()) << label << ": " << t.status().ToString();
  if (!t.ok()) return 0;
  int matched = 0;
  for (const ordered_json& c : chat["cases"]) {
    SCOPED_TRACE(label + " / " + c["name"].get<std::string>());
    const ordered_json variables = c.value("variables", ordered_json::object());
    ChatRenderRequest request{&c["messages"], c["add_generation_prompt"].get<bool>(), &variables};
    auto out = t->Render(request);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    if (!out.ok()) continue;
    const std::string expected = c["rendered_jinja2"].get<std::string>();
    EXPECT_EQ(*out, expected);
    matched += *out == expected;
  }
  return matched;
}

TEST(ChatJsonTest, TokenizerConfigTemplatesMatchTransformers) {
  STRATA_REQUIRE_TESTDATA();
  for (const char* model : kModels) {
    const ordered_json chat = ReadChatJson(model);
    auto config = LoadHfTokenizerConfig(ModelDir(model));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto source = ChatTemplateSourceFromHfConfig(*config, ModelDir(model));
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    EXPECT_EQ(ExpectCasesMatch(*source, chat, std::string(model) + " tokenizer_config.json"),
              static_cast<int>(chat["cases"].size()));
  }
}

// The reference rendered with exactly the special tokens of tokenizer_config.json: the parser must find the
// same ones (strings and AddedToken objects alike) and leave out the null ones.
TEST(ChatJsonTest, TokenizerConfigSpecialTokensAreTheReferencesVariables) {
  STRATA_REQUIRE_TESTDATA();
  for (const char* model : kModels) {
    SCOPED_TRACE(model);
    const ordered_json vars = ReadChatJson(model)["variables"];
    auto config = LoadHfTokenizerConfig(ModelDir(model));
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto expect = [&](const char* key, const std::optional<std::string>& got) {
      if (vars.contains(key)) EXPECT_EQ(got.value_or("<absent>"), vars[key].get<std::string>()) << key;
      else EXPECT_FALSE(got.has_value()) << key << " = " << *got;
    };
    const ChatSpecialTokens& t = config->special_tokens;
    expect("bos_token", t.bos);
    expect("eos_token", t.eos);
    expect("unk_token", t.unk);
    expect("pad_token", t.pad);
  }
}

TEST(ChatJsonTest, GgufTemplatesMatchTransformers) {
  STRATA_REQUIRE_TESTDATA();
  int files = 0;
  for (const char* model : kModels) {
    const std::string path = ModelDir(model) + "/vocab.gguf";
    if (!std::ifstream(path).good()) continue;  // gemma3 ships no GGUF
    ++files;
    auto gguf = GgufFile::Open(path);
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    auto source = ChatTemplateSourceFromGguf(**gguf);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    const ordered_json chat = ReadChatJson(model);
    EXPECT_EQ(ExpectCasesMatch(*source, chat, std::string(model) + " vocab.gguf"),
              static_cast<int>(chat["cases"].size()));
  }
  EXPECT_EQ(files, 3);
}

}  // namespace
}  // namespace strata
