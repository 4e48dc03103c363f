// The SentencePiece BPE tokenizer of "llama" vocabularies, matching Python sentencepiece (identity
// normalisation, byte fallback): text -> "▁"-escaped characters -> highest-score pair merges -> ids.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/tokenizer.h"

namespace strata {

// A SentencePiece vocabulary as a GGUF file stores it (tokenizer.ggml.*).
struct SpmVocab {
  std::vector<std::string> pieces;  // "▁Hello", "<0x0A>", "<s>"
  std::vector<float> scores;        // merge priority: higher merges first
  std::vector<TokenType> types;
  int32_t bos_id = -1;  // -1: none
  int32_t eos_id = -1;
  int32_t unk_id = -1;  // emitted for characters with no piece when byte tokens can't spell them
  bool add_bos = true;
  bool add_space_prefix = true;          // sentencepiece's add_dummy_prefix
  bool remove_extra_whitespaces = false;  // sentencepiece's normalizer option (Llama vocabularies: off)
};

// Validates `vocab` (equal lengths, ids in range, byte pieces spelled <0xXX>, a way to spell any byte) and
// builds the tokenizer. Errors name the offending token; the caller adds the file name.
Result<std::unique_ptr<Tokenizer>> CreateSpmTokenizer(SpmVocab vocab);

}  // namespace strata
