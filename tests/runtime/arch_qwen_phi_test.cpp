// `qwen2` (Q/K/V biases, NEOX, untied head), `qwen3` (per-head q/k RMSNorm, key_length head dims, tied head)
// and `phi3` (fused attn_qkv and gate/up as row parts, GQA, partial NEOX rotation, a sliding window llama.cpp
// ignores): generated files agree with llama.cpp, and every plan variant (passes, --tp 2) computes the same logits.
#include <gtest/gtest.h>

#include "arch_checks.h"
#include "model/gguf_rewrite.h"

namespace strata {
namespace {

using testing::ArchFile;

class ArchQwenPhi : public ::testing::TestWithParam<std::string> {};

TEST_P(ArchQwenPhi, TinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = GetParam(), .shape = "tiny", .dtype = "f32"});
}

TEST_P(ArchQwenPhi, TinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = GetParam(), .shape = "tiny", .dtype = "q8_0"});
}

TEST_P(ArchQwenPhi, TinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = GetParam(), .shape = "tiny", .dtype = "q4_k_m"});
}

TEST_P(ArchQwenPhi, PlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = GetParam(), .shape = "tiny", .dtype = "f32"});
}

INSTANTIATE_TEST_SUITE_P(Archs, ArchQwenPhi, ::testing::Values("qwen2", "qwen3", "phi3"),
                         [](const auto& info) { return info.param; });

// A window of 8 over 36 positions would change most logits if either engine applied it: llama.cpp reads
// phi3.attention.sliding_window and turns SWA off, and so must Strata.
TEST(ArchPhi3, SlidingWindowIsIgnoredAsLlamaCppDoes) {
  STRATA_REQUIRE_LLAMA_CPP();
  const std::string src = testing::GenArchFile({.arch = "phi3", .shape = "tiny", .dtype = "f32"});
  ASSERT_FALSE(src.empty());
  const std::string dst = testing::ScratchDir() + "/phi3-tiny-window8.gguf";
  ASSERT_TRUE(testing::RewriteGguf(src, dst, [](testing::GgufEdit& e) { testing::SetU32(e, "phi3.attention.sliding_window", 8); }).ok());
  auto model = Model::Load(dst, nullptr, {.load_tokenizer = false});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().sliding_window, 0);
  const testing::ArchAgreement a = testing::CompareWithLlamaCpp(dst, 0.01);
  std::printf("[ agree   ] phi3 tiny f32 window 8 vs llama.cpp: %s\n", a.Summary().c_str());
  EXPECT_EQ(a.positions, 24 * static_cast<int>(testing::AgreementPrompts().size()));
  EXPECT_LT(a.max_abs_dp, 1e-3) << a.Summary();
  EXPECT_EQ(a.top1_equal, a.clear_steps) << a.Summary();
}

}  // namespace
}  // namespace strata
