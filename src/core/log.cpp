#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace strata {

void InitLogging(const std::string& level) {
  static bool installed = false;
  if (!installed) {
    auto logger = spdlog::stderr_color_mt("strata");
    logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
    installed = true;
  }
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace strata
