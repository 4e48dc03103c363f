#include "cli/model_loading.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <sstream>

#include "cli/guide.h"
#include "compiler/plan_cache.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/profiler.h"
#include "core/log.h"

namespace strata::cli {

std::unique_ptr<Model> LoadModelWithProgress(const std::string& path, const ModelLoadOptions& load) {
  const auto start = std::chrono::steady_clock::now();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int last_pct = -1;
  auto progress = [&](uint64_t done, uint64_t total) {
    const int pct = total ? static_cast<int>(std::min<uint64_t>(done * 100 / total, 100)) : 100;
    if (pct == last_pct) return;
    last_pct = pct;
    if (tty) {  // a bar redrawn in place; without a terminal, a log line each quarter
      constexpr int kWidth = 24;
      const std::string bar = std::string(pct * kWidth / 100, '#') + std::string(kWidth - pct * kWidth / 100, '.');
      std::fprintf(stderr, "\rloading %s [%s] %3d%% (%.1f / %.1f MiB)", path.c_str(), bar.c_str(), pct,
                   done / 1048576.0, total / 1048576.0);
      if (done == total) std::fputc('\n', stderr);
    } else if (pct % 25 == 0) {
      spdlog::info("loading {}: {}% ({:.1f} / {:.1f} MiB)", path, pct, done / 1048576.0, total / 1048576.0);
    }
  };
  auto model = Model::Load(path, progress, load);
  if (!model.ok()) {
    if (tty && last_pct >= 0 && last_pct < 100) std::fputc('\n', stderr);
    const std::string& message = model.status().message();
    if (message.find(path) == std::string::npos) spdlog::error("cannot load {}: {}", path, message);
    else spdlog::error("{}", message);
    PrintLoadFailureHint(path);
    return nullptr;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("loaded {} in {:.0f} ms: {}, weights {:.1f} MiB", path, ms, (*model)->config().ToString(),
               (*model)->weight_bytes() / 1048576.0);
  return std::move(model).value();
}

void AddCompileFlags(CLI::App* cmd, CompileFlags& flags) {
  cmd->add_option("--passes", flags.passes, "Fusion passes in order: comma-separated names, 'default' or 'none'")
      ->capture_default_str();
  cmd->add_option("--tp", flags.tp, "Tensor-parallel ranks: threads of this process, or under mpirun one process each")
      ->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--collective-timeout", flags.collective_timeout_s,
                  "under mpirun: seconds a rank waits for the others within a step before the job is ended")
      ->capture_default_str()->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--micro-batches", flags.micro_batches,
                  "under mpirun with --pp: micro-batches a step is cut into, so stages work at once (0: one per stage)")
      ->capture_default_str()->check(CLI::Range(0, 1024));
  cmd->add_flag("--overlap", flags.overlap,
                "under mpirun with --tp: split each step of 2+ rows into two halves whose all-reduces overlap the other's compute");
  cmd->add_option("--device-lacks", flags.device_lacks,
                  "Ops the device backend is to lack (comma-separated, e.g. rope): they fall back to the host");

  cmd->add_option("--pp", flags.pp, "Pipeline stages, one process each under mpirun (the layers split into contiguous ranges)")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--trace", flags.trace, "Write a Chrome/Perfetto trace JSON to this file");
  cmd->add_option("--kv-dtype", flags.kv_dtype, "KV cache type: f32, f16 or q8_0 (half and about a quarter of f32's bytes)")
      ->capture_default_str()->check(CLI::IsMember({"f32", "f16", "q8_0"}));
}

bool ToCompileOptions(const CompileFlags& flags, ir::CompileOptions& out) {
  auto passes = ir::ParsePassList(flags.passes);
  if (!passes.ok()) {
    spdlog::error("{}", passes.status().message());
    return false;
  }
  out.passes = std::move(passes).value();
  out.tp = flags.tp;
  out.pp = flags.pp;
  out.kv_dtype = flags.kv_dtype == "q8_0" ? DType::kQ8_0 : flags.kv_dtype == "f32" ? DType::kF32 : DType::kF16;
  out.device_lacks.clear();
  std::stringstream ss(flags.device_lacks);
  for (std::string op; std::getline(ss, op, ',');)
    if (!op.empty()) out.device_lacks.push_back(op);
  return true;
}

bool LoadAndCompile(const std::string& path, const CompileFlags& flags, CompiledModel& out,
                    const ir::PassObserver& observe, const ModelLoadOptions& load, int only_rank) {
  ir::CompileOptions options;
  if (!ToCompileOptions(flags, options)) return false;
  options.only_rank = only_rank;
  out.model = LoadModelWithProgress(path, load);
  if (!out.model) return false;
  const auto start = std::chrono::steady_clock::now();
  // An observer wants to see every pass run, so it bypasses the plan cache.
  Result<std::vector<ir::Plan>> ranks = Status::Internal("not compiled");
  if (observe) {
    ranks = ir::Compile(*out.model, options, observe);
  } else if (auto cached = ir::PlanCache::Global().GetOrCompile(*out.model, options); cached.ok()) {
    ranks = **cached;
  } else {
    ranks = cached.status();
  }
  if (!ranks.ok()) {
    spdlog::error("{}", ranks.status().message());
    return false;
  }
  out.ranks = std::move(ranks).value();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("compiled in {:.1f} ms: {} nodes, passes [{}], tp {}, pp {}, KV cache {} ({} bytes a token)", ms,
               out.plan().nodes.size(), flags.passes, options.tp, options.pp, flags.kv_dtype,
               PagedKvCache::BytesPerToken(out.plan().kv.n_layers, out.plan().kv.kv_dim, out.plan().kv.dtype));
  return true;
}

TraceSession::TraceSession(const std::string& path) : on_(!path.empty()) {
  if (on_) Profiler::Start(path);
}

TraceSession::~TraceSession() {
  if (!on_) return;
  if (Status st = Profiler::Stop(); !st.ok()) spdlog::error("{}", st.message());
}

}  // namespace strata::cli
