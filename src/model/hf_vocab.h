// A Hugging Face folder's vocabulary as GGUF tokenizer.ggml.* metadata, the way llama.cpp's
// convert_hf_to_gguf.py writes it, for `strata convert`: tokens in id order (added tokens included, ids the
// tokenizer lacks below vocab_size filled with "[PAD<id>]"), token types, and either
//   - byte-level BPE (a ByteLevel pre-tokenizer): model "gpt2", the merges, and the pre-tokenizer name llama.cpp
//     knows for the Split regexes (llama-bpe, qwen2, deepseek-v3, gpt-2; another regex is kUnsupported), or
//   - SentencePiece-style BPE (byte_fallback): model "llama", with scores from the merge ranks (a piece scores
//     minus the rank of the first merge that makes it, so llama.cpp's best-score-first merging follows the ranks).
// Plus BOS/EOS/UNK ids, add_bos/add_eos and the chat template (tokenizer_config.json, config.json for ids).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/gguf.h"

namespace strata {

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

// The tokenizer metadata of folder `dir` for a model of `n_vocab` embedding rows.
Result<GgufMetadata> HfVocabMetadata(const std::string& dir, int64_t n_vocab);

// llama.cpp's tokenizer.ggml.pre name for the pre-tokenizer of a tokenizer.json ("" when it has no regex
// split: plain byte-level "gpt-2"); kUnsupported quoting the regexes when llama.cpp knows none for them.
Result<std::string> HfPreTokenizerName(const std::string& tokenizer_json_text);

}  // namespace strata
