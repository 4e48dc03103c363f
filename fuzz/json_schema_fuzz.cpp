// Fuzzes structured output end to end: a JSON schema (the input up to the first NUL byte; empty means
// {"type":"json_object"}) compiled by JsonGrammar::FromSchema, then a document (the rest) fed byte by byte to a
// JsonMatcher, with ComputeTokenMask over a small vocabulary every few bytes. A byte the grammar rejects is
// replaced by the next byte value it accepts, so every input walks deep into the grammar.
// Invariant: a single-byte token is allowed by the mask exactly when the matcher accepts that byte.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/json_grammar.h"
#include "engine/json_matcher.h"
#include "engine/token_mask.h"

namespace {

constexpr int32_t kSingleBytes = 256;  // token id b (< 256) is the byte b

// Bytes 0..255, then multi-byte pieces like those of a real vocabulary, then EOS (no bytes).
std::vector<std::string> Vocabulary() {
  std::vector<std::string> v;
  for (int b = 0; b < kSingleBytes; ++b) v.emplace_back(1, static_cast<char>(b));
  for (const char* s : {"{\"", "\":", "\": ", "\",", "\", \"", "true", "false", "null", "[]", "{}", "},", "],",
                        " \"", "12", "0.5", "e+", "-1", "\\u00", "\\\"", "\\n", "\xC3\xA9", "\xE2\x82\xAC",
                        "\xF0\x9F\x98\x80", "\xC3", "\xA9", "name", "\"name\"", "ab", "abc", "\"}", "\"]", "  ",
                        "\n", " {", " [", "1e", "E-", ".0"})
    v.emplace_back(s);
  v.emplace_back();  // EOS: a control token
  return v;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "json_schema_fuzz: invariant violated: %s\n", what);
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static const std::vector<std::string> vocab = Vocabulary();
  static const TokenTrie trie(vocab);
  const int32_t eos = static_cast<int32_t>(vocab.size()) - 1;

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view schema_text = input.substr(0, nul);
  std::string_view doc = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  if (doc.size() > 512) doc = doc.substr(0, 512);  // each byte costs a token mask

  Result<std::shared_ptr<const JsonGrammar>> grammar = Status::Ok();
  if (schema_text.empty()) {
    grammar = JsonGrammar::AnyObject();
  } else {
    const auto schema = nlohmann::ordered_json::parse(schema_text, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) return 0;
    grammar = JsonGrammar::FromSchema(schema);
  }
  if (!grammar.ok()) return 0;

  JsonMatcher m(*grammar);
  std::vector<uint8_t> allowed;
  for (size_t i = 0; i < doc.size() && !m.IsDead(); ++i) {
    if (i % 4 == 0) {  // a mask per byte would make each input slow; every 4th byte still walks every state
      ComputeTokenMask(m, trie, eos, allowed, i % 8 == 4 ? static_cast<int64_t>(doc.size() - i) : -1);
      Check(allowed.size() >= vocab.size(), "mask shorter than the vocabulary");
      if (i % 8 == 0) {
        for (int b = 0; b < kSingleBytes; ++b) {
          JsonMatcher copy = m;
          Check(copy.AcceptByte(static_cast<uint8_t>(b)) == (allowed[b] != 0), "mask and matcher disagree on a byte");
        }
        Check(!m.IsComplete() || allowed[eos] != 0, "EOS not allowed after a complete value");
      }
      (void)m.MinBytesToComplete();
    }
    // A rejected byte is replaced by the next byte value the grammar accepts here.
    bool moved = false;
    for (int k = 0; k < kSingleBytes && !moved; ++k) moved = m.AcceptByte(static_cast<uint8_t>(doc[i] + k));
    if (!moved) break;
  }
  (void)m.IsComplete();
  return 0;
}
