// The JSON matcher accepts exactly valid (prefixes of) documents of its schema, the token mask follows it,
// and random walks through the mask always end in JSON that parses and validates.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "engine/json_grammar.h"
#include "engine/token_mask.h"
#include "json_schema_check.h"
#include "model/gguf.h"
#include "testdata.h"

namespace strata::json_grammar_test {  // its own namespace: helpers apart from unity-batch neighbours
namespace {

using nlohmann::json;

std::shared_ptr<const JsonGrammar> Schema(const char* text) {
  auto g = JsonGrammar::FromSchema(nlohmann::ordered_json::parse(text));
  EXPECT_TRUE(g.ok()) << g.status().message();
  return *g;
}

// Accepts the whole text and ends complete?
bool Complete(const std::shared_ptr<const JsonGrammar>& g, const std::string& text) {
  JsonMatcher m(g);
  return m.Accept(text) && m.IsComplete();
}
bool Prefix(const std::shared_ptr<const JsonGrammar>& g, const std::string& text) { return JsonMatcher(g).Accept(text); }

TEST(JsonMatcher, AnyObject) {
  auto g = *JsonGrammar::AnyObject();
  for (const char* ok : {"{}", R"({"a":1})", R"({"a":[1,2.5e3,-0.1,true,null,"x"],"b":{"c":{}}})",
                         R"({"\u00e9\n\"":"\ud7ff"})", "{\"\xC3\xA9\":\"\xE2\x82\xAC\xF0\x9F\x98\x80\"}"})
    EXPECT_TRUE(Complete(g, ok)) << ok;
  for (const char* bad : {"[]", "{a:1}", R"({"a":01})", R"({"a":1,})", R"({"a"  :1})", R"({"a":tru})",
                          "{\"\x01\":1}", R"({"\x":1})", "{\"\xC3\x28\":1}", "{\"\xED\xA0\x80\":1}", R"({"a":"\ud800"})"})
    EXPECT_FALSE(Complete(g, bad)) << bad;
  EXPECT_TRUE(Prefix(g, R"({"a":[1,{"b")"));
  EXPECT_FALSE(Complete(g, R"({"a":[1,{"b")"));
  EXPECT_FALSE(Prefix(g, "{} "));  // nothing after the value
}

TEST(JsonMatcher, SchemaObjectsInOrderWithOptionalKeys) {
  auto g = Schema(R"({"type":"object","properties":{"name":{"type":"string","maxLength":3},
                     "age":{"type":"integer","minimum":0},"nick":{"type":"string"}},"required":["name","age"]})");
  EXPECT_TRUE(Complete(g, R"({"name":"Bob","age":42})"));
  EXPECT_TRUE(Complete(g, R"({"name":"","age":0,"nick":"b"})"));
  EXPECT_FALSE(Complete(g, R"({"name":"Bobby","age":42})"));  // maxLength
  EXPECT_FALSE(Complete(g, R"({"age":42,"name":"Bob"})"));    // schema order
  EXPECT_FALSE(Complete(g, R"({"name":"Bob"})"));             // required
  EXPECT_FALSE(Complete(g, R"({"name":"Bob","age":-1})"));    // minimum 0: no sign
  EXPECT_FALSE(Complete(g, R"({"name":"Bob","age":1.5})"));   // integer
  EXPECT_FALSE(Complete(g, R"({"name":"Bob","age":1,"x":1})"));
}

TEST(JsonMatcher, EnumsArraysAnyOfAndRefs) {
  auto g = Schema(R"({"type":"object","properties":{"c":{"enum":["red","green",3,null]},
      "t":{"type":"array","items":{"$ref":"#/$defs/s"},"minItems":1,"maxItems":2},
      "n":{"anyOf":[{"type":"null"},{"type":"boolean"}]}},"required":["c","t","n"],"$defs":{"s":{"type":"string"}}})");
  EXPECT_TRUE(Complete(g, R"({"c":"green","t":["a"],"n":null})"));
  EXPECT_TRUE(Complete(g, R"({"c":3,"t":["a","b"],"n":false})"));
  EXPECT_FALSE(Complete(g, R"({"c":"blue","t":["a"],"n":null})"));
  EXPECT_FALSE(Complete(g, R"({"c":null,"t":[],"n":null})"));
  EXPECT_FALSE(Complete(g, R"({"c":null,"t":["a","b","c"],"n":null})"));
  EXPECT_FALSE(Complete(g, R"({"c":null,"t":["a"],"n":1})"));
}

TEST(JsonMatcher, NumbersAtTopLevelEndWhenTheTextEnds) {
  auto g = Schema(R"({"type":"number"})");
  EXPECT_TRUE(Complete(g, "-12.5e-3"));
  EXPECT_TRUE(Complete(g, "0"));
  EXPECT_FALSE(Complete(g, "1."));
  EXPECT_FALSE(Complete(g, "1e"));
  EXPECT_FALSE(Prefix(g, "1234567890123456"));  // 16 digits
}

TEST(JsonGrammar, UnsupportedKeywordsAreErrors) {
  auto g = JsonGrammar::FromSchema(nlohmann::ordered_json::parse(R"({"type":"string","pattern":"a+"})"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("pattern"), std::string::npos);
  EXPECT_FALSE(JsonGrammar::FromSchema(nlohmann::ordered_json::parse(R"({"$ref":"#/nowhere"})")).ok());
  EXPECT_FALSE(JsonGrammar::FromSchema(nlohmann::ordered_json::parse(R"({"type":"tuple"})")).ok());
}

// A small vocabulary with multi-byte tokens; token 0 is EOS (no bytes).
std::vector<std::string> MakeVocab() {
  std::vector<std::string> v = {"", "{", "}", "{\"", "\":", "\",\"", "\"", "tr", "ue", "true", "fal", "se",
                                         "null", "1", "23", "-", ".", "5e", "e", "a", "b", "ab", "cat", "dog", " ",
                                         "[", "]", ",", ":", "\\n", "\\", "x", "red", "green", "\xC3\xA9", "0", "9"};
  for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string(1, c));
  return v;
}
const std::vector<std::string> kVocab = MakeVocab();

TEST(TokenMask, FollowsTheMatcher) {
  auto g = *JsonGrammar::AnyObject();
  TokenTrie trie(kVocab);
  JsonMatcher m(g);
  std::vector<uint8_t> allowed;
  ComputeTokenMask(m, trie, 0, allowed);
  for (size_t i = 0; i < kVocab.size(); ++i)
    EXPECT_EQ(allowed[i], kVocab[i] == "{" || kVocab[i] == "{\"") << kVocab[i];
  ASSERT_TRUE(m.Accept("{}"));
  ComputeTokenMask(m, trie, 0, allowed);
  EXPECT_EQ(std::count(allowed.begin(), allowed.end(), 1), 1);
  EXPECT_EQ(allowed[0], 1);  // only EOS
}

TEST(TokenMask, RandomWalksEndInValidJson) {
  const char* schemas[] = {
      R"({"type":"object","properties":{"name":{"type":"string","maxLength":4},"n":{"type":"integer"}},"required":["name","n"]})",
      R"({"type":"object","properties":{"c":{"enum":["red","green"]},"v":{"type":"array","items":{"type":"number"},"maxItems":3}},"required":["c","v"]})",
      R"({"type":"object","properties":{"ok":{"type":"boolean"},"x":{"type":["string","null"],"maxLength":3}},"required":["ok","x"]})"};
  TokenTrie trie(kVocab);
  std::mt19937 rng(1);
  int valid = 0;
  for (int walk = 0; walk < 300; ++walk) {
    const json schema = json::parse(schemas[walk % 3]);
    JsonMatcher m(Schema(schemas[walk % 3]));
    std::string text;
    std::vector<uint8_t> allowed;
    for (int step = 0; step < 400; ++step) {
      ComputeTokenMask(m, trie, 0, allowed);
      std::vector<int32_t> choices;
      for (size_t i = 0; i < allowed.size(); ++i)
        if (allowed[i]) choices.push_back(static_cast<int32_t>(i));
      ASSERT_FALSE(choices.empty()) << "stuck after " << text;
      // Take EOS half the time once it is allowed, so walks end.
      const int32_t t = allowed[0] && rng() % 2 ? 0 : choices[rng() % choices.size()];
      if (t == 0) break;
      ASSERT_TRUE(m.Accept(kVocab[static_cast<size_t>(t)]));
      text += kVocab[static_cast<size_t>(t)];
    }
    if (!m.IsComplete()) continue;  // a walk may run out of steps inside a long value
    const json parsed = json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << text;
    EXPECT_EQ(testing::Validate(parsed, schema), "") << text;
    ++valid;
  }
  EXPECT_GT(valid, 250);
}

}  // namespace
}  // namespace strata::json_grammar_test

namespace strata::json_grammar_test {
namespace {

// The real 32000-token Llama-2 vocabulary: masks follow the matcher and their cost is printed (not asserted).
TEST(TokenMask, RealLlama2Vocabulary) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(testing::TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(gguf.ok()) << gguf.status().message();
  auto tok = CreateTokenizer(**gguf);
  ASSERT_TRUE(tok.ok());
  const auto t0 = std::chrono::steady_clock::now();
  TokenTrie trie(**tok);
  const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  JsonMatcher m(*JsonGrammar::AnyObject());
  std::vector<uint8_t> allowed;
  const std::string doc = R"({"name":"Lily","pets":[{"kind":"dog","age":3}],"happy":true})";
  double total_ms = 0;
  for (char c : doc) {
    const auto t = std::chrono::steady_clock::now();
    ComputeTokenMask(m, trie, (*tok)->eos_id(), allowed, /*budget=*/200);  // as the engine calls it
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
    // Every token spelling exactly the next character is allowed, and EOS is not (the object is open).
    int spelled = 0;  // (some characters only exist inside longer pieces)
    for (int32_t id = 0; id < (*tok)->n_vocab(); ++id)
      if ((*tok)->TokenBytes(id) == std::string(1, c)) {
        EXPECT_TRUE(allowed[static_cast<size_t>(id)]) << c;
        ++spelled;
      }
    EXPECT_FALSE(allowed[static_cast<size_t>((*tok)->eos_id())]);
    EXPECT_TRUE(m.Accept(std::string(1, c)));
  }
  EXPECT_TRUE(m.IsComplete());
  std::printf("trie build %.1f ms; mask %.3f ms per step over %zu steps (32000-token vocabulary)\n", build_ms,
              total_ms / static_cast<double>(doc.size()), doc.size());
}

}  // namespace
}  // namespace strata::json_grammar_test

namespace strata::json_grammar_test {
namespace {

// With a token budget the mask steers the output to close in time: walks that never choose EOS still end
// complete and valid when their budget runs out.
TEST(TokenMask, BudgetClosesTheDocumentInTime) {
  const char* schemas[] = {
      R"({"type":"object","properties":{"name":{"type":"string","minLength":2},"tags":{"type":"array","items":{"type":"string"},"minItems":2},"n":{"type":"number"}},"required":["name","tags","n"]})",
      R"({"type":"object"})",
      R"({"type":"array","items":{"type":"object","properties":{"a":{"type":"array","items":{"type":"integer"}}},"required":["a"]}})"};
  TokenTrie trie(kVocab);
  std::mt19937 rng(5);
  for (int walk = 0; walk < 120; ++walk) {
    const char* text_schema = schemas[walk % 3];
    JsonMatcher m(walk % 3 == 1 ? *JsonGrammar::AnyObject() : Schema(text_schema));
    const int64_t budget = 34 + walk % 40;  // the first schema's shortest document is 34 bytes
    std::string text;
    std::vector<uint8_t> allowed;
    for (int64_t left = budget; left > 0; --left) {
      ComputeTokenMask(m, trie, 0, allowed, left);
      std::vector<int32_t> choices;
      for (size_t i = 1; i < allowed.size(); ++i)
        if (allowed[i]) choices.push_back(static_cast<int32_t>(i));
      if (choices.empty()) break;  // only EOS left: the document is complete
      const int32_t t = choices[rng() % choices.size()];
      ASSERT_TRUE(m.Accept(kVocab[static_cast<size_t>(t)]));
      text += kVocab[static_cast<size_t>(t)];
    }
    ASSERT_TRUE(m.IsComplete()) << "budget " << budget << ": " << text;
    const json parsed = json::parse(text, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << text;
    if (walk % 3 != 1) {
      EXPECT_EQ(testing::Validate(parsed, json::parse(text_schema)), "") << text;
    }
  }
}

}  // namespace
}  // namespace strata::json_grammar_test
