// Structured output end to end: schema-constrained requests on the shared model always return JSON that
// parses and validates against the schema (checked by a validator written here, independent of the engine).
#include <gtest/gtest.h>

#include "local_server.h"

namespace strata::testing {
namespace {

using nlohmann::json;

// Validates the JSON Schema subset the tests use; returns "" when valid, else what is wrong.
std::string Validate(const json& v, const json& s, const std::string& path = "$") {
  if (s.contains("enum")) {
    for (const json& e : s["enum"])
      if (e == v) return "";
    return path + ": not in enum";
  }
  if (s.contains("type") && s["type"].is_array()) {
    for (const json& t : s["type"]) {
      json one = s;
      one["type"] = t;
      if (Validate(v, one, path).empty()) return "";
    }
    return path + ": matches none of the types";
  }
  const std::string type = s.value("type", "");
  if (type == "null") return v.is_null() ? "" : path + ": not null";
  if (type == "boolean") return v.is_boolean() ? "" : path + ": not a boolean";
  if (type == "integer") {
    if (!v.is_number_integer()) return path + ": not an integer";
    if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) return path + ": below minimum";
    return "";
  }
  if (type == "number") return v.is_number() ? "" : path + ": not a number";
  if (type == "string") {
    if (!v.is_string()) return path + ": not a string";
    const std::string str = v.get<std::string>();
    size_t chars = 0;
    for (unsigned char c : str) chars += (c & 0xC0) != 0x80;
    if (s.contains("maxLength") && chars > s["maxLength"].get<size_t>()) return path + ": too long";
    return "";
  }
  if (type == "array") {
    if (!v.is_array()) return path + ": not an array";
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return path + ": too few items";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return path + ": too many items";
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = Validate(v[i], s["items"], path + "[" + std::to_string(i) + "]"); !e.empty()) return e;
    return "";
  }
  if (type == "object") {
    if (!v.is_object()) return path + ": not an object";
    for (const json& r : s.value("required", json::array()))
      if (!v.contains(r.get<std::string>())) return path + ": missing " + r.get<std::string>();
    for (const auto& [k, sub] : v.items()) {
      if (!s["properties"].contains(k)) return path + ": unexpected key " + k;
      if (auto e = Validate(sub, s["properties"][k], path + "." + k); !e.empty()) return e;
    }
    return "";
  }
  return path + ": schema type not handled by the test validator";
}

const char* kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0}},"required":["name","age"]})",
    R"({"type":"object","properties":{"color":{"enum":["red","green","blue"]},"count":{"type":"integer"}},"required":["color"]})",
    R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":8},"minItems":1,"maxItems":3}},"required":["tags"]})",
    R"({"type":"object","properties":{"pet":{"type":"object","properties":{"kind":{"enum":["dog","cat"]},"good":{"type":"boolean"}},"required":["kind","good"]},"score":{"type":"number"}},"required":["pet","score"]})",
    R"({"type":"object","properties":{"note":{"type":["string","null"],"maxLength":10},"ok":{"type":"boolean"}},"required":["note","ok"]})",
};

class ServerStructured : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (TestDataDir()) server_ = std::make_unique<LocalServer>();
  }
  static void TearDownTestSuite() { server_.reset(); }
  void SetUp() override { STRATA_REQUIRE_TESTDATA(); }
  static std::unique_ptr<LocalServer> server_;
};
std::unique_ptr<LocalServer> ServerStructured::server_;

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
  const json body = {{"prompt", "{"}, {"max_tokens", 120}, {"temperature", 0.7}, {"seed", 3},
                     {"response_format", {{"type", "json_object"}}}};
  auto [status, r] = server_->Post("/v1/completions", body);
  ASSERT_EQ(status, 200) << r.dump();
  const std::string text = r["choices"][0]["text"].get<std::string>();
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text[0], '{');
  if (r["choices"][0]["finish_reason"] == "stop") EXPECT_TRUE(json::parse(text, nullptr, false).is_object()) << text;
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
