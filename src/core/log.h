// The one logger: spdlog writing to stderr, so stdout stays clean for generated text and JSON output.
#pragma once

#include <spdlog/spdlog.h>

namespace strata {

// Installs the stderr logger as spdlog's default; level is "trace".."off" (default "info"). Idempotent.
void InitLogging(const std::string& level = "info");

}  // namespace strata
