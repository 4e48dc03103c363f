// `llama` as Llama 3 (rope_freqs, key_length, tied embeddings) and as Mixtral (experts): generated files agree
// with llama.cpp, and every plan variant (passes, --tp 2) computes the same logits.
#include <gtest/gtest.h>

#include "arch_checks.h"

namespace strata {
namespace {

using testing::ArchFile;

TEST(ArchLlama, Llama3TinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "llama", .shape = "tiny", .dtype = "f32"});
}

TEST(ArchLlama, Llama3TinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "llama", .shape = "tiny", .dtype = "q8_0"});
}

TEST(ArchLlama, Llama3TinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "llama", .shape = "tiny", .dtype = "q4_k_m"});
}

TEST(ArchLlama, MixtralTinyF32AgreesWithLlamaCpp) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectFloatAgreement({.arch = "llama", .shape = "mixtral-tiny", .dtype = "f32"});
}

TEST(ArchLlama, MixtralTinyQ8AgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "llama", .shape = "mixtral-tiny", .dtype = "q8_0"});
}

TEST(ArchLlama, MixtralTinyQ4KMAgreesWithLlamaCppTop1) {
  STRATA_REQUIRE_LLAMA_CPP();
  testing::ExpectQuantAgreement({.arch = "llama", .shape = "mixtral-tiny", .dtype = "q4_k_m"});
}

TEST(ArchLlama, Llama3PlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "llama", .shape = "tiny", .dtype = "f32"});
}

TEST(ArchLlama, MixtralPlansAreEquivalent) {
  STRATA_REQUIRE_TESTDATA();
  testing::ExpectPlansEquivalent({.arch = "llama", .shape = "mixtral-tiny", .dtype = "f32"});
}

}  // namespace
}  // namespace strata
