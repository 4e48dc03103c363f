// Token ids in and out of the server, for clients that compare engines token by token: vLLM's
// `return_tokens_as_token_ids` names every token in logprobs "token_id:N" (completions and chat, streamed or
// not), and a prompt given as token ids is used exactly as given (no BOS added, no re-tokenization).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

constexpr char kPrompt[] = "Once upon a time";

class ServerTokenIds : public SharedServerTest<ServerTokenIds> {
 protected:
  static json Post(const std::string& path, const json& body) {
    auto [status, r] = server_->Post(path, body);
    EXPECT_EQ(status, 200) << r.dump();
    return r;
  }
  static json Completion(const json& prompt, int n, bool as_ids) {
    return {{"prompt", prompt}, {"max_tokens", n}, {"temperature", 0}, {"logprobs", 3},
            {"return_tokens_as_token_ids", as_ids}};
  }
  static json Chat(int n, bool as_ids) {
    return {{"messages", {{{"role", "user"}, {"content", "Tell me a story"}}}}, {"max_tokens", n}, {"temperature", 0},
            {"logprobs", true}, {"top_logprobs", 3}, {"return_tokens_as_token_ids", as_ids}};
  }
  // The id N of "token_id:N" (fails the test and returns -1 for anything else).
  static int32_t IdOf(const std::string& name) {
    constexpr std::string_view kPrefix = "token_id:";
    EXPECT_TRUE(name.starts_with(kPrefix)) << name;
    if (!name.starts_with(kPrefix) || name.size() == kPrefix.size()) return -1;
    const std::string digits = name.substr(kPrefix.size());
    EXPECT_EQ(digits.find_first_not_of("0123456789"), std::string::npos) << name;
    const long id = std::stol(digits);
    EXPECT_LT(id, server_->tokenizer().n_vocab()) << name;
    return static_cast<int32_t>(id);
  }
  static std::string Bytes(int32_t id) { return server_->tokenizer().TokenBytes(id); }
  // The SSE events of a streamed request, parsed.
  static std::vector<json> StreamEvents(const std::string& path, json body) {
    body["stream"] = true;
    auto res = server_->Client().Post(path.c_str(), body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200);
    std::vector<json> events;
    if (!res) return events;
    for (size_t pos = 0, end; (end = res->body.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
      const std::string ev = res->body.substr(pos, end - pos);
      if (ev.starts_with("data: {")) events.push_back(json::parse(ev.substr(6)));
    }
    return events;
  }
};

// Completions: the names become ids whose bytes are the tokens' text, the logprobs and offsets stay; the
// chosen ids are the model's own (fed back as a prompt of ids, each prefix predicts the next with the same
// logprob), which checks both the ids and that an id prompt is taken verbatim.
TEST_F(ServerTokenIds, CompletionsNameTokensById) {
  constexpr int kGen = 6;
  const json plain = Post("/v1/completions", Completion(kPrompt, kGen, false))["choices"][0]["logprobs"];
  const json named = Post("/v1/completions", Completion(kPrompt, kGen, true))["choices"][0]["logprobs"];
  ASSERT_EQ(named["tokens"].size(), static_cast<size_t>(kGen));
  ASSERT_EQ(plain["tokens"].size(), static_cast<size_t>(kGen));
  EXPECT_EQ(named["token_logprobs"], plain["token_logprobs"]);
  EXPECT_EQ(named["text_offset"], plain["text_offset"]) << "offsets index the text, not the names";
  std::vector<int32_t> generated;
  for (int i = 0; i < kGen; ++i) {
    const int32_t id = IdOf(named["tokens"][i].get<std::string>());
    generated.push_back(id);
    EXPECT_EQ(Bytes(id), plain["tokens"][i].get<std::string>()) << "step " << i;
    ASSERT_EQ(named["top_logprobs"][i].size(), plain["top_logprobs"][i].size());
    for (const auto& [name, lp] : named["top_logprobs"][i].items()) {
      const std::string text = Bytes(IdOf(name));
      ASSERT_TRUE(plain["top_logprobs"][i].contains(text)) << name << " step " << i;
      EXPECT_EQ(lp, plain["top_logprobs"][i][text]) << name << " step " << i;
    }
    EXPECT_TRUE(named["top_logprobs"][i].contains("token_id:" + std::to_string(id))) << "greedy: chosen is in the top";
  }
  std::vector<int32_t> prompt = server_->tokenizer().Encode(kPrompt, server_->tokenizer().add_bos());
  for (int i = 0; i < kGen; ++i) {
    const json r = Post("/v1/completions", Completion(prompt, 1, true));
    EXPECT_EQ(r["usage"]["prompt_tokens"], prompt.size());
    const json& lp = r["choices"][0]["logprobs"];
    EXPECT_EQ(lp["tokens"][0], "token_id:" + std::to_string(generated[i])) << "step " << i;
    EXPECT_NEAR(lp["token_logprobs"][0].get<double>(), named["token_logprobs"][i].get<double>(), 1e-4) << "step " << i;
    prompt.push_back(generated[i]);
  }
}

TEST_F(ServerTokenIds, ChatNamesTokensByIdWithTheirBytes) {
  constexpr int kGen = 5;
  const json plain = Post("/v1/chat/completions", Chat(kGen, false))["choices"][0]["logprobs"]["content"];
  const json named = Post("/v1/chat/completions", Chat(kGen, true))["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(named.size(), plain.size());
  ASSERT_FALSE(named.empty());
  for (size_t i = 0; i < named.size(); ++i) {
    const std::string name = named[i]["token"].get<std::string>();
    EXPECT_EQ(Bytes(IdOf(name)), plain[i]["token"].get<std::string>()) << "step " << i;
    EXPECT_EQ(named[i]["logprob"], plain[i]["logprob"]);
    // vLLM gives the bytes of the name it returns.
    EXPECT_EQ(named[i]["bytes"], json(std::vector<int>(name.begin(), name.end()))) << "step " << i;
    ASSERT_EQ(named[i]["top_logprobs"].size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
      const json& t = named[i]["top_logprobs"][k];
      EXPECT_EQ(Bytes(IdOf(t["token"].get<std::string>())), plain[i]["top_logprobs"][k]["token"].get<std::string>());
      EXPECT_EQ(t["logprob"], plain[i]["top_logprobs"][k]["logprob"]);
    }
  }
}

TEST_F(ServerTokenIds, StreamedLogprobsNameTokensByIdToo) {
  constexpr int kGen = 6;
  const json whole = Post("/v1/completions", Completion(kPrompt, kGen, true))["choices"][0]["logprobs"];
  json streamed = json::array();
  for (const json& ev : StreamEvents("/v1/completions", Completion(kPrompt, kGen, true)))
    if (!ev["choices"].empty() && ev["choices"][0]["logprobs"].is_object())
      for (const json& t : ev["choices"][0]["logprobs"]["tokens"]) streamed.push_back(t);
  EXPECT_EQ(streamed, whole["tokens"]);

  const json chat = Post("/v1/chat/completions", Chat(kGen, true))["choices"][0]["logprobs"]["content"];
  json chat_streamed = json::array();
  for (const json& ev : StreamEvents("/v1/chat/completions", Chat(kGen, true)))
    if (!ev["choices"].empty() && ev["choices"][0]["logprobs"].is_object())
      for (const json& t : ev["choices"][0]["logprobs"]["content"]) chat_streamed.push_back(t);
  ASSERT_EQ(chat_streamed.size(), chat.size());
  for (size_t i = 0; i < chat.size(); ++i) {
    EXPECT_EQ(chat_streamed[i]["token"], chat[i]["token"]) << "step " << i;
    EXPECT_EQ(chat_streamed[i]["top_logprobs"][0]["token"], chat[i]["top_logprobs"][0]["token"]) << "step " << i;
    IdOf(chat_streamed[i]["token"].get<std::string>());
  }
}

TEST_F(ServerTokenIds, FlagMustBeABoolean) {
  for (const json& bad : {json("true"), json(1), json::array({true}), json::object()}) {
    for (const char* path : {"/v1/completions", "/v1/chat/completions"}) {
      json body = std::string(path) == "/v1/completions" ? Completion(kPrompt, 2, false) : Chat(2, false);
      body["return_tokens_as_token_ids"] = bad;
      auto [status, r] = server_->Post(path, body);
      EXPECT_EQ(status, 400) << path << " " << bad.dump();
      ASSERT_TRUE(r.contains("error")) << r.dump();
      EXPECT_EQ(r["error"]["param"], "return_tokens_as_token_ids");
    }
  }
  json body = Completion(kPrompt, 2, false);
  body["return_tokens_as_token_ids"] = nullptr;  // null is absent
  const json r = Post("/v1/completions", body);
  EXPECT_FALSE(r["choices"][0]["logprobs"]["tokens"][0].get<std::string>().starts_with("token_id:"));
}

// An id prompt is neither given a BOS nor re-tokenized: its length is the usage's prompt_tokens, and the same
// ids as the text prompt's tokenization give the same answer.
TEST_F(ServerTokenIds, PromptIdsAreUsedVerbatim) {
  const Tokenizer& tok = server_->tokenizer();
  ASSERT_TRUE(tok.add_bos()) << "the tiny model's text prompts start with BOS";
  const std::vector<int32_t> ids = tok.Encode(kPrompt, true);
  ASSERT_EQ(ids.front(), tok.bos_id());
  const json from_text = Post("/v1/completions", Completion(kPrompt, 4, true));
  const json from_ids = Post("/v1/completions", Completion(ids, 4, true));
  EXPECT_EQ(from_text["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(from_ids["usage"]["prompt_tokens"], ids.size());
  EXPECT_EQ(from_ids["choices"][0]["text"], from_text["choices"][0]["text"]);
  EXPECT_EQ(from_ids["choices"][0]["logprobs"]["tokens"], from_text["choices"][0]["logprobs"]["tokens"]);

  const std::vector<int32_t> no_bos(ids.begin() + 1, ids.end());
  EXPECT_EQ(Post("/v1/completions", Completion(no_bos, 4, true))["usage"]["prompt_tokens"], no_bos.size());
  // The text's bytes as byte tokens (or single-character pieces): not what the tokenizer would make of it.
  std::vector<int32_t> spelled;
  for (char c : std::string(" Once")) {
    const std::vector<int32_t> one = tok.Encode(std::string(1, c), false);
    spelled.insert(spelled.end(), one.begin(), one.end());
  }
  ASSERT_NE(spelled, tok.Encode(" Once", false));
  EXPECT_EQ(Post("/v1/completions", Completion(spelled, 2, true))["usage"]["prompt_tokens"], spelled.size());
}

}  // namespace
}  // namespace strata::testing
