// The HTTP API's contract: routes, OpenAI-style errors for bad input (and the server keeps serving), auth,
// body limits, and the Prometheus exposition.
#include <gtest/gtest.h>

#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

class ServerApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (TestDataDir()) server_ = std::make_unique<LocalServer>(ServerOptions{.max_body_bytes = 64 * 1024});
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }

  // Every error is {"error": {"message": non-empty, "type", "code"}} with the right status.
  static void ExpectError(const std::pair<int, json>& r, int status, const std::string& needle = "") {
    EXPECT_EQ(r.first, status) << r.second.dump();
    ASSERT_TRUE(r.second.is_object() && r.second.contains("error")) << r.second.dump();
    const json& e = r.second["error"];
    EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
    EXPECT_TRUE(e["type"].is_string());
    EXPECT_EQ(e["code"], status);
    if (!needle.empty()) {
      EXPECT_NE(e["message"].get<std::string>().find(needle), std::string::npos) << e.dump();
    }
  }
  void ExpectStillServing() {
    auto r = server_->Post("/v1/completions", json{{"prompt", "Once"}, {"max_tokens", 2}});
    EXPECT_EQ(r.first, 200);
  }
  static std::unique_ptr<LocalServer> server_;
};
std::unique_ptr<LocalServer> ServerApi::server_;

TEST_F(ServerApi, HealthModelsAndMetrics) {
  auto c = server_->Client();
  auto health = c.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto models = c.Get("/v1/models");
  ASSERT_TRUE(models);
  const json m = json::parse(models->body);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], "tiny");
  EXPECT_EQ(m["data"][0]["max_model_len"], 256);
  const std::string metrics = server_->Metrics();
  for (const char* name : {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                           "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                           "vllm:time_to_first_token_seconds_bucket", "vllm:time_per_output_token_seconds_count",
                           "vllm:e2e_request_latency_seconds_sum", "vllm:prefix_cache_queries_total",
                           "vllm:prefix_cache_hits_total"})
    EXPECT_NE(metrics.find(std::string(name) + "{model_name=\"tiny\""), std::string::npos) << name;
  auto missing = c.Get("/v1/nothing");
  ASSERT_TRUE(missing);
  ExpectError({missing->status, json::parse(missing->body, nullptr, false)}, 404);
}

TEST_F(ServerApi, CompletionAndUsage) {
  auto [status, body] = server_->Post("/v1/completions", json{{"model", "tiny"}, {"prompt", "Once upon a time"},
                                                              {"max_tokens", 5}, {"ignore_eos", true}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["object"], "text_completion");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(body["usage"]["completion_tokens"], 5);
  EXPECT_EQ(body["usage"]["prompt_tokens"], static_cast<int>(server_->tokenizer().Encode("Once upon a time", true).size()));
  EXPECT_EQ(body["usage"]["total_tokens"], body["usage"]["prompt_tokens"].get<int>() + 5);
}

TEST_F(ServerApi, ChatUsesTheTemplate) {
  auto [status, body] = server_->Post(
      "/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", "Hello"}}}}, {"max_tokens", 4}});
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(body["choices"][0]["message"]["content"].is_string());
  // The ChatML rendering of one user message, tokenized with BOS.
  const std::string rendered = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(body["usage"]["prompt_tokens"], static_cast<int>(server_->tokenizer().Encode(rendered, true).size()));
}

TEST_F(ServerApi, MalformedJson) {
  ExpectError(server_->Post("/v1/completions", std::string("{\"prompt\": \"x\",")), 400, "JSON");
  ExpectError(server_->Post("/v1/chat/completions", std::string("[1, 2]")), 400);
  ExpectStillServing();
}

TEST_F(ServerApi, WrongFieldTypes) {
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"max_tokens", "ten"}}), 400, "max_tokens");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"temperature", "hot"}}), 400, "temperature");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", 5}}), 400, "prompt");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"stop", 3}}), 400, "stop");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"stream", "yes"}}), 400, "stream");
  ExpectError(server_->Post("/v1/chat/completions", json{{"messages", {{{"role", 1}}}}}), 400, "role");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"top_p", 0}}), 400, "top_p");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "x"}, {"temperature", -1}}), 400, "temperature");
  ExpectError(server_->Post("/v1/completions", json{{"prompt", {5, 100000}}}), 400, "vocabulary");
  ExpectStillServing();
}

TEST_F(ServerApi, UnknownModelAndMissingMessages) {
  ExpectError(server_->Post("/v1/completions", json{{"model", "gpt-9"}, {"prompt", "x"}}), 404, "gpt-9");
  ExpectError(server_->Post("/v1/chat/completions", json{{"model", "tiny"}}), 400, "messages");
  ExpectError(server_->Post("/v1/chat/completions", json{{"messages", json::array()}}), 400, "messages");
  ExpectStillServing();
}

TEST_F(ServerApi, PromptPlusMaxTokensBeyondContext) {
  ExpectError(server_->Post("/v1/completions", json{{"prompt", "Once upon a time"}, {"max_tokens", 300}}), 400,
              "maximum context length is 256");
  std::string long_prompt;
  for (int i = 0; i < 300; ++i) long_prompt += "dog ";
  ExpectError(server_->Post("/v1/completions", json{{"prompt", long_prompt}, {"max_tokens", 1}}), 400,
              "maximum context length");
  ExpectError(server_->Post("/v1/chat/completions",
                            json{{"messages", {{{"role", "user"}, {"content", long_prompt}}}}}), 400, "context");
  ExpectStillServing();
}

TEST_F(ServerApi, BodyOverLimitIs413) {
  const std::string big = json{{"prompt", std::string(100 * 1024, 'a')}}.dump();
  ExpectError(server_->Post("/v1/completions", big), 413);
  ExpectStillServing();
}

TEST(ServerAuth, WrongOrMissingKeyIs401) {
  STRATA_REQUIRE_TESTDATA();
  LocalServer server(ServerOptions{.api_key = "sekrit"});
  const std::string body = json{{"prompt", "Once"}, {"max_tokens", 2}}.dump();
  auto missing = server.Post("/v1/completions", body);
  EXPECT_EQ(missing.first, 401);
  EXPECT_EQ(missing.second["error"]["type"], "authentication_error");
  EXPECT_EQ(server.Post("/v1/completions", body, "wrong").first, 401);
  EXPECT_EQ(server.Post("/v1/completions", body, "sekrit").first, 200);
  auto c = server.Client();
  auto health = c.Get("/health");  // health and metrics stay open, as in vLLM
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace strata::testing
