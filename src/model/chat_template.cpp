#include "model/chat_template.h"

#include <nlohmann/json.hpp>

#include "model/jinja/evaluator.h"
#include "model/jinja/from_json.h"
#include "model/jinja/lexer.h"
#include "model/jinja/parser.h"

namespace strata {

namespace {

void SetSpecialTokens(const ChatSpecialTokens& t, jinja::ValueDict& vars) {
  auto set = [&](const char* name, const std::optional<std::string>& text) {
    if (text) vars.Set(name, jinja::Value::String(*text));
  };
  set("bos_token", t.bos);
  set("eos_token", t.eos);
  set("unk_token", t.unk);
  set("pad_token", t.pad);
}

// The caller's variables over the defaults; messages and add_generation_prompt have their own fields.
Status SetExtraVariables(const nlohmann::ordered_json* extra, jinja::ValueDict& vars) {
  if (extra == nullptr || extra->is_null()) return Status::Ok();
  if (!extra->is_object()) return Status::InvalidArgument("chat template variables must be a JSON object");
  for (const auto& [name, json] : extra->items()) {
    if (name == "messages" || name == "add_generation_prompt")
      return Status::InvalidArgument("chat template variable '" + name + "' cannot be set as an extra variable");
    auto value = jinja::ValueFromJson(json);
    if (!value.ok())
      return Status(value.status().code(), "chat template variable '" + name + "': " + value.status().message());
    vars.Set(name, std::move(*value));
  }
  return Status::Ok();
}

}  // namespace

Result<ChatTemplate> ChatTemplate::Parse(std::string_view source, const ChatTemplateOptions& options) {
  jinja::WhitespaceOptions ws;
  ws.trim_blocks = options.trim_blocks;
  ws.lstrip_blocks = options.lstrip_blocks;
  ws.keep_trailing_newline = options.keep_trailing_newline;
  STRATA_ASSIGN_OR_RETURN(std::vector<jinja::Token> tokens, jinja::Tokenize(source, ws));
  STRATA_ASSIGN_OR_RETURN(jinja::Body body, jinja::ParseTemplate(tokens));
  return ChatTemplate(std::make_shared<const Body>(std::move(body)));
}

Result<ChatTemplate> ChatTemplate::FromSource(const ChatTemplateSource& source) {
  STRATA_ASSIGN_OR_RETURN(ChatTemplate t, Parse(source.source));
  t.special_tokens_ = source.special_tokens;
  return t;
}

// The variables apply_chat_template passes: the special tokens, tools=None, documents=None, the caller's
// keyword arguments, then messages and add_generation_prompt.
Result<std::string> ChatTemplate::Render(const ChatRenderRequest& request) const {
  if (request.messages == nullptr || !request.messages->is_array())
    return Status::InvalidArgument("chat messages must be a JSON array");
  jinja::ValueDict vars;
  SetSpecialTokens(special_tokens_, vars);
  vars.Set("tools", jinja::Value::None());
  vars.Set("documents", jinja::Value::None());
  STRATA_RETURN_IF_ERROR(SetExtraVariables(request.variables, vars));
  auto messages = jinja::ValueFromJson(*request.messages);
  if (!messages.ok()) return Status(messages.status().code(), "chat messages: " + messages.status().message());
  vars.Set("messages", std::move(*messages));
  vars.Set("add_generation_prompt", jinja::Value::Bool(request.add_generation_prompt));
  return jinja::RenderTemplate(*body_, std::move(vars));
}

Result<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages, bool add_generation_prompt,
                                         const std::string& bos_token, const std::string& eos_token) const {
  const nlohmann::ordered_json json_messages = ChatMessagesToJson(messages);
  const nlohmann::ordered_json tokens = {{"bos_token", bos_token}, {"eos_token", eos_token}};
  return Render(ChatRenderRequest{&json_messages, add_generation_prompt, &tokens});
}

nlohmann::ordered_json ChatMessagesToJson(const std::vector<ChatMessage>& messages) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ChatMessage& m : messages) out.push_back({{"role", m.role}, {"content", m.content}});
  return out;
}

}  // namespace strata
