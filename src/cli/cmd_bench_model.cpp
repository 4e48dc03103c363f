// `strata bench -m FILE`: prompt processing and decode speed of one model on this machine, next to what the
// roofline allows (weights and KV bytes read per token over the measured memory bandwidth) and what the cost
// model predicted for the same plan; with --llama-cpp DIR, also llama.cpp's speed on the same file and the ratios.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include <nlohmann/json.hpp>

#include "cli/bench_spec.h"
#include "cli/commands.h"
#include "cli/llama_cpp_runner.h"
#include "cli/parallel_launch.h"
#include "cli/model_loading.h"
#include "compiler/cost_model.h"
#include "core/log.h"
#include "runtime/cpu_executor.h"
#include "runtime/packed_weights.h"
#include "runtime/kernels/matmul.h"
#include "runtime/kernels/quant_matmul.h"
#include "runtime/cost_probe.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchCommandOptions {
  std::string model;
  int prompt = 512;
  int generate = 128;
  int threads = 0;
  int batch = 512;
  int reps = 1;  // runs of prefill + decode; the fastest of each is reported
  bool json = false;
  CompileFlags compile;
  std::string llama_cpp;                  // node-llama-cpp install of bench/llama_cpp/setup.sh, "" = off
  std::string llama_cpp_threads = "1,2";  // llama.cpp is measured at each; the best counts
  SpecFlags spec;                         // speculative decoding, measured besides when given
  std::string prompt_text;                // its prompt (text), or --prompt-file
  std::string prompt_file;
};

const char* kDefaultSpecPrompt =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";

// The integer (8-bit activation) matmul's instruction set, "none" when it is off (STRATA_FLOAT_ACTIVATIONS=1).
const char* IntegerPath() {
  return kernels::QuantizedActivationsEnabled() ? kernels::QuantIsaName(kernels::ActiveQuantIsa()) : "none";
}

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Measured {
  double pp_s = 0, tg_s = 0;
  int prompt = 0, generated = 0;
};

// Prefill of `prompt` tokens, then `generate` greedy decode steps, `reps` times from an empty cache: the fastest
// prefill and the fastest decode (the cost model's probes take their best too; a shared machine's noise only
// ever adds time).
Result<Measured> Measure(CpuExecutor& exec, int prompt, int generate, int batch, int reps, int64_t n_vocab) {
  std::vector<int32_t> ids(static_cast<size_t>(prompt));
  for (int i = 0; i < prompt; ++i) ids[static_cast<size_t>(i)] = 3 + static_cast<int32_t>((i * 7919) % (n_vocab - 3));
  {  // warm-up: first touches of weights and arena
    const int32_t warm[4] = {ids[0], ids[1 % prompt], ids[2 % prompt], ids[3 % prompt]};
    STRATA_RETURN_IF_ERROR(exec.Forward(std::span(warm, static_cast<size_t>(std::min(prompt, 4))), false).status());
  }
  Measured best{.pp_s = INFINITY, .tg_s = INFINITY, .prompt = prompt, .generated = generate};
  for (int rep = 0; rep < reps; ++rep) {
    exec.Reset();
    auto t = Clock::now();
    Logits logits;
    for (int i = 0; i < prompt; i += batch) {
      const int n = std::min(batch, prompt - i);
      STRATA_ASSIGN_OR_RETURN(logits, exec.Forward(std::span(ids).subspan(static_cast<size_t>(i), static_cast<size_t>(n)), false));
    }
    best.pp_s = std::min(best.pp_s, Since(t));
    t = Clock::now();
    for (int generated = 0; generated < generate; ++generated) {
      const int32_t next = static_cast<int32_t>(std::max_element(logits.last(), logits.last() + n_vocab) - logits.last());
      const int32_t one[1] = {next};
      STRATA_ASSIGN_OR_RETURN(logits, exec.Forward(one, false));
    }
    best.tg_s = std::min(best.tg_s, Since(t));
  }
  return best;
}

// What one run found: Strata's measurement, the cost model's predictions and, with --llama-cpp, llama.cpp's.
struct Report {
  Measured m;
  int threads = 0;    // per process
  int processes = 1;  // under mpirun, one per rank
  ir::CostRates rates;  // the cost model's, measured on this plan's kernels
  double pp_tps = 0, tg_tps = 0, roofline_tps = 0;
  double decode_pred = 0, prefill_pred = 0;  // seconds
  int64_t bytes_per_token = 0;
  int64_t kv_bytes_per_token = 0;  // KV cache bytes one token takes (all ranks)
  int64_t rss_after_load = 0;      // resident bytes once the model is loaded, compiled and packed
  int64_t file_bytes = 0;
  std::optional<LlamaCppFigures> llama;
  std::string llama_error;
  std::optional<SpecFigures> spec;
};

// The cost model's predictions for the same steps: decode at the mean context of the run, prefill in its chunks.
void Predict(const CompiledModel& compiled, int batch, Report& r) {
  const int prompt = r.m.prompt, generated = r.m.generated;
  for (const ir::Plan& rank : compiled.ranks) {
    const ir::PlanCost dc =
        ir::EstimatePlanCost(rank, {1, 1, prompt + generated / 2}, r.rates);
    r.decode_pred = std::max(r.decode_pred, dc.total_seconds);  // ranks run concurrently
    r.bytes_per_token += dc.total_bytes;
    for (int i = 0; i < prompt && rank.parallel.rank == 0; i += batch) {
      const int64_t n = std::min(batch, prompt - i);
      r.prefill_pred += ir::EstimatePlanCost(rank, {n, 1, i + n}, r.rates).total_seconds;
    }
  }
  r.pp_tps = prompt / r.m.pp_s;
  r.tg_tps = generated / r.m.tg_s;
  r.roofline_tps = r.rates.bandwidth_gbs * 1e9 / static_cast<double>(r.bytes_per_token);
}

// VmRSS of this process, from /proc (0 where there is none).
int64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return 0;
}

// The CPU's model name, from /proc/cpuinfo ("" where there is none): figures name the machine they came from.
std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) return line.substr(line.find(':') + 2);
  return "";
}

// The model's bytes on disk: the file, or a folder's files together.
int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec)) return static_cast<int64_t>(std::filesystem::file_size(path, ec));
  int64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(path, ec))
    if (e.is_regular_file(ec)) total += static_cast<int64_t>(e.file_size(ec));
  return total;
}

std::string ReadPromptFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Loads, compiles and measures Strata; the model, executor and thread pool are gone when it returns, so that
// llama.cpp, measured next, has the cores and the memory to itself.
// Under mpirun a worker rank serves rank 0's steps instead, and sets `worker_exit`.
std::optional<Report> MeasureStrata(BenchCommandOptions& o, ParallelLaunch& launch, std::optional<int>& worker_exit) {
  CompiledModel compiled;
  if (!launch.LoadAndCompile(o.model, o.compile, compiled)) return std::nullopt;
  const ir::Plan& plan = compiled.plan();
  if (o.prompt + o.generate > plan.kv.n_ctx) {
    const int fit = static_cast<int>(plan.kv.n_ctx);
    o.generate = std::min(o.generate, fit / 2);
    o.prompt = fit - o.generate;
    spdlog::warn("context {} is shorter than -p + -n: measuring -p {} -n {}", fit, o.prompt, o.generate);
  }
  ThreadPool pool(launch.Threads(o.threads));
  if (launch.worker()) {
    launch.StartTrace(o.compile.trace);
    worker_exit = launch.RunWorker(compiled, pool);
    return std::nullopt;
  }
  Report r{.threads = pool.size(), .processes = launch.processes()};
  CpuExecutor exec(launch.Factory(compiled, pool), o.prompt + o.generate);
  r.rss_after_load = ResidentBytes();  // before the probes: their buffers (and the kernels' grown scratch) are not the model's
  r.rates = ProbeCostRates(plan, pool, o.prompt);
  r.file_bytes = FileBytes(o.model);
  const int64_t n_vocab = plan.node(plan.output).shape.back();
  launch.StartTrace(o.compile.trace);  // written by launch.Finish (every rank's, under mpirun)
  auto m = Measure(exec, o.prompt, o.generate, o.batch, o.reps, n_vocab);
  if (!m.ok()) {
    spdlog::error("{}", m.status().message());
    return std::nullopt;
  }
  r.m = *m;
  r.rates = ir::FasterOf(r.rates, ProbeCostRates(plan, pool, o.prompt));  // best probe against the best runs
  r.kv_bytes_per_token = launch.KvBytesPerToken(compiled);
  Predict(compiled, o.batch, r);
  if (o.spec.enabled()) {
    if (launch.distributed()) {
      spdlog::error("speculative decoding is measured in a single process, not under mpirun");
      return std::nullopt;
    }
    std::string prompt = o.prompt_file.empty() ? o.prompt_text : ReadPromptFile(o.prompt_file);
    if (prompt.empty()) prompt = kDefaultSpecPrompt;
    ExecutorSource target{plan.kv.n_ctx, launch.KvBytesPerToken(compiled), launch.Factory(compiled, pool)};
    r.spec = MeasureSpec(o.spec, o.compile, target, compiled.model->tokenizer(), pool, prompt, o.generate);
    if (!r.spec) return std::nullopt;
  }
  return r;
}

// llama.cpp on the same file, prompt and decode lengths, at each of --llama-cpp-threads.
void MeasureLlamaCpp(const BenchCommandOptions& o, const std::vector<int>& threads, Report& r) {
  spdlog::info("measuring llama.cpp ({}) at {} thread count(s)", o.llama_cpp, threads.size());
  auto f = BenchLlamaCpp({.dir = o.llama_cpp, .model = o.model, .prompt = r.m.prompt, .generate = r.m.generated,
                          .batch = o.batch, .threads = threads});
  if (f.ok()) r.llama = std::move(*f);
  else r.llama_error = f.status().message();
}

// The kernels' measured rates the predictions used: per weight dtype, attention, one dispatch.
nlohmann::ordered_json RatesJson(const ir::CostRates& c) {
  nlohmann::ordered_json j = {{"attention_gbs", c.attention_gbs}, {"attention_gflops", c.attention_gflops},
                              {"attention_row_ns", c.attention_row_seconds * 1e9},
                              {"op_us", c.op_seconds * 1e6}};
  for (const auto& [t, v] : c.gemv_gbs) j["gemv_gbs"][Name(t)] = v;
  for (const auto& [t, v] : c.gemm_gflops) j["gemm_gflops"][Name(t)] = v;
  return j;
}

std::string RatesText(const ir::CostRates& c) {
  std::string out;
  char part[160];
  for (const auto& [t, v] : c.gemv_gbs) {
    const auto g = c.gemm_gflops.find(t);
    std::snprintf(part, sizeof part, "%s GEMV %.1f GB/s, GEMM %.0f GFLOP/s; ", Name(t), v,
                  g != c.gemm_gflops.end() ? g->second : 0.0);
    out += part;
  }
  std::snprintf(part, sizeof part, "attention %.1f GB/s (decode), %.0f GFLOP/s + %.0f ns a row and head (prefill); %.1f us a dispatch",
                c.attention_gbs, c.attention_gflops, c.attention_row_seconds * 1e9, c.op_seconds * 1e6);
  return out + part;
}

void PrintJson(const BenchCommandOptions& o, const Report& r) {
  nlohmann::ordered_json j = {{"model", o.model}, {"threads", r.threads}, {"tp", o.compile.tp},
                              {"processes", r.processes},
                              {"passes", o.compile.passes}, {"kv_dtype", o.compile.kv_dtype},
                              {"cpu", CpuName()}, {"isa", IntegerPath()},
                              {"matmul_isa", kernels::MatMulIsa()},
                              {"kv_bytes_per_token", r.kv_bytes_per_token},
                              {"file_bytes", r.file_bytes}, {"rss_after_load", r.rss_after_load}, {"prompt", r.m.prompt}, {"generated", r.m.generated},
                              {"pp_tps", r.pp_tps}, {"tg_tps", r.tg_tps}, {"bytes_per_token", r.bytes_per_token},
                              {"bandwidth_gbs", r.rates.bandwidth_gbs}, {"gflops", r.rates.gflops},
                              {"kernel_rates", RatesJson(r.rates)},
                              {"roofline_tps", r.roofline_tps}, {"roofline_pct", 100 * r.tg_tps / r.roofline_tps},
                              {"predicted_ms_per_token", r.decode_pred * 1e3}, {"measured_ms_per_token", 1e3 / r.tg_tps},
                              {"predicted_prefill_ms", r.prefill_pred * 1e3}, {"measured_prefill_ms", r.m.pp_s * 1e3}};
  if (r.llama) {
    const LlamaCppFigures& l = *r.llama;
    j["llama_version"] = l.version;
    j["llama_pp_tps"] = l.best_pp.pp_tps;
    j["llama_tg_tps"] = l.best_tg.tg_tps;
    j["llama_threads_pp"] = l.best_pp.threads;
    j["llama_threads_tg"] = l.best_tg.threads;
    j["pp_ratio"] = r.pp_tps / l.best_pp.pp_tps;
    j["tg_ratio"] = r.tg_tps / l.best_tg.tg_tps;
    for (const LlamaCppRun& run : l.runs)
      j["llama_runs"].push_back({{"threads", run.threads}, {"pp_tps", run.pp_tps}, {"tg_tps", run.tg_tps}});
  }
  if (!r.llama_error.empty()) j["llama_error"] = r.llama_error;
  if (r.spec) AddSpecJson(*r.spec, j);
  std::puts(j.dump().c_str());
}

void PrintLlamaCppText(const LlamaCppFigures& l, const Report& r) {
  std::printf("llama.cpp %s, same file and lengths:\n", l.version.c_str());
  for (const LlamaCppRun& run : l.runs)
    std::printf("  %d thread%s: prompt %9.1f tok/s, decode %7.2f tok/s\n", run.threads, run.threads == 1 ? " " : "s",
                run.pp_tps, run.tg_tps);
  std::printf("Strata / llama.cpp's best: prompt %.2fx (llama.cpp at %d thread%s), decode %.2fx (at %d thread%s)\n",
              r.pp_tps / l.best_pp.pp_tps, l.best_pp.threads, l.best_pp.threads == 1 ? "" : "s",
              r.tg_tps / l.best_tg.tg_tps, l.best_tg.threads, l.best_tg.threads == 1 ? "" : "s");
}

void PrintText(const BenchCommandOptions& o, const Report& r) {
  std::printf("model %s, %d threads x %d process%s, tp %d, passes %s, KV cache %s (%lld bytes a token)\n",
              o.model.c_str(), r.threads, r.processes, r.processes == 1 ? "" : "es", o.compile.tp,
              o.compile.passes.c_str(), o.compile.kv_dtype.c_str(), static_cast<long long>(r.kv_bytes_per_token));
  std::printf("machine: %.1f GB/s read bandwidth, %.1f GFLOP/s F32 matmul (measured now); integer path %s, F32 path %s\n",
              r.rates.bandwidth_gbs, r.rates.gflops, IntegerPath(),
              kernels::MatMulIsa());
  std::printf("kernels: %s\n", RatesText(r.rates).c_str());
  std::printf("prompt  %4d tokens: %9.1f tok/s   %8.2f ms measured, %8.2f ms predicted (%.2fx)\n", r.m.prompt, r.pp_tps,
              r.m.pp_s * 1e3, r.prefill_pred * 1e3, r.prefill_pred > 0 ? r.m.pp_s / r.prefill_pred : 0.0);
  std::printf("decode  %4d tokens: %9.1f tok/s   %8.3f ms/token measured, %8.3f ms/token predicted (%.2fx)\n",
              r.m.generated, r.tg_tps, 1e3 / r.tg_tps, r.decode_pred * 1e3,
              r.decode_pred > 0 ? (1.0 / r.tg_tps) / r.decode_pred : 0.0);
  std::printf("memory: %.1f MiB resident after load for a file of %.1f MiB (%.2fx)\n", r.rss_after_load / 1048576.0,
              r.file_bytes / 1048576.0, r.file_bytes > 0 ? static_cast<double>(r.rss_after_load) / r.file_bytes : 0.0);
  std::printf("roofline: %.2f MB read per decoded token -> %.1f tok/s at the measured bandwidth; reached %.1f%%\n",
              static_cast<double>(r.bytes_per_token) / 1e6, r.roofline_tps, 100 * r.tg_tps / r.roofline_tps);
  if (r.llama) PrintLlamaCppText(*r.llama, r);
  if (r.spec) PrintSpecText(*r.spec);
}

// The --llama-cpp checks that can fail before minutes of measuring: the install and the thread list.
bool CheckLlamaCppOptions(const BenchCommandOptions& o, std::vector<int>& threads) {
  if (o.llama_cpp.empty()) return true;
  if (Status st = CheckLlamaCppInstall(o.llama_cpp); !st.ok()) {
    spdlog::error("--llama-cpp: {}", st.message());
    return false;
  }
  auto list = ParseThreadList(o.llama_cpp_threads);
  if (!list.ok()) {
    spdlog::error("--llama-cpp-threads: {}", list.status().message());
    return false;
  }
  threads = *list;
  return true;
}

int BenchModel(BenchCommandOptions o) {
  if (o.prompt < 1 || o.generate < 1) {
    spdlog::error("-p and -n must be at least 1");
    return 1;
  }
  o.batch = std::max(1, o.batch);
  std::vector<int> llama_threads;
  if (!CheckLlamaCppOptions(o, llama_threads)) return 1;
  auto launch = ParallelLaunch::Start(o.compile);
  if (!launch) return 1;
  SetReleasePackedSources(true);  // as run and serve: the model held once
  std::optional<int> worker_exit;
  std::optional<Report> r = MeasureStrata(o, *launch, worker_exit);
  if (worker_exit) return launch->Finish(*worker_exit);
  if (!r) return launch->Finish(1);
  launch->Finish(0);  // writes the trace now, before llama.cpp takes the cores
  if (!o.llama_cpp.empty()) MeasureLlamaCpp(o, llama_threads, *r);
  if (o.json) PrintJson(o, *r);
  else PrintText(o, *r);
  if (r->llama_error.empty()) return 0;
  spdlog::error("llama.cpp: {}", r->llama_error);
  return 1;
}

}  // namespace

void AddBenchModel(CLI::App* bench, int& exit_code) {
  auto o = std::make_shared<BenchCommandOptions>();
  bench->add_option("-m,--model", o->model, "GGUF model file to benchmark (without a subcommand)");
  bench->add_option("-p,--n-prompt", o->prompt, "prompt tokens")->capture_default_str();
  bench->add_option("-n,--n-gen", o->generate, "tokens to decode")->capture_default_str();
  bench->add_option("-t,--threads", o->threads, "compute threads (0: all cores)");
  bench->add_option("-b,--batch-size", o->batch, "prompt tokens per forward step")->capture_default_str();
  bench->add_option("-r,--repetitions", o->reps,
                    "runs of prefill and decode, each from an empty cache: the fastest prefill and the fastest decode "
                    "are reported (as the cost model's probes take their best)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  bench->add_flag("--json", o->json, "print one JSON line instead of the table");
  bench->add_option("--llama-cpp", o->llama_cpp,
                    "also measure llama.cpp on the same file: DIR where bench/llama_cpp/setup.sh installed it")
      ->envname("STRATA_LLAMA_CPP");
  bench->add_option("--llama-cpp-threads", o->llama_cpp_threads,
                    "llama.cpp's thread counts to try; Strata is compared with the best")
      ->capture_default_str();
  AddCompileFlags(bench, o->compile);
  AddSpecFlags(bench, o->spec);
  bench->add_option("--prompt", o->prompt_text, "with speculative decoding: the prompt text to continue");
  bench->add_option("--prompt-file", o->prompt_file, "with speculative decoding: a file holding the prompt text")
      ->check(CLI::ExistingFile);
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
