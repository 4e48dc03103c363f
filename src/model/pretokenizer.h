// Text -> words before BPE: Hugging Face `tokenizers`' pre-tokenizers (Split by regex or string with its five
// behaviours, ByteLevel, Digits) and normalizers (NFC/NFD/NFKC/NFKD, Replace, Prepend). Regexes run on PCRE2
// with UTF and Unicode properties (\p{L}, \p{N}, \s as Unicode whitespace), as the reference's Oniguruma does.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata {

class Regex {
 public:
  // Compiles `pattern` (UTF-8, Unicode properties, JIT when available); the error names the pattern.
  static Result<std::shared_ptr<const Regex>> Compile(std::string_view pattern);
  // A pattern that matches `literal` exactly.
  static Result<std::shared_ptr<const Regex>> Literal(std::string_view literal);
  ~Regex();

  // The [start, end) byte ranges of the non-empty, non-overlapping matches in `text` (valid UTF-8), left to right.
  std::vector<std::pair<size_t, size_t>> FindAll(std::string_view text) const;

 private:
  Regex() = default;
  void* code_ = nullptr;  // pcre2_code_8
};

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct PreTokenizerStep {
  enum class Kind { kSplit, kByteLevel };
  Kind kind = Kind::kSplit;
  std::shared_ptr<const Regex> regex;  // kSplit; kByteLevel with use_regex (GPT-2's pattern)
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // kByteLevel: a space before each piece that does not start with one
};

// The steps Hugging Face builds for these pre-tokenizers.
Result<PreTokenizerStep> SplitStep(std::string_view pattern, bool is_regex, SplitBehavior behavior, bool invert);
Result<PreTokenizerStep> ByteLevelStep(bool add_prefix_space, bool use_regex);
Result<PreTokenizerStep> DigitsStep(bool individual_digits);

// Runs the steps in order over `text`; each step splits every piece of the previous one. Empty pieces vanish.
std::vector<std::string> PreTokenize(const std::vector<PreTokenizerStep>& steps, std::string_view text);

struct NormalizerStep {
  enum class Kind { kNfc, kNfd, kNfkc, kNfkd, kReplace, kPrepend };
  Kind kind = Kind::kNfc;
  std::shared_ptr<const Regex> pattern;  // kReplace
  std::string content;                   // kReplace: the replacement; kPrepend: the prefix
};

// Applies the steps in order. Unicode normalization forms come from ICU.
std::string Normalize(const std::vector<NormalizerStep>& steps, std::string_view text);

// Copies `text`, replacing every byte that is not part of a well-formed UTF-8 character by U+FFFD.
std::string ValidUtf8(std::string_view text);

}  // namespace strata
