#include "server/model_directory.h"

#include "server/request_json.h"

namespace strata {

namespace {

using json = nlohmann::ordered_json;

// The text of a message's content: a string, or the "text" of its text parts.
std::string ContentText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (!content.is_array()) return text;
  for (const json& part : content)
    if (part.is_object() && part.contains("text") && part["text"].is_string()) {
      if (!text.empty()) text += "\n";
      text += part["text"].get<std::string>();
    }
  return text;
}

// The last user message says what is asked now; without one, the last message of any role.
std::string MessagesText(const json& messages) {
  if (!messages.is_array() || messages.empty()) return "";
  for (auto it = messages.rbegin(); it != messages.rend(); ++it)
    if (it->is_object() && it->value("role", json()).is_string() && (*it)["role"] == "user" && it->contains("content"))
      return ContentText((*it)["content"]);
  const json& last = messages.back();
  return last.is_object() && last.contains("content") ? ContentText(last["content"]) : "";
}

std::string PromptText(const json& prompt) {
  if (prompt.is_string()) return prompt.get<std::string>();
  if (prompt.is_array() && !prompt.empty() && prompt[0].is_string()) return prompt[0].get<std::string>();
  return "";  // token ids: nothing to route on
}

}  // namespace

RouteQuery QueryOf(const std::string& body) {
  json j;
  if (ParseRequestJson(body, j) || !j.is_object()) return {};
  RouteQuery q;
  if (auto m = j.find("model"); m != j.end() && m->is_string()) q.model = m->get<std::string>();
  if (auto p = j.find("prompt"); p != j.end()) q.text = PromptText(*p);
  else if (auto ms = j.find("messages"); ms != j.end()) q.text = MessagesText(*ms);
  return q;
}

}  // namespace strata
