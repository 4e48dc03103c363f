// Where the shared test data lives: $STRATA_TESTDATA, else ../shared/testdata beside the source tree.
// Tests that need it call STRATA_REQUIRE_TESTDATA() and are skipped with a message when it is absent.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace strata::testing {

// The test data directory if it exists.
std::optional<std::string> TestDataDir();
// Path of a file under the test data directory ("models/tiny-llama-f32.gguf").
std::string TestDataPath(const std::string& relative);
// The built `strata` binary.
std::string StrataBinary();
// A fresh scratch directory for this test process.
std::string ScratchDir();

// Sanitizers keep shadow memory and hold freed memory back (ASan's quarantine): resident memory is then no
// measure of what the engine holds (the binary the tests run is built the same way).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace strata::testing

#define STRATA_REQUIRE_TESTDATA()                                                                     \
  do {                                                                                                \
    if (!::strata::testing::TestDataDir())                                                            \
      GTEST_SKIP() << "shared test data not found: set STRATA_TESTDATA to the shared/testdata folder"; \
  } while (0)
