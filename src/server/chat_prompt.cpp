#include "server/chat_prompt.h"

#include "model/model_chat_template.h"

namespace strata {

std::variant<std::string, ApiError> ChatPrompt::Render(const std::vector<ChatMessage>& messages,
                                                       const ChatPromptOptions& options) const {
  if (!template_)
    return ApiError{400, "this model has no usable chat template: " + template_error_ + "; use /v1/completions",
                    "invalid_request_error", "messages"};
  const nlohmann::ordered_json json_messages = ChatMessagesToJson(messages);
  ChatRenderRequest request{&json_messages, options.add_generation_prompt, options.template_kwargs,
                            options.continue_final_message};
  auto text = template_->Render(request);
  if (!text.ok()) return ApiError{400, "chat template: " + text.status().message(), "invalid_request_error", "messages"};
  return std::move(*text);
}

std::vector<int32_t> ChatPrompt::Encode(std::string_view text, bool add_special) const {
  return EncodeRenderedChat(tokenizer_, template_ ? &template_->special_tokens() : nullptr, text, add_special);
}

}  // namespace strata
