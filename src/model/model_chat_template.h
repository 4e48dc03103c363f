// The chat template of a model given by its path, as `-m` takes it: a Hugging Face folder (tokenizer_config.json,
// or chat_template.jinja beside it) or a GGUF file (tokenizer.chat_template and the vocabulary's special tokens).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace strata {

// kNotFound when the model has no chat template; other errors name the file that is at fault.
Result<ChatTemplateSource> LoadChatTemplateSource(const std::string& file_or_dir);

// The ids of a rendered chat. A template that writes the BOS text itself gets the BOS token once (not the text
// plus a second BOS); otherwise BOS is added when `add_special` and the tokenizer adds one. `special` is the
// template's special tokens, or null without a template.
std::vector<int32_t> EncodeRenderedChat(const Tokenizer& tokenizer, const ChatSpecialTokens* special,
                                        std::string_view text, bool add_special);

}  // namespace strata
