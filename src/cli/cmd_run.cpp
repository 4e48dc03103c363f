// `strata run`: generate a continuation of a prompt, streamed to stdout token by token.
#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "cli/parallel_launch.h"
#include "cli/spec_options.h"
#include "core/log.h"
#include "runtime/cpu_executor.h"
#include "engine/llm_engine.h"
#include "engine/sampler.h"
#include "runtime/profiler.h"

namespace strata::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string prompt;
  int n_predict = 32;
  int threads = 0;
  int64_t ctx = 0;
  int batch = 512;
  float temp = 0.0f;
  int top_k = 0;
  float top_p = 1.0f;
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  uint64_t seed = 0;
  bool ignore_eos = false;
  CompileFlags compile;
  SpecFlags spec;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Prefill in chunks of at most `batch` tokens; returns the logits of the last prompt position.
Result<Logits> Prefill(CpuExecutor& exec, const std::vector<int32_t>& ids, int batch) {
  Logits logits;
  for (size_t i = 0; i < ids.size(); i += static_cast<size_t>(batch)) {
    const size_t n = std::min(ids.size() - i, static_cast<size_t>(batch));
    STRATA_ASSIGN_OR_RETURN(logits, exec.Forward(std::span(ids).subspan(i, n), false));
  }
  return logits;
}

int Generate(const RunOptions& o, const Tokenizer& tok, CpuExecutor& exec, int threads) {
  const std::vector<int32_t> ids = tok.Encode(o.prompt, tok.add_bos());
  if (ids.empty()) {
    spdlog::error("the prompt is empty and the model adds no BOS token: nothing to run");
    return 1;
  }
  spdlog::info("prompt: {} tokens, {} threads, context {}", ids.size(), threads, exec.n_ctx());

  auto t0 = std::chrono::steady_clock::now();
  auto logits = Prefill(exec, ids, std::max(1, o.batch));
  if (!logits.ok()) {
    spdlog::error("{}", logits.status().message());
    return 1;
  }
  const double prefill_s = Seconds(t0);

  SamplingParams params{.temperature = o.temp, .top_k = o.top_k, .top_p = o.top_p, .min_p = o.min_p,
                        .repetition_penalty = o.repeat_penalty, .seed = o.seed};
  if (Status st = ValidateSamplingParams(params); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  Sampler sampler(params);
  std::vector<int32_t> out_ids;
  auto sample = [&](const Logits& l) {
    TraceScope scope(Track::kHost, 0, "sample");
    const int32_t t = sampler.Sample(std::span(l.last(), static_cast<size_t>(l.n_vocab)), ids, out_ids).token;
    out_ids.push_back(t);
    return t;
  };
  Utf8StreamDecoder text;
  int generated = 0;
  t0 = std::chrono::steady_clock::now();
  int32_t next = sample(*logits);
  while (generated < o.n_predict) {
    if (next == tok.eos_id() && !o.ignore_eos) break;
    ++generated;
    std::fputs(text.Push(tok.TokenBytes(next)).c_str(), stdout);
    std::fflush(stdout);
    if (generated == o.n_predict) break;
    if (exec.n_past() >= exec.n_ctx()) {
      spdlog::warn("context of {} tokens is full; stopping", exec.n_ctx());
      break;
    }
    const int32_t one[1] = {next};
    auto step = exec.Forward(one, false);
    if (!step.ok()) {
      spdlog::error("{}", step.status().message());
      return 1;
    }
    next = sample(*step);
  }
  std::fputs(text.Flush().c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double decode_s = Seconds(t0);
  spdlog::info("prompt: {} tokens in {:.3f} s ({:.1f} tok/s); decode: {} tokens in {:.3f} s ({:.1f} tok/s)", ids.size(),
               prefill_s, ids.size() / prefill_s, generated, decode_s, generated > 1 ? (generated - 1) / decode_s : 0.0);
  return 0;
}

// With speculative decoding: the one request through the engine, which drafts and verifies.
int GenerateSpeculative(const RunOptions& o, const Tokenizer& tok, ExecutorSource target, const SpecConfig& spec,
                        int threads) {
  EngineConfig config{.max_model_len = o.ctx, .spec = spec};
  config.scheduler.max_num_seqs = 1;
  config.scheduler.max_num_batched_tokens = std::max(1, o.batch) + spec.num_tokens;
  auto engine = LlmEngine::Create(std::move(target), tok, config);
  if (!engine.ok()) {
    spdlog::error("{}", engine.status().message());
    return 1;
  }
  GenerateRequest r{.id = "run", .prompt = tok.Encode(o.prompt, tok.add_bos()), .max_tokens = o.n_predict,
                    .ignore_eos = o.ignore_eos};
  r.sampling = {.temperature = o.temp, .top_k = o.top_k, .top_p = o.top_p, .min_p = o.min_p,
                .repetition_penalty = o.repeat_penalty, .seed = o.seed};
  spdlog::info("prompt: {} tokens, {} threads, context {}", r.prompt.size(), threads, (*engine)->max_model_len());
  if (Status st = (*engine)->Add(std::move(r)); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point first{};
  int64_t generated = 0;
  while ((*engine)->has_work())
    for (const GenerateOutput& d : (*engine)->Step()) {
      if (d.finish_reason == FinishReason::kError) {
        spdlog::error("{}", d.error);
        return 1;
      }
      if (generated == 0 && !d.tokens.empty()) first = std::chrono::steady_clock::now();
      generated += static_cast<int64_t>(d.tokens.size());
      std::fputs(d.text.c_str(), stdout);
      std::fflush(stdout);
    }
  std::fputc('\n', stdout);
  std::fflush(stdout);
  const double decode_s = Seconds(first);
  const EngineMetrics::SpecCounts c = (*engine)->metrics().spec();
  spdlog::info("prompt and first token in {:.3f} s; decode: {} tokens in {:.3f} s ({:.1f} tok/s)",
               std::chrono::duration<double>(first - t0).count(), generated, decode_s,
               generated > 1 ? (generated - 1) / decode_s : 0.0);
  spdlog::info("speculative decoding ({}): {} verification steps, {} drafted, {} accepted ({:.1f}%), {:.2f} tokens a step",
               (*engine)->spec_method(), c.drafts, c.draft_tokens, c.accepted_tokens,
               c.draft_tokens ? 100.0 * c.accepted_tokens / c.draft_tokens : 0.0,
               c.drafts ? 1.0 + static_cast<double>(c.accepted_tokens) / c.drafts : 0.0);
  return 0;
}

// Alone, or as one rank of an mpirun job (rank 0 generates; the others run their shard of each step).
int Run(const RunOptions& o) {
  return RunAsRank(o.model, o.compile, o.threads, [&](ParallelLaunch& launch, const CompiledModel& compiled, ThreadPool& pool) {
    if (o.spec.enabled()) {
      CompiledModel draft;
      SpecConfig spec;
      if (!PrepareSpec(o.spec, o.compile, pool, draft, spec)) return 1;
      ExecutorSource target{compiled.plan().kv.n_ctx, launch.KvBytesPerToken(compiled), launch.Factory(compiled, pool)};
      return GenerateSpeculative(o, compiled.model->tokenizer(), std::move(target), spec, pool.size());
    }
    CpuExecutor exec(launch.Factory(compiled, pool), o.ctx > 0 ? o.ctx : compiled.plan().kv.n_ctx);
    return Generate(o, compiled.model->tokenizer(), exec, pool.size());
  });  // the executor, gone before RunAsRank returns, has told the other ranks to stop
}

}  // namespace

void RegisterRun(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate a continuation of a prompt (streamed to stdout)");
  cmd->add_option("-m,--model", opts->model, "GGUF model file or Hugging Face model folder")->required();
  cmd->add_option("-p,--prompt", opts->prompt, "prompt text (not echoed)");
  cmd->add_option("-n,--n-predict", opts->n_predict, "tokens to generate")->check(CLI::NonNegativeNumber);
  cmd->add_option("-t,--threads", opts->threads, "compute threads (0: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", opts->ctx, "context length (0: the model's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-size", opts->batch, "prompt tokens per forward step")->check(CLI::PositiveNumber);
  cmd->add_option("--temp", opts->temp, "sampling temperature (0: greedy)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", opts->top_k, "keep the k most likely tokens (0: all)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", opts->top_p, "nucleus sampling threshold")->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--min-p", opts->min_p, "drop tokens below min-p times the top probability")->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--repeat-penalty", opts->repeat_penalty, "repetition penalty over prompt and output (1: off)");
  cmd->add_option("--seed", opts->seed, "random seed for sampling");
  cmd->add_flag("--ignore-eos", opts->ignore_eos, "keep generating after the end-of-sequence token");
  AddCompileFlags(cmd, opts->compile);
  AddSpecFlags(cmd, opts->spec);
  cmd->callback([opts, &exit_code] { exit_code = Run(*opts); });
}

}  // namespace strata::cli
