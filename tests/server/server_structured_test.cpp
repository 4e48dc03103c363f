// Structured output end to end: schema-constrained requests on the shared model always return JSON that
// parses and validates against the schema (checked by a validator written here, independent of the engine).
#include <gtest/gtest.h>

#include "json_schema_check.h"
#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

const char* kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0}},"required":["name","age"]})",
    R"({"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer"}},"required":["color"]})",
    R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":8},"minItems":1,"maxItems":3}},"required":["tags"]})",
    R"({"type":"object","properties":{"pet":{"type":"object","properties":{"kind":{"enum":["dog","cat"]},"good":{"type":"boolean"}},"required":["kind","good"]},"score":{"type":"number"}},"required":["pet","score"]})",
    R"({"type":"object","properties":{"note":{"type":["string","null"],"maxLength":10},"ok":{"type":"boolean"}},"required":["note","ok"]})",
};

class ServerStructured : public SharedServerTest<ServerStructured> {};

TEST_F(ServerStructured, TwentySchemaRequestsParseAndValidate) {
  int checked = 0;
  for (int i = 0; i < 20; ++i) {
    const json schema = json::parse(kSchemas[i % 5]);
    const json body = {{"messages", {{{"role", "user"}, {"content", "Describe a pet as JSON."}}}},
                       {"max_tokens", 200}, {"temperature", 1.0}, {"seed", i},
                       {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "t"}, {"schema", schema}}}}}};
    auto [status, r] = server_->Post("/v1/chat/completions", body);
    ASSERT_EQ(status, 200) << r.dump();
    const std::string text = r["choices"][0]["message"]["content"].get<std::string>();
    EXPECT_EQ(r["choices"][0]["finish_reason"], "stop") << text;
    const json parsed = json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << "request " << i << " is not JSON: " << text;
    EXPECT_EQ(Validate(parsed, schema), "") << "request " << i << ": " << text;
    ++checked;
  }
  EXPECT_EQ(checked, 20);
}

TEST_F(ServerStructured, JsonObjectModeGivesAnObject) {
  // Free-form JSON has no bound on string lengths; the mask steers each document to close within max_tokens,
  // so even a short budget ends in an object that parses.
  for (int seed = 0; seed < 10; ++seed) {
    const json body = {{"prompt", "Data:"}, {"max_tokens", 12 + 4 * seed}, {"temperature", 0.9}, {"seed", seed},
                       {"response_format", {{"type", "json_object"}}}};
    auto [status, r] = server_->Post("/v1/completions", body);
    ASSERT_EQ(status, 200) << r.dump();
    const std::string text = r["choices"][0]["text"].get<std::string>();
    EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << "seed " << seed << ": " << text;
    EXPECT_LE(r["usage"]["completion_tokens"].get<int>(), 12 + 4 * seed);
  }
}

TEST_F(ServerStructured, UnsupportedSchemaIsA400) {
  const json schema = {{"type", "string"}, {"pattern", "^a+$"}};
  auto [status, r] = server_->Post(
      "/v1/completions", json{{"prompt", "x"}, {"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", schema}}}}}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("pattern"), std::string::npos);
}

}  // namespace
}  // namespace strata::testing
