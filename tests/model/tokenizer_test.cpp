// The SentencePiece tokenizer against Python sentencepiece's own outputs (tokenizer/*.json), llama.cpp's
// SentencePiece vectors, hand-built vocabularies for the corner cases, and the streaming UTF-8 decoder.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "llamacpp_vectors.h"
#include "long_texts.h"
#include "model/gguf.h"
#include "model/spm_tokenizer.h"
#include "model/tokenizer.h"
#include "testdata.h"

namespace strata {
namespace {

using ::strata::testing::LongMixedText;
using ::strata::testing::LongSingleWord;
using ::strata::testing::TestDataPath;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::unique_ptr<Tokenizer> LoadTokenizer(const std::string& gguf_path) {
  auto gguf = GgufFile::Open(gguf_path);
  EXPECT_TRUE(gguf.ok()) << gguf.status().ToString();
  if (!gguf.ok()) return nullptr;
  auto tok = CreateTokenizer(**gguf);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  if (!tok.ok()) return nullptr;
  return std::move(tok).value();
}

std::string Escaped(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', true); }

// Every case of a tokenizer/*.json file: Encode (no BOS) gives the recorded ids and Decode gives "decoded".
// Returns the number of cases checked.
int CheckVectors(const std::string& json_file, const std::string& gguf_file) {
  const nlohmann::json doc = nlohmann::json::parse(ReadFile(TestDataPath(json_file)));
  auto tok = LoadTokenizer(TestDataPath(gguf_file));
  if (!tok) return 0;
  int checked = 0;
  for (const auto& c : doc.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> want = c.at("ids").get<std::vector<int32_t>>();
    const std::string decoded = c.at("decoded").get<std::string>();
    EXPECT_EQ(tok->Encode(text, false), want) << json_file << ": text " << Escaped(text);
    EXPECT_EQ(tok->Decode(want), decoded) << json_file << ": ids of " << Escaped(text);
    ++checked;
  }
  return checked;
}

TEST(TokenizerTest, MatchesSentencepieceOnTinyLlamaVectors) {
  STRATA_REQUIRE_TESTDATA();
  const int n = CheckVectors("tokenizer/tiny-llama.json", "models/tiny-llama-f32.gguf");
  EXPECT_EQ(n, 60);
  std::printf("[ checked  ] %d tiny-llama.json cases (encode + decode)\n", n);
}

TEST(TokenizerTest, MatchesSentencepieceOnLlama2Vectors) {
  STRATA_REQUIRE_TESTDATA();
  const int n = CheckVectors("tokenizer/llama2.json", "tokenizer/llama2-vocab.gguf");
  EXPECT_EQ(n, 60);
  std::printf("[ checked  ] %d llama2.json cases (encode + decode)\n", n);
}

// llama.cpp's test strings for its SentencePiece vocabulary (Llama 2). The .gguf published beside them is
// damaged in the mirror (its binary fields went through a text conversion), so the same vocabulary is taken
// from llama2-vocab.gguf.
TEST(TokenizerTest, MatchesLlamaCppSpmVectors) {
  STRATA_REQUIRE_TESTDATA();
  const auto cases = ::strata::testing::ReadLlamaCppVectors(TestDataPath("tokenizer-llamacpp/ggml-vocab-llama-spm.gguf"));
  if (cases.empty()) GTEST_SKIP() << "llama.cpp tokenizer vectors not found";
  ASSERT_EQ(cases.size(), 46u);
  auto tok = LoadTokenizer(TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(tok);
  for (const auto& [text, want] : cases) EXPECT_EQ(tok->Encode(text, false), want) << Escaped(text);
  std::printf("[ checked  ] %zu llama.cpp llama-spm cases (encode)\n", cases.size());
}

TEST(TokenizerTest, EncodePrependsBos) {
  STRATA_REQUIRE_TESTDATA();
  for (const char* file : {"tokenizer/llama2-vocab.gguf", "models/tiny-llama-f32.gguf"}) {
    auto tok = LoadTokenizer(TestDataPath(file));
    ASSERT_TRUE(tok);
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    EXPECT_TRUE(tok->add_bos());
    const auto plain = tok->Encode("Hello world", false);
    auto with_bos = tok->Encode("Hello world", true);
    ASSERT_EQ(with_bos.size(), plain.size() + 1);
    EXPECT_EQ(with_bos[0], 1);
    EXPECT_EQ(std::vector<int32_t>(with_bos.begin() + 1, with_bos.end()), plain);
    EXPECT_EQ(tok->Encode("", true), std::vector<int32_t>{1});
    EXPECT_EQ(tok->Decode(with_bos), "Hello world");  // <s> is a control token: no text
  }
}

TEST(TokenizerTest, PiecesAndTokenBytes) {
  STRATA_REQUIRE_TESTDATA();
  auto tok = LoadTokenizer(TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->n_vocab(), 32000);
  EXPECT_EQ(tok->Piece(1), "<s>");
  EXPECT_EQ(tok->Piece(13), "<0x0A>");
  EXPECT_EQ(tok->Piece(15043), "\xE2\x96\x81Hello");
  EXPECT_EQ(tok->Piece(-1), "");
  EXPECT_EQ(tok->Piece(32000), "");
  EXPECT_EQ(tok->TokenBytes(15043), " Hello");  // no stripping of the leading space
  EXPECT_EQ(tok->TokenBytes(13), "\n");
  EXPECT_EQ(tok->TokenBytes(1), "");
  EXPECT_EQ(tok->TokenBytes(2), "");
  EXPECT_EQ(tok->TokenBytes(0), " \xE2\x81\x87 ");  // <unk>
  EXPECT_EQ(tok->Decode({0}), " \xE2\x81\x87 ");
}

// A generated emoji arrives as byte tokens; streaming TokenBytes through Utf8StreamDecoder yields only whole
// characters and, in the end, the same text Decode gives (plus the dummy-prefix space Decode strips).
TEST(TokenizerTest, StreamsAnEmojiSplitAcrossByteTokens) {
  STRATA_REQUIRE_TESTDATA();
  auto tok = LoadTokenizer(TestDataPath("models/tiny-llama-f32.gguf"));
  ASSERT_TRUE(tok);
  const std::string text = "emoji \xF0\x9F\x98\x80\xF0\x9F\x8E\x89 done";  // 😀🎉
  const auto ids = tok->Encode(text, true);
  int byte_tokens = 0;
  for (int32_t id : ids) byte_tokens += tok->Piece(id).starts_with("<0x") ? 1 : 0;
  ASSERT_GE(byte_tokens, 8) << "the tiny vocabulary should spell these emoji with byte tokens";

  Utf8StreamDecoder stream;
  std::string streamed;
  int held_back = 0;
  for (int32_t id : ids) {
    const std::string chunk = stream.Push(tok->TokenBytes(id));
    if (chunk.empty() && !tok->TokenBytes(id).empty()) ++held_back;
    // Every chunk is whole characters.
    for (size_t i = 0; i < chunk.size();) {
      const size_t n = Utf8CharLength(std::string_view(chunk).substr(i));
      ASSERT_GT(n, 0u) << "chunk splits a character: " << Escaped(chunk);
      i += n;
    }
    streamed += chunk;
  }
  streamed += stream.Flush();
  EXPECT_GE(held_back, 6);  // 3 of each emoji's 4 bytes wait for the rest
  EXPECT_EQ(streamed, " " + text);
  EXPECT_EQ(tok->Decode(ids), text);
}

// Copies the vocab-only GGUF and replaces `from` (the first occurrence) by `to`, same length.
std::string MutatedCopy(const std::string& name, const std::string& from, const std::string& to) {
  EXPECT_EQ(from.size(), to.size());
  std::string bytes = ReadFile(TestDataPath("tokenizer/llama2-vocab.gguf"));
  const size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  const std::string path = ::strata::testing::ScratchDir() + "/" + name;
  WriteFile(path, bytes);
  return path;
}

// The tokenizer.ggml.model key followed by its type (string = 8) and length (5): the bytes of the value.
std::string ModelValue(const std::string& value) {
  std::string s = "tokenizer.ggml.model";
  const uint32_t type = 8;
  const uint64_t len = value.size();
  s.append(reinterpret_cast<const char*>(&type), 4);
  s.append(reinterpret_cast<const char*>(&len), 8);
  return s + value;
}

TEST(TokenizerTest, RejectsUnsupportedOrBrokenVocabMetadata) {
  STRATA_REQUIRE_TESTDATA();
  struct Case {
    const char* name;
    std::string from, to;
    Status::Code code;
    const char* says;
  };
  const Case cases[] = {
      {"gpt9x.gguf", ModelValue("llama"), ModelValue("gpt9x"), Status::Code::kUnsupported, "'gpt9x'"},
      {"bert.gguf", ModelValue("llama"), ModelValue("bert\x20"), Status::Code::kUnsupported, "bert"},
      {"no-model.gguf", "tokenizer.ggml.model", "tokenizer.ggml.mode_", Status::Code::kNotFound,
       "tokenizer.ggml.model"},
      {"no-scores.gguf", "tokenizer.ggml.scores", "tokenizer.ggml.score_", Status::Code::kCorrupt,
       "tokenizer.ggml.scores"},
      {"no-types.gguf", "tokenizer.ggml.token_type", "tokenizer.ggml.token_typ_", Status::Code::kCorrupt,
       "tokenizer.ggml.token_type"},
  };
  for (const Case& c : cases) {
    const std::string path = MutatedCopy(c.name, c.from, c.to);
    auto gguf = GgufFile::Open(path);
    ASSERT_TRUE(gguf.ok()) << c.name << ": " << gguf.status().ToString();
    auto tok = CreateTokenizer(**gguf);
    ASSERT_FALSE(tok.ok()) << c.name;
    EXPECT_EQ(tok.status().code(), c.code) << c.name << ": " << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(c.says), std::string::npos) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(c.name), std::string::npos) << "names the file: " << tok.status().ToString();
    std::filesystem::remove(path);
  }
}

TEST(TokenizerTest, EncodesFiftyKilobytesExactly) {
  // Long inputs, including one 50 KB word (the worst case for merge bookkeeping), round-trip exactly. Their
  // speed is measured by bench/micro/tokenizer_bench.cpp, not asserted here.
  STRATA_REQUIRE_TESTDATA();
  auto tok = LoadTokenizer(TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(tok);
  const std::string text = LongMixedText(), run = LongSingleWord();
  for (const std::string* t : {&text, &run}) {
    const auto ids = tok->Encode(*t, false);
    EXPECT_LT(ids.size(), t->size()) << "merges happened";
    EXPECT_EQ(tok->Decode(ids), *t);
  }
}

// Random valid text (spaces, control bytes, multi-byte characters, look-alikes of special tokens) survives
// Encode -> Decode, and Encode -> TokenBytes -> Utf8StreamDecoder gives it back with the dummy-prefix space.
TEST(TokenizerTest, RoundTripsRandomText) {
  STRATA_REQUIRE_TESTDATA();
  const char* atoms[] = {" ", "  ", "a", "b", "the", "\n", "\t", "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80",
                         "<s>", "</s>", "<unk>", "0", "\x01", "\x7F", "\xEF\xBF\xBD", "<0x41>"};
  const size_t n_atoms = std::size(atoms);
  for (const char* file : {"tokenizer/llama2-vocab.gguf", "models/tiny-llama-f32.gguf"}) {
    auto tok = LoadTokenizer(TestDataPath(file));
    ASSERT_TRUE(tok);
    uint32_t state = 12345;
    auto next = [&state] { return state = state * 1664525u + 1013904223u, state >> 8; };
    for (int it = 0; it < 3000; ++it) {
      std::string text;
      for (uint32_t i = 0, n = next() % 12; i < n; ++i) text += atoms[next() % n_atoms];
      const auto ids = tok->Encode(text, next() % 2 == 0);
      ASSERT_EQ(tok->Decode(ids), text) << file << ": " << Escaped(text);
      Utf8StreamDecoder stream;
      std::string streamed;
      for (int32_t id : ids) streamed += stream.Push(tok->TokenBytes(id));
      streamed += stream.Flush();
      ASSERT_EQ(streamed, text.empty() ? "" : " " + text) << file << ": " << Escaped(text);
    }
  }
}

// ---- hand-built vocabularies: the corner cases the test files don't reach ----

struct VocabBuilder {
  SpmVocab v;
  VocabBuilder() {
    Add("<unk>", 0, TokenType::kUnknown);
    Add("<s>", 0, TokenType::kControl);
    Add("</s>", 0, TokenType::kControl);
    v.unk_id = 0;
    v.bos_id = 1;
    v.eos_id = 2;
  }
  int32_t Add(const std::string& piece, float score, TokenType type = TokenType::kNormal) {
    v.pieces.push_back(piece);
    v.scores.push_back(score);
    v.types.push_back(type);
    return static_cast<int32_t>(v.pieces.size() - 1);
  }
  void AddBytes() {
    char name[8];
    for (int b = 0; b < 256; ++b) {
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      Add(name, 0, TokenType::kByte);
    }
  }
  std::unique_ptr<Tokenizer> Build() {
    auto tok = CreateSpmTokenizer(v);
    EXPECT_TRUE(tok.ok()) << tok.status().ToString();
    return tok.ok() ? std::move(tok).value() : nullptr;
  }
};

const std::string kSp = "\xE2\x96\x81";  // ▁

TEST(TokenizerSpmTest, MergesHighestScoreFirstAndLeftmostOnTies) {
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), a = b.Add("a", -1), x = b.Add("x", -1);
  const int32_t aa = b.Add("aa", -2);
  const int32_t ax = b.Add("ax", -1.5f), xa = b.Add("xa", -3);
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  // "▁aaa": ties between the two "aa" pairs go to the leftmost.
  EXPECT_EQ(tok->Encode("aaa", false), (std::vector<int32_t>{sp, aa, a}));
  // "▁axa": "ax" (-1.5) beats "xa" (-3).
  EXPECT_EQ(tok->Encode("axa", false), (std::vector<int32_t>{sp, ax, a}));
  (void)x;
  (void)xa;
}

TEST(TokenizerSpmTest, UnusedPiecesMergeThenSplitBack) {
  // sentencepiece lets an unused piece take part in merges and splits it back into its parts at the end.
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), a = b.Add("a", -1), bb = b.Add("b", -1), c = b.Add("c", -1);
  b.Add("ab", -2, TokenType::kUnused);
  const int32_t abc = b.Add("abc", -3);
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("abc", false), (std::vector<int32_t>{sp, abc}));
  EXPECT_EQ(tok->Encode("ab", false), (std::vector<int32_t>{sp, a, bb}));
  (void)c;
}

TEST(TokenizerSpmTest, UnknownWithoutByteFallbackMergesRuns) {
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), a = b.Add("a", -1);
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  // "▁a" + three characters with no piece -> one <unk> for the run, as sentencepiece does.
  EXPECT_EQ(tok->Encode("a\xC3\xA9\xC3\xA8z a", false), (std::vector<int32_t>{sp, a, 0, sp, a}));
  EXPECT_EQ(tok->Decode({sp, a, 0, sp, a}), "a \xE2\x81\x87  a");
}

TEST(TokenizerSpmTest, ByteFallbackAndControlPiecesAreNoMergeTargets) {
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), lt = b.Add("<", -1), s = b.Add("s", -1), gt = b.Add(">", -1);
  b.AddBytes();
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  // "<s>" in text is not the control token.
  EXPECT_EQ(tok->Encode("<s>", false), (std::vector<int32_t>{sp, lt, s, gt}));
  // "é" has no piece: its two UTF-8 bytes become <0xC3> <0xA9>.
  const auto ids = tok->Encode("\xC3\xA9", false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(tok->Piece(ids[1]), "<0xC3>");
  EXPECT_EQ(tok->Piece(ids[2]), "<0xA9>");
  EXPECT_EQ(tok->Decode(ids), "\xC3\xA9");
}

TEST(TokenizerSpmTest, UserDefinedPiecesStayWhole) {
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), a = b.Add("a", -1);
  const int32_t tag = b.Add("<tag>", 0, TokenType::kUserDefined);
  b.AddBytes();
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  EXPECT_EQ(tok->Encode("a<tag>a", false), (std::vector<int32_t>{sp, a, tag, a}));
}

TEST(TokenizerSpmTest, DecodeFollowsSentencepiece) {
  VocabBuilder b;
  const int32_t sp = b.Add(kSp, -1), hello = b.Add(kSp + "Hello", -1), world = b.Add(kSp + "world", -1);
  b.AddBytes();
  auto tok = b.Build();
  ASSERT_TRUE(tok);
  const int32_t byte0 = 3 + 3;  // the byte block starts after <unk> <s> </s> ▁ ▁Hello ▁world
  auto byte = [&](int v) { return byte0 + v; };
  // The dummy-prefix space goes once; control tokens before it don't count.
  EXPECT_EQ(tok->Decode({1, hello, world, 2}), "Hello world");
  EXPECT_EQ(tok->Decode({sp, hello}), " Hello");
  // Bytes first: nothing is stripped afterwards.
  EXPECT_EQ(tok->Decode({byte('x'), hello}), "x Hello");
  // Invalid or truncated byte runs read U+FFFD per byte.
  EXPECT_EQ(tok->Decode({hello, byte(0xF0), byte(0x9F), world}), "Hello\xEF\xBF\xBD\xEF\xBF\xBD world");
  EXPECT_EQ(tok->Decode({byte(0xFF)}), "\xEF\xBF\xBD");
  // Out-of-range ids are skipped.
  EXPECT_EQ(tok->Decode({-5, hello, 999999}), "Hello");
}

TEST(TokenizerSpmTest, RejectsBadVocabularies) {
  {
    VocabBuilder b;
    b.v.scores.pop_back();
    EXPECT_EQ(CreateSpmTokenizer(b.v).status().code(), Status::Code::kCorrupt);
  }
  {
    VocabBuilder b;
    b.v.bos_id = 3;
    auto r = CreateSpmTokenizer(b.v);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("BOS"), std::string::npos) << r.status().message();
  }
  {
    VocabBuilder b;
    b.v.types[1] = static_cast<TokenType>(9);
    EXPECT_EQ(CreateSpmTokenizer(b.v).status().code(), Status::Code::kCorrupt);
  }
  {
    VocabBuilder b;
    b.Add("<0xZZ>", 0, TokenType::kByte);
    EXPECT_EQ(CreateSpmTokenizer(b.v).status().code(), Status::Code::kCorrupt);
  }
  {
    VocabBuilder b;
    b.v.unk_id = -1;  // no <unk> and no byte tokens: some text could not be encoded
    EXPECT_EQ(CreateSpmTokenizer(b.v).status().code(), Status::Code::kCorrupt);
  }
  EXPECT_EQ(CreateSpmTokenizer(SpmVocab{}).status().code(), Status::Code::kCorrupt);
}

// ---- Utf8StreamDecoder ----

TEST(Utf8StreamDecoderTest, HoldsBackAPartialCharacter) {
  const std::string smile = "\xF0\x9F\x98\x80";  // 😀
  Utf8StreamDecoder d;
  EXPECT_EQ(d.Push("a"), "a");
  EXPECT_EQ(d.Push(smile.substr(0, 1)), "");
  EXPECT_EQ(d.Push(smile.substr(1, 2)), "");
  EXPECT_EQ(d.Push(smile.substr(3) + "b\xC3"), smile + "b");
  EXPECT_EQ(d.Push("\xA9"), "\xC3\xA9");
  EXPECT_EQ(d.Flush(), "");
}

TEST(Utf8StreamDecoderTest, ReplacesInvalidBytes) {
  const std::string fffd = "\xEF\xBF\xBD";
  Utf8StreamDecoder d;
  EXPECT_EQ(d.Push("\xFF" "a"), fffd + "a");           // never valid
  EXPECT_EQ(d.Push("\xE0\x80"), fffd + fffd);          // overlong: can't complete, so not held
  EXPECT_EQ(d.Push("\xF0\x9F"), "");                   // could complete...
  EXPECT_EQ(d.Push("x"), fffd + fffd + "x");           // ...but didn't
  EXPECT_EQ(d.Push("\xED\xA0\x80"), fffd + fffd + fffd);  // a surrogate
  EXPECT_EQ(d.Push("\xE2\x82"), "");
  EXPECT_EQ(d.Flush(), fffd + fffd);                   // a truncated tail at the end
  EXPECT_EQ(d.Flush(), "");
}

TEST(Utf8StreamDecoderTest, CharLength) {
  EXPECT_EQ(Utf8CharLength(""), 0u);
  EXPECT_EQ(Utf8CharLength("a"), 1u);
  EXPECT_EQ(Utf8CharLength("\xC3\xA9"), 2u);
  EXPECT_EQ(Utf8CharLength("\xC0\x80"), 0u);
  EXPECT_EQ(Utf8CharLength("\xE2\x96\x81x"), 3u);
  EXPECT_EQ(Utf8CharLength("\xF4\x8F\xBF\xBF"), 4u);
  EXPECT_EQ(Utf8CharLength("\xF4\x90\x80\x80"), 0u);
  EXPECT_EQ(Utf8CharLength(std::string_view("\0", 1)), 1u);
}

}  // namespace
}  // namespace strata
