// A GGUF's chat template: tokenizer.chat_template and the texts of its special tokens (bos/eos/unknown/padding
// ids looked up in tokenizer.ggml.tokens), read from the metadata alone, so a vocabulary-only GGUF works too.
#pragma once

#include "core/status.h"
#include "model/chat_template.h"
#include "model/gguf.h"

namespace strata {

// kNotFound naming the file when it has no tokenizer.chat_template; a special token id outside the token list
// is kCorrupt naming the key.
Result<ChatTemplateSource> ChatTemplateSourceFromGguf(const GgufFile& gguf);

}  // namespace strata
