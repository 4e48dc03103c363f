#include "cli/serve_coe.h"

#include <csignal>

#include "coe/coe_config.h"
#include "coe/coe_directory.h"
#include "coe/coe_engine.h"
#include "coe/expert_router.h"
#include "core/log.h"
#include "server/connection_gate.h"

namespace strata::cli {

namespace {

HttpServer* g_coe_server = nullptr;  // for the signal handler only

void OnSignal(int) {
  if (g_coe_server) g_coe_server->Stop();
}

void LogExperts(const coe::CoeEngine& engine) {
  for (int e = 0; e < engine.num_experts(); ++e)
    spdlog::info("expert {}: {} needs {}", engine.expert(e).name, engine.expert(e).model->path(),
                 engine.expert(e).footprint.Describe());
}

}  // namespace

int ServeCoe(const std::string& config_path, ServerConfig server, const EngineConfig& engine,
             const CompileFlags& compile, int threads) {
  auto config = coe::LoadCoeConfig(config_path);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 1;
  }
  coe::CoeEngineOptions options{.engine = engine, .compile = {}, .threads = threads, .progress = {}};
  if (!ToCompileOptions(compile, options.compile)) return 1;
  options.progress = [](int done, int total) {
    if (done == total || done % 25 == 0) spdlog::info("opened {}/{} experts", done, total);
  };
  auto coe = coe::CoeEngine::Create(*config, options);
  if (!coe.ok()) {
    spdlog::error("{}", coe.status().message());
    return 1;
  }
  LogExperts(**coe);
  std::vector<const Model*> experts;
  for (int e = 0; e < (*coe)->num_experts(); ++e) experts.push_back((*coe)->expert(e).model.get());
  auto router = coe::MakeRouter(*config, std::move(experts), 1);
  if (!router.ok()) {
    spdlog::error("{}", router.status().message());
    return 1;
  }
  RaiseOpenFileLimit();
  HttpServer http(server, std::make_unique<coe::CoeDirectory>(**coe, **router));
  if (Status st = http.Bind(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  g_coe_server = &http;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  spdlog::info("serving the Composition of Experts \"{}\" on http://{}:{} ({} experts, RAM budget {}, {} router)",
               config->name, server.host, http.port(), config->experts.size(), coe::FormatBytes(config->ram_budget),
               (*router)->method());
  if (server.webui) spdlog::info("web chat page: http://{}:{}/", server.host, http.port());
  http.Serve();
  g_coe_server = nullptr;
  spdlog::info("server stopped");
  return 0;
}

}  // namespace strata::cli
