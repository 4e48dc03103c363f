// Turns an OpenAI completion / chat request into an engine request (chat template, tokenization, default
// max_tokens, response_format grammar) and its engine deltas back into a response or an SSE stream. Knows
// nothing of HTTP, so it is testable on its own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/generate_service.h"
#include "server/chat_prompt.h"
#include "server/openai_protocol.h"
#include "server/openai_responses.h"

namespace strata {

class JsonGrammar;

struct StartedRequest {
  ParsedRequest parsed;
  ResponseContext ctx;
  std::shared_ptr<OutputStream> stream;
  int64_t prompt_tokens = 0;
};

// Summary of a finished request, for the one log line per request.
struct RequestSummary {
  std::string finish_reason;
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};

class CompletionService {
 public:
  // `engine` and `prompt` (the chat template and tokenizer) must outlive the service. Requests name
  // `model_name` (what responses say) or one of `aliases` (a Composition of Experts' own name) as "model".
  CompletionService(GenerateService& engine, const ChatPrompt& prompt, std::string model_name,
                    std::vector<std::string> aliases = {});

  // Validates, renders and tokenizes the prompt, and submits it. `extension` (an object, or null) is added to
  // every response object of the request.
  std::variant<StartedRequest, ApiError> Start(const std::string& body, bool chat,
                                               nlohmann::json extension = nullptr);
  // Waits for the whole answer. Returns the HTTP status and body.
  std::pair<int, nlohmann::json> Collect(StartedRequest& r, RequestSummary& summary);
  // Writes the SSE events (each "data: {...}\n\n", then "data: [DONE]\n\n"). When `write` fails the client
  // is gone: the request is aborted (its KV blocks freed) and false returned.
  bool Stream(StartedRequest& r, const std::function<bool(std::string_view)>& write, RequestSummary& summary);

  const std::string& model_name() const { return model_name_; }

 private:
  std::optional<ApiError> BuildPrompt(ParsedRequest& p) const;
  std::optional<ApiError> BuildGrammar(ParsedRequest& p);
  std::optional<ApiError> CheckContext(const ParsedRequest& p) const;
  std::optional<ApiError> CheckGrammarFits(const ParsedRequest& p) const;

  GenerateService& engine_;
  const ChatPrompt& prompt_;
  std::string model_name_;
  std::vector<std::string> aliases_;
  std::shared_ptr<const JsonGrammar> any_object_;
  int64_t longest_token_bytes_ = 1;
};

}  // namespace strata
