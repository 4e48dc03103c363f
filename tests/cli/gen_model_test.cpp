// `strata gen-model`: a one-layer benchmark model with the Llama-3.2-1B shape runs, and info shows its shape.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"
#include "testdata.h"

namespace strata {
namespace {

using testing::Quote;
using testing::Strata;

std::string Vocab() { return testing::TestDataPath("tokenizer/llama2-vocab.gguf"); }

TEST(GenModel, OneLayerLlama1bRunsAndShowsItsShape) {
  STRATA_REQUIRE_TESTDATA();
  const std::string path = testing::ScratchDir() + "/gen-llama-1b-q4_0.gguf";
  auto gen = Strata("gen-model --shape llama-1b --dtype q4_0 --layers 1 --seed 3 --vocab " + Quote(Vocab()) +
                    " -o " + Quote(path));
  ASSERT_EQ(gen.exit_code, 0) << gen.err;

  auto info = Strata("info -m " + Quote(path));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  for (const char* want : {"llama.block_count", "llama.attention.head_count_kv", "string[32000]",
                           "general.file_type", "llama.rope.freq_base", "blk.0.ffn_down.weight"})
    EXPECT_NE(info.out.find(want), std::string::npos) << want << "\n" << info.out;
  EXPECT_NE(info.out.find("layers 1, heads 32 (kv 8, head dim 64), ffn 8192"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("vocab 32000, dim 2048"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("not runnable"), std::string::npos) << info.out;
  EXPECT_EQ(info.out.find("\n  output.weight"), std::string::npos) << "llama-1b ties its output embedding";

  auto run = Strata("run -m " + Quote(path) + " -p Hello -n 4");
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST(GenModel, Q4_1Q5_0Q5_1AndAByteLevelBpeVocab) {
  // The new tensor types, and --vocab taking any vocab GGUF: Llama 3's byte-level BPE (128256 tokens, merges).
  STRATA_REQUIRE_TESTDATA();
  const std::string vocab = testing::TestDataPath("tokenizer-hf/llama3/vocab.gguf");
  for (const char* dtype : {"q4_1", "q5_0", "q5_1"}) {
    const std::string path = testing::ScratchDir() + "/gen-" + dtype + "-llama3.gguf";
    auto gen = Strata(std::string("gen-model --shape llama-1b --layers 1 --dtype ") + dtype + " --vocab " +
                      Quote(vocab) + " -o " + Quote(path));
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    auto info = Strata("info -m " + Quote(path));
    ASSERT_EQ(info.exit_code, 0) << info.err;
    for (const std::string& want : {std::string("blk.0.ffn_up.weight              ") + dtype, std::string("\"gpt2\""),
                                   std::string("tokenizer.ggml.merges"), std::string("vocab 128256, dim 2048")})
      EXPECT_NE(info.out.find(want), std::string::npos) << want << "\n" << info.out;
  }
}

TEST(GenModel, SameSeedSameFile) {
  STRATA_REQUIRE_TESTDATA();
  const std::string a = testing::ScratchDir() + "/gen-a.gguf", b = testing::ScratchDir() + "/gen-b.gguf";
  for (const auto& [path, threads] : {std::pair{a, "1"}, std::pair{b, "2"}}) {
    auto r = Strata("gen-model --shape llama-1b --dtype q8_0 --layers 1 -t " + std::string(threads) + " --vocab " +
                    Quote(Vocab()) + " -o " + Quote(path));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_TRUE(testing::ReadFile(a) == testing::ReadFile(b));
}

TEST(GenModel, MissingVocabIsAClearError) {
  auto r = Strata("gen-model --shape llama-1b --dtype q8_0 --layers 1 --vocab /no/such/vocab.gguf -o " +
                  Quote(testing::ScratchDir() + "/never.gguf"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/no/such/vocab.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--vocab"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata
