// `strata bench -m TARGET` with speculative decoding flags: one greedy request through the engine without and
// then with speculation, on the same prompt (text, so that a draft or prompt lookup has something real to
// agree with), decode speed of each and what the drafts achieved.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/spec_options.h"
#include "core/thread_pool.h"
#include "model/tokenizer.h"
#include "runtime/step_executor.h"

namespace strata::cli {

struct SpecFigures {
  std::string method;
  int spec_tokens = 0;
  int prompt_tokens = 0, generated = 0;
  double plain_tps = 0, spec_tps = 0;  // decode tok/s, from the first token to the last
  int64_t drafts = 0, draft_tokens = 0, accepted = 0;
  double acceptance() const { return draft_tokens ? static_cast<double>(accepted) / draft_tokens : 0; }
  // Tokens each verification step produced: the accepted drafts plus the target's own.
  double mean_accepted_length() const { return drafts ? 1.0 + static_cast<double>(accepted) / drafts : 0; }
};

// `target` makes the target's executors (called twice); `prompt` is the text to continue.
std::optional<SpecFigures> MeasureSpec(const SpecFlags& flags, const CompileFlags& compile, const ExecutorSource& target, const Tokenizer& tok,
                                       ThreadPool& pool, const std::string& prompt, int generate);

void AddSpecJson(const SpecFigures& f, nlohmann::ordered_json& j);
void PrintSpecText(const SpecFigures& f);

}  // namespace strata::cli
