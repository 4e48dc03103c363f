#include "cli/bench_spec.h"

#include <chrono>
#include <cstdio>

#include "core/log.h"
#include "engine/llm_engine.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Decode {
  double tps = 0;
  int64_t generated = 0;
  EngineMetrics::SpecCounts spec;
};

// One greedy request of `generate` tokens through an engine with `spec`; decode speed after the first token.
std::optional<Decode> DecodeOnce(const ExecutorSource& target, const Tokenizer& tok, const std::vector<int32_t>& prompt,
                                 int generate, const SpecConfig& spec) {
  EngineConfig config{.spec = spec};
  config.scheduler.max_num_seqs = 1;
  auto engine = LlmEngine::Create(target, tok, config);
  if (!engine.ok()) {
    spdlog::error("{}", engine.status().message());
    return std::nullopt;
  }
  GenerateRequest r{.id = "bench", .prompt = prompt, .max_tokens = generate, .ignore_eos = true};
  r.sampling.temperature = 0;
  if (Status st = (*engine)->Add(std::move(r)); !st.ok()) {
    spdlog::error("{}", st.message());
    return std::nullopt;
  }
  Decode d;
  Clock::time_point first{};
  while ((*engine)->has_work())
    for (const GenerateOutput& o : (*engine)->Step()) {
      if (o.finish_reason == FinishReason::kError) {
        spdlog::error("{}", o.error);
        return std::nullopt;
      }
      if (d.generated == 0 && !o.tokens.empty()) first = Clock::now();
      d.generated += static_cast<int64_t>(o.tokens.size());
    }
  const double s = std::chrono::duration<double>(Clock::now() - first).count();
  d.tps = d.generated > 1 && s > 0 ? static_cast<double>(d.generated - 1) / s : 0;
  d.spec = (*engine)->metrics().spec();
  return d;
}

}  // namespace

std::optional<SpecFigures> MeasureSpec(const SpecFlags& flags, const CompileFlags& compile, const ExecutorSource& target, const Tokenizer& tok,
                                       ThreadPool& pool, const std::string& prompt, int generate) {
  CompiledModel draft;
  SpecConfig spec;
  if (!PrepareSpec(flags, compile, pool, draft, spec)) return std::nullopt;
  const std::vector<int32_t> ids = tok.Encode(prompt, tok.add_bos());
  if (ids.empty() || static_cast<int64_t>(ids.size()) + generate > target.n_ctx) {
    spdlog::error("the prompt ({} tokens) and -n {} must fit the context of {}", ids.size(), generate, target.n_ctx);
    return std::nullopt;
  }
  spdlog::info("speculative decoding: {} prompt tokens, {} generated, without and then with {}", ids.size(), generate,
               SpecMethodName(spec.method));
  const auto plain = DecodeOnce(target, tok, ids, generate, {});
  if (!plain) return std::nullopt;
  const auto fast = DecodeOnce(target, tok, ids, generate, spec);
  if (!fast) return std::nullopt;
  return SpecFigures{.method = SpecMethodName(spec.method), .spec_tokens = spec.num_tokens,
                     .prompt_tokens = static_cast<int>(ids.size()), .generated = static_cast<int>(fast->generated),
                     .plain_tps = plain->tps, .spec_tps = fast->tps, .drafts = fast->spec.drafts,
                     .draft_tokens = fast->spec.draft_tokens, .accepted = fast->spec.accepted_tokens};
}

void AddSpecJson(const SpecFigures& f, nlohmann::ordered_json& j) {
  j["spec_method"] = f.method;
  j["spec_tokens"] = f.spec_tokens;
  j["spec_prompt_tokens"] = f.prompt_tokens;
  j["spec_generated"] = f.generated;
  j["engine_tg_tps"] = f.plain_tps;
  j["spec_tg_tps"] = f.spec_tps;
  j["spec_speedup"] = f.plain_tps > 0 ? f.spec_tps / f.plain_tps : 0;
  j["spec_drafts"] = f.drafts;
  j["spec_draft_tokens"] = f.draft_tokens;
  j["spec_accepted_tokens"] = f.accepted;
  j["spec_acceptance"] = f.acceptance();
  j["spec_mean_accepted_length"] = f.mean_accepted_length();
}

void PrintSpecText(const SpecFigures& f) {
  std::printf("speculative decoding (%s, up to %d drafts), %d prompt tokens, %d generated:\n", f.method.c_str(),
              f.spec_tokens, f.prompt_tokens, f.generated);
  std::printf("  decode %7.2f tok/s without, %7.2f tok/s with (%.2fx); acceptance %.1f%%, %.2f tokens a step\n",
              f.plain_tps, f.spec_tps, f.plain_tps > 0 ? f.spec_tps / f.plain_tps : 0.0, 100 * f.acceptance(),
              f.mean_accepted_length());
}

}  // namespace strata::cli
