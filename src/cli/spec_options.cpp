#include "cli/spec_options.h"

#include "core/log.h"
#include "runtime/model_runner.h"

namespace strata::cli {

void AddSpecFlags(CLI::App* cmd, SpecFlags& f) {
  cmd->add_option("--draft-model", f.draft_model,
                  "speculative decoding with this draft model (GGUF or folder; the target's vocabulary)")
      ->check(CLI::ExistingPath);
  cmd->add_option("--spec", f.method, "speculative decoding method: ngram (prompt lookup) or draft (--draft-model)")
      ->check(CLI::IsMember({"ngram", "draft"}));
  cmd->add_option("--spec-tokens", f.tokens, "most drafted tokens per step (K)")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--spec-ngram-min", f.ngram_min, "prompt lookup: shortest suffix matched")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--spec-ngram-max", f.ngram_max, "prompt lookup: longest suffix matched")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_flag("--spec-fixed-k", f.fixed_k, "always draft --spec-tokens tokens (no adaptation to the acceptance)");
}

bool PrepareSpec(const SpecFlags& f, const CompileFlags& target, ThreadPool& pool, CompiledModel& draft,
                 SpecConfig& out) {
  out = SpecConfig{};
  if (!f.enabled()) return true;
  const bool ngram = f.method == "ngram";
  if (ngram && !f.draft_model.empty()) {
    spdlog::error("--spec ngram drafts from the text: it takes no --draft-model");
    return false;
  }
  if (!ngram && f.draft_model.empty()) {
    spdlog::error("--spec draft needs --draft-model FILE");
    return false;
  }
  if (f.ngram_min > f.ngram_max) {
    spdlog::error("--spec-ngram-min {} exceeds --spec-ngram-max {}", f.ngram_min, f.ngram_max);
    return false;
  }
  out.method = ngram ? SpecConfig::Method::kNgram : SpecConfig::Method::kDraftModel;
  out.num_tokens = f.tokens;
  out.adaptive = !f.fixed_k;
  out.ngram_min = f.ngram_min;
  out.ngram_max = f.ngram_max;
  if (ngram) return true;
  spdlog::info("loading the draft model {}", f.draft_model);
  if (!LoadAndCompile(f.draft_model, CompileFlags{.kv_dtype = target.kv_dtype}, draft)) return false;
  out.draft = {draft.plan().kv.n_ctx, ModelRunner::KvBytesPerToken(draft.ranks), ModelRunner::Factory(draft.ranks, pool)};
  out.draft_tokenizer = &draft.model->tokenizer();
  return true;
}

}  // namespace strata::cli
