// Chat templates: the Jinja text of a model (GGUF tokenizer.chat_template or tokenizer_config.json's
// chat_template), rendered by a Jinja subset (src/model/jinja/) large enough for the templates of Llama 2 / 3 /
// 3.1, Mistral, Qwen2 / 2.5 / 3, DeepSeek-V3, Zephyr and Gemma 1-3, in the environment Hugging Face's
// apply_chat_template uses, so prompts match transformers byte for byte. Parse once, render per request; syntax
// outside the subset is reported at Parse time with its position.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace strata {

namespace jinja {
struct Node;
}

struct ChatMessage {
  std::string role;
  std::string content;
};

// How text around tags is trimmed; the defaults are Hugging Face's (trim_blocks and lstrip_blocks on).
struct ChatTemplateOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// The texts of the model's special tokens, passed to the template as bos_token, eos_token, unk_token and
// pad_token. Transformers passes only the tokens the tokenizer has: an absent one is undefined in the template.
struct ChatSpecialTokens {
  std::optional<std::string> bos, eos, unk, pad;
};

// A model's chat template as its files give it, whichever file that was (GGUF metadata or an HF folder).
struct ChatTemplateSource {
  std::string source;  // the Jinja text
  ChatSpecialTokens special_tokens;
};

// What one render takes besides the template.
struct ChatRenderRequest {
  // The `messages` variable: a JSON array of message objects ({"role", "content"} and whatever else the
  // template reads: tool_calls, reasoning_content, content parts). Must outlive the call.
  const nlohmann::ordered_json* messages = nullptr;
  bool add_generation_prompt = false;
  // Further variables (enable_thinking, tools, documents, date_string, ...): a JSON object or null. They
  // override the special tokens and the defaults tools=None and documents=None, as apply_chat_template's
  // keyword arguments do.
  const nlohmann::ordered_json* variables = nullptr;
  // Ends the text right after the last message's content, so the model continues that message (an assistant
  // prefill), as transformers' continue_final_message does; needs add_generation_prompt false.
  bool continue_final_message = false;
};

// A parsed chat template: Parse once, Render per request. Copies share the immutable parsed tree, so a
// ChatTemplate is cheap to copy and safe to render from several threads at once.
class ChatTemplate {
 public:
  // Parses Jinja source. Syntax this renderer does not handle gives kUnsupported, malformed source
  // kInvalidArgument; either message names the construct and its line and column.
  static Result<ChatTemplate> Parse(std::string_view source, const ChatTemplateOptions& options = {});
  // Parses the model's template and keeps its special tokens for every Render.
  static Result<ChatTemplate> FromSource(const ChatTemplateSource& source);

  // Renders the request with the model's special tokens. Errors (raise_exception("...") in the template, type
  // errors, malformed messages) come back as a Status whose message carries the template's text.
  Result<std::string> Render(const ChatRenderRequest& request) const;
  // The same for plain {role, content} messages, with bos_token and eos_token given explicitly.
  Result<std::string> Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                             const std::string& bos_token, const std::string& eos_token) const;

  const ChatSpecialTokens& special_tokens() const { return special_tokens_; }

 private:
  using Body = std::vector<std::unique_ptr<jinja::Node>>;
  explicit ChatTemplate(std::shared_ptr<const Body> body) : body_(std::move(body)) {}

  std::shared_ptr<const Body> body_;
  ChatSpecialTokens special_tokens_;
};

// The {role, content} messages as the JSON array Render takes.
nlohmann::ordered_json ChatMessagesToJson(const std::vector<ChatMessage>& messages);

}  // namespace strata
