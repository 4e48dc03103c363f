// The OpenAI request bodies Strata accepts (/v1/completions and /v1/chat/completions, with vLLM's extra
// sampling fields), parsed and type-checked into engine terms, and OpenAI-style errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "server/api_error.h"
#include "model/chat_template.h"

namespace strata {

struct ParsedRequest {
  bool chat = false;
  bool stream = false;
  bool include_usage = false;                // stream_options.include_usage
  std::string model;                         // empty when the client left it out
  std::vector<ChatMessage> messages;         // chat
  std::optional<nlohmann::ordered_json> chat_template_kwargs;  // chat: extra template variables
  std::optional<std::string> prompt_text;    // completions: a string prompt...
  std::vector<int32_t> prompt_ids;           // ... or token ids
  GenerateRequest gen;                       // sampling, stops, max_tokens; prompt filled in later
  bool max_tokens_given = false;
  std::string max_tokens_json;               // max_tokens as the client wrote it (for messages)
  int completion_logprobs = -1;              // completions' integer logprobs; -1 when absent
  bool tokens_as_ids = false;                // vLLM's return_tokens_as_token_ids: logprobs name "token_id:N"
  std::optional<nlohmann::ordered_json> response_format;  // key order kept: it orders schema properties
};

// Parses a request body; on failure returns the error to send. Every number is range-checked in the width the
// JSON gave it before it is narrowed; token ids (prompt, stop_token_ids, logit_bias) must be in [0, n_vocab).
// The "messages" of a chat body: a non-empty array of {role, content} (content a string or text parts).
std::optional<ApiError> ParseChatMessages(const nlohmann::ordered_json& body, std::vector<ChatMessage>& out);

std::optional<ApiError> ParseCompletionRequest(const std::string& body, bool chat, int32_t n_vocab,
                                               ParsedRequest& out);

}  // namespace strata
