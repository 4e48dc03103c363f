#include "testdata.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace strata::testing {

std::optional<std::string> TestDataDir() {
  const char* env = std::getenv("STRATA_TESTDATA");
  std::string dir = env && *env ? env : STRATA_TESTDATA_DEFAULT;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

std::string TestDataPath(const std::string& relative) { return TestDataDir().value_or("") + "/" + relative; }

std::string StrataBinary() { return STRATA_BINARY; }

std::string ScratchDir() {
  static const std::string dir = [] {
    auto p = std::filesystem::temp_directory_path() / ("strata-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    return p.string();
  }();
  return dir;
}

}  // namespace strata::testing
