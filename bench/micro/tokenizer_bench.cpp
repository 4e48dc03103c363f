// SentencePiece encoding speed on 50 KB of mixed text and on one 50 KB word (the worst case for merges).
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "model/gguf.h"
#include "model/tokenizer.h"
#include "long_texts.h"
#include "testdata.h"

namespace strata::testing {
namespace {

TEST(TokenizerBench, EncodeFiftyKilobytes) {
  STRATA_REQUIRE_TESTDATA();
  auto gguf = GgufFile::Open(TestDataPath("tokenizer/llama2-vocab.gguf"));
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto tok = CreateTokenizer(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::string text = LongMixedText(), run = LongSingleWord();
  for (const std::string* t : {&text, &run}) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = (*tok)->Encode(*t, false);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[ %s ] %zu bytes -> %zu tokens in %.1f ms\n", t == &run ? "one word" : "mixed text", t->size(),
                ids.size(), ms);
  }
}

// Byte-level BPE throughput: STRATA_TOKENIZE_VOCAB (a GGUF) on the text in STRATA_TOKENIZE_TEXT, best of 3.
// bench/tokenize_throughput.sh sets both and runs llama.cpp on the same files next to it.
TEST(TokenizerBench, BpeThroughput) {
  const char* vocab = std::getenv("STRATA_TOKENIZE_VOCAB");
  const char* text_file = std::getenv("STRATA_TOKENIZE_TEXT");
  if (vocab == nullptr || text_file == nullptr) GTEST_SKIP() << "set STRATA_TOKENIZE_VOCAB and STRATA_TOKENIZE_TEXT";
  auto gguf = GgufFile::Open(vocab);
  ASSERT_TRUE(gguf.ok()) << gguf.status().ToString();
  auto tok = CreateTokenizer(**gguf);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::ifstream in(text_file, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  // The first pass fills the tokenizer's word cache; the best of the later ones is the steady state.
  double first = 0, best = 1e30;
  size_t n = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    n = (*tok)->Encode(text, false).size();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rep == 0) first = s;
    best = std::min(best, s);
  }
  const double mb = static_cast<double>(text.size()) / 1e6;
  std::printf("{\"impl\": \"strata\", \"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.4f, \"mb_per_s\": %.2f, "
              "\"first_pass_mb_per_s\": %.2f}\n", text.size(), n, best, mb / best, mb / first);
}

}  // namespace
}  // namespace strata::testing
