#include "cli/model_loading.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "compiler/llama_builder.h"
#include "core/log.h"

namespace strata::cli {

std::unique_ptr<Model> LoadModelWithProgress(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int last_pct = -1;
  auto progress = [&](uint64_t done, uint64_t total) {
    const int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (pct == last_pct) return;
    last_pct = pct;
    if (tty) {
      std::fprintf(stderr, "\rloading %s: %3d%% (%.1f / %.1f MiB)", path.c_str(), pct, done / 1048576.0,
                   total / 1048576.0);
      if (done == total) std::fputc('\n', stderr);
    } else if (pct % 25 == 0) {
      spdlog::info("loading {}: {}% ({:.1f} / {:.1f} MiB)", path, pct, done / 1048576.0, total / 1048576.0);
    }
  };
  auto model = Model::Load(path, progress);
  if (!model.ok()) {
    if (tty && last_pct >= 0 && last_pct < 100) std::fputc('\n', stderr);
    spdlog::error("{}", model.status().message());
    return nullptr;
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("loaded {} in {:.0f} ms: {}, weights {:.1f} MiB", path, ms, (*model)->config().ToString(),
               (*model)->weight_bytes() / 1048576.0);
  return std::move(model).value();
}

bool LoadAndCompile(const std::string& path, CompiledModel& out) {
  out.model = LoadModelWithProgress(path);
  if (!out.model) return false;
  auto plan = ir::BuildLlamaPlan(*out.model);
  if (!plan.ok()) {
    spdlog::error("{}", plan.status().message());
    return false;
  }
  out.plan = std::move(plan).value();
  return true;
}

}  // namespace strata::cli
