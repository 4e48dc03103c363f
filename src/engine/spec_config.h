// Speculative decoding's settings, as `run`, `serve` and `bench` take them (--draft-model, --spec,
// --spec-tokens, --spec-ngram-min/max).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "runtime/step_executor.h"

namespace strata {

class Tokenizer;

struct SpecConfig {
  enum class Method { kNone, kDraftModel, kNgram };
  Method method = Method::kNone;
  int32_t num_tokens = 5;     // most drafts per sequence and step (K)
  bool adaptive = true;       // K per sequence follows its acceptance (up to num_tokens)
  int32_t ngram_min = 2;      // prompt lookup: shortest and longest suffix matched
  int32_t ngram_max = 4;
  // kDraftModel: the draft model's executor and vocabulary (checked against the target's at engine creation).
  ExecutorSource draft;
  const Tokenizer* draft_tokenizer = nullptr;

  bool enabled() const { return method != Method::kNone; }
};

const char* SpecMethodName(SpecConfig::Method m);

}  // namespace strata
