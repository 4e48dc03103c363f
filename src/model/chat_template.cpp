#include "model/chat_template.h"

#include "model/jinja/evaluator.h"
#include "model/jinja/lexer.h"
#include "model/jinja/parser.h"

namespace strata {

Result<ChatTemplate> ChatTemplate::Parse(std::string_view source, const ChatTemplateOptions& options) {
  jinja::WhitespaceOptions ws;
  ws.trim_blocks = options.trim_blocks;
  ws.lstrip_blocks = options.lstrip_blocks;
  ws.keep_trailing_newline = options.keep_trailing_newline;
  STRATA_ASSIGN_OR_RETURN(std::vector<jinja::Token> tokens, jinja::Tokenize(source, ws));
  STRATA_ASSIGN_OR_RETURN(jinja::Body body, jinja::ParseTemplate(tokens));
  return ChatTemplate(std::make_shared<const Body>(std::move(body)));
}

Result<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                         const std::string& bos_token, const std::string& eos_token) const {
  jinja::ValueList list;
  for (const ChatMessage& m : messages) {
    jinja::ValueDict d;
    d.Set("role", jinja::Value::String(m.role));
    d.Set("content", jinja::Value::String(m.content));
    list.push_back(jinja::Value::Dict(std::move(d)));
  }
  jinja::ValueDict vars;
  vars.Set("messages", jinja::Value::List(std::move(list)));
  vars.Set("add_generation_prompt", jinja::Value::Bool(add_generation_prompt));
  vars.Set("bos_token", jinja::Value::String(bos_token));
  vars.Set("eos_token", jinja::Value::String(eos_token));
  return jinja::RenderTemplate(*body_, std::move(vars));
}

}  // namespace strata
