// `strata bench -m FILE`: prompt processing and decode speed of one model on this machine, next to what the
// roofline allows (weights and KV bytes read per token over the measured memory bandwidth) and what the cost
// model predicted for the same plan.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_loading.h"
#include "compiler/cost_model.h"
#include "core/log.h"
#include "runtime/cpu_executor.h"
#include "runtime/machine_probe.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchModelOptions {
  std::string model;
  int prompt = 512;
  int generate = 128;
  int threads = 0;
  int batch = 512;
  bool json = false;
  CompileFlags compile;
};

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Measured {
  double pp_s = 0, tg_s = 0;
  int prompt = 0, generated = 0;
};

Result<Measured> Measure(CpuExecutor& exec, int prompt, int generate, int batch, int64_t n_vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; ++i) ids[static_cast<size_t>(i)] = 3 + static_cast<int32_t>((i * 7919) % (n_vocab - 3));
  {  // warm-up: first touches of weights and arena
    const int32_t warm[4] = {ids[0], ids[1 % prompt], ids[2 % prompt], ids[3 % prompt]};
    STRATA_RETURN_IF_ERROR(exec.Forward(std::span(warm, static_cast<size_t>(std::min(prompt, 4))), false).status());
    exec.Reset();
  }
  Measured m{.prompt = prompt};
  auto t = Clock::now();
  Logits logits;
  for (int i = 0; i < prompt; i += batch) {
    const int n = std::min(batch, prompt - i);
    STRATA_ASSIGN_OR_RETURN(logits, exec.Forward(std::span(ids).subspan(static_cast<size_t>(i), static_cast<size_t>(n)), false));
  }
  m.pp_s = Since(t);
  t = Clock::now();
  for (; m.generated < generate; ++m.generated) {
    const int32_t next = static_cast<int32_t>(std::max_element(logits.last(), logits.last() + n_vocab) - logits.last());
    const int32_t one[1] = {next};
    STRATA_ASSIGN_OR_RETURN(logits, exec.Forward(one, false));
  }
  m.tg_s = Since(t);
  return m;
}

int BenchModel(BenchModelOptions o) {
  CompiledModel compiled;
  if (!LoadAndCompile(o.model, o.compile, compiled)) return 1;
  const ir::Plan& plan = compiled.plan();
  if (o.prompt < 1 || o.generate < 1) {
    spdlog::error("-p and -n must be at least 1");
    return 1;
  }
  if (o.prompt + o.generate > plan.kv.n_ctx) {
    const int fit = static_cast<int>(plan.kv.n_ctx);
    o.generate = std::min(o.generate, fit / 2);
    o.prompt = fit - o.generate;
    spdlog::warn("context {} is shorter than -p + -n: measuring -p {} -n {}", fit, o.prompt, o.generate);
  }
  ThreadPool pool(o.threads);
  const MachineRates rates = ProbeMachine(pool);
  CpuExecutor exec(compiled.ranks, pool, o.prompt + o.generate);
  const int64_t n_vocab = plan.node(plan.output).shape.back();
  Measured m;
  {
    TraceSession trace(o.compile.trace);
    auto r = Measure(exec, o.prompt, o.generate, std::max(1, o.batch), n_vocab);
    if (!r.ok()) {
      spdlog::error("{}", r.status().message());
      return 1;
    }
    m = *r;
  }
  // Predictions for the same steps: decode at the mean context of the run, prefill in its chunks.
  double decode_pred = 0, prefill_pred = 0;
  int64_t bytes_per_token = 0;
  for (const ir::Plan& rank : compiled.ranks) {
    const ir::PlanCost dc = ir::EstimatePlanCost(rank, {1, 1, o.prompt + o.generate / 2}, rates.bandwidth_gbs, rates.gflops);
    decode_pred = std::max(decode_pred, dc.total_seconds);  // ranks run concurrently
    bytes_per_token += dc.total_bytes;
    for (int i = 0; i < o.prompt; i += o.batch) {
      const int64_t n = std::min(o.batch, o.prompt - i);
      if (rank.parallel.rank == 0)
        prefill_pred += ir::EstimatePlanCost(rank, {n, 1, i + n}, rates.bandwidth_gbs, rates.gflops).total_seconds;
    }
  }
  const double pp_tps = m.prompt / m.pp_s, tg_tps = m.generated / m.tg_s;
  const double roofline_tps = rates.bandwidth_gbs * 1e9 / static_cast<double>(bytes_per_token);
  if (o.json) {
    nlohmann::ordered_json j = {{"model", o.model}, {"threads", pool.size()}, {"tp", o.compile.tp},
                                {"passes", o.compile.passes}, {"prompt", m.prompt}, {"generated", m.generated},
                                {"pp_tps", pp_tps}, {"tg_tps", tg_tps}, {"bytes_per_token", bytes_per_token},
                                {"bandwidth_gbs", rates.bandwidth_gbs}, {"gflops", rates.gflops},
                                {"roofline_pct", 100 * tg_tps / roofline_tps},
                                {"predicted_ms_per_token", decode_pred * 1e3}, {"measured_ms_per_token", 1e3 / tg_tps},
                                {"predicted_prefill_ms", prefill_pred * 1e3}, {"measured_prefill_ms", m.pp_s * 1e3}};
    std::puts(j.dump().c_str());
    return 0;
  }
  std::printf("model %s, %d threads, tp %d, passes %s\n", o.model.c_str(), pool.size(), o.compile.tp, o.compile.passes.c_str());
  std::printf("machine: %.1f GB/s read bandwidth, %.1f GFLOP/s F32 matmul (measured now)\n", rates.bandwidth_gbs, rates.gflops);
  std::printf("prompt  %4d tokens: %9.1f tok/s   %8.2f ms measured, %8.2f ms predicted (%.2fx)\n", m.prompt, pp_tps,
              m.pp_s * 1e3, prefill_pred * 1e3, prefill_pred > 0 ? m.pp_s / prefill_pred : 0.0);
  std::printf("decode  %4d tokens: %9.1f tok/s   %8.3f ms/token measured, %8.3f ms/token predicted (%.2fx)\n",
              m.generated, tg_tps, 1e3 / tg_tps, decode_pred * 1e3, decode_pred > 0 ? (1.0 / tg_tps) / decode_pred : 0.0);
  std::printf("roofline: %.2f MB read per decoded token -> %.1f tok/s at the measured bandwidth; reached %.1f%%\n",
              static_cast<double>(bytes_per_token) / 1e6, roofline_tps, 100 * tg_tps / roofline_tps);
  return 0;
}

}  // namespace

void AddBenchModel(CLI::App* bench, int& exit_code) {
  auto o = std::make_shared<BenchModelOptions>();
  bench->add_option("-m,--model", o->model, "GGUF model file to benchmark (without a subcommand)");
  bench->add_option("-p,--n-prompt", o->prompt, "prompt tokens")->capture_default_str();
  bench->add_option("-n,--n-gen", o->generate, "tokens to decode")->capture_default_str();
  bench->add_option("-t,--threads", o->threads, "compute threads (0: all cores)");
  bench->add_option("-b,--batch-size", o->batch, "prompt tokens per forward step")->capture_default_str();
  bench->add_flag("--json", o->json, "print one JSON line instead of the table");
  AddCompileFlags(bench, o->compile);
  bench->callback([bench, o, &exit_code] {
    if (!bench->get_subcommands().empty()) return;
    if (o->model.empty()) {
      spdlog::error("strata bench: give -m FILE, or the subcommand serve");
      exit_code = 2;
      return;
    }
    exit_code = BenchModel(*o);
  });
}

}  // namespace strata::cli
