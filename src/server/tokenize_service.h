// vLLM's /tokenize and /detokenize: a prompt or chat messages in, token ids and their count out; token ids in,
// text out. Chat messages go through the same ChatPrompt as /v1/chat/completions. Knows nothing of HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/chat_prompt.h"

namespace strata {

class TokenizeService {
 public:
  // `prompt` and `tokenizer` must outlive the service.
  // Requests name `model_name` or one of `aliases` as "model", or none.
  TokenizeService(const ChatPrompt& prompt, const Tokenizer& tokenizer, int64_t max_model_len, std::string model_name,
                  std::vector<std::string> aliases = {})
      : prompt_(prompt), tokenizer_(tokenizer), max_model_len_(max_model_len), model_name_(std::move(model_name)),
        aliases_(std::move(aliases)) {}

  // {"prompt", "add_special_tokens"=true} or {"messages", "add_generation_prompt"=true,
  // "continue_final_message"=false, "add_special_tokens"=false, "chat_template_kwargs"}, both with "model" and
  // "return_token_strs"=false -> {"count", "max_model_len", "tokens", "token_strs"}.
  std::variant<nlohmann::json, ApiError> Tokenize(const std::string& body) const;
  // {"model", "tokens": [ids]} -> {"prompt": text}; every id must be in the vocabulary.
  std::variant<nlohmann::json, ApiError> Detokenize(const std::string& body) const;

 private:
  std::variant<std::vector<int32_t>, ApiError> ChatIds(const nlohmann::ordered_json& body) const;
  std::variant<std::vector<int32_t>, ApiError> PromptIds(const nlohmann::ordered_json& body) const;

  const ChatPrompt& prompt_;
  const Tokenizer& tokenizer_;
  int64_t max_model_len_;
  std::string model_name_;
  std::vector<std::string> aliases_;
};

}  // namespace strata
