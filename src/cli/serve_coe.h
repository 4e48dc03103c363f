// `strata serve --coe coe.yaml`: a Composition of Experts behind the OpenAI-compatible server.
#pragma once

#include <string>

#include "cli/model_loading.h"
#include "engine/llm_engine.h"
#include "server/http_server.h"

namespace strata::cli {

// Serves until SIGINT/SIGTERM; returns the exit code (1 with the error logged when the config, an expert or the
// budget is refused).
int ServeCoe(const std::string& config_path, ServerConfig server, const EngineConfig& engine,
             const CompileFlags& compile, int threads);

}  // namespace strata::cli
