// Chat templates: the Jinja text in a GGUF's tokenizer.chat_template, rendered by a Jinja subset large enough
// for the templates of Llama 2, Llama 3, Mistral, Qwen2 / ChatML, Zephyr and Gemma. Parse once, render per
// request; syntax outside the subset is reported at Parse time with its position.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace strata {

struct ChatMessage {
  std::string role;
  std::string content;
};

namespace jinja {
struct Template;
}

class ChatTemplate {
 public:
  static Result<ChatTemplate> Parse(std::string_view source);
  // Renders with messages, add_generation_prompt, bos_token and eos_token bound, as HF's
  // apply_chat_template does (trim_blocks and lstrip_blocks on). raise_exception() in the template and
  // type errors come back as errors.
  Result<std::string> Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                             const std::string& bos_token, const std::string& eos_token) const;

  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;
  ~ChatTemplate();

 private:
  explicit ChatTemplate(std::unique_ptr<jinja::Template> t);
  std::unique_ptr<jinja::Template> t_;
};

}  // namespace strata
