// Pre-tokenizers and normalizers as Hugging Face `tokenizers` defines them (pre_tokenizers/split.rs,
// byte_level.rs, digits.rs; normalizer.rs's split behaviours), on PCRE2 and ICU.
#include "model/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <cctype>
#include <climits>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include "model/bpe_model.h"
#include "model/tokenizer.h"

namespace strata {
namespace {

pcre2_code* Code(void* p) { return static_cast<pcre2_code*>(p); }

// GPT-2's pattern, which ByteLevel applies when use_regex is set.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Pieces of `text` as (range, is_match), covering it, the matches of `re` flipped when `invert`.
struct Span {
  size_t start, end;
  bool match;
};

std::vector<Span> Spans(const Regex& re, std::string_view text, bool invert) {
  std::vector<Span> spans;
  size_t pos = 0;
  for (const auto& [s, e] : re.FindAll(text)) {
    if (s > pos) spans.push_back({pos, s, invert});
    spans.push_back({s, e, !invert});
    pos = e;
  }
  if (pos < text.size()) spans.push_back({pos, text.size(), invert});
  return spans;
}

// tokenizers' NormalizedString::split: how matches join their neighbours.
std::vector<Span> ApplyBehavior(std::vector<Span> spans, SplitBehavior behavior) {
  std::vector<Span> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      return spans;
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.match) out.push_back(s);
      return out;
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (s.match && previous_match) out.back().end = s.end;
        else out.push_back(s);
        previous_match = s.match;
      }
      return out;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !out.empty()) out.back().end = s.end;
        else out.push_back(s);
        previous_match = s.match;
      }
      return out;
    case SplitBehavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous_match && !out.empty()) out.back().start = it->start;
        else out.push_back(*it);
        previous_match = it->match;
      }
      return {out.rbegin(), out.rend()};
  }
  return spans;
}

void SplitInto(const PreTokenizerStep& step, std::string_view piece, std::vector<std::string>& out) {
  for (const Span& s : ApplyBehavior(Spans(*step.regex, piece, step.invert), step.behavior))
    if (s.end > s.start) out.emplace_back(piece.substr(s.start, s.end - s.start));
}

void ByteLevelInto(const PreTokenizerStep& step, std::string_view piece, std::vector<std::string>& out) {
  std::string prefixed;
  if (step.add_prefix_space && piece.substr(0, 1) != " ") {
    prefixed = " " + std::string(piece);
    piece = prefixed;
  }
  if (!step.regex) {
    out.push_back(BytesToByteLevel(piece));
    return;
  }
  std::vector<std::string> parts;
  SplitInto(step, piece, parts);
  for (const std::string& p : parts) out.push_back(BytesToByteLevel(p));
}

Result<std::shared_ptr<const Regex>> Gpt2Regex() {
  static const Result<std::shared_ptr<const Regex>> re = Regex::Compile(kGpt2Pattern);
  return re;
}

}  // namespace

Result<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    return Status::Unsupported("regex '" + std::string(pattern) + "' does not compile at offset " +
                               std::to_string(err_offset) + ": " + reinterpret_cast<const char*>(msg));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
  std::shared_ptr<Regex> re(new Regex());
  re->code_ = code;
  return std::shared_ptr<const Regex>(std::move(re));
}

Result<std::shared_ptr<const Regex>> Regex::Literal(std::string_view literal) {
  std::string escaped;
  for (char c : literal) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) escaped += '\\';
    escaped += c;
  }
  return Compile(escaped);
}

Regex::~Regex() { pcre2_code_free(Code(code_)); }

std::vector<std::pair<size_t, size_t>> Regex::FindAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> found;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(Code(code_), nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = pcre2_match(Code(code_), subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    // JIT's stack is small; the interpreter keeps its frames on the heap. Past its limits too, the rest of
    // the text stays one unmatched piece: it is still tokenized, only not split further.
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
      rc = pcre2_match(Code(code_), subject, text.size(), pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    if (ov[1] > ov[0]) {
      found.emplace_back(ov[0], ov[1]);
      pos = ov[1];
    } else {  // an empty match: step over one character
      if (ov[0] >= text.size()) break;
      const size_t len = Utf8CharLength(text.substr(ov[0]));
      pos = ov[0] + (len == 0 ? 1 : len);
    }
  }
  pcre2_match_data_free(md);
  return found;
}

Result<PreTokenizerStep> SplitStep(std::string_view pattern, bool is_regex, SplitBehavior behavior, bool invert) {
  PreTokenizerStep step;
  step.kind = PreTokenizerStep::Kind::kSplit;
  STRATA_ASSIGN_OR_RETURN(step.regex, is_regex ? Regex::Compile(pattern) : Regex::Literal(pattern));
  step.behavior = behavior;
  step.invert = invert;
  return step;
}

Result<PreTokenizerStep> ByteLevelStep(bool add_prefix_space, bool use_regex) {
  PreTokenizerStep step;
  step.kind = PreTokenizerStep::Kind::kByteLevel;
  step.add_prefix_space = add_prefix_space;
  if (use_regex) {
    STRATA_ASSIGN_OR_RETURN(step.regex, Gpt2Regex());
  }
  return step;
}

Result<PreTokenizerStep> DigitsStep(bool individual_digits) {
  return SplitStep(individual_digits ? R"(\p{N})" : R"(\p{N}+)", true, SplitBehavior::kIsolated, false);
}

std::vector<std::string> PreTokenize(const std::vector<PreTokenizerStep>& steps, std::string_view text) {
  std::vector<std::string> pieces;
  if (!text.empty()) pieces.emplace_back(text);
  std::vector<std::string> next;
  for (const PreTokenizerStep& step : steps) {
    next.clear();
    for (const std::string& p : pieces) {
      if (step.kind == PreTokenizerStep::Kind::kByteLevel) ByteLevelInto(step, p, next);
      else SplitInto(step, p, next);
    }
    pieces.swap(next);
  }
  return pieces;
}

std::string Normalize(const std::vector<NormalizerStep>& steps, std::string_view text) {
  std::string s(text);
  for (const NormalizerStep& step : steps) {
    UErrorCode ec = U_ZERO_ERROR;
    const icu::Normalizer2* form = nullptr;
    switch (step.kind) {
      case NormalizerStep::Kind::kNfc: form = icu::Normalizer2::getNFCInstance(ec); break;
      case NormalizerStep::Kind::kNfd: form = icu::Normalizer2::getNFDInstance(ec); break;
      case NormalizerStep::Kind::kNfkc: form = icu::Normalizer2::getNFKCInstance(ec); break;
      case NormalizerStep::Kind::kNfkd: form = icu::Normalizer2::getNFKDInstance(ec); break;
      case NormalizerStep::Kind::kPrepend:
        if (!s.empty()) s.insert(0, step.content);
        continue;
      case NormalizerStep::Kind::kReplace: {
        std::string out;
        size_t pos = 0;
        for (const auto& [a, b] : step.pattern->FindAll(s)) {
          out.append(s, pos, a - pos);
          out += step.content;
          pos = b;
        }
        out.append(s, pos, std::string::npos);
        s.swap(out);
        continue;
      }
    }
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    if (s.size() > static_cast<size_t>(INT32_MAX)) continue;  // ICU lengths are int32_t; left as it is
    if (form != nullptr && U_SUCCESS(ec)) form->normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink, nullptr, ec);
    if (U_SUCCESS(ec)) s.swap(out);
  }
  return s;
}

std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8CharLength(text.substr(i));
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace strata
