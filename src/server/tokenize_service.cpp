#include "server/tokenize_service.h"

#include <algorithm>
#include <optional>

#include "server/openai_protocol.h"
#include "server/request_fields.h"
#include "server/request_json.h"

namespace strata {

using json = nlohmann::ordered_json;

std::variant<std::vector<int32_t>, ApiError> TokenizeService::PromptIds(const json& body) const {
  const json* prompt = Fields(body).Find("prompt");
  if (prompt == nullptr) return Bad("prompt", "'prompt' or 'messages' is required");
  if (!prompt->is_string()) return Bad("prompt", "'prompt' must be a string");
  bool add_special = true;
  if (auto err = Fields(body).Bool("add_special_tokens", add_special)) return *err;
  return tokenizer_.Encode(prompt->get<std::string>(), add_special && tokenizer_.add_bos());
}

std::variant<std::vector<int32_t>, ApiError> TokenizeService::ChatIds(const json& body) const {
  const Fields f(body);
  if (f.Find("prompt")) return Bad("prompt", "give either 'prompt' or 'messages', not both");
  std::vector<ChatMessage> messages;
  if (auto err = ParseChatMessages(body, messages)) return *err;
  ChatPromptOptions options;
  bool add_special = false;  // vLLM's default for chat: the template writes the special tokens
  if (auto err = f.Bool("add_generation_prompt", options.add_generation_prompt)) return *err;
  if (auto err = f.Bool("continue_final_message", options.continue_final_message)) return *err;
  if (auto err = f.Bool("add_special_tokens", add_special)) return *err;
  if (options.add_generation_prompt && options.continue_final_message)
    return Bad("continue_final_message", "Cannot set both `continue_final_message` and `add_generation_prompt` to True.");
  if (const json* tools = f.Find("tools"); tools && !(tools->is_array() && tools->empty()))
    return Bad("tools", "'tools': tool calling is not supported");
  const json* kwargs = f.Find("chat_template_kwargs");
  if (kwargs && !kwargs->is_object()) return Bad("chat_template_kwargs", "'chat_template_kwargs' must be an object");
  options.template_kwargs = kwargs;
  auto text = prompt_.Render(messages, options);
  if (auto* err = std::get_if<ApiError>(&text)) return *err;
  return prompt_.Encode(std::get<std::string>(text), add_special);
}

std::variant<nlohmann::json, ApiError> TokenizeService::Tokenize(const std::string& body) const {
  json j;
  if (auto err = ParseModelBody(body, model_name_, aliases_, j)) return *err;
  bool token_strs = false;
  if (auto err = Fields(j).Bool("return_token_strs", token_strs)) return *err;
  auto ids = Fields(j).Find("messages") ? ChatIds(j) : PromptIds(j);
  if (auto* err = std::get_if<ApiError>(&ids)) return *err;
  const auto& tokens = std::get<std::vector<int32_t>>(ids);
  nlohmann::json out = {{"count", tokens.size()}, {"max_model_len", max_model_len_}, {"tokens", tokens},
                        {"token_strs", nullptr}};
  if (token_strs) {
    out["token_strs"] = nlohmann::json::array();
    for (int32_t id : tokens) out["token_strs"].push_back(tokenizer_.Piece(id));
  }
  return out;
}

std::variant<nlohmann::json, ApiError> TokenizeService::Detokenize(const std::string& body) const {
  json j;
  if (auto err = ParseModelBody(body, model_name_, aliases_, j)) return *err;
  const json* tokens = Fields(j).Find("tokens");
  if (tokens == nullptr) return Bad("tokens", "'tokens' is a required property");
  if (!tokens->is_array()) return Bad("tokens", "'tokens' must be an array of token ids");
  const int32_t n_vocab = tokenizer_.n_vocab();
  std::vector<int32_t> ids;
  ids.reserve(tokens->size());
  for (const json& id : *tokens) {
    if (auto err = CheckInt("tokens", id, 0, n_vocab - 1, TokenRange(n_vocab))) return *err;
    ids.push_back(id.get<int32_t>());
  }
  return nlohmann::json{{"prompt", tokenizer_.Decode(ids)}};
}

}  // namespace strata
