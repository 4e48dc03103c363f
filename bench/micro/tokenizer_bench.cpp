// SentencePiece encoding speed on 50 KB of mixed text and on one 50 KB word (the worst case for merges).
// A micro-benchmark, not a test: it prints timings and asserts nothing (wall time is no test's business).
// Run it with build/bench/strata_microbench [--gtest_filter=...].
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
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

}  // namespace
}  // namespace strata::testing
