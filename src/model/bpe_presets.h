// The text pipeline of each GGUF tokenizer.ggml.pre that Strata supports, written as the Hugging Face
// tokenizer.json of the model family it names (the reference the ids are checked against): normalizer,
// pre-tokenizer regexes, ignore_merges.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/pretokenizer.h"

namespace strata {

struct BpePreset {
  std::vector<NormalizerStep> normalizers;
  std::vector<PreTokenizerStep> pre_tokenizers;
  bool ignore_merges = false;
  bool add_bos = false;  // llama.cpp's default when the file has no tokenizer.ggml.add_bos_token
};

// kUnsupported naming `pre` and the supported names when it is not one of them.
Result<BpePreset> BpePresetFor(std::string_view pre);

}  // namespace strata
