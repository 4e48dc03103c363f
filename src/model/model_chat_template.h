// The chat template of a model given by its path, as `-m` takes it: a Hugging Face folder (tokenizer_config.json,
// or chat_template.jinja beside it) or a GGUF file (tokenizer.chat_template and the vocabulary's special tokens).
#pragma once

#include <string>

#include "core/status.h"
#include "model/chat_template.h"

namespace strata {

// kNotFound when the model has no chat template; other errors name the file that is at fault.
Result<ChatTemplateSource> LoadChatTemplateSource(const std::string& file_or_dir);

}  // namespace strata
