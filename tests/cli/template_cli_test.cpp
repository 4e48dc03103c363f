// `strata template` end to end: every case of shared/testdata/tokenizer-hf/<model>/chat.json rendered from the
// Hugging Face folder and from vocab.gguf must print rendered_jinja2 (transformers' rendering) byte for byte,
// with nothing added; bad input gives a clear error and a non-zero exit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "testdata.h"

namespace strata {
namespace {

using nlohmann::ordered_json;
using testing::Quote;
using testing::Strata;

std::string WriteScratch(const std::string& name, const std::string& text) {
  const std::string path = testing::ScratchDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// The command line for one chat.json case against `model` (a folder or a GGUF file).
std::string TemplateArgs(const std::string& model, const ordered_json& c) {
  std::string args = "template -m " + Quote(model) + " --messages " +
                     Quote(WriteScratch("messages.json", c["messages"].dump()));
  if (c["add_generation_prompt"].get<bool>()) args += " --add-generation-prompt";
  const ordered_json variables = c.value("variables", ordered_json::object());
  for (const auto& [name, value] : variables.items())
    args += " --var " + Quote(name + "=" + value.dump());
  return args;
}

TEST(TemplateCli, Help) {
  auto r = Strata("template --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--add-generation-prompt"), std::string::npos) << r.out;
}

TEST(TemplateCli, EveryChatJsonCaseFromFolderAndGguf) {
  STRATA_REQUIRE_TESTDATA();
  int runs = 0;
  for (const char* name : {"llama3", "qwen3", "deepseek_v3", "gemma3"}) {
    const std::string dir = testing::TestDataPath(std::string("tokenizer-hf/") + name);
    std::ifstream in(dir + "/chat.json");
    const ordered_json chat = ordered_json::parse(in);
    std::vector<std::string> models = {dir};
    if (std::filesystem::exists(dir + "/vocab.gguf")) models.push_back(dir + "/vocab.gguf");
    for (const std::string& model : models) {
      for (const ordered_json& c : chat["cases"]) {
        SCOPED_TRACE(model + " / " + c["name"].get<std::string>());
        auto r = Strata(TemplateArgs(model, c));
        ASSERT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, c["rendered_jinja2"].get<std::string>());
        ++runs;
      }
    }
  }
  EXPECT_EQ(runs, 51);  // 29 cases from the folders, 22 from the three GGUF files
}

TEST(TemplateCli, ContinueFinalMessageAndMessagesFromARequestBody) {
  STRATA_REQUIRE_TESTDATA();
  const std::string body = WriteScratch(
      "body.json", R"({"model": "x", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Sure "}]})");
  auto r = Strata("template -m " + Quote(testing::TestDataPath("tokenizer-hf/qwen3")) + " --messages " + Quote(body) +
                  " --continue-final-message");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nSure ");
}

TEST(TemplateCli, BadInputIsAClearError) {
  STRATA_REQUIRE_TESTDATA();
  const std::string qwen3 = Quote(testing::TestDataPath("tokenizer-hf/qwen3"));
  const std::string ok = Quote(WriteScratch("ok.json", R"([{"role": "user", "content": "Hi"}])"));
  struct Bad {
    std::string args;
    const char* message_part;
  };
  const Bad bad[] = {
      {"-m " + qwen3 + " --messages " + Quote(WriteScratch("bad.json", "[{")), "not valid JSON"},
      {"-m " + qwen3 + " --messages " + Quote(WriteScratch("obj.json", R"({"role": "user"})")), "expected a JSON array"},
      {"-m " + qwen3 + " --messages /nonexistent.json", "cannot open"},
      {"-m " + qwen3 + " --messages " + ok + " --var enable_thinking", "expected NAME=JSON"},
      {"-m " + qwen3 + " --messages " + ok + " --var 'd=26 Jul'", "expected NAME=JSON"},
      {"-m " + qwen3 + " --messages " + ok + " --var messages=[]", "'messages' cannot be set"},
      {"-m " + Quote(testing::TestDataPath("tokenizer-hf/gpt2/vocab.gguf")) + " --messages " + ok,
       "no tokenizer.chat_template"},
      {"-m " + Quote(testing::TestDataPath("tokenizer-hf/gpt2")) + " --messages " + ok, "tokenizer_config.json"},
      {"-m " + Quote(testing::TestDataPath("tokenizer-hf/gemma3")) + " --messages " +
           Quote(WriteScratch("system_only.json", R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])")),
       "Conversation roles must alternate"},
  };
  for (const Bad& b : bad) {
    auto r = Strata("template " + b.args);
    EXPECT_EQ(r.exit_code, 1) << b.args;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(b.message_part), std::string::npos) << b.args << "\n" << r.err;
  }
}

}  // namespace
}  // namespace strata
