// `gemma2` and `gemma3` generated files agree with llama.cpp (f32: top-5 probabilities; q8_0 and q4_k_m:
// top-1), and every plan variant (passes, --tp 2) computes the same logits. The tiny shapes have a window of
// 8 so the sliding layers slide within the ~36-token sequences, and gemma3-tiny has 8 layers (one global)
// and linear rope scaling. The f32 bar is 5e-3, not 1e-3: llama.cpp's CPU GELU is an fp16 lookup table,
// ours is exact (measured: 4e-5 for gemma2, 2e-5 for gemma3 at the weight std below).
//
// Weight std 0.05, not arch_checks' 0.2: at 0.2 the next-token distributions saturate (|dp| ~1e-8) and the
// f32 comparison cannot see the attention window at all (measured: with every window removed, max |dp|
// stays 1e-6); at 0.05 the same mistake moves probabilities by 0.02-0.05, and rope scaling applied to the
// sliding layers too by 0.026. The quantized checks use 0.1 (top-1 where llama.cpp leads by 0.3 needs
// decisive steps; at 0.05 there are none).
#include <gtest/gtest.h>

#include "arch_checks.h"

namespace strata {
namespace {

constexpr double kGeluTableDp = 5e-3;
constexpr float kStd = 0.05f;
constexpr float kQuantStd = 0.1f;

TEST(ArchGemma, Gemma2TinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "gemma2", .shape = "tiny", .dtype = "f32", .std = kStd}, kGeluTableDp);
}

TEST(ArchGemma, Gemma2TinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "gemma2", .shape = "tiny", .dtype = "q8_0", .std = kQuantStd});
}

TEST(ArchGemma, Gemma2TinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "gemma2", .shape = "tiny", .dtype = "q4_k_m", .std = kQuantStd});
}

TEST(ArchGemma, Gemma3TinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "gemma3", .shape = "tiny", .dtype = "f32", .std = kStd}, kGeluTableDp);
}

TEST(ArchGemma, Gemma3TinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "gemma3", .shape = "tiny", .dtype = "q8_0", .std = kQuantStd});
}

TEST(ArchGemma, Gemma3TinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "gemma3", .shape = "tiny", .dtype = "q4_k_m", .std = kQuantStd});
}

TEST(ArchGemma, Gemma2PlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "gemma2", .shape = "tiny", .dtype = "f32", .std = kStd});
}

TEST(ArchGemma, Gemma3PlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "gemma3", .shape = "tiny", .dtype = "f32", .std = kStd});
}

}  // namespace
}  // namespace strata
