// Hugging Face tokenizer folders: DIR/tokenizer.json (model BPE with or without byte fallback, normalizer,
// pre_tokenizer, post_processor, decoder, added_tokens) plus DIR/tokenizer_config.json for the BOS/EOS rule
// that Python transformers applies. A component Strata does not implement is a kUnsupported naming it.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "model/tokenizer.h"

namespace strata {

// Loads DIR/tokenizer.json and, when present, DIR/tokenizer_config.json.
Result<std::unique_ptr<Tokenizer>> LoadHfTokenizer(const std::string& dir);

// The same from the files' contents; `config_json` may be empty (no tokenizer_config.json). `name` stands for
// the folder in messages.
Result<std::unique_ptr<Tokenizer>> ParseHfTokenizer(const std::string& name, const std::string& tokenizer_json,
                                                    const std::string& config_json);

}  // namespace strata
