// Speculative decoding from the command line: `strata run` with a draft model or prompt lookup prints what the
// plain run prints (greedy); `gen-model --inflate` widens a trained model without changing what it computes
// (zero noise), and the result is a target the original drafts for; bad combinations are clear errors.
#include <gtest/gtest.h>

#include <regex>

#include "cli_runner.h"

namespace strata::testing {
namespace {

const char* kRun = " -p 'The cat sat on the mat. The cat sat on the mat. The cat' -n 48 -t 2 --ignore-eos";

// The acceptance rate run prints ("... accepted (72.6%) ...").
double AcceptedPercent(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex(R"(accepted \(([0-9.]+)%\))"))) return -1;
  return std::stod(m[1].str());
}

TEST(SpecCli, RunWithADraftModelOrPromptLookupPrintsThePlainRunsText) {
  STRATA_REQUIRE_TESTDATA();
  const CommandResult plain = Strata("run -m " + Model("f32") + kRun);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  for (const std::string& flags : {"--draft-model " + Model("q4_0"), std::string("--spec ngram --spec-ngram-min 1"),
                                   "--draft-model " + Model("q8_0") + " --spec-tokens 2 --spec-fixed-k"}) {
    const CommandResult spec = Strata("run -m " + Model("f32") + kRun + " " + flags);
    ASSERT_EQ(spec.exit_code, 0) << flags << ": " << spec.err;
    EXPECT_EQ(spec.out, plain.out) << flags;
    EXPECT_GT(AcceptedPercent(spec.err), 0) << spec.err;
  }
}

TEST(SpecCli, InflatedWithZeroNoiseComputesTheSameAndItsOriginalDraftsForIt) {
  STRATA_REQUIRE_TESTDATA();
  const std::string big = ScratchDir() + "/inflated.gguf";
  const CommandResult gen = Strata("gen-model --inflate " + Model("f32") + " --ffn 2048 --noise 0 -o " + big);
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const CommandResult info = Strata("info -m " + big);
  EXPECT_NE(info.out.find("llama.feed_forward_length                    u32      2048"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("blk.0.ffn_down.weight            f32    [192, 2048]"), std::string::npos) << info.out;
  const CommandResult plain = Strata("run -m " + Model("f32") + kRun);
  const CommandResult inflated = Strata("run -m " + big + kRun);
  ASSERT_EQ(inflated.exit_code, 0) << inflated.err;
  EXPECT_EQ(inflated.out, plain.out);
  const CommandResult spec = Strata("run -m " + big + kRun + " --draft-model " + Model("f32"));
  ASSERT_EQ(spec.exit_code, 0) << spec.err;
  EXPECT_EQ(spec.out, plain.out);
  EXPECT_GT(AcceptedPercent(spec.err), 90) << "the original is a near-perfect draft for its zero-noise inflation";
  // Noise makes the target drift from its draft.
  const std::string noisy = ScratchDir() + "/inflated-noisy.gguf";
  ASSERT_EQ(Strata("gen-model --inflate " + Model("f32") + " --ffn 2048 --noise 0.2 --dtype q8_0 -o " + noisy).exit_code, 0);
  const CommandResult drift = Strata("run -m " + noisy + kRun + " --draft-model " + Model("f32"));
  ASSERT_EQ(drift.exit_code, 0) << drift.err;
  EXPECT_LT(AcceptedPercent(drift.err), AcceptedPercent(spec.err));
}

TEST(SpecCli, BadCombinationsAreClearErrors) {
  STRATA_REQUIRE_TESTDATA();
  CommandResult r = Strata("run -m " + Model("f32") + " -p x --spec ngram --draft-model " + Model("q4_0"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("takes no --draft-model"), std::string::npos) << r.err;
  r = Strata("run -m " + Model("f32") + " -p x --spec draft");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("needs --draft-model"), std::string::npos) << r.err;
  // A draft with another vocabulary (gen-model's default is Llama 2's 32000 tokens).
  const std::string other = ScratchDir() + "/other-vocab.gguf";
  ASSERT_EQ(Strata("gen-model --shape llama-tiny --layers 1 -o " + other + " --vocab " +
                   Quote(TestDataPath("tokenizer/llama2-vocab.gguf"))).exit_code, 0);
  r = Strata("run -m " + Model("f32") + " -p x --draft-model " + other);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("vocabulary has 32000 tokens, the target's 1024"), std::string::npos) << r.err;
  r = Strata("gen-model --inflate " + Model("f32") + " --ffn 500 -o " + ScratchDir() + "/x.gguf");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--ffn must be a multiple of 32 above the model's 512"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace strata::testing
