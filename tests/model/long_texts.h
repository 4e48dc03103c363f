// Long tokenizer inputs shared by the tokenizer test (exact round trip) and its micro-benchmark (speed).
#pragma once

#include <string>

namespace strata::testing {

// About 50 KB of mixed text: Latin, Greek, Japanese, an emoji, digits, newlines.
inline std::string LongMixedText() {
  const std::string para =
      "The quick brown fox jumps over the lazy dog; Ελληνικά, 日本語のテキスト, emoji \xF0\x9F\xA4\x96 and 12345.\n";
  std::string text;
  while (text.size() < 50 * 1024) text += para;
  return text;
}

// One 50 KB word: the worst case for merge bookkeeping.
inline std::string LongSingleWord() { return std::string(50 * 1024, 'a'); }

}  // namespace strata::testing
