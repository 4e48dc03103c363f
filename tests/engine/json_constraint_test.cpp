// Constrained decoding for structured output, feature by feature: the matcher accepts exactly the documents
// (and their prefixes) of each supported schema keyword, bad schemas are errors and never exceptions, and
// random walks through the token mask over fake and real vocabularies end in JSON that parses and validates
// against a validator written here, independently of the grammar.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>

#include "engine/json_grammar.h"
#include "engine/json_matcher.h"
#include "engine/token_mask.h"
#include "model/gguf.h"
#include "testdata.h"

namespace strata {
namespace {

using ojson = nlohmann::ordered_json;

std::shared_ptr<const JsonGrammar> Schema(const std::string& text) {
  auto g = JsonGrammar::FromSchema(ojson::parse(text));
  EXPECT_TRUE(g.ok()) << text << ": " << g.status().message();
  return g.ok() ? *g : *JsonGrammar::AnyObject();
}
bool Complete(const std::shared_ptr<const JsonGrammar>& g, const std::string& text) {
  JsonMatcher m(g);
  return m.Accept(text) && m.IsComplete();
}
bool Prefix(const std::shared_ptr<const JsonGrammar>& g, const std::string& text) { return JsonMatcher(g).Accept(text); }

// ---- A validator for the supported subset, independent of the grammar ---------------------------------------

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Check(const ojson& v, const ojson& s, const ojson& root, const std::string& at);

std::string CheckType(const ojson& v, const std::string& type, const ojson& s, const ojson& root, const std::string& at) {
  if (type == "null") return v.is_null() ? "" : at + ": not null";
  if (type == "boolean") return v.is_boolean() ? "" : at + ": not a boolean";
  if (type == "integer" || type == "number") {
    if (type == "integer" ? !v.is_number_integer() : !v.is_number()) return at + ": not an " + type;
    if (s.contains("minimum") && s["minimum"].get<double>() >= 0 && v.get<double>() < 0) return at + ": negative";
    return "";
  }
  if (type == "string") {
    if (!v.is_string()) return at + ": not a string";
    const size_t n = CodePoints(v.get<std::string>());
    if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return at + ": too short";
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return at + ": too long";
    return "";
  }
  if (type == "array") {
    if (!v.is_array()) return at + ": not an array";
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return at + ": too few items";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return at + ": too many items";
    for (size_t i = 0; i < v.size(); ++i)
      if (auto e = Check(v[i], s.value("items", ojson(true)), root, at + "[" + std::to_string(i) + "]"); !e.empty())
        return e;
    return "";
  }
  if (type == "object") {
    if (!v.is_object()) return at + ": not an object";
    for (const ojson& r : s.value("required", ojson::array()))
      if (!v.contains(r.get<std::string>())) return at + ": missing " + r.get<std::string>();
    const ojson props = s.value("properties", ojson::object());
    const ojson extra = s.value("additionalProperties", ojson(true));
    for (const auto& [k, sub] : v.items()) {
      const ojson& ks = props.contains(k) ? props[k] : extra;
      if (auto e = Check(sub, ks, root, at + "." + k); !e.empty()) return e;
    }
    return "";
  }
  return at + ": type " + type + " unknown to the validator";
}

std::string Check(const ojson& v, const ojson& s, const ojson& root, const std::string& at) {
  if (s.is_boolean()) return s.get<bool>() ? "" : at + ": schema false";
  if (s.contains("$ref")) {
    const std::string r = s["$ref"];
    if (r == "#") return Check(v, root, root, at);
    const size_t slash = r.rfind('/');
    const std::string section = r.substr(2, slash - 2);
    return Check(v, root[section][r.substr(slash + 1)], root, at);
  }
  if (s.contains("enum")) {
    for (const ojson& e : s["enum"])
      if (e == v) return "";
    return at + ": not in enum";
  }
  if (s.contains("const")) return s["const"] == v ? "" : at + ": not the const";
  for (const char* k : {"anyOf", "oneOf"})
    if (s.contains(k)) {
      for (const ojson& alt : s[k])
        if (Check(v, alt, root, at).empty()) return "";
      return at + ": matches no alternative";
    }
  if (!s.contains("type")) return s.contains("properties") ? CheckType(v, "object", s, root, at) : "";
  if (s["type"].is_array()) {
    for (const ojson& t : s["type"])
      if (CheckType(v, t, s, root, at).empty()) return "";
    return at + ": matches none of the types";
  }
  return CheckType(v, s["type"], s, root, at);
}

std::string Validate(const ojson& v, const ojson& schema) { return Check(v, schema, schema, "$"); }

// ---- The matcher, keyword by keyword -------------------------------------------------------------------------

TEST(JsonConstraint, StringEscapesAndUnicode) {
  auto g = Schema(R"({"type":"string"})");
  for (const char* ok : {R"("")", R"("a\"b")", R"("\\")", R"("\n\t\r\b\f\/")", R"("\u00e9\u20AC\u0000")",
                         "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"", R"("\ud7ff\ue000")"})
    EXPECT_TRUE(Complete(g, ok)) << ok;
  for (const char* bad : {R"("\x")", R"("\u00g0")", R"("\ud800")", R"("\udc00")", "\"a\nb\"", "\"\x7f\x01\"",
                          "\"\xC0\xAF\"", "\"\xE0\x80\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xFF\"", R"('a')"})
    EXPECT_FALSE(Complete(g, bad)) << bad;
  EXPECT_TRUE(Prefix(g, "\"\xE2\x82"));  // a character split across tokens
  EXPECT_FALSE(Complete(g, "\"\xE2\x82"));
}

TEST(JsonConstraint, StringLengthsCountCharacters) {
  auto g = Schema(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_TRUE(Complete(g, R"("ab")"));
  EXPECT_TRUE(Complete(g, "\"\xC3\xA9\xC3\xA9\xC3\xA9\""));  // 3 characters, 6 bytes
  EXPECT_TRUE(Complete(g, R"("\n\u00e9x")"));
  EXPECT_FALSE(Complete(g, R"("a")"));
  EXPECT_FALSE(Prefix(g, R"("abcd)"));
  EXPECT_FALSE(Complete(g, R"("\n\n\n\n")"));
}

TEST(JsonConstraint, EnumsAndConstsOfAnyScalar) {
  auto g = Schema(R"({"enum":["a","ab",1,1.5,true,null,{"k":[1]}]})");
  for (const char* ok : {R"("a")", R"("ab")", "1", "1.5", "true", "null", R"({"k":[1]})"})
    EXPECT_TRUE(Complete(g, ok)) << ok;
  for (const char* bad : {R"("b")", "2", "15", "false", R"({"k":[2]})"}) EXPECT_FALSE(Complete(g, bad)) << bad;
  EXPECT_TRUE(Complete(Schema(R"({"const":"x\"y"})"), R"("x\"y")"));
  EXPECT_FALSE(Complete(Schema(R"({"const":"x"})"), R"("y")"));
}

TEST(JsonConstraint, NumbersAndIntegers) {
  auto num = Schema(R"({"type":"number"})");
  for (const char* ok : {"0", "-0", "12", "-1.25", "3e5", "1E+2", "6.02e-23", "123456789012345"})
    EXPECT_TRUE(Complete(num, ok)) << ok;
  for (const char* bad : {"01", "+1", ".5", "1.", "-", "1e", "1e+", "NaN", "1e100", "1234567890123456"})
    EXPECT_FALSE(Complete(num, bad)) << bad;
  auto integer = Schema(R"({"type":"integer"})");
  EXPECT_TRUE(Complete(integer, "-42"));
  EXPECT_FALSE(Complete(integer, "4.2"));
  EXPECT_FALSE(Complete(integer, "4e2"));
  EXPECT_FALSE(Complete(Schema(R"({"type":"number","minimum":0})"), "-1"));
}

TEST(JsonConstraint, ObjectsRequiredOptionalAndAdditional) {
  auto g = Schema(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},
                      "c":{"type":"null"}},"required":["c"],"additionalProperties":false})");
  EXPECT_TRUE(Complete(g, R"({"c":null})"));
  EXPECT_TRUE(Complete(g, R"({"a":1,"c":null})"));
  EXPECT_TRUE(Complete(g, R"({"a":1,"b":true,"c":null})"));
  EXPECT_FALSE(Complete(g, R"({})"));
  EXPECT_FALSE(Complete(g, R"({"b":true,"a":1,"c":null})"));
  EXPECT_FALSE(Complete(g, R"({"c":null,"d":1})"));
  EXPECT_TRUE(Complete(Schema(R"({"type":"object","additionalProperties":false})"), "{}"));
  EXPECT_FALSE(Prefix(Schema(R"({"type":"object","additionalProperties":false})"), R"({")"));
  auto typed = Schema(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(Complete(typed, R"({"x":1,"y":2})"));
  EXPECT_FALSE(Complete(typed, R"({"x":"1"})"));
  // A required key with no schema of its own is written with the additionalProperties schema.
  auto req = Schema(R"({"type":"object","required":["id"],"additionalProperties":{"type":"string"}})");
  EXPECT_TRUE(Complete(req, R"({"id":"x"})"));
  EXPECT_FALSE(Complete(req, R"({})"));
}

TEST(JsonConstraint, ArraysTypeListsAnyOfAndRefs) {
  auto arr = Schema(R"({"type":"array","items":{"type":["string","null"]},"minItems":1,"maxItems":2})");
  EXPECT_TRUE(Complete(arr, R"(["a",null])"));
  EXPECT_FALSE(Complete(arr, "[]"));
  EXPECT_FALSE(Prefix(arr, R"([null,null,)"));
  auto any = Schema(R"({"oneOf":[{"type":"integer"},{"type":"object","properties":{"x":{"type":"string"}},"required":["x"]}]})");
  EXPECT_TRUE(Complete(any, "7"));
  EXPECT_TRUE(Complete(any, R"({"x":"y"})"));
  EXPECT_FALSE(Complete(any, R"("7")"));
  auto tree = Schema(R"({"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array",
                        "items":{"$ref":"#"}}},"required":["v"]})");
  EXPECT_TRUE(Complete(tree, R"({"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4,"kids":[]}]}]})"));
  EXPECT_FALSE(Complete(tree, R"({"v":1,"kids":[{"w":2}]})"));
  auto defs = Schema(R"({"definitions":{"a/b":{"type":"boolean"}},"$ref":"#/definitions/a~1b"})");
  EXPECT_TRUE(Complete(defs, "false"));
}

TEST(JsonConstraint, AtMostOneSpaceBetweenTokens) {
  auto g = *JsonGrammar::AnyObject();
  EXPECT_TRUE(Complete(g, R"({ "a": 1, "b" : [ 1 , 2 ] })"));
  EXPECT_FALSE(Prefix(g, " {"));  // the document starts with its value
  EXPECT_FALSE(Prefix(g, R"({  )"));
  EXPECT_FALSE(Prefix(g, R"({"a":  )"));
  EXPECT_FALSE(Prefix(g, "{\n"));
  EXPECT_FALSE(Prefix(g, "{}\n"));
  EXPECT_FALSE(Prefix(g, "{\"a\":1\t"));
}

TEST(JsonConstraint, NestingIsLimitedButScalarsStayOpen) {
  auto g = *JsonGrammar::AnyObject();
  JsonMatcher m(g);
  std::string open;
  while (m.Accept("{\"k\":")) open += "{\"k\":";
  EXPECT_LT(open.size() / 5, 40u);
  EXPECT_FALSE(m.Accept("{"));
  EXPECT_TRUE(m.Accept("1"));  // the deepest value can still be a scalar, so the object can be closed
}

TEST(JsonConstraint, MatcherRejectsWithoutChangingState) {
  auto g = Schema(R"({"type":"object","properties":{"ab":{"type":"integer"},"ac":{"type":"integer"}}})");
  JsonMatcher m(g);
  ASSERT_TRUE(m.Accept(R"({"a)"));
  EXPECT_FALSE(m.Accept(R"(d")"));
  EXPECT_TRUE(m.Accept(R"(c":1})"));
  EXPECT_TRUE(m.IsComplete());
  EXPECT_TRUE(m.IsDead());
}

TEST(JsonConstraint, BadSchemasAreErrorsNotExceptions) {
  struct Case {
    const char* schema;
    Status::Code code;
  };
  const Case cases[] = {
      {R"({"type":"string","pattern":"^a$"})", Status::Code::kUnsupported},
      {R"({"type":"integer","multipleOf":3})", Status::Code::kUnsupported},
      {R"({"allOf":[{"type":"string"}]})", Status::Code::kUnsupported},
      {R"({"type":"tuple"})", Status::Code::kUnsupported},
      {R"({"$ref":"https://example.com/s.json"})", Status::Code::kUnsupported},
      {R"({"type":"string","maxLength":"3"})", Status::Code::kInvalidArgument},
      {R"({"type":"string","minLength":-1})", Status::Code::kInvalidArgument},
      {R"({"type":"string","minLength":3,"maxLength":2})", Status::Code::kInvalidArgument},
      {R"({"type":"array","minItems":1.5})", Status::Code::kInvalidArgument},
      {R"({"type":"object","properties":[]})", Status::Code::kInvalidArgument},
      {R"({"type":"object","required":"a"})", Status::Code::kInvalidArgument},
      {R"({"type":"object","required":["a"],"additionalProperties":false})", Status::Code::kInvalidArgument},
      {R"({"enum":[]})", Status::Code::kInvalidArgument},
      {R"({"anyOf":{}})", Status::Code::kInvalidArgument},
      {R"({"type":7})", Status::Code::kInvalidArgument},
      {R"({"$ref":5})", Status::Code::kInvalidArgument},
      {R"(42)", Status::Code::kInvalidArgument},
  };
  for (const Case& c : cases) {
    Result<std::shared_ptr<const JsonGrammar>> g = Status::Internal("not run");
    ASSERT_NO_THROW(g = JsonGrammar::FromSchema(ojson::parse(c.schema))) << c.schema;
    ASSERT_FALSE(g.ok()) << c.schema;
    EXPECT_EQ(g.status().code(), c.code) << c.schema << ": " << g.status().message();
    EXPECT_FALSE(g.status().message().empty());
  }
  auto g = JsonGrammar::FromSchema(ojson::parse(R"({"type":"string","pattern":"^a$"})"));
  EXPECT_NE(g.status().message().find("pattern"), std::string::npos);
  // A reference cycle that never reaches a value has no finite document: an error, not a 200 with non-JSON.
  auto cyc = JsonGrammar::FromSchema(ojson::parse(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})"));
  ASSERT_FALSE(cyc.ok());
  EXPECT_NE(cyc.status().message().find("no finite document"), std::string::npos) << cyc.status().message();
}

TEST(JsonConstraint, SchemasWithNoFiniteDocumentAreErrors) {
  for (const char* schema : {R"({"$ref":"#"})",
                             R"({"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]})",
                             R"({"type":"array","items":{"$ref":"#"},"minItems":1})",
                             R"({"anyOf":[{"$ref":"#"},{"$ref":"#"}]})"}) {
    auto g = JsonGrammar::FromSchema(ojson::parse(schema));
    ASSERT_FALSE(g.ok()) << schema;
    EXPECT_EQ(g.status().code(), Status::Code::kInvalidArgument) << schema;
  }
}

TEST(JsonConstraint, EndlessAlternativesAndOptionalPartsAreDropped) {
  // Optional recursion is fine ({} ends it); an endless anyOf branch or optional key is never started.
  EXPECT_TRUE(Complete(Schema(R"({"type":"object","properties":{"a":{"$ref":"#"}}})"), R"({"a":{"a":{}}})"));
  const char* defs = R"({"$defs":{"loop":{"type":"object","properties":{"x":{"$ref":"#/$defs/loop"}},"required":["x"]}},)"
                     R"("type":"object","properties":{"a":{"anyOf":[{"$ref":"#/$defs/loop"},{"type":"integer"}]},)"
                     R"("b":{"$ref":"#/$defs/loop"},"c":{"type":"array","items":{"$ref":"#/$defs/loop"}}},"required":["a"]})";
  auto g = Schema(defs);
  EXPECT_TRUE(Complete(g, R"({"a":1,"c":[]})"));
  EXPECT_FALSE(Prefix(g, R"({"a":{)"));
  EXPECT_FALSE(Prefix(g, R"({"a":1,"b")"));
  EXPECT_FALSE(Prefix(g, R"({"a":1,"c":[{)"));
  EXPECT_EQ(g->min_len(g->root()), static_cast<int64_t>(std::string(R"({"a":0})").size()));
}

// ---- The token mask ------------------------------------------------------------------------------------------

// Token 0 is EOS, token 1 a control token (both no bytes); the rest are multi-byte pieces like a real vocab's.
std::vector<std::string> FakeVocab() {
  std::vector<std::string> v = {"", "", "{", "}", "{\"", "\":", "\":\"", "\",\"", "\"", "\"}", "tr", "ue", "true",
                                "fal", "se", "false", "null", "nu", "ll", "-", ".", "e", "E", "+", "5e", "e-", "0",
                                "00", "10", "23", "456", "[", "]", "[]", "{}", ",", ":", " ", "  ", " \"", ", ",
                                "\\", "\\n", "\\\"", "\\u", "00e9", "d8", "\n", "\t", "red", "green", "blue",
                                "name", "age", "tags", "ok", "kids", "v", "id", "x", "\xC3\xA9", "\xE2\x82",
                                "\xAC", "\xF0\x9F\x98\x80", "\xFF"};
  for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string(1, c));
  for (char c = '0'; c <= '9'; ++c) v.push_back(std::string(1, c));
  return v;
}

TEST(JsonConstraint, MaskAllowsExactlyTheTokensTheMatcherAccepts) {
  const std::vector<std::string> vocab = FakeVocab();
  TokenTrie trie(vocab);
  const char* schemas[] = {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"}},"required":["name"]})",
                           R"({"enum":["red","green",10]})", R"({"type":"array","items":{"type":"number"}})"};
  const char* prefixes[] = {"", "{", "{\"name\":\"a", "{\"name\":\"a\"", "[1", "[1.5e", "\"gr", "1"};
  for (const char* schema : schemas)
    for (const char* prefix : prefixes) {
      JsonMatcher m(Schema(schema));
      if (!m.Accept(prefix)) continue;
      std::vector<uint8_t> allowed;
      ComputeTokenMask(m, trie, 0, allowed);
      ASSERT_EQ(allowed.size(), vocab.size());
      EXPECT_EQ(allowed[0], m.IsComplete() ? 1 : 0) << schema << " after " << prefix;
      EXPECT_EQ(allowed[1], 0);  // a control token never
      for (size_t id = 2; id < vocab.size(); ++id) {
        JsonMatcher copy = m;
        EXPECT_EQ(allowed[id], copy.Accept(vocab[id]) ? 1 : 0) << schema << " after '" << prefix << "' token '" << vocab[id] << "'";
      }
    }
}

// Walks: draw uniformly among allowed tokens, EOS half the time once allowed; returns the text when complete.
std::optional<std::string> RandomWalk(const std::shared_ptr<const JsonGrammar>& g, const TokenTrie& trie,
                                      const std::vector<std::string>& bytes, int32_t eos, std::mt19937& rng,
                                      int max_steps) {
  JsonMatcher m(g);
  std::string text;
  std::vector<uint8_t> allowed;
  std::vector<int32_t> choices;
  for (int step = 0; step < max_steps; ++step) {
    ComputeTokenMask(m, trie, eos, allowed);
    choices.clear();
    for (size_t i = 0; i < allowed.size(); ++i)
      if (allowed[i] && static_cast<int32_t>(i) != eos) choices.push_back(static_cast<int32_t>(i));
    if (allowed[static_cast<size_t>(eos)] && (choices.empty() || rng() % 2)) {
      EXPECT_TRUE(m.IsComplete()) << "EOS offered at a dead end after " << text;
      return text;
    }
    EXPECT_FALSE(choices.empty()) << "no token allowed after " << text;
    if (choices.empty()) return std::nullopt;
    const int32_t t = choices[rng() % choices.size()];
    EXPECT_TRUE(m.Accept(bytes[static_cast<size_t>(t)]));
    text += bytes[static_cast<size_t>(t)];
  }
  return std::nullopt;  // ran out of steps inside a long value
}

const char* kWalkSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":6},"age":{"type":"integer","minimum":0},
        "tags":{"type":"array","items":{"enum":["red","green","blue"]},"maxItems":3}},"required":["name","age"]})",
    R"({"type":"object","properties":{"ok":{"type":"boolean"},"x":{"type":["string","null"],"minLength":1,"maxLength":3},
        "v":{"type":"number"}},"required":["ok","x","v"],"additionalProperties":false})",
    R"({"type":"array","items":{"anyOf":[{"type":"integer"},{"const":"red"},{"type":"null"}]},"minItems":2,"maxItems":4})",
    R"({"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#"},"maxItems":2}},"required":["v"]})",
    R"({"type":"object","properties":{"id":{"$ref":"#/$defs/id"}},"required":["id"],"$defs":{"id":{"type":"string","minLength":2,"maxLength":4}}})",
    R"({"type":"object","additionalProperties":{"type":"integer"}})",
};

TEST(JsonConstraint, RandomWalksOverAFakeVocabularyAlwaysValidate) {
  const std::vector<std::string> vocab = FakeVocab();
  TokenTrie trie(vocab);
  int complete = 0, total = 0;
  for (size_t si = 0; si <= std::size(kWalkSchemas); ++si) {
    const bool any_object = si == std::size(kWalkSchemas);
    const ojson schema = any_object ? ojson::parse(R"({"type":"object"})") : ojson::parse(kWalkSchemas[si]);
    auto g = any_object ? *JsonGrammar::AnyObject() : Schema(kWalkSchemas[si]);
    for (uint32_t seed = 0; seed < 150; ++seed, ++total) {
      std::mt19937 rng(seed * 7919 + static_cast<uint32_t>(si));
      const std::optional<std::string> text = RandomWalk(g, trie, vocab, 0, rng, 300);
      if (!text) continue;
      ++complete;
      const ojson parsed = ojson::parse(*text, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << *text;
      ASSERT_EQ(Validate(parsed, schema), "") << *text << " against " << schema.dump();
    }
  }
  EXPECT_GT(complete, total * 3 / 4);
}

// ---- The real Llama-2 vocabulary (shared test data) ----------------------------------------------------------

double MaskMs(const JsonMatcher& m, const TokenTrie& trie, int32_t eos, std::vector<uint8_t>& allowed, int reps) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) ComputeTokenMask(m, trie, eos, allowed);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / reps;
}

TEST(JsonConstraint, RealLlama2VocabularyWalksAndMaskTimes) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(testing::TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(gguf.ok()) << gguf.status().message();
  auto tok = CreateTokenizer(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  const Tokenizer& t = **tok;
  TokenTrie trie(t);
  std::vector<std::string> bytes(static_cast<size_t>(t.n_vocab()));
  for (int32_t id = 0; id < t.n_vocab(); ++id) bytes[static_cast<size_t>(id)] = t.TokenBytes(id);

  for (size_t si = 0; si < std::size(kWalkSchemas); ++si) {
    const ojson schema = ojson::parse(kWalkSchemas[si]);
    auto g = Schema(kWalkSchemas[si]);
    for (uint32_t seed = 0; seed < 4; ++seed) {
      std::mt19937 rng(seed + 100 * static_cast<uint32_t>(si));
      const std::optional<std::string> text = RandomWalk(g, trie, bytes, t.eos_id(), rng, 200);
      if (!text) continue;
      const ojson parsed = ojson::parse(*text, nullptr, false);
      ASSERT_FALSE(parsed.is_discarded()) << *text;
      ASSERT_EQ(Validate(parsed, schema), "") << *text;
    }
  }

  // Timing (printed, never asserted): the worst case is inside a free string, where most tokens fit.
  std::vector<uint8_t> allowed;
  struct Point {
    const char* what;
    std::shared_ptr<const JsonGrammar> g;
    const char* prefix;
  };
  const Point points[] = {
      {"json_object start", *JsonGrammar::AnyObject(), ""},
      {"json_object inside a key", *JsonGrammar::AnyObject(), "{\"na"},
      {"json_object after ':'", *JsonGrammar::AnyObject(), "{\"name\":"},
      {"json_object inside a string value", *JsonGrammar::AnyObject(), "{\"name\":\"Li"},
      {"json_object inside a number", *JsonGrammar::AnyObject(), "{\"n\":12"},
      {"schema at a key choice", Schema(kWalkSchemas[0]), "{\"name\":\"Bob\","},
      {"schema inside an enum", Schema(kWalkSchemas[0]), "{\"name\":\"Bob\",\"age\":3,\"tags\":[\""},
  };
  double worst = 0;
  for (const Point& p : points) {
    JsonMatcher m(p.g);
    ASSERT_TRUE(m.Accept(p.prefix)) << p.prefix;
    const double ms = MaskMs(m, trie, t.eos_id(), allowed, 20);
    worst = std::max(worst, ms);
    const auto n = std::count(allowed.begin(), allowed.end(), 1);
    std::printf("  mask %-36s %7.3f ms  (%5ld of %d tokens allowed)\n", p.what, ms, static_cast<long>(n), t.n_vocab());
  }
  std::printf("  worst mask time %.3f ms over a %d-token vocabulary\n", worst, t.n_vocab());
}

}  // namespace
}  // namespace strata
