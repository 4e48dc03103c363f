// vLLM's /tokenize and /detokenize against the tokenizer called directly, the chat form against the model's
// own template (and the ids a chat completion is charged for), a template whose special tokens come from
// outside the GGUF (the seam an HF folder uses), and OpenAI-style errors for bad input.
#include <gtest/gtest.h>

#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

class ServerTokenize : public SharedServerTest<ServerTokenize> {
 protected:
  static std::vector<int32_t> Ids(const json& body) { return body["tokens"].get<std::vector<int32_t>>(); }
  static void ExpectTokenizeResponse(const std::pair<int, json>& r, const std::vector<int32_t>& want) {
    ASSERT_EQ(r.first, 200) << r.second.dump();
    EXPECT_EQ(Ids(r.second), want);
    EXPECT_EQ(r.second["count"], want.size());
    EXPECT_EQ(r.second["max_model_len"], 256);
  }
};

constexpr const char* kText = "Hello world, it's 2024!\n  <s> naïve ☃";

TEST_F(ServerTokenize, PromptMatchesTheTokenizer) {
  const Tokenizer& tok = server_->tokenizer();
  ASSERT_TRUE(tok.add_bos());
  auto r = server_->Post("/tokenize", json{{"model", "tiny"}, {"prompt", kText}});
  ExpectTokenizeResponse(r, tok.Encode(kText, true));
  EXPECT_TRUE(r.second["token_strs"].is_null());
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"prompt", kText}, {"add_special_tokens", false}}),
                         tok.Encode(kText, false));
  auto strs = server_->Post("/tokenize", json{{"prompt", "Hi there"}, {"return_token_strs", true}});
  ASSERT_EQ(strs.first, 200);
  std::vector<std::string> pieces;
  for (int32_t id : tok.Encode("Hi there", true)) pieces.push_back(tok.Piece(id));
  EXPECT_EQ(strs.second["token_strs"].get<std::vector<std::string>>(), pieces);
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"prompt", ""}, {"add_special_tokens", false}}), {});
}

// The tiny model's template is ChatML; the expected texts are written out here, not rendered by Strata.
TEST_F(ServerTokenize, MessagesRenderTheModelsTemplate) {
  const Tokenizer& tok = server_->tokenizer();
  const json messages = json::array({{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi"}}});
  const std::string turns = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n";
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"messages", messages}}),
                         tok.Encode(turns + "<|im_start|>assistant\n", false));
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"messages", messages}, {"add_generation_prompt", false}}),
                         tok.Encode(turns, false));
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"messages", messages}, {"add_special_tokens", true}}),
                         tok.Encode(turns + "<|im_start|>assistant\n", true));
  json prefill = messages;
  prefill.push_back({{"role", "assistant"}, {"content", "Sure "}});
  ExpectTokenizeResponse(server_->Post("/tokenize", json{{"messages", prefill},
                                                         {"add_generation_prompt", false},
                                                         {"continue_final_message", true}}),
                         tok.Encode(turns + "<|im_start|>assistant\nSure ", false));
  // A chat completion is charged for the same prompt, with the special tokens the model adds.
  auto chat = server_->Post("/v1/chat/completions", json{{"messages", messages}, {"max_tokens", 1}});
  ASSERT_EQ(chat.first, 200) << chat.second.dump();
  EXPECT_EQ(chat.second["usage"]["prompt_tokens"], tok.Encode(turns + "<|im_start|>assistant\n", true).size());
}

TEST_F(ServerTokenize, DetokenizeMatchesTheTokenizer) {
  const Tokenizer& tok = server_->tokenizer();
  const std::vector<int32_t> ids = tok.Encode(kText, true);
  auto r = server_->Post("/detokenize", json{{"model", "tiny"}, {"tokens", ids}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  EXPECT_EQ(r.second["prompt"], tok.Decode(ids));
  auto round = server_->Post("/tokenize", json{{"prompt", r.second["prompt"]}});
  EXPECT_EQ(Ids(round.second), ids);
  auto empty = server_->Post("/detokenize", json{{"tokens", json::array()}});
  ASSERT_EQ(empty.first, 200);
  EXPECT_EQ(empty.second["prompt"], "");
}

TEST_F(ServerTokenize, BadRequestsAreClearErrors) {
  const int32_t n = server_->tokenizer().n_vocab();
  const json hi = json::array({{{"role", "user"}, {"content", "Hi"}}});
  json deep = 1;
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  struct Bad {
    const char* path;
    std::string body;
    int status;
    const char* param;
    const char* message_part;
  };
  const Bad bad[] = {
      {"/tokenize", "{", 400, "", "not valid JSON"},
      {"/tokenize", "[1]", 400, "", "must be a JSON object"},
      {"/tokenize", json{{"model", "other"}, {"prompt", "x"}}.dump(), 404, "model", "does not exist"},
      {"/tokenize", json{{"model", 1}, {"prompt", "x"}}.dump(), 400, "model", "must be a string"},
      {"/tokenize", json::object().dump(), 400, "prompt", "'prompt' or 'messages' is required"},
      {"/tokenize", json{{"prompt", json::array({1, 2})}}.dump(), 400, "prompt", "must be a string"},
      {"/tokenize", json{{"prompt", "x"}, {"add_special_tokens", "yes"}}.dump(), 400, "add_special_tokens", "boolean"},
      {"/tokenize", json{{"prompt", "x"}, {"messages", hi}}.dump(), 400, "prompt", "not both"},
      {"/tokenize", json{{"messages", json::array()}}.dump(), 400, "messages", "non-empty array"},
      {"/tokenize", json{{"messages", json::array({{{"role", "wizard"}, {"content", "x"}}})}}.dump(), 400,
       "messages[0].role", "must be one of"},
      {"/tokenize", json{{"messages", hi}, {"continue_final_message", true}}.dump(), 400, "continue_final_message",
       "Cannot set both"},
      {"/tokenize", json{{"messages", hi}, {"chat_template_kwargs", 3}}.dump(), 400, "chat_template_kwargs", "object"},
      {"/tokenize", json{{"messages", hi}, {"chat_template_kwargs", {{"messages", 1}}}}.dump(), 400, "messages",
       "'messages' cannot be set"},
      {"/tokenize", json{{"messages", hi}, {"tools", json::array({{{"type", "function"}}})}}.dump(), 400, "tools",
       "not supported"},
      {"/tokenize", json{{"messages", hi}, {"chat_template_kwargs", {{"x", deep}}}}.dump(), 400, "messages",
       "nests deeper than 64"},
      {"/detokenize", json::object().dump(), 400, "tokens", "required"},
      {"/detokenize", json{{"tokens", "1 2"}}.dump(), 400, "tokens", "array of token ids"},
      {"/detokenize", json{{"tokens", {1, -1}}}.dump(), 400, "tokens", "a token id in [0, "},
      {"/detokenize", json{{"tokens", {n}}}.dump(), 400, "tokens", "a token id in [0, "},
      {"/detokenize", R"({"tokens": [18446744073709551615]})", 400, "tokens", "a token id in [0, "},
      {"/detokenize", R"({"tokens": [4294967297]})", 400, "tokens", "a token id in [0, "},
      {"/detokenize", json{{"tokens", {1.5}}}.dump(), 400, "tokens", "must be an integer"},
      {"/detokenize", json{{"model", "other"}, {"tokens", {1}}}.dump(), 404, "model", "does not exist"},
  };
  for (const Bad& b : bad) {
    auto r = server_->Post(b.path, b.body);
    EXPECT_EQ(r.first, b.status) << b.path << " " << b.body << " -> " << r.second.dump();
    ASSERT_TRUE(r.second.contains("error")) << r.second.dump();
    const json& param = r.second["error"]["param"];
    EXPECT_EQ(param.is_null() ? "" : param.get<std::string>(), b.param) << b.body;
    EXPECT_NE(r.second["error"]["message"].get<std::string>().find(b.message_part), std::string::npos)
        << b.body << " -> " << r.second.dump();
  }
  EXPECT_EQ(server_->Post("/tokenize", json{{"prompt", "still serving"}}).first, 200);
}

TEST_F(ServerTokenize, ChatTemplateKwargsReachTheTemplate) {
  auto r = server_->Post("/v1/chat/completions",
                         json{{"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})},
                              {"chat_template_kwargs", {{"add_generation_prompt", false}}}, {"max_tokens", 1}});
  EXPECT_EQ(r.first, 400) << r.second.dump();
  EXPECT_NE(r.second.dump().find("'add_generation_prompt' cannot be set"), std::string::npos) << r.second.dump();
}

// The server renders with the special tokens of the template's source (an HF folder's tokenizer_config.json
// gives its own), not the GGUF's; a template that writes the BOS text gets the BOS token once.
TEST(ServerTokenizeSeam, TemplateSpecialTokensComeWithTheTemplate) {
  STRATA_REQUIRE_TESTDATA();
  ServerOptions o;
  o.chat_template = ChatTemplateSource{
      "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}{{ pad_token }}",
      {"<B>", "<E>", std::nullopt, "[pad]"}};
  LocalServer server(o);
  const Tokenizer& tok = server.tokenizer();
  auto r = server.Post("/tokenize", json{{"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}});
  ASSERT_EQ(r.first, 200) << r.second.dump();
  EXPECT_EQ(r.second["tokens"].get<std::vector<int32_t>>(), tok.Encode("Hi<E>[pad]", true));
}

TEST(ServerTokenizeAuth, NeedsTheKeyWhenTheServerHasOne) {
  STRATA_REQUIRE_TESTDATA();
  LocalServer server(ServerOptions{.api_key = "sekrit"});
  const std::string body = R"({"prompt": "x", "tokens": [1]})";
  for (const char* path : {"/tokenize", "/detokenize"}) {
    EXPECT_EQ(server.Post(path, body).first, 401) << path;
    EXPECT_EQ(server.Post(path, body, "sekrit").first, 200) << path;
  }
}

}  // namespace
}  // namespace strata::testing
