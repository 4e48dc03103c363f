// A BPE tokenizer as Hugging Face `tokenizers` runs one: added tokens are cut out of the text first (leftmost,
// longest), the rest is normalized, pre-tokenized and merged by the BPE model; decoding runs the decoder chain
// between added tokens, which appear as their text. Both the GGUF "gpt2" vocabularies and tokenizer.json files
// are turned into a BpeTokenizerConfig.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/bpe_model.h"
#include "model/pretokenizer.h"
#include "model/tokenizer.h"

namespace strata {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;     // control token: TokenBytes gives "" (Decode still shows its text, as tokenizers does)
  bool lstrip = false;      // the match takes the whitespace on its left
  bool rstrip = false;      // ... and on its right
  bool normalized = false;  // matched in the normalized text instead of the raw one
};

struct DecoderStep {
  enum class Kind { kByteLevel, kReplace, kByteFallback, kFuse, kStrip };
  Kind kind = Kind::kByteLevel;
  std::string pattern, content;  // kReplace: literal pattern -> content; kStrip: the character to strip
  size_t start = 0, stop = 0;    // kStrip: how many to strip at each end of every token
};

struct BpeTokenizerConfig {
  BpeModelConfig model;
  std::vector<AddedToken> added;  // ids may lie inside the model vocabulary or beyond it
  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  std::vector<DecoderStep> decoders;
  int32_t bos_id = -1, eos_id = -1;
  bool add_bos = false, add_eos = false;
};

// Validates (the model as BpeModel::Create does; added-token ids non-negative and unique in content; BOS/EOS
// in range when they are to be added) and builds the tokenizer. Errors name the offending item.
Result<std::unique_ptr<Tokenizer>> CreateBpeTokenizer(BpeTokenizerConfig config);

}  // namespace strata
