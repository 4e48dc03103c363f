// Chat templates: the Jinja text in a GGUF's tokenizer.chat_template, rendered by a Jinja subset (src/model/jinja/)
// large enough for the templates of Llama 2, Llama 3 / 3.1, Mistral, Qwen2 / ChatML, Zephyr and Gemma, in the
// environment Hugging Face's apply_chat_template uses, so prompts match transformers byte for byte. Parse once,
// render per request; syntax outside the subset is reported at Parse time with its position.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

// A parsed chat template: Parse once, Render per request. Copies share the immutable parsed tree, so a
// ChatTemplate is cheap to copy and safe to render from several threads at once.
class ChatTemplate {
 public:
  // Parses Jinja source. Syntax this renderer does not handle gives kUnsupported, malformed source
  // kInvalidArgument; either message names the construct and its line and column.
  static Result<ChatTemplate> Parse(std::string_view source, const ChatTemplateOptions& options = {});

  // Renders with the variables messages (a list of {role, content} dicts), add_generation_prompt, bos_token
  // and eos_token. Errors (raise_exception("...") in the template, type errors) come back as a Status whose
  // message carries the template's text.
  Result<std::string> Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                             const std::string& bos_token, const std::string& eos_token) const;

 private:
  using Body = std::vector<std::unique_ptr<jinja::Node>>;
  explicit ChatTemplate(std::shared_ptr<const Body> body) : body_(std::move(body)) {}

  std::shared_ptr<const Body> body_;
};

}  // namespace strata
