// Speculative decoding's command-line flags, shared by `run`, `serve` and `bench`: --draft-model FILE or
// --spec ngram, --spec-tokens K, --spec-ngram-min/max, --spec-fixed-k.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "cli/model_loading.h"
#include "core/thread_pool.h"
#include "engine/spec_config.h"

namespace strata::cli {

struct SpecFlags {
  std::string draft_model;
  std::string method;  // "", "ngram" or "draft"
  int tokens = 5;
  int ngram_min = 2;
  int ngram_max = 4;
  bool fixed_k = false;
  bool enabled() const { return !draft_model.empty() || !method.empty(); }
};

void AddSpecFlags(CLI::App* cmd, SpecFlags& flags);

// The settings the flags name. With a draft model, loads and compiles it into `draft` (which must outlive
// the engine; it runs on `pool`). On a bad flag or model logs why and returns false.
// The draft's KV cache takes the target's type (`target`'s --kv-dtype).
bool PrepareSpec(const SpecFlags& flags, const CompileFlags& target, ThreadPool& pool, CompiledModel& draft,
                 SpecConfig& out);

}  // namespace strata::cli
