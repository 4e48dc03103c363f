// What a client asks the engine for, and what comes back: a request with its sampling options, and the
// stream of deltas (new tokens and text) that ends with a finish reason.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/sampler.h"

namespace strata {

class JsonGrammar;

enum class FinishReason { kNone, kStop, kLength, kAbort, kError };
// OpenAI's spelling: "stop", "length", "abort", "error" (and "" for none).
const char* FinishReasonName(FinishReason r);

struct GenerateRequest {
  std::string id;
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int64_t max_tokens = 16;
  std::vector<std::string> stop;          // stop strings, cut from the output
  std::vector<int32_t> stop_token_ids;    // besides EOS
  bool ignore_eos = false;
  std::shared_ptr<const JsonGrammar> grammar;  // structured output; null for free text
};

struct GenerateOutput {
  std::string id;
  std::string text;                    // new text since the previous delta
  std::vector<int32_t> tokens;         // new tokens
  std::vector<SampleResult> logprobs;  // one per new token when logprobs were asked for
  bool finished = false;
  FinishReason finish_reason = FinishReason::kNone;
  std::string error;                   // for kError
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;           // prompt tokens served from the prefix cache
};

}  // namespace strata
