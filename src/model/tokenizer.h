// Text <-> token ids. One interface for every vocabulary kind; CreateTokenizer picks the implementation from
// the GGUF's tokenizer.ggml.model ("llama" = SentencePiece, "gpt2" = byte-level BPE); hf_tokenizer.h loads
// Hugging Face tokenizer.json folders.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata {

class GgufFile;

// Token types as GGUF stores them in tokenizer.ggml.token_type.
enum class TokenType : int32_t { kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes text exactly as the reference tokenizer would; prepends BOS when add_bos. BPE vocabularies parse
  // the text of their control and user-defined tokens as those tokens (Hugging Face's default).
  virtual std::vector<int32_t> Encode(std::string_view text, bool add_bos) const = 0;
  // Decodes ids as the reference does (SentencePiece: control tokens dropped, byte tokens assembled, the
  // leading space of the dummy prefix removed, invalid UTF-8 replaced by U+FFFD).
  virtual std::string Decode(const std::vector<int32_t>& ids) const = 0;
  // The stored piece of a token ("▁Hello", "<0x0A>", "<s>").
  virtual const std::string& Piece(int32_t id) const = 0;
  // Raw bytes a token contributes to the output stream (no leading-space stripping; control tokens give "").
  virtual std::string TokenBytes(int32_t id) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  virtual bool add_bos() const = 0;  // tokenizer.ggml.add_bos_token (default true for "llama")
  virtual bool add_eos() const { return false; }  // tokenizer.ggml.add_eos_token / tokenizer_config.json
};

// The ids with the special tokens the model asks for (BOS when add_bos(), EOS when add_eos()), as Hugging
// Face's add_special_tokens=true; special-token text inside `text` is parsed as those tokens.
std::vector<int32_t> EncodeWithSpecialTokens(const Tokenizer& tok, std::string_view text);

// Builds the tokenizer a GGUF file describes, validating its arrays (lengths agree, ids in range).
Result<std::unique_ptr<Tokenizer>> CreateTokenizer(const GgufFile& gguf);

// Length in bytes (1-4) of the well-formed UTF-8 character that starts `s`, or 0 when `s` is empty or does not
// start with one (bad lead byte, truncated, overlong, surrogate, above U+10FFFF).
size_t Utf8CharLength(std::string_view s);

// Turns a stream of token bytes into complete UTF-8 text: holds back a partial multi-byte sequence until it
// completes, so streamed output never splits a character. A byte that can't be part of a well-formed character
// becomes U+FFFD (one per byte, as sentencepiece's decoder does).
// U+FFFD, what invalid UTF-8 decodes to.
inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

class Utf8StreamDecoder {
 public:
  // Appends bytes; returns the text that is now complete.
  std::string Push(std::string_view bytes);
  // Returns whatever is held back (an incomplete tail becomes one U+FFFD per byte) and resets.
  std::string Flush();

 private:
  std::string pending_;
};

}  // namespace strata
