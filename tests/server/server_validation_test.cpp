// Hardening of request validation (issue 12): bodies that would cost seconds of CPU and hundreds of MB are
// refused before they are parsed, every integer is range-checked in its full JSON width, schemas that cannot
// be satisfied are 400s, bounded numbers stay in range, and fields Strata does not implement are refused rather
// than ignored. After each refusal the server still answers a normal request.
#include <gtest/gtest.h>

#include "deep_schema_body.h"
#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

class ServerValidation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (TestDataDir()) server_ = std::make_unique<LocalServer>(ServerOptions{.max_body_bytes = 4u << 20});
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }

  static void ExpectError(const std::pair<int, json>& r, int status, const std::string& needle) {
    EXPECT_EQ(r.first, status) << r.second.dump().substr(0, 400);
    ASSERT_TRUE(r.second.is_object() && r.second.contains("error")) << r.second.dump().substr(0, 400);
    const std::string message = r.second["error"]["message"].get<std::string>();
    EXPECT_NE(message.find(needle), std::string::npos) << "'" << needle << "' not in: " << message;
  }
  static std::pair<int, json> Complete(json body) {
    if (!body.contains("prompt")) body["prompt"] = "Once";
    if (!body.contains("max_tokens")) body["max_tokens"] = 2;
    return server_->Post("/v1/completions", body);
  }
  static std::pair<int, json> Chat(json body) {
    if (!body.contains("messages")) body["messages"] = {{{"role", "user"}, {"content", "Hi"}}};
    if (!body.contains("max_tokens")) body["max_tokens"] = 2;
    return server_->Post("/v1/chat/completions", body);
  }
  static json Schema(const json& schema) {
    return {{"type", "json_schema"}, {"json_schema", {{"name", "t"}, {"schema", schema}}}};
  }
  static void ExpectStillServing() {
    auto r = server_->Post("/v1/completions", json{{"prompt", "Once"}, {"max_tokens", 2}});
    EXPECT_EQ(r.first, 200) << r.second.dump();
  }
  static std::unique_ptr<LocalServer> server_;
};
std::unique_ptr<LocalServer> ServerValidation::server_;

TEST_F(ServerValidation, DeepBodiesAreRefusedBeforeParsing) {
  const std::string deep = DeepSchemaBody(50000);  // ~1.85 MB
  ASSERT_GT(deep.size(), 1800000u);
  ExpectError(server_->Post("/v1/completions", deep), 400, "deeper than 128 levels");
  // Brackets inside strings do not count; escaped quotes do not end a string.
  ExpectError(Complete({{"prompt", std::string(10000, '[') + "\\\"{{{"}, {"stop", json::array({json::array({json::array()})})}}),
              400, "stop");
  std::string nested_prompt = R"({"prompt":)" + std::string(200, '[') + "1" + std::string(200, ']') + "}";
  ExpectError(server_->Post("/v1/completions", nested_prompt), 400, "deeper than 128 levels");
  // Within the byte scan's limit but past the schema compiler's: 70 levels of "items", one bracket each.
  json schema = {{"type", "integer"}};
  for (int i = 0; i < 70; ++i) schema = {{"type", "array"}, {"items", schema}};
  ExpectError(Complete({{"response_format", Schema(schema)}}), 400, "deeper than 64 levels");
  ExpectStillServing();
}

TEST_F(ServerValidation, ObjectsWithTooManyKeysAreRefused) {
  json keys = json::object();
  for (int i = 0; i < 20000; ++i) keys["k" + std::to_string(i)] = 0;
  ExpectError(Complete({{"metadata", keys}}), 400, "too many keys");
  ExpectStillServing();
  // A full vocabulary's logit_bias is fine.
  json bias = json::object();
  for (int i = 0; i < server_->tokenizer().n_vocab(); ++i) bias[std::to_string(i)] = 0;
  EXPECT_EQ(Complete({{"logit_bias", bias}}).first, 200);
}

TEST_F(ServerValidation, OutOfRangeIntegersAreRefusedNotWrapped) {
  ExpectError(Complete({{"prompt", {4294967301ULL}}}), 400, "4294967301");
  ExpectError(Complete({{"prompt", {1099511627776ULL}}}), 400, "vocabulary");
  auto r = Complete({{"prompt", {2147483648ULL}}});
  ExpectError(r, 400, "2147483648");
  EXPECT_EQ(r.second.dump().find("-2147483648"), std::string::npos) << r.second.dump();
  ExpectError(Complete({{"prompt", {-1}}}), 400, "vocabulary");
  ExpectError(Complete({{"stop_token_ids", {4294967301ULL}}}), 400, "stop_token_ids");
  ExpectError(Complete({{"stop_token_ids", {-3}}}), 400, "stop_token_ids");
  ExpectError(Complete({{"max_tokens", 9223372036854775808ULL}}), 400, "maximum context length is 256");
  ExpectError(Complete({{"max_tokens", 18446744073709551615ULL}}), 400, "18446744073709551615");
  ExpectError(Complete({{"max_tokens", 0}}), 400, "at least 1");
  ExpectError(Chat({{"max_completion_tokens", 9223372036854775807LL}}), 400, "maximum context length");
  ExpectError(Complete({{"seed", 9223372036854775808ULL}}), 400, "seed");
  ExpectError(Complete({{"n", 4294967297ULL}}), 400, "'n'");
  ExpectError(Complete({{"top_k", 1099511627776ULL}}), 400, "top_k");
  ExpectError(Complete({{"top_k", -2}}), 400, "top_k");
  ExpectError(Complete({{"logprobs", 4294967296ULL}}), 400, "logprobs");
  ExpectError(Chat({{"logprobs", true}, {"top_logprobs", 4294967297ULL}}), 400, "top_logprobs");
  ExpectError(Complete({{"logit_bias", {{"4294967301", 1}}}}), 400, "logit_bias");
  ExpectError(Complete({{"logit_bias", {{"-5", 1}}}}), 400, "logit_bias");
  ExpectError(Complete({{"logit_bias", {{"abc", 1}}}}), 400, "logit_bias");
  ExpectError(Complete({{"logit_bias", {{"5", 101}}}}), 400, "[-100, 100]");
  ExpectError(Complete({{"temperature", 1e300}}), 400, "temperature");
  ExpectError(Complete({{"presence_penalty", 3}}), 400, "presence_penalty");
  ExpectError(Complete({{"min_p", 1.5}}), 400, "min_p");
  ExpectStillServing();
  // In range is fine: negative and large seeds, top_k -1, the last token id.
  EXPECT_EQ(Complete({{"seed", -9223372036854775807LL - 1}, {"top_k", -1}}).first, 200);
  const int n_vocab = server_->tokenizer().n_vocab();
  EXPECT_EQ(Complete({{"prompt", {1, n_vocab - 1}}, {"stop_token_ids", {n_vocab - 1}}}).first, 200);
  ExpectError(Complete({{"prompt", {1, n_vocab}}}), 400, "vocabulary");
}

TEST_F(ServerValidation, UnsatisfiableSchemasAreRefused) {
  ExpectError(Complete({{"response_format", Schema({{"$ref", "#"}})}}), 400, "no finite document");
  ExpectError(Complete({{"response_format",
                         Schema({{"type", "object"}, {"properties", {{"a", {{"$ref", "#"}}}}}, {"required", {"a"}}})}}),
              400, "no finite document");
  ExpectError(Complete({{"response_format", Schema({{"type", "integer"}, {"minimum", 5}, {"maximum", 4}})}}), 400,
              "minimum/maximum");
  ExpectError(Complete({{"max_tokens", 16}, {"response_format", Schema({{"type", "string"}, {"minLength", 5000}})}}),
              400, "shortest document");
  ExpectStillServing();
  // The same schema with room enough is accepted.
  EXPECT_EQ(Complete({{"max_tokens", 16}, {"response_format", Schema({{"type", "string"}, {"minLength", 3}})}}).first, 200);
}

TEST_F(ServerValidation, BoundedNumbersStayInRange) {
  for (int seed = 0; seed < 6; ++seed) {
    auto [status, r] = Complete({{"prompt", "The number is"}, {"max_tokens", 12}, {"temperature", 1.0}, {"seed", seed},
                                 {"response_format", Schema({{"type", "integer"}, {"minimum", 10}, {"maximum", 20}})}});
    ASSERT_EQ(status, 200) << r.dump();
    const std::string text = r["choices"][0]["text"].get<std::string>();
    const json v = json::parse(text, nullptr, false);
    ASSERT_TRUE(v.is_number_integer()) << "seed " << seed << ": " << text;
    EXPECT_GE(v.get<int64_t>(), 10) << text;
    EXPECT_LE(v.get<int64_t>(), 20) << text;
  }
  const json obj = {{"type", "object"},
                    {"properties", {{"v", {{"type", "number"}, {"minimum", -2.5}, {"exclusiveMaximum", -1}}}}},
                    {"required", {"v"}}};
  for (int seed = 0; seed < 4; ++seed) {
    auto [status, r] = Complete({{"prompt", "Data:"}, {"max_tokens", 40}, {"temperature", 1.0}, {"seed", seed},
                                 {"response_format", Schema(obj)}});
    ASSERT_EQ(status, 200) << r.dump();
    const std::string text = r["choices"][0]["text"].get<std::string>();
    const json v = json::parse(text, nullptr, false);
    ASSERT_TRUE(v.is_object() && v["v"].is_number()) << "seed " << seed << ": " << text;
    EXPECT_GE(v["v"].get<double>(), -2.5) << text;
    EXPECT_LT(v["v"].get<double>(), -1) << text;
  }
}

TEST_F(ServerValidation, LooseFieldsAreRefused) {
  ExpectError(Chat({{"messages", {{{"role", "wizard"}, {"content", "Hi"}}}}}), 400, "role");
  ExpectError(Chat({{"messages", {{{"role", "user"}}}}}), 400, "content");
  ExpectError(Chat({{"messages", {{{"role", "user"}, {"content", nullptr}}}}}), 400, "content");
  ExpectError(Chat({{"messages", {{{"role", "assistant"}, {"content", nullptr}},
                                  {{"role", "user"}, {"content", "Hi"}}}}}), 400, "content");
  ExpectError(Chat({{"messages", {{{"role", "assistant"}, {"content", nullptr},
                                   {"tool_calls", {{{"id", "c"}, {"type", "function"}}}}}}}}), 400, "tool calls");
  // A content part whose "type" is not a string (found by openai_request_fuzz: it used to throw).
  for (const json& type : {json(1), json(nullptr), json::array(), json{{"t", "text"}}})
    ExpectError(Chat({{"messages", {{{"role", "user"}, {"content", {{{"type", type}, {"text", "Hi"}}}}}}}}), 400,
                "content parts");
  ExpectError(Complete({{"best_of", 3}}), 400, "best_of");
  ExpectError(Complete({{"suffix", "the end"}}), 400, "suffix");
  ExpectError(Complete({{"echo", true}}), 400, "echo");
  ExpectError(Chat({{"tools", {{{"type", "function"}, {"function", {{"name", "f"}}}}}}}), 400, "tool");
  ExpectError(Chat({{"tool_choice", "required"}}), 400, "tool_choice");
  ExpectError(Chat({{"functions", {{{"name", "f"}}}}}), 400, "functions");
  ExpectStillServing();
  // Hints and defaults are accepted: every role, best_of 1, an empty suffix, echo false, OpenAI's hint fields.
  EXPECT_EQ(Chat({{"messages", {{{"role", "system"}, {"content", "Be brief."}},
                                {{"role", "developer"}, {"content", "Really."}},
                                {{"role", "user"}, {"content", "Hi"}},
                                {{"role", "assistant"}, {"content", "Hello"}},
                                {{"role", "tool"}, {"content", "42"}},
                                {{"role", "user"}, {"content", {{{"type", "text"}, {"text", "More"}}}}}}},
                  {"user", "u1"}, {"metadata", {{"k", "v"}}}, {"store", false}, {"service_tier", "auto"},
                  {"parallel_tool_calls", true}, {"tool_choice", "none"}}).first,
            200);
  EXPECT_EQ(Complete({{"best_of", 1}, {"suffix", ""}, {"echo", false}, {"user", "u1"}}).first, 200);
}

}  // namespace
}  // namespace strata::testing
