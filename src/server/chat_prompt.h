// A chat request's prompt: the model's chat template (with the model's special tokens, from a GGUF or an HF
// folder alike) rendered for the messages, then tokenized as the model expects. Shared by /v1/chat/completions
// and /tokenize so both see the same text and ids.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/chat_template.h"
#include "model/tokenizer.h"
#include "server/api_error.h"

namespace strata {

struct ChatPromptOptions {
  bool add_generation_prompt = true;
  bool continue_final_message = false;
  const nlohmann::ordered_json* template_kwargs = nullptr;  // extra template variables (an object), or null
};

class ChatPrompt {
 public:
  // `chat_template` is null when the model has none; `template_error` then says why. Both must outlive this.
  ChatPrompt(const ChatTemplate* chat_template, std::string template_error, const Tokenizer& tokenizer)
      : template_(chat_template), template_error_(std::move(template_error)), tokenizer_(tokenizer) {}

  // The rendered text, or a 400 naming the template's complaint.
  std::variant<std::string, ApiError> Render(const std::vector<ChatMessage>& messages,
                                             const ChatPromptOptions& options) const;
  // The ids of rendered text (EncodeRenderedChat).
  std::vector<int32_t> Encode(std::string_view text, bool add_special) const;

 private:
  const ChatTemplate* template_;
  std::string template_error_;
  const Tokenizer& tokenizer_;
};

}  // namespace strata
