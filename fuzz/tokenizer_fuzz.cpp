// Fuzzes a real SentencePiece vocabulary (llama2's, from the shared test data): encoding arbitrary bytes,
// decoding arbitrary id sequences (out-of-range ids included) and the streaming UTF-8 decoder fed in
// arbitrary pieces. Invariants checked: encoded ids are in range, and streaming the token bytes in any split
// gives the same text as one Push of them all.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_testdata.h"
#include "model/gguf.h"
#include "model/tokenizer.h"

namespace {

std::unique_ptr<strata::Tokenizer> g_tok;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "tokenizer_fuzz: invariant violated: %s\n", what);
    __builtin_trap();
  }
}

void FuzzEncode(std::string_view text) {
  const std::vector<int32_t> ids = g_tok->Encode(text, true);
  for (int32_t id : ids) Check(id >= 0 && id < g_tok->n_vocab(), "Encode returned an id outside the vocabulary");
  (void)g_tok->Decode(ids);
}

// Reads ids as little-endian 16-bit values, offset so that some fall outside [0, n_vocab).
void FuzzDecode(std::string_view bytes) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    uint16_t v;
    std::memcpy(&v, bytes.data() + i, 2);
    ids.push_back(static_cast<int32_t>(v) - 16);
  }
  (void)g_tok->Decode(ids);
  std::string whole;
  for (int32_t id : ids)
    if (id >= 0 && id < g_tok->n_vocab()) whole += g_tok->TokenBytes(id);
  strata::Utf8StreamDecoder one;
  const std::string expected = one.Push(whole) + one.Flush();
  strata::Utf8StreamDecoder stream;
  std::string got;
  for (int32_t id : ids)
    if (id >= 0 && id < g_tok->n_vocab()) got += stream.Push(g_tok->TokenBytes(id));
  got += stream.Flush();
  Check(got == expected, "streamed decoding differs from decoding all bytes at once");
}

// Raw bytes through the stream decoder, split where the input's first bytes say.
void FuzzStream(std::string_view bytes) {
  if (bytes.empty()) return;
  const size_t step = 1 + static_cast<uint8_t>(bytes[0]) % 7;
  bytes.remove_prefix(1);
  strata::Utf8StreamDecoder one, stream;
  const std::string expected = one.Push(bytes) + one.Flush();
  std::string got;
  for (size_t i = 0; i < bytes.size(); i += step) got += stream.Push(bytes.substr(i, step));
  got += stream.Flush();
  Check(got == expected, "Utf8StreamDecoder output depends on how the bytes are split");
  const size_t n = strata::Utf8CharLength(bytes);
  Check(n <= 4 && n <= bytes.size(), "Utf8CharLength beyond the input");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const auto path = strata::fuzz::TestDataFile("tokenizer/llama2-vocab.gguf");
  if (!path) {
    std::fprintf(stderr, "tokenizer_fuzz: shared test data not found (set STRATA_TESTDATA): only the stream decoder is fuzzed\n");
    return 0;
  }
  auto file = strata::GgufFile::Open(*path);
  if (!file.ok()) return 0;
  auto tok = strata::CreateTokenizer(**file);
  if (tok.ok()) g_tok = std::move(*tok);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: if (g_tok) FuzzEncode(rest); break;
    case 1: if (g_tok) FuzzDecode(rest); break;
    default: FuzzStream(rest); break;
  }
  return 0;
}
