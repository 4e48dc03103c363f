// OpenAI response bodies: whole completions, streaming chunks, usage and logprobs, for both the completions
// and the chat completions API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"
#include "model/tokenizer.h"

namespace strata {

// What every response of one request shares.
struct ResponseContext {
  std::string id;
  std::string model;
  int64_t created = 0;
  bool chat = false;
  bool logprobs = false;
  const Tokenizer* tokenizer = nullptr;
  // vLLM's return_tokens_as_token_ids: every token in logprobs is "token_id:N" (and, in chat, its bytes those
  // of that string, as vLLM gives them), so a client can tell tokens apart that decode to the same text.
  bool tokens_as_ids = false;
  // Extension fields every response object of the request carries at its top level (a Composition of
  // Experts' routing decision), or null.
  nlohmann::json extension;
};

// Accumulates a non-streamed response from the engine's deltas.
struct Accumulated {
  std::string text;
  std::vector<SampleResult> logprobs;
  GenerateOutput last;
};

nlohmann::json UsageJson(const GenerateOutput& final_delta);
nlohmann::json FullResponse(const ResponseContext& ctx, const Accumulated& acc);
// A streaming chunk carrying `delta` (text, logprobs, finish reason when finished).
nlohmann::json ChunkJson(const ResponseContext& ctx, const GenerateOutput& delta);
// The first chat chunk: {"role": "assistant", "content": ""}.
nlohmann::json ChatRoleChunk(const ResponseContext& ctx);
// The last chunk when usage was asked for: no choices, just usage.
nlohmann::json UsageChunk(const ResponseContext& ctx, const GenerateOutput& final_delta);
// JSON text for the wire: invalid UTF-8 (a lone byte token) is replaced, never thrown on.
std::string Dump(const nlohmann::json& j);

}  // namespace strata
