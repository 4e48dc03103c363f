#include "model/chat_template.h"

#include <nlohmann/json.hpp>

#include "model/jinja/evaluator.h"
#include "model/jinja/from_json.h"
#include "model/jinja/lexer.h"
#include "model/jinja/parser.h"
#include "model/jinja/py_string.h"

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

// The text of the final message to continue: its string content, or the last text part of a list.
Result<std::string> FinalMessageText(const nlohmann::ordered_json& messages) {
  const auto bad = Status::InvalidArgument("continue_final_message: the final message has no text content to continue");
  if (messages.empty() || !messages.back().is_object()) return bad;
  auto content = messages.back().find("content");
  if (content == messages.back().end()) return bad;
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) return bad;
  for (auto part = content->rbegin(); part != content->rend(); ++part)
    if (part->is_object() && part->contains("text") && (*part)["text"].is_string())
      return (*part)["text"].get<std::string>();
  return bad;
}

// transformers' apply_chat_template(continue_final_message=True): cut the rendering after the last occurrence
// of the final message, keeping its trailing whitespace only where the template kept it.
Result<std::string> CutAfterFinalMessage(std::string rendered, const std::string& final_message) {
  const std::string stripped = jinja::PyStrip(final_message, std::nullopt, true, true);
  const size_t at = rendered.rfind(stripped);
  if (at == std::string::npos)
    return Status::InvalidArgument(
        "continue_final_message: the final message does not appear in the chat after applying the chat template");
  const std::string lstripped = jinja::PyStrip(final_message, std::nullopt, true, false);
  const bool kept = rendered.compare(at, lstripped.size(), final_message) == 0;
  rendered.resize(at + (kept ? lstripped.size() : stripped.size()));
  return rendered;
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
  if (request.continue_final_message && request.add_generation_prompt)
    return Status::InvalidArgument("continue_final_message and add_generation_prompt cannot both be set");
  jinja::ValueDict vars;
  SetSpecialTokens(special_tokens_, vars);
  vars.Set("tools", jinja::Value::None());
  vars.Set("documents", jinja::Value::None());
  STRATA_RETURN_IF_ERROR(SetExtraVariables(request.variables, vars));
  auto messages = jinja::ValueFromJson(*request.messages);
  if (!messages.ok()) return Status(messages.status().code(), "chat messages: " + messages.status().message());
  vars.Set("messages", std::move(*messages));
  vars.Set("add_generation_prompt", jinja::Value::Bool(request.add_generation_prompt));
  STRATA_ASSIGN_OR_RETURN(std::string rendered, jinja::RenderTemplate(*body_, std::move(vars)));
  if (!request.continue_final_message) return rendered;
  STRATA_ASSIGN_OR_RETURN(std::string final_message, FinalMessageText(*request.messages));
  return CutAfterFinalMessage(std::move(rendered), final_message);
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
