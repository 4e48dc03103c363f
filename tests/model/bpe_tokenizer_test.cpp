// The BPE tokenizer's rules on hand-built vocabularies (merge order, ignore_merges, byte fallback, unk,
// added-token matching, split behaviours, decoding), streaming of partial UTF-8 tokens, and the errors for
// crafted GGUF vocabularies and tokenizer.json files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "long_texts.h"
#include "model/gguf.h"
#include "model/gguf_writer.h"
#include "model/hf_tokenizer.h"
#include "model/pretokenizer.h"
#include "model/tokenizer.h"
#include "testdata.h"

namespace strata {
namespace {

using nlohmann::json;
using ::strata::testing::TestDataPath;

// A tokenizer.json with a BPE model over `vocab` (ids in order) and `merges`, no pre-tokenizer and a Fuse
// decoder unless the test replaces them.
json MiniTokenizer(const std::vector<std::string>& vocab, const std::vector<std::string>& merges) {
  json v = json::object();
  for (size_t i = 0; i < vocab.size(); ++i) v[vocab[i]] = i;
  return {{"model", {{"type", "BPE"}, {"vocab", v}, {"merges", merges}}},
          {"added_tokens", json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"decoder", {{"type", "Fuse"}}}};
}

std::unique_ptr<Tokenizer> Parse(const json& tok, const json& config = json::object()) {
  auto t = ParseHfTokenizer("mini", tok.dump(), config.dump());
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

Status ParseError(const json& tok) {
  auto t = ParseHfTokenizer("mini", tok.dump(), "");
  return t.ok() ? Status::Ok() : t.status();
}

using Ids = std::vector<int32_t>;

TEST(BpeTokenizerTest, MergesLowestRankFirstAndLeftmostOnTies) {
  // "aaa": the pair (a,a) occurs at 0 and 1; the leftmost merges, leaving "aa" "a".
  auto tok = Parse(MiniTokenizer({"a", "b", "aa", "ab", "aab"}, {"a a", "a b", "aa b"}));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("aaa", false), (Ids{2, 0}));
  // "aab": (a,a) rank 0 beats (a,b) rank 1, then (aa,b) gives one token.
  EXPECT_EQ(tok->Encode("aab", false), (Ids{4}));
  // "ab" alone: rank 1.
  EXPECT_EQ(tok->Encode("ab", false), (Ids{3}));
}

TEST(BpeTokenizerTest, IgnoreMergesTakesAWholeWordThatIsAToken) {
  // "abc" is a token but no merge chain reaches it: BPE gives "ab" "c"; with ignore_merges the whole word.
  json j = MiniTokenizer({"a", "b", "c", "ab", "abc"}, {"a b"});
  auto plain = Parse(j);
  j["model"]["ignore_merges"] = true;
  auto ignoring = Parse(j);
  ASSERT_TRUE(plain && ignoring);
  EXPECT_EQ(plain->Encode("abc", false), (Ids{3, 2}));
  EXPECT_EQ(ignoring->Encode("abc", false), (Ids{4}));
}

TEST(BpeTokenizerTest, ByteFallbackThenUnknownFused) {
  std::vector<std::string> vocab = {"<unk>", "a"};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab.push_back(name);
  }
  json j = MiniTokenizer(vocab, {});
  j["model"]["unk_token"] = "<unk>";
  j["model"]["byte_fallback"] = true;
  j["decoder"] = {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
  auto tok = Parse(j);
  ASSERT_TRUE(tok);
  const Ids ids = tok->Encode("a\xC3\xA9", false);  // "aé": é has no token -> <0xC3> <0xA9>
  EXPECT_EQ(ids, (Ids{1, 2 + 0xC3, 2 + 0xA9}));
  EXPECT_EQ(tok->Decode(ids), "a\xC3\xA9");
  EXPECT_EQ(tok->Decode({2 + 0xC3, 1}), "\xEF\xBF\xBD" "a");  // a lone lead byte decodes to U+FFFD

  json no_bytes = MiniTokenizer({"<unk>", "a"}, {});
  no_bytes["model"]["unk_token"] = "<unk>";
  no_bytes["model"]["fuse_unk"] = true;
  auto fused = Parse(no_bytes);
  ASSERT_TRUE(fused);
  EXPECT_EQ(fused->Encode("a\xC3\xA9\xC3\xA9" "a", false), (Ids{1, 0, 1}));
}

TEST(BpeTokenizerTest, AddedTokensMatchLeftmostLongestBeforePreTokenization) {
  json j = MiniTokenizer({"<", ">", "a", "b", " ", "<a>", "<ab>"}, {});
  j["added_tokens"] = {{{"id", 5}, {"content", "<a>"}, {"special", true}},
                       {{"id", 6}, {"content", "<ab>"}, {"special", false}},
                       {{"id", 7}, {"content", "b>"}, {"special", false}, {"lstrip", true}}};
  // A whitespace split would cut "<a>" apart if it ran first.
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Isolated"}};
  auto tok = Parse(j);
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("<ab>", false), (Ids{6}));          // longest at the leftmost position
  EXPECT_EQ(tok->Encode("<a>b", false), (Ids{5, 3}));
  EXPECT_EQ(tok->Encode("a  b>", false), (Ids{2, 7}));      // lstrip takes the spaces before it
  EXPECT_EQ(tok->Decode({5, 6}), "<a><ab>");
  EXPECT_EQ(tok->TokenBytes(5), "");  // special: nothing in a streamed output
  EXPECT_EQ(tok->TokenBytes(6), "<ab>");
}

TEST(BpeTokenizerTest, SentencePieceStyleNormalizerAndDecoder) {
  // The Llama-2 / Mistral tokenizer.json shape: "▁" prepended and for every space, byte fallback, and the
  // decoder's Strip removing the prepended space again.
  const std::string sp = "\u2581";  // ▁
  json j = MiniTokenizer({sp, "a", "b", sp + "a", sp + "b"}, {sp + " a", sp + " b"});
  j["normalizer"] = {{"type", "Sequence"},
                     {"normalizers",
                      {{{"type", "Prepend"}, {"prepend", sp}},
                       {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", sp}}}}};
  j["decoder"] = {{"type", "Sequence"},
                  {"decoders",
                   {{{"type", "Replace"}, {"pattern", {{"String", sp}}}, {"content", " "}},
                    {{"type", "ByteFallback"}},
                    {{"type", "Fuse"}},
                    {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}};
  auto tok = Parse(j);
  ASSERT_TRUE(tok);
  const Ids ids = tok->Encode("a b", false);
  EXPECT_EQ(ids, (Ids{3, 4}));
  EXPECT_EQ(tok->Decode(ids), "a b");
  EXPECT_EQ(tok->TokenBytes(3), " a");  // streaming keeps the space; only whole-text decoding strips it
}

TEST(BpeTokenizerTest, SplitBehaviours) {
  struct Case {
    const char* behavior;
    bool invert;
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"Isolated", false, {"a", "-", "-", "b"}},
      {"Removed", false, {"a", "b"}},
      {"MergedWithPrevious", false, {"a-", "-", "b"}},
      {"MergedWithNext", false, {"a", "-", "-b"}},
      {"Contiguous", false, {"a", "--", "b"}},
      {"Removed", true, {"-", "-"}},
  };
  for (const Case& c : cases) {
    SplitBehavior b = SplitBehavior::kIsolated;
    const std::string name = c.behavior;
    if (name == "Removed") b = SplitBehavior::kRemoved;
    if (name == "MergedWithPrevious") b = SplitBehavior::kMergedWithPrevious;
    if (name == "MergedWithNext") b = SplitBehavior::kMergedWithNext;
    if (name == "Contiguous") b = SplitBehavior::kContiguous;
    auto step = SplitStep("-", false, b, c.invert);
    ASSERT_TRUE(step.ok()) << step.status().ToString();
    EXPECT_EQ(PreTokenize({*step}, "a--b"), c.want) << name << (c.invert ? " inverted" : "");
  }
}

TEST(BpeTokenizerTest, ByteLevelRoundTripsEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  auto step = ByteLevelStep(false, false);
  ASSERT_TRUE(step.ok());
  const auto words = PreTokenize({*step}, all);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(words[0].substr(0, 4), "\xC4\x80\xC4\x81");  // 0x00 -> U+0100, 0x01 -> U+0101
  EXPECT_NE(words[0].find("\xC4\xA0"), std::string::npos);  // the space is Ġ
}

TEST(BpeTokenizerTest, StreamsAMultiTokenEmojiWhole) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(TestDataPath("tokenizer-hf/llama3/vocab.gguf"));
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto tok = CreateTokenizer(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string text = "hi \xF0\x9F\xA6\x80\xF0\x9F\xA7\x9F done";  // 🦀🧟: several byte-level tokens each
  const Ids ids = (*tok)->Encode(text, false);
  Utf8StreamDecoder stream;
  std::string streamed;
  int partial = 0;
  for (int32_t id : ids) {
    const std::string bytes = (*tok)->TokenBytes(id);
    if (Utf8CharLength(bytes) == 0 && !bytes.empty()) ++partial;  // a token that is not whole characters
    const std::string chunk = stream.Push(bytes);
    for (size_t i = 0; i < chunk.size();) {
      const size_t n = Utf8CharLength(std::string_view(chunk).substr(i));
      ASSERT_GT(n, 0u) << "a streamed chunk splits a character";
      i += n;
    }
    streamed += chunk;
  }
  streamed += stream.Flush();
  EXPECT_GE(partial, 2) << "the emoji should span tokens that are partial UTF-8";
  EXPECT_EQ(streamed, text);
  EXPECT_EQ((*tok)->Decode(ids), text);
}

TEST(BpeTokenizerTest, LongRunsAndTextsRoundTrip) {
  // Runs that one regex alternative matches whole (100 KB of spaces is one pre-token), and long mixed text:
  // nothing is lost or split wrongly on the way (Decode gives the text back) and merging stays fast.
  STRATA_REQUIRE_TESTDATA();
  for (const char* model : {"llama3", "qwen3", "deepseek_v3", "gpt2"}) {
    auto gguf = GgufFile::Open(TestDataPath(std::string("tokenizer-hf/") + model + "/vocab.gguf"));
    ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
    auto tok = CreateTokenizer(**gguf);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    for (const std::string& text :
         {std::string(100000, ' '), std::string(100000, 'a'), std::string(100000, '\n'), std::string(100000, '!'),
          std::string(100000, '7'), std::string(50000, ' ') + "x", ::strata::testing::LongMixedText()}) {
      const Ids ids = (*tok)->Encode(text, false);
      EXPECT_FALSE(ids.empty());
      EXPECT_EQ((*tok)->Decode(ids), text) << model << ": a run of " << text.size() << " bytes starting "
                                            << nlohmann::json(text.substr(0, 8)).dump();
    }
  }
}

TEST(BpeTokenizerTest, RefusesUnknownComponentsByName) {
  const json base = MiniTokenizer({"a", "b", "ab"}, {"a b"});
  struct Case {
    const char* field;
    json value;
    const char* says;
  };
  const Case cases[] = {
      {"normalizer", {{"type", "Lowercase"}}, "Lowercase"},
      {"pre_tokenizer", {{"type", "Whitespace"}}, "Whitespace"},
      {"decoder", {{"type", "Metaspace"}, {"replacement", "_"}}, "Metaspace"},
      {"post_processor", {{"type", "RobertaProcessing"}}, "RobertaProcessing"},
      {"model", {{"type", "WordPiece"}, {"vocab", json::object()}}, "WordPiece"},
  };
  for (const Case& c : cases) {
    json j = base;
    j[c.field] = c.value;
    const Status st = ParseError(j);
    EXPECT_EQ(st.code(), Status::Code::kUnsupported) << c.field << ": " << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.ToString();
  }
}

TEST(BpeTokenizerTest, RejectsBrokenTokenizerJson) {
  struct Case {
    json tok;
    const char* says;
  };
  json unknown_merge = MiniTokenizer({"a", "b", "ab"}, {"a c"});
  json no_result = MiniTokenizer({"a", "b"}, {"a b"});
  json bad_merge = MiniTokenizer({"a", "b", "ab"}, {"ab"});
  json gap = MiniTokenizer({"a", "b"}, {});
  gap["model"]["vocab"]["b"] = 5;
  json empty_strip = MiniTokenizer({"a"}, {});  // would strip nothing forever
  empty_strip["decoder"] = {{"type", "Strip"}, {"content", ""}, {"start", 1000000000000}, {"stop", 0}};
  json empty_replace = MiniTokenizer({"a"}, {});
  empty_replace["decoder"] = {{"type", "Replace"}, {"pattern", {{"String", ""}}}, {"content", ""}};
  const Case cases[] = {{unknown_merge, "right part"}, {no_result, "result"},       {bad_merge, "two tokens"},
                        {gap, "id 5"},                 {empty_strip, "Strip"},        {empty_replace, "Replace"}};
  for (const Case& c : cases) {
    const Status st = ParseError(c.tok);
    EXPECT_EQ(st.code(), Status::Code::kCorrupt) << st.ToString();
    EXPECT_NE(st.message().find(c.says), std::string::npos) << st.ToString();
  }
  auto t = ParseHfTokenizer("mini", "{\"model\": ", "");
  EXPECT_EQ(t.status().code(), Status::Code::kCorrupt);
}

// A vocab-only GGUF with a byte-level vocabulary, written by the GGUF writer.
struct MiniGguf {
  std::vector<std::string> tokens = {"a", "b", "ab", "<|end|>"};
  std::vector<int64_t> types = {1, 1, 1, 3};
  std::vector<std::string> merges = {"a b"};
  std::string pre = "gpt-2";
};

GgufValue StringArray(const std::vector<std::string>& items) {
  GgufArray a{GgufType::kString, {}};
  for (const std::string& s : items) a.items.push_back({GgufType::kString, s});
  return {GgufType::kArray, a};
}

Result<std::unique_ptr<Tokenizer>> Load(const MiniGguf& m, const std::string& name) {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddString("tokenizer.ggml.pre", m.pre);
  w.AddKv("tokenizer.ggml.tokens", StringArray(m.tokens));
  GgufArray types{GgufType::kI32, {}};
  for (int64_t t : m.types) types.items.push_back({GgufType::kI32, t});
  w.AddKv("tokenizer.ggml.token_type", {GgufType::kArray, types});
  w.AddKv("tokenizer.ggml.merges", StringArray(m.merges));
  const std::string path = ::strata::testing::ScratchDir() + "/" + name;
  if (Status st = w.WriteHeader(path); !st.ok()) return st;
  if (Status st = w.Finish(); !st.ok()) return st;
  STRATA_ASSIGN_OR_RETURN(auto gguf, GgufFile::Open(path));
  return CreateTokenizer(*gguf);
}

TEST(BpeTokenizerTest, GgufVocabularyLoadsAndBadOnesAreClearErrors) {
  auto good = Load(MiniGguf{}, "good.gguf");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ((*good)->Encode("ab<|end|>", false), (Ids{2, 3}));

  struct Case {
    const char* name;
    MiniGguf m;
    Status::Code code;
    const char* says;
  };
  std::vector<Case> cases;
  cases.push_back({"unknown-merge.gguf", {}, Status::Code::kCorrupt, "'a' 'c'"});
  cases.back().m.merges = {"a c"};
  cases.push_back({"duplicate.gguf", {}, Status::Code::kCorrupt, "appears twice"});
  cases.back().m.tokens = {"a", "b", "ab", "a"};
  cases.push_back({"short-types.gguf", {}, Status::Code::kCorrupt, "tokenizer.ggml.token_type"});
  cases.back().m.types = {1, 1, 1};
  cases.push_back({"pre.gguf", {}, Status::Code::kUnsupported, "'smaug-xl'"});
  cases.back().m.pre = "smaug-xl";
  for (const Case& c : cases) {
    auto tok = Load(c.m, c.name);
    ASSERT_FALSE(tok.ok()) << c.name;
    EXPECT_EQ(tok.status().code(), c.code) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(c.says), std::string::npos) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(c.name), std::string::npos) << "names the file: " << tok.status().ToString();
  }
}

}  // namespace
}  // namespace strata
